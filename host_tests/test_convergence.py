"""Slow tier: the examples, run as the plain programs a board runs (lib as .mpy, from
seeded random weights), reach their targets on held-out data under their hard heap
caps on the unix port (real GC, viper kernels), and the WebAssembly VM (bytecode
kernels, 32-bit ints) trains them to the very same result. `make examples` prints
the same runs with their figures (README, examples table)."""
import re

import pytest

import readme_figures as rf
from tinyrnn_host import paths
from tinyrnn_host.reports import run_example
from tinyrnn_host.reports.run_example import CAPS

pytestmark = pytest.mark.slow


def unix(name):
    out, _ = run_example.on_unix(paths.examples() / (name + ".py"), CAPS[name])
    return out


def same_on_the_vm(name, unix_out):
    """The VM's RESULT lines equal the unix port's, board time aside; the run stays within the cap."""
    res, _ = run_example.on_vm(paths.examples() / (name + ".py"), CAPS[name])
    drop = lambda rs: [{k: v for k, v in r.items() if k != "ms"} for r in rs]   # noqa: E731
    assert drop(run_example.results(res.stdout)) == drop(run_example.results(unix_out))
    assert not res.heap_grew and run_example.vm_peak(res) <= CAPS[name]
    return res


def readme_row_is_this_run(name, unix_out, vm_res=None):
    """The README's examples-table row (`make examples` prints it from these runs): epochs, updates,
    result, cap and the VM's high-water mark. Board times (ms) are wall times: not compared."""
    row = rf.row("VM: high-water / ms", "`%s.py`" % name)
    rs = run_example.results(unix_out)
    epochs = " / ".join(r["epochs"] for r in rs)
    if any(r["updates"] != r["epochs"] for r in rs):
        epochs += " (%s)" % " / ".join(r["updates"] for r in rs)
    assert row["epochs (updates)"] == epochs
    result = row["result (asserted)"]
    assert result.startswith(rs[0].get("test_correct") or ("test MSE %s" % rs[0]["test_mse"] if "test_mse" in rs[0]
                                                          else rs[0]["reproduced"])), (result, rs)
    assert rf.number(row["unix port: cap / smallest cap / ms"].split(" / ")[0]) == CAPS[name]
    if vm_res is not None:
        high_water = re.match(r"\d{1,3}(?:,\d{3})*", row["VM: high-water / ms"]).group(0)
        assert rf.number(high_water) == run_example.vm_peak(vm_res)


def test_gru_learns_xor_with_the_previous_bit():
    assert CAPS["gru_xor"] == 131072
    out = unix("gru_xor")
    r = run_example.results(out)[0]
    good, total = map(int, r["test_correct"].split("/"))
    assert total == 384 and good == total          # every step of 48 unseen sequences
    readme_row_is_this_run("gru_xor", out, same_on_the_vm("gru_xor", out))


def test_lstm_predicts_an_unseen_sine():
    assert CAPS["lstm_sine"] == 131072
    out = unix("lstm_sine")
    assert int(run_example.results(out)[0]["mse_q16"]) < 66      # MSE on the unseen wave below 0.001
    readme_row_is_this_run("lstm_sine", out, same_on_the_vm("lstm_sine", out))


def test_digit_sequences_memorised():
    assert CAPS["digits"] == 131072
    out = unix("digits")
    for r, kind in zip(run_example.results(out), ("elman", "lstm", "gru")):
        assert r["kind"] == kind and r["reproduced"] == "10/10"
    assert len(re.findall(r"^  (\d{11}) -> \1$", out, re.M)) == 30     # every sequence, exactly
    readme_row_is_this_run("digits", out)


def test_a_cap_too_small_fails():
    """The cap is real: well below what it needs, the example runs out of memory."""
    with pytest.raises(run_example.ExampleFailed, match="MemoryError"):
        run_example.on_unix(paths.examples() / "gru_xor.py", 65536)
