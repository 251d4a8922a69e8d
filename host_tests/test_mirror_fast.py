"""The host mirror's Model.run (mirror/fast.py: a layer at a time over the whole sequence, in
float64 scaled by 1/256, activations from clipped tables) equals the step-by-step
reference (Model._run_steps: cells.py one step at a time), == on integers: outputs, the
state after every step, and the state it leaves behind.

Random stacks of every kind, a dense layer mid-stack, every head activation and no head; weights
as initialised and widened 40x (saturated at the Q8.8 rails, so every sum saturates
somewhere); inputs and starting states anywhere in Q8.8, the rails included; batches of
one and many, one step and many.
"""
import copy
import zlib

import numpy as np
import pytest

from tinyrnn_host.mirror import fast
from tinyrnn_host.mirror.model import Model

KINDS = ("gru", "lstm", "elman")
ACTS = ("identity", "sigmoid", "tanh", "softmax")


def random_model(rng, kind, wide, act, dense_mid):
    layers = [{"kind": kind, "hidden": int(rng.integers(1, 9))}]
    if dense_mid:
        layers.append({"kind": "dense", "out": int(rng.integers(1, 6)), "act": str(rng.choice(ACTS[:3]))})
    layers.append({"kind": str(rng.choice(KINDS)), "hidden": int(rng.integers(1, 7))})
    head = {"out": int(rng.integers(1, 4)), "act": act} if rng.random() < 0.8 else None    # None: no head
    desc = {"input": int(rng.integers(1, 5)), "layers": layers, "head": head}
    B = int(rng.choice([1, 3, 17]))
    m = Model(desc, seed=int(rng.integers(1, 1000)), batch=B)
    for name, p in m.params.items():
        m.params[name] = np.clip(p * wide, -32768, 32767)
    return m


def rails(rng, shape):
    """Q8.8 values, a third of them at or next to a rail."""
    v = rng.integers(-32768, 32768, shape)
    edge = rng.choice([-32768, -32767, 32766, 32767, -256, 256, 0], shape)
    return np.where(rng.random(shape) < 0.33, edge, v)


def check_equal(m, xs):
    ref = copy.deepcopy(m)
    outs, states = m.run(xs)
    want_outs, want_states = ref._run_steps(xs)
    assert outs.dtype == np.int64 and states.dtype == np.int64
    assert outs.shape == want_outs.shape and states.shape == want_states.shape
    assert (outs == want_outs).all()
    assert (states == want_states).all()
    for a, b in zip(m.h, ref.h):
        assert (a == b).all()
    for a, b in zip(m.c, ref.c):
        assert (a is None and b is None) or (a == b).all()
    assert (m.state() == ref.state()).all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wide", [1, 40])
def test_run_equals_the_step_by_step_reference(kind, wide):
    rng = np.random.default_rng(zlib.crc32(b"%s %d" % (kind.encode(), wide)))
    taken = set()
    for trial in range(12):
        m = random_model(rng, kind, wide, ACTS[trial % 4], trial % 3 == 0)
        assert fast.exact(m.spec)
        B, T = m.batch, int(rng.choice([1, 2, 9]))
        if trial % 2:                                   # a starting state anywhere in Q8.8
            m.h = [rails(rng, h.shape) for h in m.h]
            m.c = [None if c is None else rails(rng, c.shape) for c in m.c]
        xs = rails(rng, (B, T, m.n_inputs)) if wide > 1 or trial % 2 else rng.integers(-512, 513, (B, T, m.n_inputs))
        check_equal(m, xs)
        taken.update(fast.last_kinds)
        check_equal(m, xs[:, ::-1].copy())             # and on from the state it left
    assert np.float64 in taken and (wide > 1 or np.float32 in taken), taken


def at_the_bound(kind, extra):
    """A one-layer model, all weights and inputs positive and odd, scaled by the largest
    factor whose sums fast.py accepts in float32 (extra=0), or one step past it (extra=1)."""
    rng = np.random.default_rng(7)
    desc = {"input": 3, "layers": [{"kind": kind, "hidden": 4}], "head": {"out": 1}}
    m = Model(desc, seed=1, batch=5)
    base = {n: rng.integers(1, 40, p.shape) * 2 + 1 for n, p in m.params.items()}
    xs = 4001 - 2 * rng.integers(0, 50, (5, 6, 3))
    w = lambda s: [np.minimum(base["%s_l0" % n] * s, 32767) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    kind_at = lambda s: fast._kind(kind, int(xs.max()), m.h[0], *w(s))
    lo, hi = 1, 2000                      # kind_at(lo) is F32, kind_at(hi) is F64
    assert kind_at(lo) is fast.F32 and kind_at(hi) is fast.F64
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if kind_at(mid) is fast.F32 else (lo, mid)
    s = lo + extra
    for n, p in base.items():
        m.params[n] = np.minimum(p * s, 32767)
    return m, xs


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("extra", [0, 1])
def test_float32_at_its_bound(kind, extra):
    m, xs = at_the_bound(kind, extra)
    check_equal(m, xs)
    assert fast.last_kinds == [np.float32 if extra == 0 else np.float64]


def test_the_returned_arrays_are_the_callers():
    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1}}, seed=1, batch=2)
    outs, states = m.run(np.full((2, 4, 2), 100))
    h = m.h[0].copy()
    outs[:] = 0
    states[:] = 0
    assert (m.h[0] == h).all()            # the model's state is its own copy


def test_fast_path_refuses_what_float64_cannot_hold():
    big = [("gru", 1 << 21, 1 << 21, None)]
    assert not fast.exact(big)
    assert fast.exact([("gru", 8, 32, None), ("head", 32, 1, "identity")])
