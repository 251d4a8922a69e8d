"""interop/host_train.py (`tinyrnn train`): float64 training on the host, quantised to a Q8.8 weights file.

Measured with the defaults (GRU 32, seed 0; `tinyrnn train --task all`,
6-10 s on the 2-core dev machine):
  sine   MSE      float 5.88e-05, Q8.8 1.27e-04, gap +6.9e-05 (repeating the last sample: 2.5e-02);
                  the float model on the Q8.8 weights and rounded inputs: 8.29e-05, so input
                  rounding costs ~2.4e-05 and Q8.8 arithmetic ~4.4e-05; outputs differ by
                  2.18 LSB rms, 9.1 max
  tones  accuracy float 0.9875, Q8.8 0.9871, gap -0.0003
Asserted with margin: sine float MSE <= 1.5e-4, Q8.8 MSE <= 3e-4, gap <= 1.5e-4;
tones accuracy >= 0.95 both ways, |gap| <= 0.02.
"""
import numpy as np
import pytest

from tinyrnn_host import cli
from tinyrnn_host.interop import host_train as ht
from tinyrnn_host.board import mpvm
from tinyrnn_host.interop import weights_io
from tinyrnn_host.mirror import q88

N_VM = 3          # held-out sequences run on the VM, per task


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("host_train")
    return {task: (ht.train(task, out=d / ("%s.bin" % task)), d / ("%s.bin" % task)) for task in ("sine", "tones")}


def test_sine_reaches_its_mse(trained):
    r, path = trained["sine"]
    xs, ys, mask = r["test"]
    repeat_last = ht.mse(xs, ys, mask)            # predicting x[t+1] = x[t]
    assert r["model"] == "1-gru32-1" and r["n_params"] == 3393
    assert r["float"] <= 1.5e-4 and r["q88"] <= 3e-4 and 0 <= r["gap"] <= 1.5e-4, ht.table([r])
    assert r["float"] <= r["float_q"] <= r["q88"] * 1.05
    assert repeat_last > 50 * r["q88"]
    assert r["saturated"] == 0          # (its time is a figure of `make host-train`, not asserted here)


def test_tones_reaches_its_accuracy(trained):
    r, _ = trained["tones"]
    assert r["float"] >= 0.95 and r["q88"] >= 0.95 and abs(r["gap"]) <= 0.02, ht.table([r])


def test_the_file_holds_the_quantised_model(trained):
    for task, (r, path) in trained.items():
        desc, params = weights_io.load(path)
        assert desc == r["desc"]
        for name, p in r["params"].items():
            assert np.array_equal(params[name], np.floor(p * 256 + 0.5).astype(np.int64)), name


VM_SCRIPT = """
from array import array
from tinyrnn import weights
m = weights.load('%s.bin')
xs = array('h', bytes(2 * %d * %d))
with open('%s.xs', 'rb') as f:
    f.readinto(xs)
out = open('%s.out', 'wb')
x = array('h', [0])
for s in range(%d):
    m.reset()
    for t in range(%d):
        x[0] = xs[s * %d + t]
        out.write(array('h', m.step(x)))
out.close()
"""


def test_board_runs_the_file_like_the_mirror(trained):
    # the board (lib on the MicroPython VM, loading the file) gives the mirror's outputs bit for
    # bit on held-out sequences, so the Q8.8 metric the tool reports is the board's metric
    files, scripts = {}, []
    for task, (r, path) in trained.items():
        xs = r["test"][0][:N_VM]                                  # (S,T,1) floats
        T = xs.shape[1]
        files[task + ".bin"] = path.read_bytes()
        files[task + ".xs"] = q88.from_float(xs[:, :, 0]).astype("<i2").tobytes()
        scripts.append(VM_SCRIPT % (task, N_VM, T, task, task, N_VM, T, T))
    res = mpvm.run_vm(scripts, heap_bytes=131072, mpy=True, files=files,
                      collect=[task + ".out" for task in trained], allow_growth=True)
    for task, (r, path) in trained.items():
        xs, ys, mask = (a[:N_VM] for a in r["test"])
        mirror = ht.evaluate_q88(r["desc"], weights_io.load(path)[1], xs)       # (S,T,O) floats
        board = np.frombuffer(res.files[task + ".out"], dtype="<i2").reshape(mirror.shape) / 256.0
        assert np.array_equal(board, mirror), task
        metric = ht.TASKS[task]["metric"][1]
        assert metric(board, ys, mask) == metric(mirror, ys, mask)


def test_cli(tmp_path, capsys):
    out = tmp_path / "t.bin"
    assert cli.main(["train", "--task", "tones", "--kind", "lstm", "--hidden", "8,4", "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "tones  1-lstm8-lstm4-4 softmax" in text and "wrote %s" % out in text
    desc, _ = weights_io.load(out)
    assert [(d["kind"], d["hidden"]) for d in desc["layers"]] == [("lstm", 8), ("lstm", 4)]
    crc = weights_io.file_crc(out)
    cli.main(["train", "--task", "tones", "--kind", "lstm", "--hidden", "8,4", "--epochs", "1", "--out", str(out)])
    assert weights_io.file_crc(out) == crc                        # seeded: the same file again
    with pytest.raises(SystemExit):
        cli.main(["train", "--hidden", "32,x"])
    with pytest.raises(ValueError, match="task 'speech' is not one of"):
        ht.train("speech")


def test_the_readme_table_is_these_runs(trained):
    # `make host-train` (tinyrnn train --task all) prints these rows from the same ht.train runs
    import readme_figures as rf
    for task, (r, _) in trained.items():
        row = rf.row("Q8.8", task)
        fmt = "%.2e" if r["metric"] == "MSE" else "%.4f"
        assert (int(row["params"]), row["metric"].lower(), row["float"], row["Q8.8"]) == (
            r["n_params"], r["metric"].lower(), fmt % r["float"], fmt % r["q88"]), task
