"""Run device_tests/ on MicroPython: the VM here, or a real board with --port.

    python tools/run_device_tests.py [--heap BYTES] [--source] [test_q88 ...]
    python tools/run_device_tests.py --port /dev/ttyACM0

On the VM each test function runs as its own top-level call (so the GC runs
between tests, as on a board) in one interpreter whose heap starts at --heap
bytes; a file whose tests made the heap grow past that cap fails. The library
is loaded as .mpy compiled by mpy-cross, as a deploy does (--source: as .py).
With --port, the same files go through the real `mpremote`: lib/tinyrnn and
harness.py are copied to the board's /lib, then each file is `mpremote run`.
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


def mpremote(port, *args, check=True):
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=600)


def install_on_board(port):
    mpremote(port, "mkdir", ":lib", check=False)
    mpremote(port, "mkdir", ":lib/tinyrnn", check=False)
    for py in sorted((ROOT / "lib" / "tinyrnn").glob("*.py")):
        mpremote(port, "cp", str(py), ":lib/tinyrnn/" + py.name)
    mpremote(port, "cp", str(TESTS / "harness.py"), ":lib/harness.py")


def run_on_board(path, port):
    proc = mpremote(port, "run", str(path), check=False)
    sys.stdout.write(proc.stdout + proc.stderr)
    passed, failed = count(proc.stdout)
    if proc.returncode != 0 and not failed:
        failed += 1
    return passed, failed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="test files to run (default: all)")
    ap.add_argument("--heap", type=int, default=mpvm.DEFAULT_HEAP, help="VM heap cap in bytes")
    ap.add_argument("--source", action="store_true", help="load lib as .py, not .mpy")
    ap.add_argument("--port", help="run on a board through mpremote instead of the VM")
    args = ap.parse_args(argv)
    files = test_files(args.names)
    if not files:
        print("no device tests matched")
        return 1
    if args.port:
        install_on_board(args.port)
        print("board:", mpremote(args.port, "exec", HEADER).stdout.strip())
    else:
        head = mpvm.run_vm(HEADER, heap_bytes=args.heap)
        print("VM:", head.stdout.strip())
        print("heap cap: %d bytes (GC total %d at start); lib loaded as %s"
              % (args.heap, head.heap_start, ".py source" if args.source else ".mpy (mpy-cross)"))
    total_p = total_f = 0
    for path in files:
        print("== %s" % path.name)
        p, f = run_on_board(path, args.port) if args.port else run_on_vm(path, args.heap, not args.source)
        total_p += p
        total_f += f
    print("device tests: %d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
