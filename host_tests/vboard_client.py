"""What the virtual-board tests share: a board per test, the real mpremote CLI, and a
raw serial client. Node.js, the WebAssembly build and mpremote are pinned
dependencies (`make setup`): a missing one fails the tests, it never skips them."""
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from tinyrnn_host.board import vboard

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIME_LIMIT = 60  # no board outlives a test by more than this


def mpremote_path():
    venv = ROOT / ".venv" / "bin" / "mpremote"
    found = str(venv) if venv.exists() else shutil.which("mpremote")
    if found is None:
        pytest.fail("mpremote is missing: it is a pinned dependency (requirements-dev.txt, `make setup`)")
    return found


def children_running(path, parent=None):
    """PIDs of the child processes of `parent` (default: us) whose command line names `path`."""
    parent = os.getpid() if parent is None else parent
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and str(path).encode() in cmd:
            pids.append(int(d.name))
    return pids


def bridge_children(parent=None):
    """PIDs of the child processes of `parent` (default: us) running the bridge."""
    return children_running(vboard.BRIDGE, parent)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return (pathlib.Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


def running_board(fs_dir, **kw):
    """A started board on fs_dir as a generator for fixtures: yields it, then checks it is gone."""
    kw.setdefault("heap_bytes", 65536)
    kw.setdefault("time_limit", TIME_LIMIT)
    vb = vboard.VirtualBoard(fs_dir=fs_dir, **kw)
    vb.start()
    try:
        yield vb
    finally:
        vb.stop()
    assert not vb.alive()
    assert not pid_alive(vb.pid)
    assert bridge_children() == []


def mpr(vb, *args, timeout=30, check=True):
    """Run `mpremote connect <port> ARGS`; return the CompletedProcess."""
    res = subprocess.run([mpremote_path(), "connect", vb.port, *args], capture_output=True,
                         timeout=timeout, cwd=vb.fs_dir.parent)
    if check and res.returncode != 0:
        raise AssertionError("mpremote %s failed (%d):\n%s\n%s" % (
            " ".join(args), res.returncode, res.stdout.decode(errors="replace"),
            res.stderr.decode(errors="replace")))
    return res


def out(res):
    return res.stdout.decode()


def wait_for(predicate, timeout=10.0, what="the condition"):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("%s did not hold within %.0f s" % (what, timeout))
        time.sleep(0.05)


class Serial:
    """A minimal client on the board's pty (pyserial, as mpremote uses)."""

    def __init__(self, port):
        import serial
        self.s = serial.Serial(port, 115200, timeout=0.05)

    def write(self, data):
        self.s.write(data)

    def read_until(self, ending, timeout=5.0):
        buf = b""
        end = time.monotonic() + timeout
        while not buf.endswith(ending):
            if time.monotonic() > end:
                raise AssertionError("timeout waiting for %r, got %r" % (ending, buf))
            buf += self.s.read(1)
        return buf

    def read_exactly(self, n, timeout=5.0):
        buf = b""
        end = time.monotonic() + timeout
        while len(buf) < n and time.monotonic() < end:
            buf += self.s.read(n - len(buf))
        return buf

    def raw(self):
        self.write(b"\r\x03\r\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")

    def close(self):
        self.s.close()
