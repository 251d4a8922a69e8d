# Models on the board: seeded runs against the NumPy mirror's CRC32s of every output and state
# (host_tests/test_device_goldens.py recomputes them), zero allocation per step,
# state handling, parameter access by PyTorch name, and clear errors.
from array import array

import harness
import measure
from harness import eq, expect_error
from tinyrnn.model import Model
from tinyrnn.rng import Rng

STEPS = 30
CASES = {
    "elman": {"input": 3, "layers": [{"kind": "elman", "hidden": 5}, {"kind": "elman", "hidden": 4}],
              "head": {"out": 2, "act": "tanh"}},
    "lstm": {"input": 2, "layers": [{"kind": "lstm", "hidden": 6}], "head": {"out": 3, "act": "softmax"}},
    "gru": {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "identity"}},
    "mixed": {"input": 4, "layers": [{"kind": "gru", "hidden": 5}, {"kind": "lstm", "hidden": 3},
                                     {"kind": "dense", "out": 4, "act": "sigmoid"}], "head": None},
}
GOLDEN = {'elman': 2305035434, 'lstm': 1036717757, 'gru': 1080022960, 'mixed': 732273600}


def run_digest(name):
    m = Model(CASES[name], seed=11)
    r = Rng(5)
    n = m.n_inputs
    x = array("h", bytes(2 * n))
    h = measure.Crc()
    for _ in range(STEPS):
        for j in range(n):
            x[j] = r.randint(-768, 768)       # +-3.0
        for v in m.step(x):
            h.add(v)
        for v in m.state:
            h.add(v)
    return h.value()


def test_digest_elman():
    eq(run_digest("elman"), GOLDEN["elman"], "elman digest")


def test_digest_lstm():
    eq(run_digest("lstm"), GOLDEN["lstm"], "lstm digest")


def test_digest_gru():
    eq(run_digest("gru"), GOLDEN["gru"], "gru digest")


def test_digest_mixed_stack():
    eq(run_digest("mixed"), GOLDEN["mixed"], "mixed stack digest")


def test_lstm_and_softmax_step_allocate_nothing():
    m = Model(CASES["lstm"], seed=3)
    x = array("h", [256, -128])
    step = m.step
    eq(measure.alloc_bytes(lambda: step(x), 200), 0, "bytes allocated by 200 steps")


def test_reset_and_run():
    m = Model(CASES["gru"], seed=2)
    xs = [[256, 0], [0, 256], [-256, 128]]
    first = m.run(xs)
    assert any(m.state), "state moved"
    m.reset()
    eq(list(m.state), [0] * len(m.state), "reset clears state")
    eq([list(y) for y in m.run(xs)], [list(y) for y in first], "same run after reset")


def test_params_by_pytorch_name():
    m = Model(CASES["lstm"], seed=2)
    eq(m.param_names(), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "head.weight", "head.bias"], "names")
    eq(m.param_shape("weight_ih_l0"), (24, 2), "LSTM weight_ih is (4H, I)")
    eq(m.n_params, 24 * 2 + 24 * 6 + 24 + 24 + 3 * 6 + 3, "count")
    w = m.param("head.bias")
    w[0] = 1234
    eq(m.params[m.n_params - 3], 1234, "param() is a view into the model")
    b = 105                 # round(256 / sqrt(6)): PyTorch initialises U(-1/sqrt(H), 1/sqrt(H))
    p = m.param("weight_hh_l0")
    assert max(p) <= b and min(p) >= -b and max(p) > b - 20


def test_bad_calls_name_the_problem():
    m = Model(CASES["gru"], seed=1)
    assert "step: x has 3 values, expected 2" in expect_error(ValueError, m.step, [1, 2, 3])
    assert "step: x[1] must be a Q8.8 int, got str" in expect_error(TypeError, m.step, [1, "2"])
    assert "step: x[0]=40000 is outside" in expect_error(ValueError, m.step, [40000, 0])
    assert "run: xs[1][0] must be a Q8.8 int, got float" in expect_error(TypeError, m.run, [[256, 0], [0.5, 0]])
    bad = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}, {"kind": "gru", "input": 5, "hidden": 3}]}
    assert "layer 1: input size 5 does not match the 4" in expect_error(ValueError, Model, bad)
    assert "head: input size 2 does not match the 4" in expect_error(
        ValueError, Model, {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"input": 2, "out": 1}})
    assert "layer 0: kind 'rnn'" in expect_error(ValueError, Model, {"input": 2, "layers": [{"kind": "rnn", "hidden": 4}]})
    assert "'hidden' must be a positive int" in expect_error(
        ValueError, Model, {"input": 2, "layers": [{"kind": "lstm", "hidden": 0}]})
    assert "act 'relu'" in expect_error(ValueError, Model, {"input": 2, "head": {"out": 1, "act": "relu"}})
    assert "no parameter 'weight_ih_l1'" in expect_error(KeyError, m.param, "weight_ih_l1")


if __name__ == "__main__":
    harness.run_all(globals())
