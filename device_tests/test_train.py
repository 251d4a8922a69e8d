# Training on the board: a BPTT step allocates nothing, bad input is refused
# before any weight changes, and a few updates match the NumPy mirror's
# (host_tests/test_device_goldens.py recomputes GOLDEN).
import harness
from harness import eq, expect_error
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam, Momentum, RMSprop
from tinyrnn.train import Trainer

GRU_231 = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "sigmoid"}}
XS = [[256, 0], [0, 256], [256, 256], [0, 0]]
YS = [[256], [256], [0], [0]]
GOLDEN = {'sgd': 2796925048, 'momentum': 1533843715, 'rmsprop': 1852381292, 'adam': 1676066327}
OPTIMIZERS = {"sgd": lambda: SGD(lr="0.1"), "momentum": lambda: Momentum(lr="0.05"),
              "rmsprop": lambda: RMSprop(lr="0.01"), "adam": lambda: Adam(lr="0.02")}


def trained_digest(name):
    m = Model(GRU_231, seed=4)
    t = Trainer(m, optimizer=OPTIMIZERS[name](), max_steps=4)
    for _ in range(10):
        t.train_sequence(XS, YS)
    h = harness.Crc()
    h.add_all(m.params)
    h.add_all(t.master)
    return h.value()


def allocates_nothing(name):
    m = Model(GRU_231, seed=1)
    t = Trainer(m, optimizer=OPTIMIZERS[name](), max_steps=4)
    step = t.train_sequence
    eq(harness.alloc_bytes(lambda: step(XS, YS), 20), 0, name + ": bytes allocated by 20 training steps")


def test_gru_231_sgd_and_momentum_steps_allocate_nothing():
    allocates_nothing("sgd")
    allocates_nothing("momentum")


def test_gru_231_rmsprop_and_adam_steps_allocate_nothing():
    allocates_nothing("rmsprop")
    allocates_nothing("adam")


def test_sgd_digest():
    eq(trained_digest("sgd"), GOLDEN["sgd"], "weights after 10 SGD steps")


def test_momentum_digest():
    eq(trained_digest("momentum"), GOLDEN["momentum"], "weights after 10 momentum steps")


def test_rmsprop_digest():
    eq(trained_digest("rmsprop"), GOLDEN["rmsprop"], "weights after 10 RMSprop steps")


def test_adam_digest():
    eq(trained_digest("adam"), GOLDEN["adam"], "weights after 10 Adam steps")


def test_bad_input_changes_nothing():
    m = Model(GRU_231, seed=1)
    t = Trainer(m, optimizer=SGD(lr="0.1"), max_steps=4)
    before = list(m.params)
    assert "sequence lengths differ: xs has 4 steps, ys has 3" in expect_error(ValueError, t.train_sequence, XS, YS[:3])
    assert "ys[2][0]=40000 is outside Q8.8 range" in expect_error(
        ValueError, t.train_sequence, XS, [[256], [256], [40000], [0]])
    assert "xs[1] has 3 values, expected 2" in expect_error(ValueError, t.train_sequence, [[0, 0], [0, 0, 0], [0, 0], [0, 0]], YS)
    assert "max_steps=4" in expect_error(ValueError, t.train_sequence, XS * 2, YS * 2)
    eq(list(m.params), before, "weights after refused calls")
    eq(list(t.grad), [0] * m.n_params, "no gradient accumulated")
    soft = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 3, "act": "softmax"}})
    assert "needs a softmax head" in expect_error(ValueError, Trainer, m, "ce")
    assert "use loss='ce'" in expect_error(ValueError, Trainer, soft, "mse")
    tc = Trainer(soft, loss="ce", max_steps=4)
    assert "class target must be an int in 0..2" in expect_error(ValueError, tc.train_sequence, XS, [0, 1, 3, 0])
    assert "lr" in expect_error(ValueError, SGD, "0")
    assert "decimal string" in expect_error(TypeError, Adam, None)


if __name__ == "__main__":
    harness.run_all(globals())
