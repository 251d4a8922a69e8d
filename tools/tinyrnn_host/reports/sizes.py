"""Size report: parameters, and the heap models and programs really take on each MicroPython.

    tinyrnn sizes          (make sizes)

1. Model objects: parameter count and bytes (2 per Q8.8 value) and the live heap
   of the model object, inference only (the gc.mem_alloc() difference around
   `Model(desc)` with a collection after it, the kernels loaded beforehand), on
   the WebAssembly VM (32-bit objects, as RP2040/ESP32) and the unix port (64-bit
   objects: more), beside the C++ anchor's figures (tinymind, non-trainable Q8.8).
2. Under the unix port's hard cap (`-X heapsize`, real GC): the smallest heap,
   to 1 KB, from which whole programs run at every size up to 8 KB above it
   (whether a program fits is not monotonic in the heap size; smallest_heap)
   (import the library, build the model,
   step it / train it), with the library as .mpy and as .py sources (what
   `mip install` gives: MicroPython then compiles on the board, which needs RAM);
   and the largest GRU and LSTM (8 inputs, 1 output) that load and step in 64 KB.
3. The .mpy bytes of the modules, and of the native kernels per architecture.
4. Trainable subsets (reports/subsets.py): a Trainer's heap when only the head or one layer
   learns (train=), against the full model.
"""
import ast
import json
import pathlib
import tempfile

from .. import paths
from ..board import mpunix, mpvm, mpycompile

MODELS = [
    ("MLP 2-3-1", {"input": 2, "layers": [{"kind": "dense", "out": 3, "act": "tanh"}], "head": {"out": 1}}, None),
    ("MLP 2-5-1", {"input": 2, "layers": [{"kind": "dense", "out": 5, "act": "tanh"}], "head": {"out": 1}}, 144),
    ("Elman 2-3-1", {"input": 2, "layers": [{"kind": "elman", "hidden": 3}], "head": {"out": 1}}, 192),
    ("LSTM 2-3-1", {"input": 2, "layers": [{"kind": "lstm", "hidden": 3}], "head": {"out": 1}}, 384),
    ("GRU 2-3-1", {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1}}, 336),
    ("GRU 8-32-8-1", {"input": 8, "layers": [{"kind": "gru", "hidden": 32}, {"kind": "gru", "hidden": 8}],
                      "head": {"out": 1}}, None),
    ("LSTM 8-32-8-1", {"input": 8, "layers": [{"kind": "lstm", "hidden": 32}, {"kind": "lstm", "hidden": 8}],
                       "head": {"out": 1}}, None),
]
CAP = 65536


def cell(kind, hidden, inputs=8):
    return {"input": inputs, "layers": [{"kind": kind, "hidden": hidden}], "head": {"out": 1}}


# Programs whose smallest heap is measured on the unix port (a board program each).
INFER = """
from array import array
from tinyrnn.model import Model
m = Model(%r, 1)
x = array('h', [100] * m.n_inputs)
for _ in range(200):
    m.step(x)
print('ok')
"""
TRAIN = """
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.rng import Rng
from tinyrnn.train import Trainer
m = Model(%r, 1)
t = Trainer(m, optimizer=Adam(lr='0.02'), max_steps=4)
# 32 sequences of 4 steps over the 4 bit pairs (the XOR example's data; steps share their lists)
pairs = [[0, 0], [0, 256], [256, 0], [256, 256]]
target = [[0], [256], [256], [0]]
r = Rng(3)
data = []
for _ in range(32):
    k = [r.randbelow(4) for _ in range(4)]
    data.append(([pairs[i] for i in k], [target[i] for i in k]))
t.fit(data, 3, batch_size=4, verbose=False)
print('ok')
"""
IMPORT_TRAIN = "from tinyrnn.train import Trainer\nprint('ok')\n"
PROGRAMS = [
    ("import the trainer", IMPORT_TRAIN),
    ("GRU 8-32-1: 200 inference steps", INFER % cell("gru", 32)),
    ("GRU 2-8-1 + Adam: 3 epochs of 32 x 4 steps", TRAIN % cell("gru", 8, 2)),
]


def measure_model_heaps(models=MODELS):
    """[(name, n_params, param_bytes, vm_heap, unix_heap, anchor)] and the modules an inference program loads."""
    # a first model loads the kernels (once per program): not counted in any model's figure
    setup = ("import gc, sys\nfrom tinyrnn.model import Model\nm = None\na0 = a1 = n = 0\n"
             "DESCS = %s\nModel(DESCS[0], 1)\ngc.collect()" % json.dumps([d for _, d, _ in models]))
    chunks = [setup]
    for i in range(len(models)):
        chunks += ["m = None\ngc.collect()",            # collected when this chunk returns
                   "a0 = gc.mem_alloc()",
                   "m = Model(DESCS[%d], 1)\nn = m.n_params\ngc.collect()" % i,
                   "a1 = gc.mem_alloc()\nprint(n, a1 - a0)"]
    chunks.append("print(sorted(k for k in sys.modules if k.startswith('tinyrnn')))")
    vm = mpvm.run_vm(chunks, heap_bytes=1 << 20, mpy=True).stdout.strip().splitlines()
    # the unix port: a fresh interpreter per model; a first model of the same kind stays
    # alive, so nothing is freed between the two readings (its GC scans the C stack
    # conservatively: a dropped object may or may not go at the next collection)
    unix = []
    for _, d, _ in models:
        prog = ("import gc\nfrom tinyrnn.model import Model\nkeep = Model(%r, 1)\ngc.collect()\n"
                "a0 = gc.mem_alloc()\nm = Model(%r, 1)\ngc.collect()\nprint(gc.mem_alloc() - a0)\n" % (d, d))
        unix.append(int(mpunix.run_unix(prog, heap_bytes=1 << 20).stdout.split()[-1]))
    mods = mpunix.run_unix("import sys\nfrom tinyrnn.model import Model\nModel(%r, 1)\n"
                           "print(sorted(k for k in sys.modules if k.startswith('tinyrnn')))" % models[0][1],
                           heap_bytes=1 << 20).stdout.strip()
    rows = []
    for (name, _, anchor), a, heap_unix in zip(models, vm, unix):
        n, heap_vm = map(int, a.split())
        rows.append((name, n, 2 * n, heap_vm, heap_unix, anchor))
    return rows, vm[-1], mods


def runs_in(script, heap, mpy=True):
    res = mpunix.run_unix(script, heap_bytes=heap, mpy=mpy, check=False, timeout=300)
    return res.error is None and "ok" in res.stdout


def smallest_heap(script, mpy=True, lo=8, hi=256, band=8):
    """The smallest -X heapsize (KB) from which the program runs at every size up to `band` KB
    above it (mpunix.smallest_cap: fitting is not monotonic in the heap size), or None above hi KB."""
    return mpunix.smallest_cap(lambda kb: runs_in(script, kb << 10, mpy), lo, hi, 1, band)


def largest_hidden(kind, cap=CAP, lo=1, hi=160):
    """The largest hidden size H whose 8-H-1 model loads and steps on the unix port under `cap` bytes."""
    script = lambda h: INFER % cell(kind, h)     # noqa: E731
    if not runs_in(script(lo), cap):
        return None
    while lo < hi:                   # invariant: H = lo fits
        mid = (lo + hi + 1) // 2
        if runs_in(script(mid), cap):
            lo = mid
        else:
            hi = mid - 1
    return lo


def mpy_sizes(arch=None):
    with tempfile.TemporaryDirectory() as tmp:
        out = mpycompile.compile_tree(paths.board_lib(), tmp, arch=arch)
        return {p.stem: p.stat().st_size for p in sorted(pathlib.Path(out).rglob("*.mpy"))}


def inference_mpy_bytes(modules, byte):
    """Bytes of .mpy bytecode the modules `modules` (a printed list of tinyrnn module names) take."""
    names = ast.literal_eval(modules) if isinstance(modules, str) else modules
    stems = [m.split(".", 1)[1] if "." in m else "__init__" for m in names]
    return sum(byte[s] for s in stems)


def main():
    rows, vm_modules, unix_modules = measure_model_heaps()
    print("Inference-only model objects, heap bytes (lib as .mpy): WebAssembly VM (32-bit objects)"
          " and unix port (64-bit)")
    print("%-14s %8s %12s %9s %11s %22s %9s" % ("model", "params", "param bytes", "VM heap", "unix heap",
                                                 "tinymind (C++) bytes", "VM ratio"))
    for name, n, pb, heap, uheap, anchor in rows:
        print("%-14s %8d %12d %9d %11d %22s %9s" % (name, n, pb, heap, uheap, anchor or "-",
                                                     "%.2fx" % (heap / anchor) if anchor else "-"))
    print()
    print("Smallest heap each program runs in on the unix port (hard cap -X heapsize, real GC; 64-bit objects,"
          " so a 32-bit board needs less), to 1 KB, and at every size up to 8 KB above:")
    print("%-44s %10s %12s" % ("program", "lib .mpy", "lib .py src"))
    for name, script in PROGRAMS:
        kb = [smallest_heap(script, mpy) for mpy in (True, False)]
        print("%-44s %10s %12s" % (name, *("%d KB" % k if k else "> 256 KB" for k in kb)))
    big = [(kind, largest_hidden(kind)) for kind in ("gru", "lstm")]
    print()
    for kind, h in big:
        d = cell(kind, h)
        print("largest %s 8-H-1 that loads and steps under a 64 KB hard cap on the unix port: H = %d (%d parameters)"
              % (kind.upper(), h, _n_params(d)))
    print("GRU 8-38-1 (%d parameters) under 64 KB on the unix port: %s"
          % (_n_params(cell("gru", 38)), "loads and steps" if runs_in(INFER % cell("gru", 38), CAP) else "FAILS"))
    print()
    byte = mpy_sizes()
    native = mpy_sizes("armv6m")
    print("modules an inference program loads (VM, bytecode kernels):", vm_modules)
    print("modules an inference program loads (unix port, the kernels it picks):", unix_modules)
    print(".mpy bytes: %s" % ", ".join("%s %d" % kv for kv in byte.items()))
    print("the inference modules (VM list above) as .mpy: %d bytes (_cell %d)"
          % (inference_mpy_bytes(vm_modules, byte), byte["_cell"]))
    print(".mpy bytes of the native kernels for armv6m (RP2040): %s"
          % ", ".join("%s %d" % (k, v) for k, v in native.items() if k.startswith("_viper")))
    print()
    from . import subsets
    subsets.report()
    return 0


def _n_params(desc):
    from ..mirror.model import param_shapes
    n = 0
    for _, shape in param_shapes(desc):
        k = 1
        for s in shape:
            k *= s
        n += k
    return n
