# Corrupt states are refused (tinyrnn.state): truncated, extra bytes, any byte
# flipped, wrong magic or version, another window, a value no cell holds, a header
# that lies under a valid CRC. Each call raises StateError, its message names the
# problem, and the model's state, parameters and output are the same bytes after
# the call as before (as in bad_input.py). The same cases run under CPython
# (host_tests/test_state_refused.py, one pytest item per case). States of other
# architectures, bad arguments and files: test_state_foreign.py.
import struct

import harness
from measure import crc32
from tinyrnn import state
from tinyrnn.model import Model

DESC = {"input": 2, "layers": [{"kind": "lstm", "hidden": 2}, {"kind": "gru", "hidden": 3}],
        "head": {"out": 2, "act": "sigmoid"}}
SE = state.StateError


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
        (SE, "window mismatch: the state holds a stream window of 1 steps, this Model has no window",
         lambda w: reseal(edit(w.good[:-4], 10, b"\x01") + b"\x01\x00\x00\x00" + bytes(4 + 4))),
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


def _loads(make):
    return lambda: [(exc, words, lambda w, f=f: L(w, f(w))) for exc, words, f in make()]


# the groups whose cases are data for loads() (the mirror refuses the same: host_tests/test_state_refused.py)
DATA_GROUPS = {"size": size_cases, "header": header_cases, "crc": crc_cases, "values": value_cases}
GROUPS = {}
for _name in DATA_GROUPS:
    GROUPS[_name] = _loads(DATA_GROUPS[_name])


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


def test_wrong_magic_version_or_window_refused_state_unchanged():
    run_group("header")


def test_bad_crc_and_lying_header_refused_state_unchanged():
    run_group("crc")


def test_values_no_cell_holds_refused_state_unchanged():
    run_group("values")


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



if __name__ == "__main__":
    harness.run_all(globals())
