# A FRESH trainer, heap-locked from its very first update, for every combination of
# options: clip by value, clip by norm, weight decay, a schedule, a truncation window,
# a batch of two, both losses; one test per optimizer. Nothing may allocate: every
# attribute an update assigns exists when Trainer() returns (a first update that grew
# the instance dict raised MemoryError here and left the trainer half-updated).
# On the WebAssembly VM, which frees garbage only between top-level calls (a fresh
# trainer per combination outgrows a 64 KB heap within one test), each test runs the two
# combinations 21 and 42 (bits 010101, 101010: every option once on, once off; the
# schedule on in the first); every port whose collector runs mid-call runs all 128.
# unix-heap: c 73728, viper 73728, bytecode 86016   (unix port only: `tinyrnn device-test --min-heap` gives
# what it needs there, up to 66.5 KB with C or viper and 75 KB with bytecode kernels)
# qemu-heap: viper 81920   (the viper training module is 16.7 KB of native code in the heap of a board
# that loads .mpy files: with it this file fails in 64 KB on the Cortex-M3 and runs in 80 KB; C and bytecode run in 64 KB)
import gc
import sys

import micropython

import harness
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam, Momentum, RMSprop, StepDecay
from tinyrnn.train import Trainer

# small models: the unix port's 64-bit objects and a 64 KB cap leave room for little else
MSE = {"input": 2, "layers": [{"kind": "gru", "hidden": 2}], "head": {"out": 1, "act": "identity"}}
CE = {"input": 2, "layers": [{"kind": "gru", "hidden": 2}], "head": {"out": 2, "act": "softmax"}}
XS = [[200, -200], [-200, 200], [200, 200], [0, -200]]
YS_MSE = [[100], [-50], [50], [25]]
YS_CE = [0, 1, 1, 0]


def every_combination(make_opt):
    """Fresh model and trainer per combination (built unlocked), then two batches of
    updates with the heap locked. Returns how many combinations ran."""
    sched = StepDecay(1, "0.5")
    runs = 0
    vm = sys.platform == "webassembly"
    for c in ((21, 42) if vm else range(64)):
        ce = c & 1
        cv = "0.5" if c & 2 else None
        cn = "1.0" if c & 4 else None
        wd = "0.01" if c & 8 else None
        window = 2 if c & 16 else None
        batch = 2 if c & 32 else 1
        for with_schedule in ((c == 21,) if vm else (False, True)):
            m = Model(CE if ce else MSE, 1)
            t = Trainer(m, loss="ce" if ce else "mse", optimizer=make_opt(), max_steps=4, window=window,
                        clip_value=cv, clip_norm=cn, weight_decay=wd)
            ys = YS_CE if ce else YS_MSE
            lr0 = t.opt.lr
            err = None
            micropython.heap_lock()
            try:
                for epoch in range(2):
                    if with_schedule:
                        t.opt.lr = sched.lr(lr0, epoch)
                    for _ in range(batch):
                        t.accumulate(XS, ys)
                    t.update()
                    if t.n_targets != 0:
                        err = "n_targets %d after an update" % t.n_targets
                        break
            except Exception as e:      # noqa: BLE001 (reported after unlocking)
                err = e
            micropython.heap_unlock()
            if err is not None:
                raise AssertionError("fresh trainer (loss=%s clip_value=%s clip_norm=%s weight_decay=%s window=%s "
                                     "batch=%d schedule=%s): %r" % ("ce" if ce else "mse", cv, cn, wd, window,
                                                                    batch, with_schedule, err))
            runs += 1
            t = m = None        # the next combination is built in a collected 64 KB heap
            gc.collect()
    return runs


def expected():
    return 2 if sys.platform == "webassembly" else 128


def test_fresh_sgd_trainer_every_combination_heap_locked():
    assert every_combination(lambda: SGD(lr="0.5")) == expected()


def test_fresh_momentum_trainer_every_combination_heap_locked():
    assert every_combination(lambda: Momentum(lr="0.5")) == expected()


def test_fresh_rmsprop_trainer_every_combination_heap_locked():
    assert every_combination(lambda: RMSprop(lr="0.5")) == expected()


def test_fresh_adam_trainer_every_combination_heap_locked():
    assert every_combination(lambda: Adam(lr="0.5")) == expected()


if __name__ == "__main__":
    harness.run_all(globals())
