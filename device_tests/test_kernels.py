# The kernel bodies on the board (bytecode, viper, and C where its _c.mpy is deployed): which one runs, that they agree step by step,
# and that steady-state inference allocates nothing with the heap locked, with
# ordinary and extreme values (weights and inputs at the Q8.8 rails). Training:
# test_kernels_train.py and test_train_locked.py.
import sys
from array import array

import micropython

import harness
import tinyrnn
from harness import eq
from tinyrnn import kernels
from tinyrnn.model import Model
from tinyrnn.rng import Rng

ARCH = getattr(sys.implementation, "_mpy", 0) >> 10      # 0: no native code on this port
SETS = ["bytecode"] + [k for k in ("viper", "c") if kernels.available(k)]
STACK = {"input": 4, "layers": [{"kind": "gru", "hidden": 6}, {"kind": "dense", "out": 5, "act": "identity"},
                                {"kind": "lstm", "hidden": 4}, {"kind": "elman", "hidden": 3}],
         "head": {"out": 3, "act": "softmax"}}
GRU = {"input": 3, "layers": [{"kind": "gru", "hidden": 5}], "head": {"out": 2, "act": "identity"}}


def rails(m, seed):
    r = Rng(seed)
    p = m.params
    for i in range(len(p)):
        p[i] = -32768 if r.next16() & 1 else 32767
    m.weights_changed()


def shipped(module):
    # whether the library on this board has `module` (device-test runs each kernel set as the files
    # a board with it has: the "bytecode" set has no _viper module, the "viper" set no _c)
    import os
    where = tinyrnn.__file__.rsplit("/", 1)[0]
    try:
        names = os.listdir(where)
    except OSError:             # a frozen library: the frozen set has the viper modules
        return module == "_viper"
    return module + ".mpy" in names or module + ".py" in names


def test_viper_where_the_port_has_native_code():
    # a port with a native arch compiles viper (or loads the deployed native .mpy); one without, or a
    # library without the module, falls back
    viper = ARCH != 0 and shipped("_viper")
    eq(kernels.available(), viper, "viper available on arch %d" % ARCH)
    Model(GRU, 1)
    eq(tinyrnn.KERNELS, "c" if kernels.available("c") else ("viper" if viper else "bytecode"), "the default kernels")
    if viper:
        Model(GRU, 1, "viper")
        eq(tinyrnn.KERNELS, "viper", "forced viper kernels")
    Model(GRU, 1, "bytecode")
    eq(tinyrnn.KERNELS, "bytecode", "forced bytecode kernels")


def test_kernels_agree_on_every_step():
    r = Rng(5)
    for extreme in (False, True):
        ms = [Model(STACK, 3, k) for k in SETS]
        if extreme:
            for m in ms:
                rails(m, 9)
        x = array("h", [0] * 4)
        for _ in range(12):
            for j in range(4):
                x[j] = (-32768 if r.next16() & 1 else 32767) if extreme else r.randint(-700, 700)
            outs = [list(m.step(x)) + list(m.state) + list(m.work) for m in ms]
            for i in range(1, len(outs)):
                eq(outs[i], outs[0], "%s vs bytecode step (extreme=%s)" % (SETS[i], extreme))


def _locked(fn, n):
    # run fn n times with the heap locked; any allocation raises MemoryError (unlock first, then report)
    err = None
    micropython.heap_lock()
    try:
        for _ in range(n):
            fn()
    except Exception as e:         # noqa: BLE001 (reported after unlocking)
        err = e
    micropython.heap_unlock()
    if err is not None:
        raise AssertionError("allocated with the heap locked: %r" % (err,))


def test_inference_allocates_nothing_heap_locked():
    for k in SETS:
        for extreme in (False, True):
            m = Model(STACK, 2, k)
            if extreme:
                rails(m, 4)
            x = array("h", [32767, -32768, 32767, -32768] if extreme else [256, -128, 64, 0])
            m.step(x)
            _locked(lambda: m.step(x), 50)


if __name__ == "__main__":
    harness.run_all(globals())
