"""Run an example as the plain program a board runs, on both MicroPythons.

    tinyrnn examples gru_xor [--heap 98304] [--source] [--vm-only | --unix-only] [--min-heap]
    tinyrnn examples                  (all of them: make examples)

Each example is a plain script (no generator, no hooks): it is run as is, the way
`mpremote run examples/gru_xor.py` runs it on a board, with lib/ as .mpy:

1. on the **unix port** under the example's hard heap cap (`-X heapsize`, real GC
   in the middle of work as on a board; viper kernels; 64-bit objects, so a 32-bit
   board needs less). The figure: it ran to its RESULT under that cap. --min-heap
   also finds the smallest cap from which it runs at every cap up to 8 KB above
   (in 4 KB steps; fitting is not monotonic in the cap, mpunix.smallest_cap).
2. on the **WebAssembly VM** in one run: this VM grows its heap and collects only
   between top-level calls, so the whole run's allocation stays on the heap; its
   high-water mark (the largest gc.mem_alloc(), here at the end) and whether it
   stayed within the cap are reported.
"""
import pathlib
import sys
import time

from .. import paths
from ..board import mpunix, mpvm
from .progress import LineBar

# hard caps on the unix port (64-bit objects; the library as .mpy, viper kernels)
CAPS = {"gru_xor": 131072, "lstm_sine": 131072, "digits": 131072}
STEP = 4096


class ExampleFailed(Exception):
    """The example raised, or printed no RESULT line."""


def example_path(name):
    """An example by file path, or by name (gru_xor) from examples/."""
    path = pathlib.Path(name)
    if not path.exists() and path.parent == pathlib.Path("."):
        path = paths.examples() / path.with_suffix(".py").name
    return path


def results(stdout):
    """The example's RESULT lines as dicts of their key=value fields."""
    return [dict(f.split("=", 1) for f in line.split()[2:])
            for line in stdout.splitlines() if line.startswith("RESULT")]


def on_unix(path, heap, mpy=True, echo=False):
    """-> (stdout, seconds) of the example on the unix port under a hard cap; raises ExampleFailed."""
    t0 = time.time()
    res = mpunix.run_unix(path.read_text(), heap_bytes=heap, mpy=mpy, check=False, echo=echo)
    if res.error or not results(res.stdout):
        raise ExampleFailed("%s on the unix port under %d bytes: %s" % (path.name, heap, (res.error or res.stdout)[-600:]))
    return res.stdout, time.time() - t0


def min_heap(path, hi, mpy=True):
    """The smallest cap (a multiple of STEP) from which the example runs on the unix port at
    every cap up to 2 steps above it (mpunix.smallest_cap: fitting is not monotonic)."""
    def runs(cap):
        try:
            on_unix(path, cap, mpy)
            return True
        except ExampleFailed:
            return False
    return mpunix.smallest_cap(runs, 0, hi, STEP, 2 * STEP) or hi


def on_vm(path, cap, mpy=True, echo=False):
    """-> (VMResult, seconds): the example in ONE run on the VM; its heap may grow (reported).
    echo: True prints its output as it comes; a callable gets it (a progress bar)."""
    setup = "import sys\nsys.path.insert(0, '/examples')\n"
    t0 = time.time()
    res = mpvm.run_vm(setup + path.read_text(), heap_bytes=cap, mpy=mpy, allow_growth=True, echo=echo,
                      extra_dirs=[(path.parent, "/examples")])
    if not results(res.stdout):
        raise ExampleFailed("%s on the VM: no RESULT line:\n%s" % (path.name, res.stdout[-600:]))
    return res, time.time() - t0


def vm_peak(res):
    """The VM run's heap high-water mark: the largest gc.mem_alloc() (the run frees nothing)."""
    return max(res.peak_alloc, res.heap_end if res.heap_grew else 0)


def main(examples=(), heap=None, source=False, vm=True, unix=True, find_min=False):
    """`tinyrnn examples`: run the examples named (default: all, each under its cap); exit code."""
    files = [example_path(e) for e in examples] or [paths.examples() / (name + ".py") for name in CAPS]
    missing = [e for e, f in zip(examples, files) if not f.is_file()]
    if missing:
        print("examples: no example %s; the examples: %s (or the path of a .py file)"
              % (", ".join(repr(m) for m in missing), ", ".join(CAPS)), file=sys.stderr)
        return 2
    rows = []
    for path in files:
        cap = heap or CAPS.get(path.stem, mpunix.DEFAULT_HEAP)
        row = {"name": path.stem, "cap": cap}
        if unix:
            print("== %s on the unix port (MicroPython %s), hard heap cap %d bytes, lib as %s"
                  % (path.name, mpunix.PACKAGE.split("==")[1], cap, ".py" if source else ".mpy"))
            try:
                out, secs = on_unix(path, cap, not source, echo=True)
            except ExampleFailed as e:
                print("FAIL:", e)
                return 1
            row.update(unix_s=secs, unix=results(out))
            if find_min:
                row["min"] = min_heap(path, cap, not source)
                print("-- smallest hard cap it runs under: %d bytes" % row["min"])
            print("-- %s: %.1f s wall, ran under the %d-byte hard cap" % (path.name, secs, cap))
        if vm:
            print("== %s on the WebAssembly VM, one run, heap starts at %d bytes" % (path.name, cap))
            bar = None
            if unix:          # its output was shown on the unix port: a bar of the same lines instead
                bar = LineBar(len(out.splitlines()), "%s on the VM" % path.stem, unit="line")
            try:
                res, secs = on_vm(path, cap, not source, echo=bar.feed if bar else True)
            finally:
                if bar:
                    bar.close()
            peak = vm_peak(res)
            row.update(vm_s=secs, vm=results(res.stdout), vm_peak=peak, vm_fits=not res.heap_grew)
            print("-- %s: %.1f s wall, heap high-water %d bytes: %s the %d-byte cap"
                  % (path.name, secs, peak, "within" if not res.heap_grew else "OVER (the heap grew)", cap))
        rows.append(row)
    table(rows)
    return 0


def table(rows):
    print("\n%-10s %12s %9s %12s %9s %17s" % ("example", "unix cap", "unix ms", "unix min", "VM ms", "VM high-water"))
    for r in rows:
        ms = [";".join(x.get("ms", "-") for x in r.get(k, [])) or "-" for k in ("unix", "vm")]
        print("%-10s %12s %9s %12s %9s %17s" % (r["name"], r["cap"] if "unix" in r else "-", ms[0],
                                               r.get("min", "-"), ms[1], r.get("vm_peak", "-")))
    for r in rows:
        for where in ("unix", "vm"):
            for x in r.get(where, []):
                print("%s %s: %s" % (r["name"], where, " ".join("%s=%s" % kv for kv in sorted(x.items()))))

