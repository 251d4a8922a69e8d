"""Run an example on the MicroPython VM under a heap cap, the way a board runs it.

    python tools/run_example.py examples/gru_xor.py [--heap 65536] [--source]
    python tools/run_example.py --all          (make examples)

lib/ is loaded as .mpy compiled by mpy-cross, as a deploy does. The example's
run() generator yields once per epoch; the runner drives it with one top-level
call per epoch, so the VM's GC runs between epochs as a board's would during
the run (this VM build collects only between top-level calls). Prints the
example's output, wall time, and the heap high-water mark: the largest
gc.mem_alloc() seen at the end of an epoch, before that epoch's garbage was
collected -- the heap the run needs. The run fails if the heap had to grow past
the cap.
"""
import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import mpvm  # noqa: E402

CAPS = {"gru_xor": 65536, "lstm_sine": 65536, "digits": 131072}


def run_example(path, heap, mpy=True, echo=True):
    """-> (VMResult, seconds). Raises mpvm.HeapCapExceeded / MicroPythonError."""
    path = pathlib.Path(path)
    setup = ("import sys\nsys.path.insert(0, '/examples')\nimport %s as _ex\n_g = _ex.run()\n" % path.stem)
    t0 = time.time()
    res = mpvm.run_vm(setup, heap_bytes=heap, mpy=mpy, extra_dirs=[(path.parent, "/examples")],
                      loop="next(_g)", echo=echo)
    return res, time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("example", nargs="?")
    ap.add_argument("--all", action="store_true", help="run every example under its cap")
    ap.add_argument("--heap", type=int, help="heap cap in bytes (default: the example's)")
    ap.add_argument("--source", action="store_true", help="load lib as .py, not .mpy")
    args = ap.parse_args(argv)
    paths = [ROOT / "examples" / (name + ".py") for name in CAPS] if args.all else [pathlib.Path(args.example)]
    rows = []
    for path in paths:
        heap = args.heap or CAPS.get(path.stem, mpvm.DEFAULT_HEAP)
        print("== %s on MicroPython (VM), heap cap %d bytes" % (path.name, heap))
        try:
            res, secs = run_example(path, heap, mpy=not args.source)
        except mpvm.HeapCapExceeded as e:
            print("FAIL:", e)
            return 1
        print("-- %s: %.1f s wall, %d epochs driven, heap high-water %d bytes, fits the %d-byte cap"
              % (path.name, secs, res.loops, res.peak_alloc, heap))
        rows.append((path.stem, secs, res.peak_alloc, heap))
    if len(rows) > 1:
        print("\n%-10s %10s %16s %10s" % ("example", "wall s", "heap high-water", "cap"))
        for name, secs, peak, heap in rows:
            print("%-10s %10.1f %16d %10d" % (name, secs, peak, heap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
