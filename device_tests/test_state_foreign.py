# States that are not this model's are refused (tinyrnn.state): the state of another
# architecture (input size, layer sizes, kinds, activations, a dense layer where the
# head was), bad arguments, bad files; a save cut short is recovered. Each raises the
# stated exception naming the problem, and the model's state, parameters and output
# are the same bytes after the call as before. Corrupt states: test_state_errors.py.
import os

import harness
from harness import eq, expect_error
from tinyrnn import state
from tinyrnn.model import Model

DESC = {"input": 2, "layers": [{"kind": "lstm", "hidden": 2}, {"kind": "gru", "hidden": 3}],
        "head": {"out": 2, "act": "sigmoid"}}
LSTM2 = {"kind": "lstm", "hidden": 2}
GRU3 = {"kind": "gru", "hidden": 3}
SE = state.StateError
DIR = "state_foreign_dir"        # a directory where a state file is expected
OTHER = "state_foreign_other.bin"  # a valid state of another architecture
JUNK = "state_foreign_junk.bin"
MISSING = "state_foreign_missing.bin"
MISMATCH = "architecture mismatch: the state is of [input %s], the model is [input 2, lstm 2, gru 3, head 2 sigmoid]"


def model():
    m = Model(DESC, seed=3)
    m.step([-500, 700])
    return m


def snapshot(m):
    return bytes(m.state) + bytes(m.params) + bytes(m.output)


def refused(m, cases):
    """cases: (exception, words, function, arguments): each raises with the words, m unchanged."""
    before = snapshot(m)
    for exc, words, fn, args in cases:
        msg = expect_error(exc, fn, *args)
        assert words in msg, "%r does not contain %r" % (msg, words)
        eq(snapshot(m) == before, True, "model unchanged after: " + words)
        assert not exists(MISSING) and not exists(MISSING + ".tmp"), "a file was written: " + words


def architectures(m, cases):
    refused(m, [(SE, MISMATCH % words, state.loads, (m, state.dumps(Model(desc, seed=1)))) for words, desc in cases])


def size_cases():
    return [
        ("2, gru 3, head 1 identity", {"input": 2, "layers": [GRU3], "head": {"out": 1}}),
        ("3, lstm 2, gru 3, head 2 sigmoid", {"input": 3, "layers": [LSTM2, GRU3], "head": {"out": 2, "act": "sigmoid"}}),
        ("2, lstm 2, gru 4, head 2 sigmoid",
         {"input": 2, "layers": [LSTM2, {"kind": "gru", "hidden": 4}], "head": {"out": 2, "act": "sigmoid"}}),
        ("2, lstm 2, gru 3", {"input": 2, "layers": [LSTM2, GRU3]}),
    ]


def kind_cases():
    return [
        ("2, gru 2, gru 3, head 2 sigmoid",                    # same sizes, another kind
         {"input": 2, "layers": [{"kind": "gru", "hidden": 2}, GRU3], "head": {"out": 2, "act": "sigmoid"}}),
        ("2, lstm 2, gru 3, head 2 tanh", {"input": 2, "layers": [LSTM2, GRU3], "head": {"out": 2, "act": "tanh"}}),
        ("2, lstm 2, gru 3, dense 2 sigmoid",                  # a dense layer where the head was
         {"input": 2, "layers": [LSTM2, GRU3, {"kind": "dense", "out": 2, "act": "sigmoid"}]}),
    ]


def test_states_of_other_sizes_refused_state_unchanged():
    architectures(model(), size_cases())


def test_states_of_other_kinds_or_activations_refused_state_unchanged():
    architectures(model(), kind_cases())


def test_bad_arguments_refused_state_unchanged():
    m = model()
    good = state.dumps(m)
    want = "state: model must be a tinyrnn Model or Stream, got "
    refused(m, [
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got NoneType", state.loads, (m, None)),
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got str", state.loads, (m, "TRNS")),
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got list", state.loads, (m, list(good))),
        (TypeError, want + "NoneType", state.loads, (None, good)),
        (TypeError, want + "dict", state.dumps, (DESC,)),
        (TypeError, want + "NoneType", state.size, (None,)),
        (TypeError, "state.dump_into: buf must be a bytearray or memoryview, got bytes", state.dump_into, (m, bytes(64))),
        (ValueError, "state.dump_into: buf holds 10 bytes, this model's state needs 46", state.dump_into, (m, bytearray(10))),
        (TypeError, "state.save: path must be a str, got NoneType", state.save, (m, None)),
        (TypeError, "state.load: path must be a str, got bytes", state.load, (m, b"x.bin")),
    ])


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def remove(name):
    try:
        os.remove(name)
    except OSError:
        pass


def test_bad_files_refused_state_unchanged():
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    state.save(Model({"input": 2, "layers": [GRU3], "head": {"out": 1}}), OTHER)
    with open(JUNK, "wb") as f:
        f.write(b"not a state file at all, just some bytes")
    for name in (MISSING, MISSING + ".tmp", DIR + ".tmp"):
        remove(name)
    m = model()
    try:
        refused(m, [
            (TypeError, "state: model must be a tinyrnn Model or Stream, got str", state.load, ("m", OTHER)),
            (SE, "state.load: path 'state_foreign_dir' is a directory", state.load, (m, DIR)),
            (SE, "state.save: path 'state_foreign_dir' is a directory", state.save, (m, DIR)),
            (SE, "cannot open 'state_foreign_missing.bin'", state.load, (m, MISSING)),
            (SE, "bad magic", state.load, (m, JUNK)),
            (SE, "architecture mismatch", state.load, (m, OTHER)),
        ])
    finally:
        for name in (OTHER, JUNK, DIR + ".tmp"):
            remove(name)
        try:
            os.rmdir(DIR)
        except OSError:
            pass


def test_a_save_cut_before_its_rename_is_recovered():
    # FAT: the old file removed, the new one still path.tmp -> load() takes the .tmp (if valid)
    a = model()
    path = "state_foreign_cut.bin"
    state.save(a, path)
    want = state.dumps(a)
    os.rename(path, path + ".tmp")
    m = Model(DESC, seed=3)
    state.load(m, path)
    eq(state.dumps(m), want, "state from the .tmp")
    assert exists(path) and not exists(path + ".tmp"), "the .tmp renamed into place"
    with open(path + ".tmp", "wb") as f:        # a cut during the first write: a partial .tmp, no file
        f.write(want[:9])
    os.remove(path)
    before = bytes(m.state)
    assert "truncated" in expect_error(SE, state.load, m, path)
    eq(bytes(m.state), before, "state unchanged")
    assert exists(path + ".tmp") and not exists(path), "the partial .tmp left alone"
    remove(path + ".tmp")


if __name__ == "__main__":
    harness.run_all(globals())
