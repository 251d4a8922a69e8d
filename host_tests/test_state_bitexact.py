"""State that survives (docs/state.md): lib/tinyrnn/state.py under CPython against
the mirror's independent implementation (tools/tinyrnn_host/mirror/state.py), byte for
byte, and a restored run against the uninterrupted one in both; the golden CRC32s of
device_tests/test_state.py recomputed from the mirror. The board runs: device_tests/."""
import binascii
import importlib.util
import sys
import zlib

import numpy as np
import pytest

from tinyrnn_host import paths
from tinyrnn_host.mirror import state as mstate
from tinyrnn_host.mirror import stream as mstream
from tinyrnn_host.mirror.model import Model as MModel
from tinyrnn_host.mirror.rng import Rng as MRng

from tinyrnn import state
from tinyrnn.model import Model
from tinyrnn.rng import Rng


def device_module(stem):
    """A device test file as a module of another name (host_tests has files of the same names)."""
    if str(paths.device_tests()) not in sys.path:
        sys.path.insert(0, str(paths.device_tests()))         # for harness, measure
    spec = importlib.util.spec_from_file_location("device_" + stem, paths.device_tests() / (stem + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


dev = device_module("test_state")

ARCHS = dict(dev.CASES)
ARCHS["head_only"] = {"input": 3, "head": {"out": 4, "act": "softmax"}}
ARCHS["lstm_stack_sigmoid"] = {"input": 2, "layers": [{"kind": "lstm", "hidden": 4}, {"kind": "lstm", "hidden": 2}],
                               "head": {"out": 2, "act": "sigmoid"}}
ARCHS["dense_then_gru"] = {"input": 5, "layers": [{"kind": "dense", "out": 3, "act": "identity"},
                                                   {"kind": "gru", "hidden": 7}]}


def digest(values):
    """measure.Crc on the board: binascii.crc32 of the values as little-endian int32."""
    return binascii.crc32(np.asarray(values, np.int64).ravel().astype("<i4").tobytes())


def draw(r, n):
    return np.array([[r.randint(-768, 768) for _ in range(n)]], np.int64)


def mirror_goldens(name):
    """device_tests/test_state.sleep_and_wake, replayed by the mirror."""
    desc = dev.CASES[name]
    m = MModel(desc, seed=11)
    r = MRng(5)
    for _ in range(dev.BEFORE):
        m.step(draw(r, desc["input"]))
    data = mstate.dumps(m)
    r = MRng(r.next16())
    vals = []
    for _ in range(dev.AFTER):
        vals += list(m.step(draw(r, desc["input"]))[0]) + list(m.state()[0])
    return binascii.crc32(data[:-4]), digest(vals)


@pytest.mark.parametrize("name", sorted(dev.CASES))
def test_device_goldens_are_the_mirrors(name):
    assert (dev.GOLDEN_DUMP[name], dev.GOLDEN_RUN[name]) == mirror_goldens(name)


def lib_inputs(seed, n, steps, big):
    r = Rng(seed)
    return [[r.randint(-big, big) for _ in range(n)] for _ in range(steps)]


@pytest.mark.parametrize("big", [768, 32767], ids=["ordinary", "rails"])
@pytest.mark.parametrize("name", sorted(ARCHS))
def test_lib_and_mirror_dump_the_same_bytes_and_continue_alike(name, big):
    desc = ARCHS[name]
    xs = lib_inputs(7, desc["input"], 24, big)
    lib = Model(desc, seed=4)
    mir = MModel(desc, seed=4)
    for x in xs[:12]:
        lib.step(x)
        mir.step(np.array([x]))
    data = state.dumps(lib)
    assert data == mstate.dumps(mir), "lib and mirror dump the same bytes"
    assert data[-4:] == zlib.crc32(data[:-4]).to_bytes(4, "little")
    # restore the lib's bytes into a fresh lib model and a fresh mirror model; continue all four
    lib2 = state.loads(Model(desc, seed=4), data)
    mir2 = MModel(desc, seed=4)
    assert mstate.loads(mir2, data) is None             # no window
    assert state.dumps(lib2) == data and mstate.dumps(mir2) == data
    for x in xs[12:]:
        want = list(lib.step(x))
        assert list(lib2.step(x)) == want
        assert list(mir.step(np.array([x]))[0]) == want
        assert list(mir2.step(np.array([x]))[0]) == want
        assert list(lib2.state) == list(lib.state) == list(mir2.state()[0])


def test_values_at_the_bounds_encode_alike():
    # every value at an end of its range (a cell's h +-256, an LSTM's c and identity outputs the rails)
    desc = {"input": 2, "layers": [{"kind": "lstm", "hidden": 2}, {"kind": "dense", "out": 2, "act": "tanh"}],
            "head": {"out": 3, "act": "identity"}}
    m = Model(desc)
    mir = MModel(desc)
    lo, hi, _, _ = mstate.bounds(mstate.fingerprint(mir)[1])
    for ends in ((lo, hi), (hi, lo)):
        values = np.where(np.arange(len(lo)) % 2, *ends)
        data = mstate.encode(desc["input"], mstate.fingerprint(mir)[1], values)
        state.loads(m, data)
        assert list(m.state) == list(values)
        assert state.dumps(m) == data
        mstate.loads(mir, data)
        assert list(mir.state()[0]) == list(values)


def test_mirror_refuses_what_the_board_refuses():
    m = MModel(dev.CASES["gru"], seed=2)
    m.step(np.array([[300, -300]]))
    data = mstate.dumps(m)
    before = m.state().copy()
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises(mstate.StateError):
            mstate.loads(m, bytes(bad))
    for cut in range(len(data)):
        with pytest.raises(mstate.StateError, match="truncated"):
            mstate.loads(m, data[:cut])
    other = mstate.dumps(MModel(dev.CASES["lstm"]))
    with pytest.raises(mstate.StateError, match="architecture mismatch"):
        mstate.loads(m, other)
    assert (m.state() == before).all()


def test_an_inference_program_does_not_load_them():
    """The state and stream modules cost RAM only in programs that import them (unix port)."""
    from tinyrnn_host.board import mpunix
    script = ("import sys\nfrom tinyrnn import weights\nfrom tinyrnn.model import Model\n"
              "m = Model({'input': 2, 'layers': [{'kind': 'gru', 'hidden': 3}]})\nm.step([1, 2])\n"
              "print(sorted(k for k in sys.modules if k.startswith('tinyrnn.')))\n")
    out = mpunix.run_unix(script, heap_bytes=65536).stdout
    assert "tinyrnn.model" in out and "tinyrnn.state" not in out and "tinyrnn.stream" not in out, out


BOARD_SCRIPT = """
from binascii import hexlify
from tinyrnn import state
from tinyrnn.model import Model
from tinyrnn.stream import Stream
s = Stream(Model(%r, seed=4), 3)
for x in %r:
    s.push(x)
print("MODEL", hexlify(state.dumps(s.model)).decode())
print("STREAM", hexlify(state.dumps(s)).decode())
"""


@pytest.mark.parametrize("runtime", ["unix", "wasm"])
def test_the_boards_bytes_are_the_mirrors(runtime):
    """The bytes a board dumps (a model's state, and a stream's with its window), read back from the
    board itself, equal the mirror's, on the unix port (viper) and the WebAssembly VM (bytecode)."""
    from tinyrnn_host.board import mpunix, mpvm
    desc = ARCHS["mixed"]
    xs = lib_inputs(8, desc["input"], 5, 768)
    script = BOARD_SCRIPT % (desc, xs)
    if runtime == "unix":
        out = mpunix.run_unix(script, heap_bytes=65536).stdout
    else:
        out = mpvm.run_vm(script, heap_bytes=65536, mpy=True).stdout
    got = dict(line.split() for line in out.splitlines() if line.startswith(("MODEL", "STREAM")))
    mir = MModel(desc, seed=4)
    outs, _ = mir.run(np.array([xs]))
    assert bytes.fromhex(got["MODEL"]) == mstate.dumps(mir)
    assert bytes.fromhex(got["STREAM"]) == mstate.dumps(mir, 0, mstream.window_of(outs[0], 3))


def test_the_crc_in_halves_is_zlibs():
    from tinyrnn._crc import crc32_into
    r = Rng(12)
    out = bytearray(4)
    for n in list(range(40)) + [255, 1000]:
        data = bytes(r.next16() & 255 for _ in range(n))
        crc32_into(data, n, out)
        assert bytes(out) == zlib.crc32(data).to_bytes(4, "little")
