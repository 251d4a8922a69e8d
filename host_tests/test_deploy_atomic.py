"""An upgrade of the library on a board is all or nothing (board/sync.py, docs/deploy.md).

On the unix-port virtual board (board/uboard: its flash is a host folder, so the test reads
and sets the board's files directly), `tinyrnn deploy` puts version A (lib/tinyrnn), then
version B: a copy in which every module differs (a `_VERSION = "B"` line each), one module is
gone and one is new, so the upgrade uploads every file and removes one.

- Cut after every step: the upgrade's mpremote chain is run one step at a time (each `cp` of
  many files split into one `cp` per file), and the board's package folder is recorded after
  each step: the state a kill between two steps leaves. Each state is put back on the board
  and `import tinyrnn.model` run there (a fresh interpreter): it must import the complete A
  set or the complete B set, or refuse with the marker's message; a mix never imports.
  Then a deploy from a state cut in the middle finishes the upgrade.
- The real thing: deploy.py and its mpremote are killed (SIGKILL) in the middle of the upload;
  the board refuses to import, and the next deploy finishes.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

import needs
from tinyrnn_host.board import deploy, device, sync, uboard

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "tinyrnn"
GONE, NEW = "sample.py", "_extra.py"          # B drops one module (nothing imports it) and adds one
TIME_LIMIT = 300
CHECK = ("try:\n    import tinyrnn.model\n    print('RUNS', getattr(tinyrnn.model, '_VERSION', 'A'))\n"
         "except ImportError as e:\n    print('REFUSED', e)\n")


@pytest.fixture
def board(tmp_path):
    needs.unix_port()
    b, port = uboard.start_virtual("unix", None, tmp_path / "flash", time_limit=TIME_LIMIT)
    try:
        yield port, b.fs_dir / "lib" / "tinyrnn"
    finally:
        b.stop()


@pytest.fixture
def lib_b(tmp_path):
    dst = tmp_path / "libB" / "tinyrnn"
    shutil.copytree(LIB, dst, ignore=shutil.ignore_patterns("__pycache__"))
    assert (dst / GONE).exists()
    (dst / GONE).unlink()
    (dst / NEW).write_text("# a module only version B has\n")
    for py in dst.glob("*.py"):
        py.write_text(py.read_text() + '\n_VERSION = "B"\n')
    return dst


def files(folder):
    return {p.name: p.read_bytes() for p in sorted(pathlib.Path(folder).iterdir()) if p.is_file()}


def put(folder, state):
    shutil.rmtree(folder)
    folder.mkdir()
    for name, data in state.items():
        (folder / name).write_bytes(data)


def deploy_to(port, tmp_path, lib_dir, tag):
    lines = []
    deploy.deploy(port, lib_dir=lib_dir, build_dir=tmp_path / ("build-" + tag), out=lines.append)
    return lines


def check(port, state, a, b):
    """The board with `state` in its package folder: (what import tinyrnn.model said, which set)."""
    out = device.Board(port).exec(CHECK)
    lib = {k: v for k, v in state.items() if k != sync.MARKER}
    which = "A" if lib == a else ("B" if lib == b else "mix")
    return out.strip(), which


def stepwise(monkeypatch, package, states):
    """Board.mpremote running an upgrade's chain one step (one file) at a time, recording the package
    folder after each: the states a kill between two steps would leave."""
    real = device.Board.mpremote

    def one_by_one(self, *args, **kw):
        if "+" not in args:
            return real(self, *args, **kw)
        steps, step = [], []
        for arg in args + ("+",):
            if arg == "+":
                steps.append(step)
                step = []
            else:
                step.append(arg)
        for step in steps:
            if step[0] == "cp" and len(step) > 4:       # cp -f A B C :dir/ -> one cp per file
                pieces = [["cp", "-f", src, step[-1]] for src in step[2:-1]]
            else:
                pieces = [step]
            for piece in pieces:
                real(self, *piece, **kw)
                states.append(files(package))
        return ""
    monkeypatch.setattr(device.Board, "mpremote", one_by_one)


def test_an_upgrade_cut_after_any_step_runs_the_old_set_or_the_new_or_refuses(board, lib_b, tmp_path, monkeypatch):
    port, package = board
    deploy_to(port, tmp_path, LIB, "A")
    a = files(package)
    assert sync.MARKER not in a and GONE.replace(".py", ".mpy") in a
    states = [a]
    with monkeypatch.context() as m:
        stepwise(m, package, states)
        deploy_to(port, tmp_path, lib_b, "B")
    b = states[-1]
    assert sync.MARKER not in b and NEW.replace(".py", ".mpy") in b and GONE.replace(".py", ".mpy") not in b
    uploads = sum(1 for name in b if name != "__init__.mpy" and b[name] != a.get(name))
    assert len(states) >= uploads + 4, "the upgrade ran in %d steps for %d uploads" % (len(states) - 1, uploads)
    seen = {}
    for k, state in enumerate(states):
        put(package, state)
        said, which = check(port, state, a, {n: v for n, v in b.items()})
        seen[which] = seen.get(which, 0) + 1
        where = "after step %d of %d (%s set, marker %s)" % (k, len(states) - 1, which,
                                                           "there" if sync.MARKER in state else "gone")
        if said.startswith("RUNS"):
            assert which != "mix", "a mix of old and new modules imported " + where
            assert said == "RUNS " + which, (said, where)
        else:
            assert said.startswith("REFUSED tinyrnn: an upgrade of this library was interrupted"), (said, where)
            assert "Run `tinyrnn deploy` again" in said and sync.MARKER in state, (said, where)
    assert seen.get("mix", 0) >= uploads - 2, seen       # the cuts did land between files

    # a deploy from a state cut in the middle finishes the upgrade
    put(package, states[len(states) // 2])
    lines = deploy_to(port, tmp_path, lib_b, "B")
    assert any(line.startswith("found /lib/tinyrnn/_upgrading: an earlier upgrade was interrupted") for line in lines)
    assert files(package) == b
    assert check(port, b, a, b) == ("RUNS B", "B")


def test_a_killed_upgrade_refuses_to_import_until_the_next_deploy(board, lib_b, tmp_path):
    port, package = board
    deploy_to(port, tmp_path, LIB, "A")
    a = files(package)
    code = ("import pathlib, sys\nfrom tinyrnn_host.board import deploy\n"
            "deploy.deploy(sys.argv[1], lib_dir=pathlib.Path(sys.argv[2]), build_dir=pathlib.Path(sys.argv[3]))\n")
    cmd = [sys.executable, "-c", code, port, str(lib_b), str(tmp_path / "build-B")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        changed = 0
        while time.monotonic() < deadline and proc.poll() is None:
            now = files(package)
            changed = sum(1 for name, data in now.items() if name != sync.MARKER and a.get(name) != data)
            if changed >= 8:
                break
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL and changed >= 8, "the kill did not land during the upload"
    state = files(package)
    said, which = check(port, state, a, None)
    assert which == "mix" and sync.MARKER in state, which
    assert said.startswith("REFUSED tinyrnn: an upgrade of this library was interrupted"), said
    lines = deploy_to(port, tmp_path, lib_b, "B")
    assert any("an earlier upgrade was interrupted" in line for line in lines), lines
    assert sync.MARKER not in files(package)
    assert device.Board(port).exec(CHECK).strip() == "RUNS B"
