# Training refuses bad input before any weight changes, naming what is wrong.
# (The whole bad-input suite, 271 calls: device_tests/bad_input.py.)
# unix-heap: c 73728, viper 73728, bytecode 86016   (unix port only: `tinyrnn device-test --min-heap` gives
# what it needs there, up to 66.5 KB with C or viper and 75 KB with bytecode kernels)
# qemu-heap: viper 81920   (the viper training module is 16.7 KB of native code in the heap of a board
# that loads .mpy files: with it this file fails in 64 KB on the Cortex-M3 and runs in 80 KB; C and bytecode run in 64 KB)
# qemu-m0-heap: viper 73728   (but the Cortex-M0 with viper: its armv6m training module, 19.2 KB of code, leaves
# no room for _budget.py's in 64 KB)
from array import array

import harness
from harness import eq, expect_error
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam
from tinyrnn.train import Trainer

GRU_231 = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "sigmoid"}}
XS = [[256, 0], [0, 256], [256, 256], [0, 0]]
YS = [[256], [256], [0], [0]]


def test_bad_input_changes_nothing():
    m = Model(GRU_231, seed=1)
    t = Trainer(m, optimizer=SGD(lr="0.1"), max_steps=4)
    before = array("h", m.params)          # (arrays, not lists: 2 bytes a weight, for the 64 KB unix port)
    assert "sequence lengths differ: xs has 4 steps, ys has 3" in expect_error(ValueError, t.train_sequence, XS, YS[:3])
    assert "ys[2][0]=40000 is outside Q8.8 range" in expect_error(
        ValueError, t.train_sequence, XS, [[256], [256], [40000], [0]])
    assert "xs[1] has 3 values, expected 2" in expect_error(ValueError, t.train_sequence, [[0, 0], [0, 0, 0], [0, 0], [0, 0]], YS)
    assert "max_steps=4" in expect_error(ValueError, t.train_sequence, XS * 2, YS * 2)
    eq(m.params == before, True, "weights after refused calls equal the weights before")
    eq((min(t.grad), max(t.grad)), (0, 0), "(smallest, largest) gradient sum after refused calls")
    assert "needs a softmax head" in expect_error(ValueError, Trainer, m, "ce")


def test_bad_loss_and_hyperparameters_refused():
    soft = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 3, "act": "softmax"}})
    assert "use loss='ce'" in expect_error(ValueError, Trainer, soft, "mse")
    tc = Trainer(soft, loss="ce", max_steps=4)
    assert "class target must be an int in 0..2" in expect_error(ValueError, tc.train_sequence, XS, [0, 1, 3, 0])
    assert "lr" in expect_error(ValueError, SGD, "0")
    assert "decimal string" in expect_error(TypeError, Adam, None)


if __name__ == "__main__":
    harness.run_all(globals())
