# Bad states are refused (tinyrnn.state): a state from another architecture, a corrupt
# one (truncated, extra bytes, any byte flipped, wrong magic or version, a value no
# cell holds, a header that lies under a valid CRC), bad arguments. Each call raises
# the stated exception, its message names the problem, and the model's state,
# parameters and output are the same bytes after the call as before (as in
# bad_input.py). The same cases run under CPython (host_tests/test_state_refused.py,
# one pytest item per case).
import os
import struct

import harness
from measure import crc32
from tinyrnn import state
from tinyrnn.model import Model

DESC = {"input": 2, "layers": [{"kind": "lstm", "hidden": 2}, {"kind": "gru", "hidden": 3}],
        "head": {"out": 2, "act": "sigmoid"}}
SE = state.StateError
DIR = "state_errors_dir"        # a directory where a state file is expected
OTHER = "state_errors_other.bin"  # a valid state of another architecture
JUNK = "state_errors_junk.bin"
MISSING = "state_errors_missing.bin"


class World:
    """A model with a non-zero state, and a valid dump of another state of it."""

    def __init__(self):
        self.m = Model(DESC, seed=3)
        self.m.step([300, -200])
        self.good = state.dumps(self.m)
        self.m.step([-500, 700])             # the state a refused call must leave alone

    def snapshot(self):
        m = self.m
        return [bytes(m.state), bytes(m.params), bytes(m.output)]


def reseal(b):
    """b (bytes with a CRC at the end) with its CRC made valid again: what a CRC cannot catch."""
    b = bytearray(b)
    b[-4:] = struct.pack("<I", crc32(b[:-4]) & 0xFFFFFFFF)
    return bytes(b)


def edit(data, at, new):
    b = bytearray(data)
    b[at:at + len(new)] = new
    return bytes(b)


def other(desc):
    return state.dumps(Model(desc, seed=1))


def L(w, data):
    return state.loads(w.m, data)


# Each group: (exception, words the message must contain, data made from the World's good dump).
# Groups stay small: the VM collects garbage only between tests, so each must fit its heap.
def size_cases():
    return [
        (SE, "truncated: 0 bytes", lambda w: b""),
        (SE, "truncated: 15 bytes", lambda w: w.good[:15]),
        (SE, "(truncated)", lambda w: w.good[:-1]),
        (SE, "(truncated)", lambda w: w.good[:20]),
        (SE, "(extra bytes at the end)", lambda w: w.good + b"\x00"),
    ]


def header_cases():
    return [
        (SE, "bad magic b'TRNN'", lambda w: edit(w.good, 0, b"TRNN")),
        (SE, "bad magic", lambda w: b"not a state, just some bytes"),
        (SE, "format version 2 not supported", lambda w: reseal(edit(w.good, 4, b"\x02"))),
        (SE, "format version 0 not supported", lambda w: edit(w.good, 4, b"\x00")),
        (SE, "reserved bytes 10-11", lambda w: reseal(edit(w.good, 10, b"\x01"))),
    ]


def crc_cases():
    return [
        (SE, "CRC mismatch", lambda w: edit(w.good, len(w.good) - 1, bytes([w.good[-1] ^ 1]))),
        (SE, "CRC mismatch", lambda w: edit(w.good, 30, bytes([w.good[30] ^ 0x80]))),
        (SE, "CRC mismatch", lambda w: edit(w.good, 13, b"\x01")),           # an architecture byte
        (SE, "header says 12 values, the architecture has 9",           # a header that lies, CRC made good
         lambda w: reseal(edit(w.good, 8, b"\x0c")[:-4] + b"\x00" * 6 + b"\x00" * 4)),
    ]


def value_cases():
    # values no cell holds (CRC valid): a cell's h beyond +-1.0, a sigmoid output below 0
    return [
        (SE, "layer 0 (lstm) value 0 is 257, outside [-256, 256]",
         lambda w: reseal(edit(w.good, 24, struct.pack("<h", 257)))),
        (SE, "layer 1 (gru) value 2 is -300, outside [-256, 256]",
         lambda w: reseal(edit(w.good, 24 + 2 * 6, struct.pack("<h", -300)))),
        (SE, "layer 2 (head) value 1 is -1, outside [0, 256]",
         lambda w: reseal(edit(w.good, 24 + 2 * 8, struct.pack("<h", -1)))),
    ]


LSTM2 = {"kind": "lstm", "hidden": 2}
GRU3 = {"kind": "gru", "hidden": 3}
MISMATCH = "architecture mismatch: the state is of [input %s], the model is [input 2, lstm 2, gru 3, head 2 sigmoid]"


def size_architecture_cases():
    return [
        (SE, MISMATCH % "2, gru 3, head 1 identity",
         lambda w: other({"input": 2, "layers": [GRU3], "head": {"out": 1}})),
        (SE, MISMATCH % "3, lstm 2, gru 3, head 2 sigmoid",
         lambda w: other({"input": 3, "layers": [LSTM2, GRU3], "head": {"out": 2, "act": "sigmoid"}})),
        (SE, MISMATCH % "2, lstm 2, gru 4, head 2 sigmoid",
         lambda w: other({"input": 2, "layers": [LSTM2, {"kind": "gru", "hidden": 4}], "head": {"out": 2, "act": "sigmoid"}})),
        (SE, MISMATCH % "2, lstm 2, gru 3",
         lambda w: other({"input": 2, "layers": [LSTM2, GRU3]})),
    ]


def kind_architecture_cases():
    return [
        (SE, MISMATCH % "2, gru 2, gru 3, head 2 sigmoid",                 # same sizes, another kind
         lambda w: other({"input": 2, "layers": [{"kind": "gru", "hidden": 2}, GRU3], "head": {"out": 2, "act": "sigmoid"}})),
        (SE, MISMATCH % "2, lstm 2, gru 3, head 2 tanh",                   # another activation
         lambda w: other({"input": 2, "layers": [LSTM2, GRU3], "head": {"out": 2, "act": "tanh"}})),
        (SE, MISMATCH % "2, lstm 2, gru 3, dense 2 sigmoid",               # a dense layer where the head was
         lambda w: other({"input": 2, "layers": [LSTM2, GRU3, {"kind": "dense", "out": 2, "act": "sigmoid"}]})),
    ]


def argument_cases():
    return [
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got NoneType", lambda w: state.loads(w.m, None)),
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got str", lambda w: state.loads(w.m, "TRNS")),
        (TypeError, "state: data must be bytes, a bytearray or a memoryview, got list", lambda w: state.loads(w.m, list(w.good))),
        (TypeError, "state: model must be a tinyrnn Model, got NoneType", lambda w: state.loads(None, w.good)),
        (TypeError, "state: model must be a tinyrnn Model, got dict", lambda w: state.dumps(DESC)),
        (TypeError, "state: model must be a tinyrnn Model, got NoneType", lambda w: state.size(None)),
        (TypeError, "state.dump_into: buf must be a bytearray or memoryview, got bytes",
         lambda w: state.dump_into(w.m, bytes(64))),
        (ValueError, "state.dump_into: buf holds 10 bytes, this model's state needs 46",
         lambda w: state.dump_into(w.m, bytearray(10))),
        (TypeError, "state.save: path must be a str, got NoneType", lambda w: state.save(w.m, None)),
        (TypeError, "state.load: path must be a str, got bytes", lambda w: state.load(w.m, b"x.bin")),
    ]


def file_cases():
    return [
        (TypeError, "state: model must be a tinyrnn Model, got str", lambda w: state.load("m", OTHER)),
        (SE, "state.load: path 'state_errors_dir' is a directory", lambda w: state.load(w.m, DIR)),
        (SE, "state.save: path 'state_errors_dir' is a directory", lambda w: state.save(w.m, DIR)),
        (SE, "cannot open 'state_errors_missing.bin'", lambda w: state.load(w.m, MISSING)),
        (SE, "bad magic", lambda w: state.load(w.m, JUNK)),
        (SE, "architecture mismatch", lambda w: state.load(w.m, OTHER)),
    ]


def _loads(make):
    return lambda: [(exc, words, lambda w, f=f: L(w, f(w))) for exc, words, f in make()]


# the groups whose cases are data for loads() (the mirror refuses the same: host_tests/test_state_refused.py)
DATA_GROUPS = {"size": size_cases, "header": header_cases, "crc": crc_cases, "values": value_cases,
               "architecture": size_architecture_cases, "kinds": kind_architecture_cases}
GROUPS = {"arguments": argument_cases, "files": file_cases}
for _name in DATA_GROUPS:
    GROUPS[_name] = _loads(DATA_GROUPS[_name])


def files():
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    state.save(Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1}}), OTHER)
    with open(JUNK, "wb") as f:
        f.write(b"not a state file at all, just some bytes")
    for name in (MISSING, MISSING + ".tmp", DIR + ".tmp"):
        remove(name)


def remove(name):
    try:
        os.remove(name)
    except OSError:
        pass


def cleanup():
    for name in (OTHER, JUNK, DIR + ".tmp"):
        remove(name)
    try:
        os.rmdir(DIR)
    except OSError:
        pass


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def check_case(world, case):
    """Run one case: the exception and words, and nothing changed. Returns None or what went wrong."""
    exc, words, call = case
    before = world.snapshot()
    try:
        call(world)
    except exc as e:
        if words not in str(e):
            return "message %r does not contain %r" % (str(e), words)
    except Exception as e:          # noqa: BLE001
        return "raised %s(%r), expected %s" % (type(e).__name__, str(e), exc.__name__)
    else:
        return "no error, expected %s" % exc.__name__
    if world.snapshot() != before:
        return "state changed"
    if exists(MISSING) or exists(MISSING + ".tmp"):
        return "a file was written"
    return None


def run_group(name):
    # one World for the group: each case compares the state with its own before, so a case that
    # changed it is reported (and the VM, which collects only between tests, stays in its heap)
    bad = []
    cases = GROUPS[name]()
    w = World()
    for i in range(len(cases)):
        why = check_case(w, cases[i])
        if why:
            bad.append("%s case %d (%s): %s" % (name, i, cases[i][1], why))
    if bad:
        raise AssertionError("\n".join(bad))


def test_truncated_or_extra_bytes_refused_state_unchanged():
    run_group("size")


def test_wrong_magic_version_or_reserved_refused_state_unchanged():
    run_group("header")


def test_bad_crc_and_lying_header_refused_state_unchanged():
    run_group("crc")


def test_values_no_cell_holds_refused_state_unchanged():
    run_group("values")


def test_states_of_other_sizes_refused_state_unchanged():
    run_group("architecture")


def test_states_of_other_kinds_or_activations_refused_state_unchanged():
    run_group("kinds")


def test_bad_arguments_refused_state_unchanged():
    run_group("arguments")


def test_bad_files_refused_state_unchanged():
    files()
    try:
        run_group("files")
    finally:
        cleanup()


def flips(every_bit, start=0, stop=None):
    """Bytes start..stop of a good state flipped (every bit of each, or one, rotating, to keep a VM
    test in its heap: host_tests/test_state_refused.py runs every bit): all refused."""
    w = World()
    before = w.snapshot()
    n = len(w.good)
    for i in range(start, n if stop is None else stop):
        b = bytearray(w.good)
        for bit in range(8) if every_bit else (i & 7,):
            b[i] ^= 1 << bit
            try:
                state.loads(w.m, b)
            except SE:
                pass
            else:
                raise AssertionError("byte %d bit %d flipped: not refused" % (i, bit))
            b[i] ^= 1 << bit
    done(w, before)


def cuts():
    """A good state cut to every shorter length: all refused as truncated."""
    w = World()
    before = w.snapshot()
    n = len(w.good)
    for cut in range(n):
        try:
            state.loads(w.m, w.good[:cut])
        except SE as e:
            assert "truncated" in str(e), str(e)
        else:
            raise AssertionError("cut to %d bytes: not refused" % cut)
    done(w, before)


def done(w, before):
    harness.eq(w.snapshot() == before, True, "state unchanged after the refused states")
    state.loads(w.m, w.good)                    # and the good one is taken
    harness.eq(state.dumps(w.m), w.good, "the good state restored")


def test_flipped_header_bytes_refused():
    flips(False, 0, 24)


def test_flipped_value_and_crc_bytes_refused():
    flips(False, 24)


def test_every_cut_refused():
    cuts()


def test_a_save_cut_before_its_rename_is_recovered():
    # FAT: the old file removed, the new one still path.tmp -> load() takes the .tmp (if valid)
    w = World()
    path = "state_errors_cut.bin"
    state.save(w.m, path)
    want = state.dumps(w.m)
    os.rename(path, path + ".tmp")
    m = Model(DESC, seed=3)
    state.load(m, path)
    harness.eq(state.dumps(m), want, "state from the .tmp")
    assert exists(path) and not exists(path + ".tmp"), "the .tmp renamed into place"
    with open(path + ".tmp", "wb") as f:        # a cut during the first write: a partial .tmp, no file
        f.write(want[:9])
    os.remove(path)
    before = bytes(m.state)
    try:
        state.load(m, path)
    except SE as e:
        assert "truncated" in str(e), str(e)
    else:
        raise AssertionError("a partial .tmp was taken")
    harness.eq(bytes(m.state), before, "state unchanged")
    assert exists(path + ".tmp") and not exists(path), "the partial .tmp left alone"
    remove(path + ".tmp")


if __name__ == "__main__":
    harness.run_all(globals())
