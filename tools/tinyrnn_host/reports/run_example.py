"""Run an example on the MicroPython VM under a heap cap, the way a board runs it.

    tinyrnn examples gru_xor [--heap 65536] [--source]     (a name from examples/, or a path)
    tinyrnn examples                                       (all of them: make examples)

lib/ is loaded as .mpy compiled by mpy-cross, as a deploy does. The example's
run() generator yields once per epoch; the runner drives it with one top-level
call per epoch, so the VM's GC runs between epochs as a board's would during
the run (this VM build collects only between top-level calls). Prints the
example's output, wall time, and the heap high-water mark: the largest
gc.mem_alloc() seen at the end of an epoch, before that epoch's garbage was
collected -- the heap the run needs. The run fails if the heap had to grow past
the cap.
"""
import pathlib
import time

from .. import paths
from ..board import mpvm

CAPS = {"gru_xor": 65536, "lstm_sine": 65536, "digits": 131072}


def run_example(path, heap, mpy=True, echo=True):
    """-> (VMResult, seconds). Raises mpvm.HeapCapExceeded / MicroPythonError."""
    path = pathlib.Path(path)
    setup = ("import sys\nsys.path.insert(0, '/examples')\nimport %s as _ex\n_g = _ex.run()\n" % path.stem)
    t0 = time.time()
    res = mpvm.run_vm(setup, heap_bytes=heap, mpy=mpy, extra_dirs=[(path.parent, "/examples")],
                      loop="next(_g)", echo=echo)
    return res, time.time() - t0


def example_path(name):
    """An example by file path, or by name (gru_xor) from examples/."""
    path = pathlib.Path(name)
    if not path.exists() and path.parent == pathlib.Path("."):
        path = paths.examples() / path.with_suffix(".py").name
    return path


def main(examples=(), heap=None, source=False):
    """`tinyrnn examples`: run the examples named (default: all, each under its cap); exit code."""
    files = [example_path(e) for e in examples] or [paths.examples() / (name + ".py") for name in CAPS]
    rows = []
    for path in files:
        cap = heap or CAPS.get(path.stem, mpvm.DEFAULT_HEAP)
        print("== %s on MicroPython (VM), heap cap %d bytes" % (path.name, cap))
        try:
            res, secs = run_example(path, cap, mpy=not source)
        except mpvm.HeapCapExceeded as e:
            print("FAIL:", e)
            return 1
        print("-- %s: %.1f s wall, %d epochs driven, heap high-water %d bytes, fits the %d-byte cap"
              % (path.name, secs, res.loops, res.peak_alloc, cap))
        rows.append((path.stem, secs, res.peak_alloc, cap))
    if len(rows) > 1:
        print("\n%-10s %10s %16s %10s" % ("example", "wall s", "heap high-water", "cap"))
        for name, secs, peak, cap in rows:
            print("%-10s %10.1f %16d %10d" % (name, secs, peak, cap))
    return 0
