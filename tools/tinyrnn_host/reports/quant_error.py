"""Quantisation error: the Q8.8 model (NumPy mirror, == lib bit for bit) against the
float64 reference running the SAME quantised weights and inputs.

    tinyrnn quant-error [--plot FILE]        (make quant-error)

For each cell at hidden sizes 3, 16 and 32: input 2 -> cell H -> dense 1
(identity), PyTorch's init drawn by the library PRNG, 32 sequences of 100 steps
of sine waves with random frequency and phase (amplitude 1). Prints the max and
mean |Q8.8 output - float output| in LSB (1/256).
"""
import numpy as np

from ..mirror.model import Model
from ..reference import model as ref

KINDS = ("elman", "lstm", "gru")
HIDDEN = (3, 16, 32)
BATCH, STEPS = 32, 100


def inputs(seed):
    rng = np.random.default_rng(seed)
    t = np.arange(STEPS)[None, :, None]
    freq = rng.uniform(0.02, 0.3, (BATCH, 1, 2))
    phase = rng.uniform(0, 2 * np.pi, (BATCH, 1, 2))
    return np.floor(256 * np.sin(2 * np.pi * freq * t + phase) + 0.5).astype(np.int64)


def measure(kind, hidden, seed=1):
    """(max, mean) |error| in LSB over every output of every step."""
    err = errors(kind, hidden, seed)
    return float(err.max()), float(err.mean())


def errors(kind, hidden, seed=1):
    """|Q8.8 output - float output| in LSB, every output of every step (BATCH, STEPS, 1)."""
    desc = {"input": 2, "layers": [{"kind": kind, "hidden": hidden}], "head": {"out": 1, "act": "identity"}}
    m = Model(desc, seed=seed, batch=BATCH)
    xq = inputs(seed)
    yq, _ = m.run(xq)
    params = {k: v / 256.0 for k, v in m.params.items()}
    yf, _ = ref.forward(desc, params, xq / 256.0)
    return np.abs(yq - 256.0 * yf)


def table():
    return {(k, h): measure(k, h) for k in KINDS for h in HIDDEN}


def main(plot=None):
    """Print the table; with plot, also write the error histogram (PNG) there."""
    print("Q8.8 vs float64 on the same quantised weights, %d x %d-step sequences" % (BATCH, STEPS))
    print("%-6s %6s %14s %15s" % ("cell", "hidden", "max err (LSB)", "mean err (LSB)"))
    for (k, h), (mx, mean) in table().items():
        print("%-6s %6d %14.2f %15.3f" % (k, h, mx, mean))
    if plot:
        from . import plots
        path = plots.histogram(plot, "Q8.8 vs float64 on the same weights, %d x %d steps" % (BATCH, STEPS),
                               {k: {"hidden %d" % h: errors(k, h) for h in HIDDEN} for k in KINDS})
        print("wrote %s" % path)
    return 0

