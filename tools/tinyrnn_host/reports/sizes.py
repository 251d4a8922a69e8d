"""Size report: parameters and the heap a model really takes on MicroPython.

    tinyrnn sizes          (make sizes)

For each model: parameter count, parameter bytes (2 per Q8.8 value), and the
live heap of the model object on the MicroPython VM, inference only: the
gc.mem_alloc() difference around `Model(desc)` with a collection after it, so
garbage from construction is not counted. Beside it, the C++ anchor's figures
(tinymind, non-trainable Q8.8, shared/seeds). Then the bytecode the inference
modules cost as .mpy.
"""
import json
import pathlib
import tempfile

from .. import paths
from ..board import mpvm

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
INFERENCE_MODULES = ["act", "_tables", "rng", "_cell", "elman", "lstm", "gru", "dense", "model"]


def measure(models=MODELS):
    """[(name, n_params, param_bytes, heap_bytes, anchor)] measured on the VM."""
    # a first model loads the kernels (once per program): not counted in any model's figure
    chunks = ["import gc, sys\nfrom tinyrnn.model import Model\nm = None\na0 = a1 = n = 0\n"
              "DESCS = %s\nModel(DESCS[0], 1)\ngc.collect()" % json.dumps([d for _, d, _ in models])]
    for i in range(len(models)):
        chunks += ["m = None\ngc.collect()",            # collected when this chunk returns
                   "a0 = gc.mem_alloc()",
                   "m = Model(DESCS[%d], 1)\nn = m.n_params\ngc.collect()" % i,
                   "a1 = gc.mem_alloc()\nprint(n, a1 - a0)"]
    chunks.append("print(sorted(k for k in sys.modules if k.startswith('tinyrnn')))")
    res = mpvm.run_vm(chunks, heap_bytes=1 << 20, mpy=True)
    lines = res.stdout.strip().splitlines()
    rows = []
    for (name, _, anchor), line in zip(models, lines):
        n, heap = map(int, line.split())
        rows.append((name, n, 2 * n, heap, anchor))
    return rows, lines[-1]


def mpy_sizes():
    with tempfile.TemporaryDirectory() as tmp:
        out = mpvm.compile_mpy(paths.board_lib(), tmp)
        return {p.stem: p.stat().st_size for p in sorted(pathlib.Path(out).rglob("*.mpy"))}


def main():
    rows, modules = measure()
    print("Inference-only models on the MicroPython VM (lib as .mpy), heap = live bytes of the model object")
    print("%-14s %8s %12s %11s %22s %7s" % ("model", "params", "param bytes", "heap bytes",
                                           "tinymind (C++) bytes", "ratio"))
    for name, n, pb, heap, anchor in rows:
        print("%-14s %8d %12d %11d %22s %7s" % (name, n, pb, heap, anchor or "-",
                                                "%.2fx" % (heap / anchor) if anchor else "-"))
    sizes = mpy_sizes()
    inf = sum(sizes[m] for m in INFERENCE_MODULES if m in sizes)
    print()
    print("modules imported by `from tinyrnn.model import Model`:", modules)
    print(".mpy bytes of those modules: %d (%s)" % (inf, ", ".join("%s %d" % (m, sizes[m]) for m in INFERENCE_MODULES if m in sizes)))
    return 0

