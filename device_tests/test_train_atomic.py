# An update that raises changes nothing: weights, master weights, gradient sums,
# optimizer state and counters stay byte for byte as they were. Forced here by a
# MemoryError mid-update (an optimizer whose per-step scalars allocate, run with the
# heap locked: the update has started, its checks and Adam's scalars are computed)
# and by a bad learning rate a program set. After prepare() an update runs only
# kernel loops over preallocated arrays, which neither allocate nor raise
# (test_train_fresh.py); the counters are committed last.
# unix-heap: c 73728, viper 73728, bytecode 86016   (unix port only: `tinyrnn device-test --min-heap` gives
# what it needs there, up to 66.5 KB with C or viper and 75 KB with bytecode kernels)
# qemu-heap: viper 81920   (the viper training module is 16.7 KB of native code in the heap of a board
# that loads .mpy files: with it this file fails in 64 KB on the Cortex-M3 and runs in 80 KB; C and bytecode run in 64 KB)
import micropython

import harness
from binascii import crc32
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam, Momentum, RMSprop
from tinyrnn.train import Trainer

GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 2}], "head": {"out": 1, "act": "identity"}}
XS = [[200, -200], [-200, 200], [200, 200], [0, -200]]
YS = [[100], [-50], [50], [25]]


def snapshot(t):
    """A trainer's state: the CRC32 of every byte of each buffer, and every counter
    (taken with the heap unlocked; CRCs, not copies, for the unix port's 64 KB heap)."""
    o = t.opt
    bufs = [t.model.params, t.model.state, t.master, t.grad]
    for name in ("m", "v", "s"):
        a = getattr(o, name, None)
        if a is not None:
            bufs.append(a)
    return ([crc32(b) for b in bufs], [t.n_targets, t._loss[0], t._loss[1], t.clipped, t.rng._hi, t.rng._lo,
                                       o.lr, getattr(o, "b1t", 0), getattr(o, "b2t", 0)])


def trained(opt):
    # a fresh trainer with one update behind it and one sequence's gradients waiting
    t = Trainer(Model(GRU, 1), optimizer=opt, max_steps=4, clip_value="0.5", clip_norm="0.001",
                weight_decay="0.01")
    t.accumulate(XS, YS)
    t.update()
    t.accumulate(XS, YS)
    return t


def forced_memory_error(cls):
    t = trained(cls(lr="0.5"))
    prepare = t.opt.prepare

    def allocating():
        prepare()                  # the optimizer's own checks and scalars, then an allocation
        return [0] * 8
    t.opt.prepare = allocating
    before = snapshot(t)
    err = None
    micropython.heap_lock()
    try:
        t.update()
    except MemoryError as e:
        err = e
    micropython.heap_unlock()
    assert err is not None, "the update did not raise"
    assert snapshot(t) == before, "a failed update changed the trainer's state"
    del t.opt.prepare              # the same trainer then updates normally
    t.update()
    assert t.n_targets == 0 and snapshot(t) != before


def test_sgd_memory_error_mid_update_changes_nothing():
    forced_memory_error(SGD)


def test_momentum_memory_error_mid_update_changes_nothing():
    forced_memory_error(Momentum)


def test_rmsprop_memory_error_mid_update_changes_nothing():
    forced_memory_error(RMSprop)


def test_adam_memory_error_mid_update_changes_nothing():
    forced_memory_error(Adam)


def test_bad_lr_set_by_a_program_changes_nothing():
    t = trained(Adam(lr="0.5"))
    good = t.opt.lr
    for bad in ("0.01", 0, 65537, None):
        t.opt.lr = bad
        before = snapshot(t)
        try:
            t.update()
        except (TypeError, ValueError) as e:
            assert "lr" in str(e), str(e)
        else:
            raise AssertionError("lr=%r: no error" % (bad,))
        assert snapshot(t) == before, "lr=%r: a failed update changed the trainer's state" % (bad,)
    t.opt.lr = good
    t.update()
    assert t.n_targets == 0


if __name__ == "__main__":
    harness.run_all(globals())
