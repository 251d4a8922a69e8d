"""Run device_tests/ on MicroPython: the VM here, or a real board with --port.

    python tools/run_device_tests.py [--heap BYTES] [--source] [test_q88 ...]
    python tools/run_device_tests.py --port /dev/ttyACM0

On the VM each test function runs as its own top-level call (so the GC runs
between tests, as on a board) in one interpreter whose heap starts at --heap
bytes; a file whose tests made the heap grow past that cap fails. The library
is loaded as .mpy compiled by mpy-cross, as a deploy does (--source: as .py).
With --port, the same files go through the real `mpremote`: lib/tinyrnn (as
.mpy matched to the board by tools/deploy.py, or as .py with --source) and
harness.py go to the board's /lib, uploading only files that changed, then
each test file is `mpremote run` (mpremote soft-resets the board first, so each
file starts from a fresh heap).
"""
import argparse
import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import mpvm  # noqa: E402

TESTS = ROOT / "device_tests"
HEADER = ("import sys, micropython\n"
          "print('MicroPython', sys.version, '|', sys.implementation)\n")


def test_files(names):
    files = sorted(TESTS.glob("test_*.py"))
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
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def install_on_board(port, source=False):
    """Sync lib/tinyrnn and harness.py to the board's lib folder (only what changed)."""
    import deploy
    report = deploy.Report()
    deploy.deploy_lib(deploy.Board(port), report, source=source,
                      extra_files={"harness.py": TESTS / "harness.py"})
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="test files to run (default: all)")
    ap.add_argument("--heap", type=int, default=mpvm.DEFAULT_HEAP, help="VM heap cap in bytes")
    ap.add_argument("--source", action="store_true", help="load lib as .py, not .mpy")
    ap.add_argument("--port", help="run on a board through mpremote instead of the VM")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per test file on a board")
    args = ap.parse_args(argv)
    files = test_files(args.names)
    if not files:
        print("no device tests matched")
        return 1
    if args.port:
        import deploy
        try:
            install_on_board(args.port, source=args.source)
        except deploy.DeployError as e:
            print("device tests: cannot install the library on %s: %s" % (args.port, e))
            return 1
        head = mpremote(args.port, "exec", HEADER, timeout=60)
        print("board:", (head.stdout + head.stderr).strip())
    else:
        head = mpvm.run_vm(HEADER, heap_bytes=args.heap)
        print("VM:", head.stdout.strip())
        print("heap cap: %d bytes (GC total %d at start); lib loaded as %s"
              % (args.heap, head.heap_start, ".py source" if args.source else ".mpy (mpy-cross)"))
    total_p = total_f = 0
    for path in files:
        print("== %s" % path.name)
        if args.port:
            p, f = run_on_board(path, args.port, args.timeout)
        else:
            p, f = run_on_vm(path, args.heap, not args.source)
        total_p += p
        total_f += f
    print("device tests: %d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
