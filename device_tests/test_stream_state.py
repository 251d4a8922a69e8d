# A stream's window survives too: tinyrnn.state given a Stream keeps its model's state
# and its window (the last outputs); restored into a fresh Stream, the running
# classification goes on exactly as the uninterrupted one and as the NumPy mirror's
# (GOLDEN, recomputed by host_tests/test_stream_bitexact.py). Windows another stream
# holds, or that are corrupt, are refused, the stream unchanged.
import struct
from array import array

import harness
from harness import eq, expect_error
from measure import Crc, crc32
from tinyrnn import state
from tinyrnn.model import Model
from tinyrnn.rng import Rng
from tinyrnn.stream import Stream

DESC = {"input": 3, "layers": [{"kind": "gru", "hidden": 6}], "head": {"out": 4, "act": "softmax"}}
SIGMOID = {"input": 2, "layers": [{"kind": "gru", "hidden": 2}], "head": {"out": 2, "act": "sigmoid"}}
BEFORE = 12
AFTER = 10
GOLDEN = {5: (4154706552, 2172492203), 30: (4088458868, 4209247823)}      # window: (CRC32 of the dump before its CRC, the run after it)


def draw(r, x):
    for j in range(len(x)):
        x[j] = r.randint(-1024, 1024)


def sleep_and_wake(window):
    a = Stream(Model(DESC, seed=21), window)
    r = Rng(9)
    x = array("h", bytes(2 * 3))
    for _ in range(BEFORE):
        draw(r, x)
        a.push(x)
    data = state.dumps(a)
    eq(len(data), state.size(a), "bytes")
    b = Stream(Model(DESC, seed=21), window)
    b.push(array("h", [900, -900, 900]))     # another window, to be replaced
    state.loads(b, data)
    eq((bytes(b.ring), bytes(b.scores), b.count, b._at, bytes(b.model.state)),
       (bytes(a.ring), bytes(a.scores), a.count, a._at, bytes(a.model.state)), "restored stream")
    ha = Crc()
    hb = Crc()
    for _ in range(AFTER):
        draw(r, x)
        ha.add(a.push(x))
        ha.add_all(a.scores)
        hb.add(b.push(x))
        hb.add_all(b.scores)
    eq(hb.value(), ha.value(), "restored stream vs the uninterrupted one")
    eq((crc32(data[:-4]), hb.value()), GOLDEN[window], "dump and run vs the mirror's")


def test_restored_full_window_continues_exactly():
    sleep_and_wake(5)                        # 12 steps in a window of 5: the ring has wrapped


def test_restored_filling_window_continues_exactly():
    sleep_and_wake(30)                       # 12 of 30 steps: still filling


def test_dump_into_and_loads_of_a_stream_allocate_nothing_heap_locked():
    import micropython
    a = Stream(Model(DESC, seed=3), 7)       # fresh objects, built here
    b = Stream(Model(DESC, seed=3), 7)
    buf = bytearray(state.size(a))
    x = array("h", [32767, -32768, 32767])
    a.push(x)
    state.dump_into(a, buf)
    state.loads(b, buf)
    err = None
    micropython.heap_lock()
    try:
        for _ in range(10):
            a.push(x)
            state.dump_into(a, buf)
            state.loads(b, buf)
    except Exception as e:          # noqa: BLE001 (reported after unlocking)
        err = e
    micropython.heap_unlock()
    if err is not None:
        raise AssertionError("allocated with the heap locked: %r" % (err,))
    eq((bytes(b.scores), b.count), (bytes(a.scores), 7), "restored scores and count")


def reseal(b):
    b = bytearray(b)
    b[-4:] = struct.pack("<I", crc32(b[:-4]) & 0xFFFFFFFF)
    return bytes(b)


def test_other_or_corrupt_windows_refused_stream_unchanged():
    s = Stream(Model(SIGMOID, seed=2), 3)
    s.push([256, -256])
    good = state.dumps(s)                    # 12 + 8 + 2 * 4 state values... then count, next, 3 rows of 2
    s.push([-512, 100])
    before = (bytes(s.ring), bytes(s.scores), s.count, s._at, bytes(s.model.state))
    w = 12 + 8 + 2 * 4                       # where the window section starts
    cases = [
        ("window mismatch: the state holds no window, this Stream has a stream window of 3 steps",
         state.dumps(s.model)),
        ("window mismatch: the state holds a stream window of 4 steps, this Stream has a stream window of 3 steps",
         state.dumps(Stream(Model(SIGMOID), 4))),
        ("window counters (count 4, next row 1)", reseal(good[:w] + b"\x04\x00" + good[w + 2:])),
        ("window counters (count 1, next row 2)", reseal(good[:w + 2] + b"\x02\x00" + good[w + 4:])),
        ("window row 1 is not filled yet but holds 5", reseal(good[:w + 8] + b"\x05\x00" + good[w + 10:])),
        ("window row 0 output 1 is -1, outside [0, 256]", reseal(good[:w + 6] + b"\xff\xff" + good[w + 8:])),
        ("CRC mismatch", good[:w + 6] + b"\x00\x01" + good[w + 8:]),
        ("(truncated)", good[:-2]),
    ]
    for words, data in cases:
        assert words in expect_error(state.StateError, state.loads, s, data), words
        eq((bytes(s.ring), bytes(s.scores), s.count, s._at, bytes(s.model.state)), before, "after: " + words)
    m = Model(SIGMOID, seed=2)
    assert "window mismatch: the state holds a stream window of 3 steps, this Model has no window" in \
        expect_error(state.StateError, state.loads, m, good)
    assert "model must be a tinyrnn Model or Stream, got list" in expect_error(TypeError, state.dumps, [s])


if __name__ == "__main__":
    harness.run_all(globals())
