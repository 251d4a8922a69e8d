# The benchmark that runs ON MicroPython (tinyrnn bench sends it to each runtime).
# Prints one JSON line per measurement. Times are the board's own ticks_us, the
# best of REPS repeats (shared machines are noisy: compare within one run, as ratios).
#
# Measured per model: an inference step with each kernel set the port has, a
# training update (BPTT over 8 steps, Adam), the naive float GRU a user would
# write with lists and `math` (same sizes), and bare multiply-accumulate loops
# over array('h') with the same number of MACs: bytecode, and viper where the
# port compiles it.
import json
import math
import sys
import time
from array import array

from tinyrnn import kernels
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer

REPS = 5
SLOW = 10          # bytecode runs n // SLOW repeats where viper runs n (the host sets 1 on the VM)
FAST = {"bytecode": 1, "viper": 10, "c": 40}     # repeats per SLOW, by kernel set


def start():
    """ticks_us() at the start of a measurement. On the Cortex-M3 firmware under QEMU's -icount
    it first clears SysTick's counter (SYST_CVR), which ticks_us reads: the count then starts
    in phase with this instruction, so an interval's reading is the same on every run, whenever
    the script began (a tick-edge wait left up to one poll loop of phase: 1% apart)."""
    if MPS2:
        machine.mem32[0xE000E018] = 0
    else:
        t = time.ticks_us()
        while time.ticks_us() == t:     # elsewhere: start on a tick's edge
            pass
    return time.ticks_us()


MPS2 = getattr(sys.implementation, "_build", "") == "MPS2_AN385"
if MPS2:
    import machine


def best(fn, n):
    """The best of REPS runs of n calls, in microseconds per call."""
    b = None
    for _ in range(REPS):
        t = start()
        for _ in range(n):
            fn()
        d = time.ticks_diff(time.ticks_us(), t)
        if b is None or d < b:
            b = d
    return b / n


def n_macs(desc):
    """Multiply-accumulates of one step: rows times inputs (+ hidden) per layer."""
    g = {"elman": 1, "lstm": 4, "gru": 3}
    n = desc["input"]
    total = 0
    for d in desc.get("layers", []):
        if d["kind"] == "dense":
            total += d["out"] * n
            n = d["out"]
        else:
            total += g[d["kind"]] * d["hidden"] * (n + d["hidden"])
            n = d["hidden"]
    if desc.get("head"):
        total += desc["head"]["out"] * n
    return total


def inference_us(desc, kern, n):
    m = Model(desc, 1, kern)
    x = array("h", [100] * desc["input"])
    m.step(x)
    return best(lambda: m.step(x), n)


def fixed_us(desc, kern, n):
    """Where a step's time goes: the whole Model.step, only its layers' kernel calls (what
    is left is the check, the copy and the method call), and with C kernels the one
    _c.run call that checks, copies and runs the stack; an empty method call beside."""
    m = Model(desc, 1, kern)
    x = array("h", [100] * desc["input"])
    m.step(x)
    layers = m.layers
    xb = m._x if m._x is not None else x

    def kernels_only():
        v = xb
        for L in layers:
            L.kern(L.p, v, L.h, L.work, L.n_in, L.n_hid, L.flags)
            v = L.h

    class Empty:
        def step(self, x):
            return x

    e = Empty()
    row = {"fixed": kern, "step": best(lambda: m.step(x), n), "kernels": best(kernels_only, n),
           "empty_call": best(lambda: e.step(x), n)}
    if m._run is not None:
        run, prog = m._run, m._prog
        row["run"] = best(lambda: run(x, prog), n)
    return row


def training_us(desc, kern, n, T=8):
    m = Model(desc, 1, kern)
    t = Trainer(m, optimizer=Adam(lr="0.01"), max_steps=T)
    xs = [[(s * 37 + j * 11) % 300 - 150 for j in range(desc["input"])] for s in range(T)]
    ys = [[(s * 13) % 200 - 100] for s in range(T)]
    t.train_sequence(xs, ys)
    return best(lambda: t.train_sequence(xs, ys), n)


class FloatGRU:
    """A GRU as a user writes it without tinyrnn: lists of floats and `math`."""

    def __init__(self, I, H, O):
        self.I, self.H, self.O = I, H, O
        k = 1 / math.sqrt(H)
        f = lambda r, c: ((r * 7 + c * 3) % 11 - 5) * k / 5      # fixed, deterministic weights
        self.w_ih = [[f(r, c) for c in range(I)] for r in range(3 * H)]
        self.w_hh = [[f(r, c + I) for c in range(H)] for r in range(3 * H)]
        self.b_ih = [0.01] * (3 * H)
        self.b_hh = [-0.01] * (3 * H)
        self.w_o = [[f(o, c) for c in range(H)] for o in range(O)]
        self.b_o = [0.0] * O
        self.h = [0.0] * H

    def step(self, x):
        I, H = self.I, self.H
        h = self.h
        gi = [0.0] * (3 * H)
        gh = [0.0] * (3 * H)
        for r in range(3 * H):
            s = self.b_ih[r]
            row = self.w_ih[r]
            for j in range(I):
                s += row[j] * x[j]
            gi[r] = s
            s = self.b_hh[r]
            row = self.w_hh[r]
            for j in range(H):
                s += row[j] * h[j]
            gh[r] = s
        new = [0.0] * H
        for u in range(H):
            r = 1 / (1 + math.exp(-(gi[u] + gh[u])))
            z = 1 / (1 + math.exp(-(gi[H + u] + gh[H + u])))
            n = math.tanh(gi[2 * H + u] + r * gh[2 * H + u])
            new[u] = (1 - z) * n + z * h[u]
        self.h = new
        y = []
        for o in range(self.O):
            s = self.b_o[o]
            row = self.w_o[o]
            for j in range(H):
                s += row[j] * new[j]
            y.append(s)
        return y


def float_gru_us(I, H, O, n):
    g = FloatGRU(I, H, O)
    x = [0.39] * I
    g.step(x)
    return best(lambda: g.step(x), n)


def bare_bytecode(w, x, rows, cols):
    s = 0
    i = 0
    for r in range(rows):
        acc = 0
        for j in range(cols):
            acc += w[i] * x[j]
            i += 1
        s += acc
    return s


VIPER = """
import micropython
@micropython.viper
def bare_viper(w: ptr16, x: ptr16, rows: int, cols: int) -> int:
    s = 0
    i = 0
    for r in range(rows):
        acc = 0
        for j in range(cols):
            acc += int((w[i] ^ 0x8000) - 0x8000) * int((x[j] ^ 0x8000) - 0x8000)
            i += 1
        s += acc
    return s
"""
try:
    exec(VIPER)
except SyntaxError:            # no native emitter on this port
    bare_viper = None


def bare_us(fn, macs, cols, n):
    rows = macs // cols
    w = array("h", [(i * 7) % 200 - 100 for i in range(rows * cols)])
    x = array("h", [(j * 5) % 200 - 100 for j in range(cols)])
    return best(lambda: fn(w, x, rows, cols), n)


def run(models, training, kernel_sets):
    """models: [(name, desc, n)]; training: [(name, desc, n)]."""
    # training first: measured after the naive float GRU (whose collections fall where the host's
    # serial timing puts them) the Cortex-M3's counts moved by up to 2.5 % between two boards, as
    # the trainer's objects landed elsewhere in the heap (MicroPython's map lookup cache is keyed
    # by address); measured first they are the same to the instruction
    for name, desc, n in training:
        row = {"training": name}
        for k in kernel_sets:
            row[k] = training_us(desc, k, max(1, n * FAST[k] // SLOW))
        print(json.dumps(row))
    for name, desc, n in models:
        row = {"model": name, "macs": n_macs(desc)}
        for k in kernel_sets:
            row[k] = inference_us(desc, k, max(1, n * FAST[k] // SLOW))
        layers = desc.get("layers", [])
        if len(layers) == 1 and layers[0]["kind"] == "gru":
            row["float"] = float_gru_us(desc["input"], layers[0]["hidden"], desc["head"]["out"], max(1, n // SLOW))
        cols = desc["input"] + (layers[0].get("hidden", 0) if layers else 0)
        row["bare_bytecode"] = bare_us(bare_bytecode, row["macs"], cols, max(1, n // SLOW))
        if bare_viper is not None:
            row["bare_viper"] = bare_us(bare_viper, row["macs"], cols, n)
        print(json.dumps(row))
    for k in kernel_sets:
        if k != "bytecode":
            name, desc, n = models[0]
            row = fixed_us(desc, k, max(1, n * FAST[k] // SLOW))
            row["model"] = name
            print(json.dumps(row))


KERNEL_SETS = ["bytecode"] + [k for k in ("viper", "c") if kernels.available(k)]
