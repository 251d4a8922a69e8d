"""Run device_tests/ on MicroPython: the VM here, or a real board with --port.

    tinyrnn device-test [--heap BYTES] [--source] [test_q88 ...]
    tinyrnn device-test --port /dev/ttyACM0        (or a0, u0 ... as mpremote spells them)

On the VM each test function runs as its own top-level call (so the GC runs
between tests, as on a board) in one interpreter whose heap starts at --heap
bytes; a file whose tests made the heap grow past that cap fails. The library
is loaded as .mpy compiled by mpy-cross, as a deploy does (--source: as .py).
With --port, the same files go through the real `mpremote`: lib/tinyrnn (as
.mpy matched to the board by board/deploy.py, or as .py with --source) and
harness.py go to the board's /lib, uploading only files that changed, then
each test file is `mpremote run` (mpremote soft-resets the board first, so each
file starts from a fresh heap).
"""
import ast
import re
import subprocess
import sys

from .. import paths
from . import deploy, device, mpvm

HEADER = ("import sys, micropython\n"
          "print('MicroPython', sys.version, '|', sys.implementation)\n")


def test_files(names):
    files = sorted(paths.device_tests().glob("test_*.py"))
    if names:
        files = [f for f in files if f.stem in names or f.name in names]
    return files


def test_functions(path):
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def count(stdout):
    return (len(re.findall(r"^PASS ", stdout, re.M)), len(re.findall(r"^FAIL ", stdout, re.M)))


def run_on_vm(path, heap, mpy):
    chunks = ["import sys\nsys.path.insert(0, '/tests')\nimport harness\nimport %s as _m\n" % path.stem]
    names = test_functions(path)
    chunks += ["harness.run_one(_m, %r)" % name for name in names]
    res = mpvm.run_vm(chunks, heap_bytes=heap, mpy=mpy, extra_dirs=[(path.parent, "/tests")],
                      check=False, echo=True)
    passed, failed = count(res.stdout)
    if res.error:
        print("FAIL %s: error outside a test:\n%s" % (path.name, res.error))
        failed += 1
    if res.heap_grew:
        grew = [n for n, t in zip(["import"] + names, res.chunk_totals) if t != res.heap_start]
        print("FAIL %s: heap grew past the %d-byte cap (GC total %d -> %d) in: %s"
              % (path.name, heap, res.heap_start, res.heap_end, ", ".join(grew)))
        failed += 1
    else:
        print("heap: %s fits the %d-byte cap (GC total %d unchanged)" % (path.name, heap, res.heap_end))
    return passed, failed


def mpremote(port, *args, timeout=600):
    cmd = device.mpremote_command(port, *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def install_on_board(port, source=False):
    """Sync lib/tinyrnn and harness.py to the board's lib folder (only what changed)."""
    report = deploy.Report()
    deploy.deploy_lib(deploy.Board(port), report, source=source,
                      extra_files={"harness.py": paths.device_tests() / "harness.py"})
    print("board lib: %d uploaded, %d removed, %d unchanged"
          % (len(report.uploaded), len(report.removed), len(report.unchanged)))


def run_on_board(path, port, timeout=600):
    try:
        proc = mpremote(port, "run", str(path), timeout=timeout)
    except subprocess.TimeoutExpired:
        print("FAIL %s: no end within %d s (the board may need a reset)" % (path.name, timeout))
        return 0, 1
    sys.stdout.write((proc.stdout + proc.stderr).replace("\r\n", "\n"))
    passed, failed = count(proc.stdout.replace("\r\n", "\n"))
    if proc.returncode != 0 and not failed:
        print("FAIL %s: mpremote exited with %d" % (path.name, proc.returncode))
        failed += 1
    return passed, failed


def main(names=(), heap=mpvm.DEFAULT_HEAP, source=False, port=None, timeout=600):
    """`tinyrnn device-test`: run the test files named (default: all); exit code."""
    files = test_files(names)
    if not files:
        print("no device tests matched")
        return 1
    if port:
        try:
            install_on_board(port, source=source)
        except deploy.DeployError as e:
            print("device tests: cannot install the library on %s: %s" % (port, e))
            return 1
        head = mpremote(port, "exec", HEADER, timeout=60)
        print("board:", (head.stdout + head.stderr).strip())
    else:
        head = mpvm.run_vm(HEADER, heap_bytes=heap)
        print("VM:", head.stdout.strip())
        print("heap cap: %d bytes (GC total %d at start); lib loaded as %s"
              % (heap, head.heap_start, ".py source" if source else ".mpy (mpy-cross)"))
    total_p = total_f = 0
    for path in files:
        print("== %s" % path.name)
        if port:
            p, f = run_on_board(path, port, timeout)
        else:
            p, f = run_on_vm(path, heap, not source)
        total_p += p
        total_f += f
    print("device tests: %d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0
