# State that survives: a model's state dumped (to bytes, as into RTC memory before
# machine.deepsleep(), or to a file), restored into a freshly built model (as after
# the wake), continues the sequence exactly as the uninterrupted model does; the
# bytes and the continued run are the NumPy mirror's (GOLDEN_*, recomputed by
# host_tests/test_state_bitexact.py). Dumping and restoring allocate nothing.
# Between kernel sets: test_state_kernels.py; bad states: test_state_errors.py, test_state_foreign.py.
import os
from array import array

import harness
from harness import eq
from measure import Crc, crc32
from tinyrnn import state
from tinyrnn.model import Model
from tinyrnn.rng import Rng

BEFORE = 20                  # steps before the sleep
AFTER = 20                   # steps after the wake
CASES = {
    "elman": {"input": 3, "layers": [{"kind": "elman", "hidden": 5}, {"kind": "elman", "hidden": 4}],
              "head": {"out": 2, "act": "tanh"}},
    "lstm": {"input": 2, "layers": [{"kind": "lstm", "hidden": 6}], "head": {"out": 3, "act": "softmax"}},
    "gru": {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "identity"}},
    "mixed": {"input": 4, "layers": [{"kind": "gru", "hidden": 5}, {"kind": "lstm", "hidden": 3},
                                     {"kind": "dense", "out": 4, "act": "sigmoid"}], "head": None},
}
GOLDEN_DUMP = {'elman': 2732507730, 'lstm': 3913920874, 'gru': 1582414825, 'mixed': 2824525763}
GOLDEN_RUN = {'elman': 641587450, 'lstm': 1125461412, 'gru': 1284811975, 'mixed': 513003730}
FILE = "test_state.bin"


def draw(r, x):
    for j in range(len(x)):
        x[j] = r.randint(-768, 768)          # +-3.0


def continued(m, r, x, h):
    """AFTER more steps of m on r's inputs; every output and state value into h."""
    for _ in range(AFTER):
        draw(r, x)
        h.add_all(m.step(x))
        h.add_all(m.state)
    return h.value()


def sleep_and_wake(name, how):
    desc = CASES[name]
    a = Model(desc, seed=11)
    r = Rng(5)
    x = array("h", bytes(2 * a.n_inputs))
    for _ in range(BEFORE):
        draw(r, x)
        a.step(x)
    if how == "file":
        eq(state.save(a, FILE), state.size(a), "bytes written")
        data = None
    else:
        data = state.dumps(a)
        eq(len(data), state.size(a), "bytes dumped")
        eq(crc32(data[:-4]), GOLDEN_DUMP[name], "CRC32 of the dump before its CRC (the mirror's)")
    # the wake: a new model with the same weights and some other state, then the saved one
    b = Model(desc, seed=11)
    b.step(array("h", [700] * b.n_inputs))
    if how == "file":
        state.load(b, FILE)
        os.remove(FILE)
    else:
        state.loads(b, data)
    eq(bytes(b.state), bytes(a.state), "restored state")
    seed = r.next16()
    want = continued(a, Rng(seed), x, Crc())
    got = continued(b, Rng(seed), x, Crc())
    eq(got, want, "restored run vs the uninterrupted run")
    eq(got, GOLDEN_RUN[name], "restored run vs the mirror's")


def test_restored_elman_continues_exactly():
    sleep_and_wake("elman", "bytes")


def test_restored_lstm_softmax_continues_exactly():
    sleep_and_wake("lstm", "bytes")


def test_restored_gru_continues_exactly():
    sleep_and_wake("gru", "bytes")


def test_restored_mixed_stack_continues_exactly():
    sleep_and_wake("mixed", "bytes")


def test_restored_from_a_file_continues_exactly():
    sleep_and_wake("mixed", "file")
    assert not exists(FILE + ".tmp"), "no .tmp left"


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def rails(m, seed):
    r = Rng(seed)
    p = m.params
    for i in range(len(p)):
        p[i] = -32768 if r.next16() & 1 else 32767
    m.weights_changed()


def test_dump_into_and_loads_allocate_nothing_heap_locked():
    desc = {"input": 2, "layers": [{"kind": "lstm", "hidden": 3}, {"kind": "gru", "hidden": 2}],
            "head": {"out": 2, "act": "identity"}}
    m = Model(desc, seed=1)                  # fresh objects, built here
    rails(m, 3)                              # weights and inputs at the rails: outputs and c at the rails too
    other = Model(desc, seed=1)
    buf = bytearray(state.size(m))
    x = array("h", [32767, -32768])
    y = array("h", [-32768, 32767])
    m.step(x)
    state.dump_into(m, buf)
    state.loads(other, buf)
    import micropython
    err = None
    micropython.heap_lock()
    try:
        for i in range(10):
            m.step(y if i & 1 else x)
            state.dump_into(m, buf)
            state.loads(other, buf)
    except Exception as e:          # noqa: BLE001 (reported after unlocking)
        err = e
    micropython.heap_unlock()
    if err is not None:
        raise AssertionError("allocated with the heap locked: %r" % (err,))
    eq(bytes(other.state), bytes(m.state), "restored state")
    big = 0
    for v in m.state:
        big = max(big, -v if v < 0 else v)
    assert big >= 32767, "a state value at the rails (largest %d)" % big


def test_size_is_what_the_readme_says():
    # 12 header bytes, 4 per layer, 2 per state value, 4 of CRC: README's GRU 2-8-3 takes 46 bytes
    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 3, "act": "softmax"}})
    eq(state.size(m), 12 + 4 * 2 + 2 * (8 + 3) + 4, "bytes")
    eq(len(state.dumps(m)), 46, "bytes dumped")


if __name__ == "__main__":
    harness.run_all(globals())
