# A running classification over a window of steps (tinyrnn.stream): the class and
# scores after every push are the NumPy mirror's (GOLDEN, recomputed by
# host_tests/test_stream_bitexact.py) and the sums of the last `window` outputs
# kept by hand here; push() allocates nothing, at the rails too; bad input changes nothing.
from array import array

import harness
from harness import eq, expect_error
from measure import Crc
from tinyrnn.model import Model
from tinyrnn.rng import Rng
from tinyrnn.stream import MAX_WINDOW, Stream

SOFTMAX = {"input": 3, "layers": [{"kind": "gru", "hidden": 6}], "head": {"out": 4, "act": "softmax"}}
SIGMOID = {"input": 2, "layers": [{"kind": "lstm", "hidden": 4}], "head": {"out": 3, "act": "sigmoid"}}
STEPS = 40
GOLDEN = {'softmax': 3109817427, 'sigmoid': 2182466502}


def stream_digest(desc, window):
    """Every push's class and scores into a CRC, and the scores checked against sums kept by hand."""
    m = Model(desc, seed=21)
    s = Stream(m, window)
    r = Rng(9)
    x = array("h", bytes(2 * m.n_inputs))
    past = []
    h = Crc()
    for t in range(STEPS):
        for j in range(len(x)):
            x[j] = r.randint(-1024, 1024)
        k = s.push(x)
        past.append(array("h", m.output))
        if len(past) > window:
            past.pop(0)
        want = [sum(p[o] for p in past) for o in range(m.n_outputs)]
        eq(list(s.scores), want, "scores after step %d" % t)
        eq(k, want.index(max(want)), "class after step %d" % t)
        eq(s.count, min(t + 1, window), "count")
        h.add(k)
        h.add_all(s.scores)
    return h.value()


def test_softmax_window_is_the_mirrors():
    eq(stream_digest(SOFTMAX, 7), GOLDEN["softmax"], "softmax stream digest")


def test_sigmoid_window_is_the_mirrors():
    eq(stream_digest(SIGMOID, 1), GOLDEN["sigmoid"], "sigmoid stream digest (window 1)")


def test_push_allocates_nothing_heap_locked_at_the_rails():
    import micropython
    desc = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}
    m = Model(desc, seed=1)                  # fresh objects, built here
    r = Rng(4)
    p = m.params
    for i in range(len(p)):                  # weights at the rails: outputs at the rails, sums near window * 2^15
        p[i] = -32768 if r.next16() & 1 else 32767
    m.weights_changed()
    s = Stream(m, 300)
    x = array("h", [32767, -32768])        # (this model's outputs stay at +32767 on it)
    s.push(x)
    err = None
    micropython.heap_lock()
    try:
        for i in range(400):                 # past the window: the ring wraps
            s.push(x)
    except Exception as e:          # noqa: BLE001 (reported after unlocking)
        err = e
    micropython.heap_unlock()
    if err is not None:
        raise AssertionError("allocated with the heap locked: %r" % (err,))
    eq(s.count, 300, "count")
    eq(list(s.scores), [300 * 32767] * 2, "sums of 300 outputs at the rail")


def test_bad_input_refused_stream_unchanged():
    m = Model(SOFTMAX, seed=2)
    assert "model must be a tinyrnn Model, got NoneType" in expect_error(TypeError, Stream, None, 5)
    assert "window must be an int, got str" in expect_error(TypeError, Stream, m, "5")
    assert "window must be an int, got bool" in expect_error(TypeError, Stream, m, True)
    assert "window=0 is out of range 1..32767" in expect_error(ValueError, Stream, m, 0)
    assert "window=32768 is out of range" in expect_error(ValueError, Stream, m, MAX_WINDOW + 1)
    s = Stream(m, 3)
    s.push([256, -256, 0])
    s.push([0, 512, -512])
    before = (bytes(s.scores), bytes(s.ring), s.count, s._at, bytes(m.state))
    assert "step: x[1]=40000 is outside" in expect_error(ValueError, s.push, [0, 40000, 0])
    assert "step: x has 2 values, expected 3" in expect_error(ValueError, s.push, [0, 0])
    assert "step: x must be a list" in expect_error(TypeError, s.push, None)
    eq((bytes(s.scores), bytes(s.ring), s.count, s._at, bytes(m.state)), before, "stream after refused pushes")


def test_reset_starts_a_new_stream():
    m = Model(SOFTMAX, seed=2)
    s = Stream(m, 4)
    xs = [[256, -256, 0], [0, 512, -512], [700, 0, 0], [-300, 300, 10], [5, 6, 7]]
    first = [(s.push(x), list(s.scores)) for x in xs]
    s.reset()
    eq((s.count, list(s.scores), any(m.state)), (0, [0, 0, 0, 0], False), "after reset")
    eq([(s.push(x), list(s.scores)) for x in xs], first, "the same stream again")


if __name__ == "__main__":
    harness.run_all(globals())
