"""Recordings files (docs/recordings-format.md): the host writes them, lib/tinyrnn/recordings.py
reads the same values, a trainer fed from the file lands on the same weights as the
NumPy mirror fed from the host's decode of it, fit_norm agrees with a float64 fit, and
bad files (every truncation, every single flipped byte, random damage) raise
RecordingsError with a clear message: under CPython and on the MicroPython VM."""
import json
import math

import numpy as np
import pytest

from tinyrnn_host.board import mpvm
from tinyrnn_host.interop import recordings as host_rec
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer
from tinyrnn import optim as l_optim
from tinyrnn.model import Model
from tinyrnn.recordings import Recordings, RecordingsError, fit_norm
from tinyrnn.train import Trainer

GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 1, "act": "identity"}}


def data(kind, n=32, T=4, C=2, O=1, seed=3):
    rng = np.random.default_rng(seed)
    xs = rng.integers(-300, 301, (n, T, C))
    if kind == "class":
        return xs, rng.integers(0, O, n)
    return xs, rng.integers(-200, 201, (n, T, O) if kind == "steps" else (n, O))


@pytest.mark.parametrize("kind", host_rec.KINDS)
def test_lib_reads_what_the_host_wrote(kind, tmp_path):
    O = 3 if kind == "class" else 2
    xs, ys = data(kind, n=5, T=6, C=3, O=O)
    labels = ("walk", "run", "sit") if kind == "class" else None
    p = tmp_path / "d.rec"
    host_rec.write(p, xs, ys, kind, labels)
    hx, hy, hk, hl = host_rec.read(p)
    assert (hx == xs).all() and (hy == ys).all() and hk == kind and hl == labels
    r = Recordings(str(p))
    assert (len(r), r.steps, r.channels, r.outputs, r.kind, r.labels) == (5, 6, 3, O, kind, labels)
    for i in range(len(r)):
        rx, ry = r[i]
        assert [list(row) for row in rx] == xs[i].tolist()
        if kind == "class":
            assert ry == ys[i]
        elif kind == "steps":
            assert [list(row) for row in ry] == ys[i].tolist()
        else:
            assert list(ry) == ys[i].tolist()
    with pytest.raises(IndexError):
        r[5]
    r.close()


def test_training_from_the_file_equals_the_mirror_on_its_decode(tmp_path):
    # GRU 2-8-1, Adam, 3 epochs of 32 sequences x 4 steps (the board's 64 KB program)
    xs, ys = data("steps")
    p = tmp_path / "train.rec"
    host_rec.write(p, xs, ys, "steps")
    lm = Model(GRU, 7)
    lt = Trainer(lm, optimizer=l_optim.Adam(lr="0.02"), max_steps=4)
    rec = Recordings(str(p))
    lib_hist = lt.fit(rec, 3, batch_size=4, verbose=False)
    dx, dy, _, _ = host_rec.read(p)
    mm = MirrorModel(GRU, 7)
    mt = MirrorTrainer(mm, optimizer=m_optim.Adam(lr="0.02"))
    mir_hist = mt.fit([(dx[i].tolist(), dy[i].tolist()) for i in range(len(dx))], 3, batch_size=4)
    assert [list(h) for h in lib_hist] == [list(h) for h in mir_hist]
    assert list(lm.params) == mm.flat_params().tolist()
    master = np.concatenate([mt.master[n].ravel() for n in mt.names])
    assert list(lt.master) == master.tolist()
    # evaluate reads the same file
    assert lt.evaluate(rec) == mt.evaluate([(dx[i].tolist(), dy[i].tolist()) for i in range(len(dx))])


def test_class_recordings_train_with_targets_last(tmp_path):
    xs, ys = data("class", n=8, T=5, O=3)
    p = tmp_path / "c.rec"
    host_rec.write(p, xs, ys, "class", ("a", "b", "c"))
    desc = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 3, "act": "softmax"}}
    lm = Model(desc, 2)
    lt = Trainer(lm, loss="ce", targets="last", optimizer=l_optim.SGD(lr="0.1"), max_steps=5)
    lh = lt.fit(Recordings(str(p)), 2, verbose=False)
    mm = MirrorModel(desc, 2)
    mt = MirrorTrainer(mm, loss="ce", targets="last", optimizer=m_optim.SGD(lr="0.1"))
    mh = mt.fit([(xs[i].tolist(), int(ys[i])) for i in range(len(xs))], 2)
    assert [list(h) for h in lh] == [list(h) for h in mh]
    assert list(lm.params) == mm.flat_params().tolist()


def test_fit_norm_matches_a_float64_fit(tmp_path):
    rng = np.random.default_rng(5)
    xs = np.stack([rng.normal(1200, 300, (10, 20)), rng.normal(-40, 9, (10, 20)),
                   np.full((10, 20), 77.0)], axis=-1).round().astype(np.int64)
    p = tmp_path / "n.rec"
    host_rec.write(p, xs, np.zeros((10, 1), np.int64), "last")
    norm = fit_norm(Recordings(str(p)))
    flat = xs.reshape(-1, 3)
    for c in range(3):
        mean = flat[:, c].sum() / flat.shape[0]
        assert norm.offset[c] == math.floor(mean + 0.5)
        std = flat[:, c].astype(np.float64).std()
        if std == 0:
            assert norm.mul[c] == 0
            continue
        scale = norm.mul[c] / 2 ** norm.shift[c]
        assert 8192 <= norm.mul[c] <= 16383 or norm.shift[c] in (0, 16)
        # std is taken in steps of 1/256 (floor) and mul rounded to 14 bits: within 1/(256 std) + 2^-13
        assert abs(scale - 256 / std) <= 256 / std * (1 / math.floor(256 * std) + 2 ** -13), (c, scale, 256 / std)


def good_file(tmp_path):
    xs, ys = data("class", n=3, T=2, C=2, O=2)
    p = tmp_path / "g.rec"
    host_rec.write(p, xs, ys, "class", ("no", "yes"))
    return p.read_bytes()


def opens(path):
    try:
        Recordings(str(path)).close()
    except RecordingsError as e:
        return str(e)
    return None


def test_every_truncation_and_every_flipped_byte_is_refused(tmp_path):
    good = good_file(tmp_path)
    p = tmp_path / "bad.rec"
    for n in range(len(good)):
        p.write_bytes(good[:n])
        msg = opens(p)
        assert msg and ("truncated" in msg or "CRC" in msg or "not a recordings file" in msg), (n, msg)
    for i in range(len(good)):
        for bit in (0x01, 0x80):
            b = bytearray(good)
            b[i] ^= bit
            p.write_bytes(bytes(b))
            msg = opens(p)
            assert msg and msg.startswith(str(p) + ":"), (i, bit, msg)
    p.write_bytes(good + b"\0")
    assert "trailing bytes" in opens(p)


@pytest.mark.parametrize("patch, words", [
    ((0, b"TRNN"), "not a recordings file"), ((4, b"\x02"), "version 2"), ((5, b"\x07"), "target kind 7"),
    ((6, b"\0\0"), "recordings is 0"), ((8, b"\0\0"), "steps is 0"), ((10, b"\0\0"), "channels is 0"),
    ((12, b"\x05\0"), "labels for 5 classes"), ((17, b"\x01"), "label 0 is not")])
def test_each_header_field_gets_its_own_message(tmp_path, patch, words):
    good = bytearray(good_file(tmp_path))
    at, v = patch
    good[at:at + len(v)] = v
    p = tmp_path / "h.rec"
    p.write_bytes(bytes(good))
    msg = opens(p)
    assert msg and words in msg, msg


def test_a_class_out_of_range_names_the_recording(tmp_path):
    xs, ys = data("class", n=3, T=2, C=2, O=2)
    raw = bytearray(host_rec.encode(xs, ys, "class"))
    rec = 2 * (2 * 2 + 1)
    at = 16 + 2 * rec + rec - 2                   # recording 2's class
    raw[at:at + 2] = b"\x09\x00"
    import struct
    import zlib
    raw[-4:] = struct.pack("<I", zlib.crc32(bytes(raw[:-4])))
    p = tmp_path / "k.rec"
    p.write_bytes(bytes(raw))
    assert "recording 2 has class 9" in opens(p)


def test_random_damage_never_crashes(tmp_path):
    good = good_file(tmp_path)
    rng = np.random.default_rng(11)
    p = tmp_path / "r.rec"
    for _ in range(300):
        b = bytearray(good)
        for i in rng.integers(0, len(b), int(rng.integers(1, 6))):
            b[i] = int(rng.integers(0, 256))
        if rng.integers(0, 2):
            b = b[:int(rng.integers(0, len(b)))]
        if bytes(b) == good:
            continue
        p.write_bytes(bytes(b))
        assert opens(p), "damaged file accepted"


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="path"):
        Recordings(3)
    with pytest.raises(RecordingsError, match="cannot open"):
        Recordings("/nonexistent/x.rec")
    with pytest.raises(TypeError, match="fit_norm"):
        fit_norm([1, 2])
    with pytest.raises(ValueError, match="kind"):
        host_rec.encode(np.zeros((1, 1, 1), int), [0], "nope")


VM_FUZZ = """
import json
from tinyrnn.recordings import Recordings, RecordingsError
cases = json.load(open('cases.json'))
out = []
for name in cases:
    try:
        Recordings(name).close()
        out.append(None)
    except RecordingsError as e:
        out.append(str(e))
print('RESULTS', json.dumps(out))
"""


def test_bad_files_on_the_micropython_vm(tmp_path):
    good = good_file(tmp_path)
    files = {"good.rec": good}
    for n in (0, 5, 15, 16, 20, len(good) - 4, len(good) - 1):
        files["t%d.rec" % n] = good[:n]
    for i in range(0, len(good), 3):
        b = bytearray(good)
        b[i] ^= 0x40
        files["f%d.rec" % i] = bytes(b)
    names = sorted(files)
    files["cases.json"] = json.dumps(names).encode()
    res = mpvm.run_vm(VM_FUZZ, heap_bytes=256 << 10, allow_growth=True, mpy=True, files=files)
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULTS ")]
    assert line, res.stdout + res.stderr
    got = dict(zip(names, json.loads(line[0][8:])))
    assert got.pop("good.rec") is None
    for name, msg in got.items():
        assert msg and msg.startswith(name + ":"), (name, msg)
