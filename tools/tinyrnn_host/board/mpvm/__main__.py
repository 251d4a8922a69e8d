"""python -m mpvm SCRIPT.py [--heap BYTES] [--mpy]: run a script on the MicroPython VM."""
import argparse
import pathlib
import sys

from . import DEFAULT_HEAP, HeapCapExceeded, MicroPythonError, run_vm


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mpvm", description=__doc__.split(":", 1)[1].strip())
    ap.add_argument("script")
    ap.add_argument("--heap", type=int, default=DEFAULT_HEAP, help="heap cap in bytes (default %(default)s)")
    ap.add_argument("--mpy", action="store_true", help="load lib/ as .mpy compiled by mpy-cross")
    args = ap.parse_args(argv)
    src = pathlib.Path(args.script).read_text()
    try:
        res = run_vm(src, heap_bytes=args.heap, mpy=args.mpy, echo=True)
    except MicroPythonError as e:
        sys.stderr.write(e.traceback)
        return 1
    except HeapCapExceeded as e:
        print("heap:", e)
        return 1
    print("[heap: fits the %d-byte cap, GC total %d unchanged]" % (args.heap, res.heap_end))
    return 0


if __name__ == "__main__":
    sys.exit(main())
