# A training update with the port's default kernels (viper where it has native
# code) -- forward, BPTT, clip by value and by norm, weight decay, every optimizer --
# allocates nothing with the heap locked, with ordinary values and with weights,
# inputs and targets at the rails. The weights it reaches: test_kernels_train.py.
# unix-heap: c 73728, viper 73728, bytecode 86016   (unix port only: `tinyrnn device-test --min-heap` gives
# what it needs there, up to 66.5 KB with C or viper and 75 KB with bytecode kernels)
# qemu-heap: viper 81920   (the viper training module is 16.7 KB of native code in the heap of a board
# that loads .mpy files: with it this file fails in 64 KB on the Cortex-M3 and runs in 80 KB; C and bytecode run in 64 KB)
import micropython

import harness
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam, Momentum, RMSprop
from tinyrnn.rng import Rng
from tinyrnn.train import Trainer

# a small model: the unix port's 64-bit objects and a 64 KB cap leave room for little else
GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}


def rails(m, seed):
    r = Rng(seed)
    p = m.params
    for i in range(len(p)):
        p[i] = -32768 if r.next16() & 1 else 32767
    m.weights_changed()


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


def locked_update(opt, extreme):
    # an update (forward, BPTT, clip by value and norm, decay, the optimizer) warmed up once,
    # then again with the heap locked; one trainer per test, for a 64 KB heap
    m = Model(GRU, 1)
    if extreme:
        rails(m, 3)
    t = Trainer(m, optimizer=opt, max_steps=4, clip_value="0.5", clip_norm="1.0", weight_decay="0.01")
    big = 32767 if extreme else 200
    xs = [[big, -big], [-big, big], [big, big], [0, -big]]
    ys = [[25600, -25600]] * 4 if extreme else [[100, -50]] * 4
    t.accumulate(xs, ys, False)
    t.update()

    def step():
        t.accumulate(xs, ys, False)
        t.update()
    _locked(step, 5)


def test_sgd_update_allocates_nothing_heap_locked():
    locked_update(SGD(lr="0.5"), False)


def test_sgd_update_at_the_rails_allocates_nothing():
    locked_update(SGD(lr="0.5"), True)


def test_momentum_update_allocates_nothing_heap_locked():
    locked_update(Momentum(lr="0.5"), False)


def test_momentum_update_at_the_rails_allocates_nothing():
    locked_update(Momentum(lr="0.5"), True)


def test_rmsprop_update_allocates_nothing_heap_locked():
    locked_update(RMSprop(lr="0.5"), False)


def test_rmsprop_update_at_the_rails_allocates_nothing():
    locked_update(RMSprop(lr="0.5"), True)


def test_adam_update_allocates_nothing_heap_locked():
    locked_update(Adam(lr="0.5"), False)


def test_adam_update_at_the_rails_allocates_nothing():
    locked_update(Adam(lr="0.5"), True)


if __name__ == "__main__":
    harness.run_all(globals())
