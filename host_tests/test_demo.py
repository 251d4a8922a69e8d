"""`make demo`, end to end on the virtual board: deploy, train on the board, pull
the weights back with mpremote, bit-exact check on the host: the outputs, and the
board's training replayed in the mirror writing the same weights file byte for byte. (make test has
already set the project up, so make's setup step is a no-op here.)"""
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_demo_runs_and_is_bit_exact():
    r = subprocess.run(["make", "demo"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    for step in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
        assert step in out
    assert "board: epoch  1" in out and "board: saved demo.bin" in out
    assert "RESULT bit-exact: the NumPy mirror reproduces all 10 board outputs" in out
    assert "RESULT training bit-exact: the mirror's replay writes the board's" in out
    lines = dict(l.strip().split(":", 1) for l in out.splitlines() if "outputs (Q8.8)" in l)
    assert lines["board outputs (Q8.8)"].strip() == lines["host  outputs (Q8.8)"].strip()
