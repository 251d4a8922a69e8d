"""`make demo`, end to end on the virtual board: deploy, train on the board, pull
the weights back with mpremote, bit-exact check on the host: the outputs, and the
board's training replayed in the mirror writing the same weights file byte for byte. (make test has
already set the project up, so make's setup step is a no-op here.) The packages that `make demo`
does not install (torch, matplotlib, pytest, tqdm: requirements-demo.txt) cannot be imported
during the run, as in a demo-only venv."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = """import sys
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "matplotlib", "pytest", "tqdm"}:
            raise ImportError("%s is not installed by make demo" % name)
sys.meta_path.insert(0, _NotInstalled())
"""


def test_demo_runs_and_is_bit_exact(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCK)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = subprocess.run(["make", "demo"], capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    for step in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
        assert step in out
    assert "board: epoch  1" in out and "board: saved demo.bin" in out
    assert "RESULT bit-exact: the NumPy mirror reproduces all 10 board outputs" in out
    assert "RESULT training bit-exact: the mirror's replay writes the board's" in out
    lines = dict(l.strip().split(":", 1) for l in out.splitlines() if "outputs (Q8.8)" in l)
    assert lines["board outputs (Q8.8)"].strip() == lines["host  outputs (Q8.8)"].strip()
