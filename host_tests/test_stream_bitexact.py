"""The streaming classifier (lib/tinyrnn/stream.py) under CPython against the mirror's
prefix-sum twin (tools/tinyrnn_host/mirror/stream.py): the class and the scores after every
push, bit for bit, for windows shorter and longer than the stream, every head activation, at
the rails; a stream's state (its window too) the same bytes as the mirror's, continuing alike; the
golden CRC32s of device_tests/test_stream.py and test_stream_state.py recomputed from the mirror."""
import binascii

import numpy as np
import pytest

from tinyrnn_host.mirror import state as mstate
from tinyrnn_host.mirror import stream as mstream
from tinyrnn_host.mirror.model import Model as MModel
from tinyrnn_host.mirror.rng import Rng as MRng

from test_state_bitexact import device_module, digest
from tinyrnn import state
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


def mirror_stream_goldens(window):
    """device_tests/test_stream_state.sleep_and_wake, replayed by the mirror: the dump after BEFORE
    steps, then the restored window and state continuing (run's past) for AFTER steps."""
    sd = device_module("test_stream_state")
    m = MModel(sd.DESC, seed=21)
    r = MRng(9)
    xs = np.array([[[r.randint(-1024, 1024) for _ in range(3)] for _ in range(sd.BEFORE + sd.AFTER)]])
    outs, _ = m.run(xs[:, :sd.BEFORE])
    data = mstate.dumps(m, 0, mstream.window_of(outs[0], window))
    m2 = MModel(sd.DESC, seed=21)
    w = mstate.loads(m2, data, window)
    classes, scores = mstream.run(m2, xs[:, sd.BEFORE:], window, past=mstream.past(w))
    # the uninterrupted mirror run agrees
    c_all, s_all = mstream.run(MModel(sd.DESC, seed=21), xs, window)
    assert (c_all[:, sd.BEFORE:] == classes).all() and (s_all[:, sd.BEFORE:] == scores).all()
    return binascii.crc32(data[:-4]), digest(np.concatenate([classes[0][:, None], scores[0]], axis=1))


@pytest.mark.parametrize("window", [5, 30])
def test_stream_state_goldens_are_the_mirrors(window):
    sd = device_module("test_stream_state")
    assert sd.GOLDEN[window] == mirror_stream_goldens(window)


@pytest.mark.parametrize("window", [1, 4, 9, 40])
@pytest.mark.parametrize("name", sorted(HEADS))
def test_lib_and_mirror_stream_states_are_the_same_bytes(name, window):
    desc = HEADS[name]
    lib = Stream(Model(desc, seed=6), window)
    mir = MModel(desc, seed=6)
    r = Rng(3)
    xs = [[r.randint(-900, 900) for _ in range(desc["input"])] for _ in range(20)]
    for x in xs[:11]:
        lib.push(x)
    outs, _ = mir.run(np.array([xs[:11]]))
    data = state.dumps(lib)
    assert data == mstate.dumps(mir, 0, mstream.window_of(outs[0], window))
    lib2 = state.loads(Stream(Model(desc, seed=6), window), data)
    mir2 = MModel(desc, seed=6)
    w = mstate.loads(mir2, data, window)
    classes, scores = mstream.run(mir2, np.array([xs[11:]]), window, past=mstream.past(w))
    for t, x in enumerate(xs[11:]):
        k = lib.push(x)
        assert lib2.push(x) == k == classes[0, t]
        assert list(lib2.scores) == list(lib.scores) == list(scores[0, t])
