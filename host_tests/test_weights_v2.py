"""Weights format version 2: the input normalisation and the class labels travel with the
model. Board writer == host writer byte for byte; host -> board -> host round trips bit for
bit; version-1 files (built here from the version-1 spec, not by the writers) still load;
out-of-spec flags and reserved bytes are refused even with a valid CRC; a fuzzed loader
(lib under CPython and on MicroPython vs the host's independent reader) agrees file by file."""
import json
import random
import struct
import zlib

import numpy as np
import pytest

from tinyrnn_host.board import mpunix, mpvm
from tinyrnn_host.interop import weights_io
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.norm import Norm as MirrorNorm
from tinyrnn import weights
from tinyrnn.model import Model
from tinyrnn.norm import Norm

SOFTMAX = {"input": 3, "layers": [{"kind": "gru", "hidden": 5}], "head": {"out": 4, "act": "softmax"}}
CASES = [   # (desc, norm (offset, mul, shift) or None, labels or None)
    (SOFTMAX, ([12, -300, 32767], [256, 16383, 0], [8, 16, 0]), ("Standing", "Running", "Walking", "Badminton")),
    (SOFTMAX, None, ("a", "b c", "~", "x" * 255)),
    ({"input": 2, "layers": [{"kind": "lstm", "hidden": 4}, {"kind": "dense", "out": 3, "act": "tanh"}],
      "head": {"out": 1, "act": "identity"}}, ([-32768, 0], [1, 2], [1, 2]), None),
    ({"input": 12, "layers": [{"kind": "elman", "hidden": 6}], "head": None},
     (list(range(-6, 6)), list(range(100, 112)), [3] * 12), None),
]


def lib_model(desc, seed, norm, labels):
    m = Model(desc, seed=seed)
    m.norm = None if norm is None else Norm(*norm)
    m.labels = labels
    return m


def v1_file(desc, params):
    """A version-1 file written here from the version-1 spec (docs/weights-format.md)."""
    body_layers = desc["layers"]
    head = desc["head"]
    acts = ["identity", "sigmoid", "tanh", "softmax"]
    kinds = ["elman", "lstm", "gru", "dense"]
    out = struct.pack("<4sBBBBHBBI", b"TRNN", 1, 8, 2, len(body_layers), desc["input"], head is not None, 0,
                      len(params))
    for d in body_layers:
        out += struct.pack("<BBH", kinds.index(d["kind"]), acts.index(d["act"]) if d["kind"] == "dense" else 0,
                           d.get("hidden", d.get("out")))
    if head is not None:
        out += struct.pack("<HBB", head["out"], acts.index(head["act"]), 0)
    out += struct.pack("<%dh" % len(params), *params)
    return out + struct.pack("<I", zlib.crc32(out))


def with_crc(data):
    data = bytes(data[:-4])
    return data + struct.pack("<I", zlib.crc32(data))


@pytest.mark.parametrize("i", range(len(CASES)))
def test_board_and_host_write_the_same_version_2_bytes(i, tmp_path):
    desc, norm, labels = CASES[i]
    m = lib_model(desc, 5 + i, norm, labels)
    weights.save(m, str(tmp_path / "lib.bin"))
    data = (tmp_path / "lib.bin").read_bytes()
    host = weights_io.encode(desc, MirrorModel(desc, seed=5 + i).params,
                             None if norm is None else MirrorNorm(*norm), labels)
    assert data == host
    # the documented layout: version 2, flags, then norm rows and labels before the parameters
    assert data[4] == 2 and data[11] == (norm is not None) | (labels is not None) << 1
    at = 16 + 4 * data[7] + 4 * data[10]
    if norm is not None:
        rows = [struct.unpack("<hhBB", data[at + 6 * c:at + 6 * c + 6]) for c in range(desc["input"])]
        assert rows == [(o, mu, s, 0) for o, mu, s in zip(*norm)]
        at += 6 * desc["input"]
    if labels is not None:
        for label in labels:
            assert data[at] == len(label) and data[at + 1:at + 1 + len(label)] == label.encode()
            at += 1 + len(label)
    assert len(data) == at + 2 * m.n_params + 4
    back = weights.load(str(tmp_path / "lib.bin"))
    assert list(back.params) == list(m.params) and back.labels == labels
    assert (back.norm is None) == (norm is None) and (norm is None or back.norm == m.norm)
    f = weights_io.read(tmp_path / "lib.bin")
    assert f.version == 2 and f.labels == labels and (norm is None or f.norm == MirrorNorm(*norm))


def test_version_1_files_still_load(tmp_path):
    for desc, _, _ in CASES:
        params = MirrorModel(desc, seed=3).flat_params().tolist()
        path = tmp_path / "v1.bin"
        path.write_bytes(v1_file(desc, params))
        m = weights.load(str(path))
        assert list(m.params) == params and m.norm is None and m.labels is None
        other = Model(desc, seed=9)
        other.norm, other.labels = Norm([0] * desc["input"], [1] * desc["input"], [0] * desc["input"]), None
        weights.load_into(other, str(path))
        assert list(other.params) == params and other.norm is None      # the file's (none) replaces the model's
        f = weights_io.read(path)
        assert f.version == 1 and f.norm is None and f.labels is None
        assert np.concatenate([v.ravel() for v in f.params.values()]).tolist() == params
        weights.save(m, str(tmp_path / "again.bin"))                    # re-saved: version 2, same parameters
        assert (tmp_path / "again.bin").read_bytes()[4] == 2


def out_of_spec(good, n_in):
    """(label, file bytes with a valid CRC, words of the error) for the reserved bytes and flags."""
    at_head = 16 + 4 * good[7]
    at_norm = at_head + 4 * good[10]
    cases = []

    def put(label, at, value, words, fmt="B"):
        d = bytearray(good)
        struct.pack_into("<" + fmt, d, at, value)
        cases.append((label, with_crc(d), words))

    put("flags bit 2", 11, good[11] | 4, "reserved bits")
    put("flags bit 7", 11, good[11] | 0x80, "reserved bits")
    put("head flag 2", 10, 2, "head flag")
    put("recurrent layer with an activation byte", 17, 1, "activation byte")
    put("head reserved byte", at_head + 3, 1, "reserved byte")
    put("norm reserved byte", at_norm + 5, 1, "normalisation of channel 0")
    put("norm mul 16384", at_norm + 2, 16384, "normalisation of channel 0", "h")
    put("norm mul negative", at_norm + 8, -1, "normalisation of channel 1", "h")
    put("norm shift 17", at_norm + 4, 17, "normalisation of channel 0")
    at_lab = at_norm + 6 * n_in
    put("label with a control character", at_lab + 1, 7, "label 0")
    put("label of length 0", at_lab, 0, "label 0")
    v1 = bytearray(good)
    v1[4] = 1                     # a version-1 file has no flags: byte 11 is reserved
    cases.append(("version 1 with flags", with_crc(v1), "reserved bits"))
    return cases


def test_out_of_spec_reserved_bytes_and_flags_are_refused_with_a_valid_crc(tmp_path):
    desc, norm, labels = CASES[0]
    m = lib_model(desc, 1, norm, labels)
    weights.save(m, str(tmp_path / "good.bin"))
    good = (tmp_path / "good.bin").read_bytes()
    for label, data, words in out_of_spec(good, desc["input"]):
        path = tmp_path / "bad.bin"
        path.write_bytes(data)
        target = lib_model(desc, 7, None, None)
        before = list(target.params)
        with pytest.raises(ValueError, match=words):
            weights.load_into(target, str(path))
        assert list(target.params) == before and target.norm is None and target.labels is None, label
        with pytest.raises(ValueError, match=words):
            weights.load(str(path))
        with pytest.raises(ValueError, match=words):
            weights_io.read(path)


def test_labels_and_norm_must_fit_the_model(tmp_path):
    m = lib_model(CASES[2][0], 1, None, ("a", "b"))            # an identity head: no labels
    with pytest.raises(ValueError, match="softmax head"):
        weights.save(m, str(tmp_path / "x.bin"))
    m = lib_model(SOFTMAX, 1, None, ("a", "b"))
    with pytest.raises(ValueError, match="2 labels for a head of 4"):
        weights.save(m, str(tmp_path / "x.bin"))
    m = lib_model(SOFTMAX, 1, None, ("a", "b", "c", "d\n"))
    with pytest.raises(ValueError, match="label 3"):
        weights.save(m, str(tmp_path / "x.bin"))
    m = lib_model(SOFTMAX, 1, ([0, 0], [1, 1], [0, 0]), None)
    with pytest.raises(ValueError, match="2 channels"):
        weights.save(m, str(tmp_path / "x.bin"))
    assert not (tmp_path / "x.bin").exists() and not (tmp_path / "x.bin.tmp").exists()
    with pytest.raises(ValueError, match="softmax head"):
        weights_io.encode(CASES[2][0], MirrorModel(CASES[2][0]).params, labels=("a",))


# -- host -> board -> host --------------------------------------------------------------

ROUND_TRIP = r"""
from tinyrnn import weights
out = []
for i in range(%d):
    m = weights.load('host%%d.bin' %% i)
    out.append((list(m.norm.offset) if m.norm else None, list(m.norm.mul) if m.norm else None,
                list(m.norm.shift) if m.norm else None, m.labels and list(m.labels)))
    weights.save(m, 'board%%d.bin' %% i)
v1 = weights.load('v1.bin')                 # a version-1 file loads on the board too
out.append((list(v1.params), v1.norm, v1.labels))
print(repr(out))
"""


@pytest.mark.parametrize("runtime", ["vm", "unix"])
def test_norm_and_labels_round_trip_host_board_host(runtime, tmp_path):
    files = {}
    for i, (desc, norm, labels) in enumerate(CASES):
        files["host%d.bin" % i] = weights_io.encode(desc, MirrorModel(desc, seed=20 + i).params,
                                                    None if norm is None else MirrorNorm(*norm), labels)
    v1_params = MirrorModel(CASES[2][0], seed=4).flat_params().tolist()
    files["v1.bin"] = v1_file(CASES[2][0], v1_params)
    script = ROUND_TRIP % len(CASES)
    collect = ["board%d.bin" % i for i in range(len(CASES))]
    if runtime == "vm":
        res = mpvm.run_vm(script, heap_bytes=131072, mpy=True, files=files, collect=collect)
    else:
        res = mpunix.run_unix(script, heap_bytes=262144, files=files, collect=collect)
    seen = eval(res.stdout.strip().splitlines()[-1])
    assert seen[-1] == (v1_params, None, None)
    for i, (desc, norm, labels) in enumerate(CASES):
        assert res.files["board%d.bin" % i] == files["host%d.bin" % i]         # bit for bit, both ways
        back = weights_io.decode_file(res.files["board%d.bin" % i])
        assert back.labels == labels and seen[i][3] == (None if labels is None else list(labels))
        if norm is not None:
            assert back.norm == MirrorNorm(*norm) and tuple(seen[i][:3]) == tuple(list(v) for v in norm)


# -- fuzzing ------------------------------------------------------------------------------

def random_file(rng):
    """A valid version-2 file of a random small model with random norm and labels."""
    kinds = ["elman", "lstm", "gru"]
    n_in = rng.randint(1, 5)
    layers = [{"kind": rng.choice(kinds), "hidden": rng.randint(1, 4)} for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.3:
        layers.append({"kind": "dense", "out": rng.randint(1, 3), "act": rng.choice(["identity", "sigmoid", "tanh"])})
    act = rng.choice(["identity", "sigmoid", "tanh", "softmax"])
    head = {"out": rng.randint(1, 4), "act": act} if rng.random() < 0.85 or not layers else None
    desc = {"input": n_in, "layers": layers, "head": head}
    norm = None
    if rng.random() < 0.7:
        norm = MirrorNorm([rng.randint(-32768, 32767) for _ in range(n_in)], [rng.randint(0, 16383) for _ in range(n_in)],
                          [rng.randint(0, 16) for _ in range(n_in)])
    labels = None
    if head is not None and act == "softmax" and rng.random() < 0.8:
        labels = tuple("".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(1, 12))) for _ in range(head["out"]))
    return weights_io.encode(desc, MirrorModel(desc, seed=rng.randint(1, 1000)).params, norm, labels)


def mutate(rng, data):
    """One random damage; half the time the CRC is recomputed so the structural checks must catch it."""
    d = bytearray(data)
    how = rng.randrange(6)
    if how == 0:
        d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
    elif how == 1:                      # a header / architecture / norm / labels byte set to anything
        d[rng.randrange(min(len(d), 16 + 60))] = rng.randrange(256)
    elif how == 2:
        del d[rng.randrange(len(d)):]
    elif how == 3:
        d[rng.randrange(len(d) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
    elif how == 4:
        d[11] = rng.randrange(256)      # the flags
    else:
        i = rng.randrange(16, max(17, len(d) - 4))
        d[i:i + 2] = struct.pack("<H", rng.choice([0, 1, 255, 256, 16383, 16384, 65535]))
    if rng.random() < 0.5 and len(d) >= 4:
        d = bytearray(with_crc(d))
    return bytes(d)


def host_verdict(data):
    try:
        f = weights_io.decode_file(data)
    except weights_io.WeightsError:
        return "REFUSED"
    flat = np.concatenate([v.ravel() for v in f.params.values()]).tolist()
    norm = None if f.norm is None else [f.norm.offset.tolist(), f.norm.mul.tolist(), f.norm.shift.tolist()]
    return [f.desc, flat, norm, None if f.labels is None else list(f.labels)]


LIB_VERDICT = r"""
def verdict(path, weights):
    try:
        m = weights.load(path)
    except ValueError:
        return "REFUSED"
    n = m.norm
    return [m.desc, list(m.params), None if n is None else [list(n.offset), list(n.mul), list(n.shift)],
            None if m.labels is None else list(m.labels)]
"""


def lib_verdict(path):
    ns = {}
    exec(LIB_VERDICT, ns)
    return ns["verdict"](str(path), weights)


def fuzz_files(seed, n):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        good = random_file(rng)
        out.append(good if rng.random() < 0.1 else mutate(rng, good))
    return out


def test_fuzzed_files_lib_and_host_agree(tmp_path):
    refused = accepted = with_extras = 0
    for i, data in enumerate(fuzz_files(11, 3000)):
        path = tmp_path / "f.bin"
        path.write_bytes(data)
        host = host_verdict(data)
        lib = lib_verdict(path)             # only ValueError may come out: anything else fails the test
        assert lib == host, (i, data.hex())
        refused += host == "REFUSED"
        accepted += host != "REFUSED"
        with_extras += host != "REFUSED" and (host[2] is not None or host[3] is not None)
        if host == "REFUSED":               # load_into of a refused file changes nothing
            m = Model({"input": 1, "layers": [{"kind": "gru", "hidden": 1}], "head": None}, seed=2)
            before = list(m.params)
            with pytest.raises(ValueError):
                weights.load_into(m, str(path))
            assert list(m.params) == before and m.norm is None
    # the fuzzer reached both outcomes, and files that carry the new fields
    assert refused > 1000 and accepted > 300 and with_extras > 150, (refused, accepted, with_extras)


def test_fuzzed_files_on_micropython_agree_with_the_host():
    files = fuzz_files(12, 300)
    script = ("import json\nfrom tinyrnn import weights\n" + LIB_VERDICT +
              "print(json.dumps([verdict('f%%d.bin' %% i, weights) for i in range(%d)]))\n" % len(files))
    # not a memory test: this VM frees nothing within one call, and 300 verdicts pile up
    res = mpvm.run_vm(script, heap_bytes=262144, mpy=True, allow_growth=True,
                      files={"f%d.bin" % i: d for i, d in enumerate(files)})
    board = json.loads(res.stdout.strip().splitlines()[-1])
    host = [host_verdict(d) for d in files]
    host = json.loads(json.dumps(host))                 # tuples -> lists, as the board's JSON has them
    assert board == host
    assert sum(v != "REFUSED" for v in host) > 30


# -- the normalisation itself ---------------------------------------------------------------

def random_norms(rng, n):
    out = [([32767, -32768, 0], [16383, 16383, 0], [0, 16, 5])]
    for _ in range(n):
        c = rng.randint(1, 6)
        out.append(([rng.randint(-32768, 32767) for _ in range(c)], [rng.randint(0, 16383) for _ in range(c)],
                    [rng.randint(0, 16) for _ in range(c)]))
    return out


def raw_steps(rng, c, n):
    edge = [-32768, 32767, 0, -1, 1]
    return [[rng.choice(edge) if rng.random() < 0.3 else rng.randint(-32768, 32767) for _ in range(c)]
            for _ in range(n)]


def expected(norm, raw):
    """The spec, in plain Python ints: sat16(((raw - offset) * mul + round) >> shift)."""
    out = []
    for r, o, m, s in zip(raw, *norm):
        v = ((r - o) * m + ((1 << s) >> 1)) >> s
        out.append(max(-32768, min(32767, v)))
    return out


def test_norm_lib_and_mirror_follow_the_spec():
    rng = random.Random(3)
    for norm in random_norms(rng, 200):
        lib, mirror = Norm(*norm), MirrorNorm(*norm)
        steps = raw_steps(rng, len(norm[0]), 20)
        got = [list(lib.apply(r)) for r in steps]
        assert got == [expected(norm, r) for r in steps]
        assert mirror.apply(np.array(steps)).tolist() == got


NORM_ON_BOARD = r"""
import json, micropython
from tinyrnn.norm import Norm
cases = json.load(open('cases.json'))
out = []
def run(n, steps, res):
    micropython.heap_lock()             # apply() allocates nothing, at the rails too
    try:
        for r in steps:
            y = n.apply(r)
            for v in y:
                res.append(v)
    finally:
        micropython.heap_unlock()
for norm, steps in cases:
    n = Norm(*norm)
    res = [0] * (len(steps) * len(norm[0]))     # room made before the lock
    del res[:]
    run(n, steps, res)
    out.append(res)
print(json.dumps(out))
"""


@pytest.mark.parametrize("runtime", ["vm", "unix"])
def test_norm_on_micropython_equals_the_mirror_without_allocating(runtime):
    rng = random.Random(4)
    cases = [(norm, raw_steps(rng, len(norm[0]), 10)) for norm in random_norms(rng, 40)]
    files = {"cases.json": json.dumps(cases).encode()}
    if runtime == "vm":
        res = mpvm.run_vm(NORM_ON_BOARD, heap_bytes=262144, mpy=True, files=files)
    else:
        res = mpunix.run_unix(NORM_ON_BOARD, heap_bytes=262144, files=files)
    board = json.loads(res.stdout.strip().splitlines()[-1])
    for (norm, steps), got in zip(cases, board):
        assert got == MirrorNorm(*norm).apply(np.array(steps)).ravel().tolist()


def test_norm_refuses_bad_values():
    with pytest.raises(ValueError, match="mul\\[1\\]=16384"):
        Norm([0, 0], [1, 16384], [0, 0])
    with pytest.raises(ValueError, match="shift\\[0\\]=17"):
        Norm([0], [1], [17])
    with pytest.raises(ValueError, match="one value per channel"):
        Norm([0, 0], [1], [0, 0])
    n = Norm([0, 0], [1, 1], [0, 0])
    with pytest.raises(ValueError, match="raw\\[1\\]=40000"):
        n.apply([0, 40000])
    with pytest.raises(TypeError, match="raw\\[0\\] must be an int"):
        n.apply([0.5, 0])
    with pytest.raises(ValueError, match="got 3 raw values"):
        n.apply([0, 0, 0])
