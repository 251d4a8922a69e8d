"""The streaming classifier (lib/tinyrnn/stream.py) under CPython against the mirror's
prefix-sum twin (tools/tinyrnn_host/mirror/stream.py): the class and the scores after every
push, bit for bit, for windows shorter and longer than the stream, every head activation, at
the rails; the golden CRC32s of device_tests/test_stream.py recomputed from the mirror."""
import numpy as np
import pytest

from tinyrnn_host.mirror import stream as mstream
from tinyrnn_host.mirror.model import Model as MModel
from tinyrnn_host.mirror.rng import Rng as MRng

from test_state_bitexact import device_module, digest
from tinyrnn.model import Model
from tinyrnn.rng import Rng
from tinyrnn.stream import MAX_WINDOW, Stream

dev = device_module("test_stream")


def mirror_digest(desc, window):
    m = MModel(desc, seed=21)
    r = MRng(9)
    xs = np.array([[[r.randint(-1024, 1024) for _ in range(desc["input"])] for _ in range(dev.STEPS)]])
    classes, scores = mstream.run(m, xs, window)
    return digest(np.concatenate([classes[0][:, None], scores[0]], axis=1))


def test_device_goldens_are_the_mirrors():
    assert dev.GOLDEN == {"softmax": mirror_digest(dev.SOFTMAX, 7), "sigmoid": mirror_digest(dev.SIGMOID, 1)}


HEADS = {
    "softmax": {"input": 3, "layers": [{"kind": "gru", "hidden": 5}], "head": {"out": 4, "act": "softmax"}},
    "tanh_elman": {"input": 2, "layers": [{"kind": "elman", "hidden": 4}], "head": {"out": 3, "act": "tanh"}},
    "identity_lstm": {"input": 2, "layers": [{"kind": "lstm", "hidden": 3}], "head": {"out": 2, "act": "identity"}},
    "no_head": {"input": 2, "layers": [{"kind": "gru", "hidden": 3}]},
}


@pytest.mark.parametrize("rails", [False, True], ids=["ordinary", "rails"])
@pytest.mark.parametrize("window", [1, 2, 5, 30, 31, 100])
@pytest.mark.parametrize("name", sorted(HEADS))
def test_lib_stream_is_the_mirrors(name, window, rails):
    desc = HEADS[name]
    lib = Model(desc, seed=6)
    mir = MModel(desc, seed=6)
    if rails:                                # weights and inputs at the rails: outputs there too
        r = Rng(2)
        for i in range(lib.n_params):
            lib.params[i] = 32767 if r.next16() & 1 else -32768
        lib.weights_changed()
        mir = MModel(desc, params=dict(zip(lib.param_names(), [np.array(lib.param(n)).reshape(lib.param_shape(n))
                                                                 for n in lib.param_names()])))
    r = Rng(3)
    big = 32767 if rails else 900
    xs = [[r.randint(-big, big) for _ in range(desc["input"])] for _ in range(31)]
    classes, scores = mstream.run(mir, np.array([xs]), window)
    s = Stream(lib, window)
    for t, x in enumerate(xs):
        assert s.push(x) == classes[0, t]
        assert list(s.scores) == list(scores[0, t])
    if rails and window >= 30 and name == "identity_lstm":
        assert np.abs(scores).max() > 20 * 32767


def test_the_largest_window_keeps_scores_below_2_30():
    # window 32767 outputs at -32768: the most negative score, still a small int on a 32-bit board
    m = Model({"input": 1, "head": {"out": 1, "act": "identity"}}, seed=None)
    m.param("head.bias")[0] = -32768
    s = Stream(m, MAX_WINDOW)
    for _ in range(MAX_WINDOW + 3):
        s.push([0])
    assert s.scores[0] == -32768 * MAX_WINDOW >= -(1 << 30)
