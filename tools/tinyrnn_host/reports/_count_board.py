# Instruction counts ON the Cortex-M3 board under QEMU -icount shift=0 (tinyrnn bench
# --runtime qemu sends this): one guest nanosecond per instruction, so ticks_us
# differences are exact instruction counts / 1000, the same on every run. Each figure
# is instructions per call of n calls, minus the same loop calling an empty function
# (the loop and the call itself), printed as one JSON line.
import json
import time
from array import array

import machine
import micropython

import tinyrnn
from tinyrnn import kernels
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer


def per_call(fn, n):
    fn()
    machine.mem32[0xE000E018] = 0       # clear SysTick's counter (SYST_CVR), which ticks_us reads:
    t = time.ticks_us()                 # the count starts in phase with this instruction, every run
    for _ in range(n):
        fn()
    return time.ticks_diff(time.ticks_us(), t) * 1000 // n


def empty():
    pass


def net(fn, n):
    return per_call(fn, n) - per_call(empty, n)


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


def gru(i, h):
    return {"input": i, "layers": [{"kind": "gru", "hidden": h}], "head": {"out": 1}}


def step_count(desc, kind, n):
    m = Model(desc, 1, kind)
    x = [100] * desc["input"]              # a list: the step checks and copies it
    return net(lambda: m.step(x), n)


def train_count(desc, kind, n, T=8):
    m = Model(desc, 1, kind)
    t = Trainer(m, optimizer=Adam(lr="0.01"), max_steps=T)
    xs = [[(s * 37 + j * 11) % 300 - 150 for j in range(desc["input"])] for s in range(T)]
    ys = [[(s * 13) % 200 - 100] for s in range(T)]
    return net(lambda: t.train_sequence(xs, ys), n)


def bare_count(macs, cols, n):
    rows = macs // cols
    w = array("h", [(i * 7) % 200 - 100 for i in range(rows * cols)])
    x = array("h", [(j * 5) % 200 - 100 for j in range(cols)])
    return net(lambda: bare_viper(w, x, rows, cols), n)


def run(kinds):
    out = {"kernels": [k for k in kinds if kernels.available(k)]}
    for k in out["kernels"]:
        out["GRU 2-3-1 step " + k] = step_count(gru(2, 3), k, 200)
        out["GRU 8-32-1 step " + k] = step_count(gru(8, 32), k, 10)
    out["bare viper 48 MACs"] = bare_count(48, 5, 200)
    out["bare viper 3840 MACs"] = bare_count(3840, 40, 10)
    for k in out["kernels"]:
        if k != "bytecode":
            out["GRU 8-32-1 training " + k] = train_count(gru(8, 32), k, 2)
    print(json.dumps(out))
