"""Slow tier: the examples, run as the plain programs a board runs (lib as .mpy, from
seeded random weights), reach their targets on held-out data under their hard heap
caps on the unix port (real GC, viper kernels), and the WebAssembly VM (bytecode
kernels, 32-bit ints) trains them to the very same result. `make examples` prints
the same runs with their figures (README, examples table)."""
import re

import pytest

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


def test_gru_learns_xor_with_the_previous_bit():
    assert CAPS["gru_xor"] == 131072
    out = unix("gru_xor")
    r = run_example.results(out)[0]
    good, total = map(int, r["test_correct"].split("/"))
    assert total == 384 and good == total          # every step of 48 unseen sequences
    same_on_the_vm("gru_xor", out)


def test_lstm_predicts_an_unseen_sine():
    assert CAPS["lstm_sine"] == 131072
    out = unix("lstm_sine")
    assert int(run_example.results(out)[0]["mse_q16"]) < 66      # MSE on the unseen wave below 0.001
    same_on_the_vm("lstm_sine", out)


def test_digit_sequences_memorised():
    assert CAPS["digits"] == 131072
    out = unix("digits")
    for r, kind in zip(run_example.results(out), ("elman", "lstm", "gru")):
        assert r["kind"] == kind and r["reproduced"] == "10/10"
    assert len(re.findall(r"^  (\d{11}) -> \1$", out, re.M)) == 30     # every sequence, exactly


def test_a_cap_too_small_fails():
    """The cap is real: well below what it needs, the example runs out of memory."""
    with pytest.raises(run_example.ExampleFailed, match="MemoryError"):
        run_example.on_unix(paths.examples() / "gru_xor.py", 65536)
