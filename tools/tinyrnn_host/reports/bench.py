"""Speed on MicroPython: microseconds per inference step on the VM.

    tinyrnn bench          (make bench)

The VM is MicroPython compiled to WebAssembly running under Node.js on this
machine; a Cortex-M0+ board at 133 MHz is much slower. Treat these as relative
figures (model vs model, before vs after a change), and measure on your board
with `mpremote run` of the same script.
"""
from ..board import mpvm

MODELS = [
    ("GRU 2-3-1", {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1}}),
    ("LSTM 2-3-1", {"input": 2, "layers": [{"kind": "lstm", "hidden": 3}], "head": {"out": 1}}),
    ("Elman 2-3-1", {"input": 2, "layers": [{"kind": "elman", "hidden": 3}], "head": {"out": 1}}),
    ("GRU 8-32-1", {"input": 8, "layers": [{"kind": "gru", "hidden": 32}], "head": {"out": 1}}),
    ("LSTM 8-32-8-1", {"input": 8, "layers": [{"kind": "lstm", "hidden": 32}, {"kind": "lstm", "hidden": 8}],
                       "head": {"out": 1}}),
]

SCRIPT = """
import time
from array import array
from tinyrnn.model import Model
def bench(desc, steps):
    m = Model(desc, 1)
    x = array('h', [100] * desc['input'])
    m.step(x)
    t = time.ticks_us()
    for _ in range(steps):
        m.step(x)
    return time.ticks_diff(time.ticks_us(), t) / steps
"""


def measure(models=MODELS, steps=300):
    # one untimed pass first: Node compiles hot WebAssembly code in tiers, so the
    # first model measured would otherwise pay for the warm-up
    chunks = [SCRIPT] + ["bench(%r, %d)" % (d, steps) for _, d in models]
    chunks += ["print(bench(%r, %d))" % (d, steps) for _, d in models]
    res = mpvm.run_vm(chunks, heap_bytes=1 << 20, mpy=True)
    return [(name, float(v)) for (name, _), v in zip(models, res.stdout.split())]


def main():
    print("inference step time on the MicroPython VM (WebAssembly under Node.js), lib as .mpy")
    print("%-14s %12s" % ("model", "us / step"))
    for name, us in measure():
        print("%-14s %12.1f" % (name, us))
    return 0

