"""Weights files: board == host byte for byte, round trips, and corrupt files that
never half-load (lib under CPython, lib on the MicroPython VM, and the host tool)."""
import json
import struct
import zlib

import numpy as np
import pytest

from tinyrnn_host.board import mpvm
from tinyrnn_host.interop import weights_io
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn import weights
from tinyrnn.model import Model

DESCS = [
    {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "identity"}},
    {"input": 3, "layers": [{"kind": "lstm", "hidden": 5}, {"kind": "elman", "hidden": 4}], "head": {"out": 2, "act": "softmax"}},
    {"input": 4, "layers": [{"kind": "elman", "hidden": 6}, {"kind": "dense", "out": 3, "act": "tanh"}], "head": None},
    {"input": 2, "layers": [{"kind": "dense", "out": 5, "act": "sigmoid"}], "head": {"out": 1, "act": "sigmoid"}},
    {"input": 8, "layers": [{"kind": "gru", "hidden": 32}, {"kind": "gru", "hidden": 8}], "head": {"out": 1, "act": "identity"}},
]


def saved_bytes(desc, seed, tmp_path):
    m = Model(desc, seed=seed)
    weights.save(m, str(tmp_path / "lib.bin"))
    return m, (tmp_path / "lib.bin").read_bytes()


@pytest.mark.parametrize("i", range(len(DESCS)))
def test_lib_and_host_write_the_same_bytes(i, tmp_path):
    desc = DESCS[i]
    m, data = saved_bytes(desc, 7 + i, tmp_path)
    mirror = MirrorModel(desc, seed=7 + i)
    weights_io.save(desc, mirror.params, tmp_path / "host.bin")
    assert (tmp_path / "host.bin").read_bytes() == data
    assert not (tmp_path / "lib.bin.tmp").exists()
    # the layout is the documented one
    assert data[:4] == b"TRNN" and data[4] == 2 and data[5] == 8 and data[6] == 2
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    assert len(data) == 16 + 4 * data[7] + 4 * data[10] + 2 * m.n_params + 4


@pytest.mark.parametrize("i", range(len(DESCS)))
def test_round_trips(i, tmp_path):
    desc = DESCS[i]
    m, data = saved_bytes(desc, 3, tmp_path)
    back = weights.load(str(tmp_path / "lib.bin"))
    assert back.desc == {**desc, "head": desc["head"]} and list(back.params) == list(m.params)
    other = Model(desc, seed=99)
    weights.load_into(other, str(tmp_path / "lib.bin"))
    assert list(other.params) == list(m.params)
    d2, p2 = weights_io.load(tmp_path / "lib.bin")
    assert d2 == back.desc
    assert np.concatenate([p2[n].ravel() for n in p2]).tolist() == list(m.params)
    assert weights.file_crc(str(tmp_path / "lib.bin")) == weights_io.file_crc(tmp_path / "lib.bin")


def corruptions(good):
    """(label, bytes, words the error must contain) for one valid file."""
    flip = bytearray(good)
    flip[len(good) // 2] ^= 0x10
    head_flip = bytearray(good)
    head_flip[12] ^= 0x01                          # the parameter count
    bad_version = bytearray(good)
    bad_version[4] = 9
    bad_q = bytearray(good)
    bad_q[5] = 16
    bad_kind = bytearray(good)
    bad_kind[16] = 7
    return [
        ("empty", b"", "truncated"),
        ("header only", good[:10], "truncated"),
        ("truncated", good[:-7], "truncated"),
        ("extra bytes", good + b"\0\0", "extra bytes"),
        ("flipped parameter byte", bytes(flip), "CRC mismatch"),
        ("flipped count", bytes(head_flip), "parameters"),
        ("wrong magic", b"XXXX" + good[4:], "bad magic"),
        ("wrong version", bytes(bad_version), "version 9 not supported"),
        ("wrong Q format", bytes(bad_q), "Q format"),
        ("unknown kind", bytes(bad_kind), "unknown kind"),
        ("bad CRC", good[:-4] + bytes(4), "CRC mismatch"),
    ]


def test_corrupt_files_never_half_load_host(tmp_path):
    desc = DESCS[1]
    _, good = saved_bytes(desc, 5, tmp_path)
    for label, data, words in corruptions(good):
        path = tmp_path / "bad.bin"
        path.write_bytes(data)
        m = Model(desc, seed=11)
        before = list(m.params)
        with pytest.raises(ValueError, match=words):
            weights.load_into(m, str(path))
        assert list(m.params) == before, label
        with pytest.raises(ValueError, match=words):
            weights.load(str(path))
        with pytest.raises(ValueError, match=words):
            weights_io.load(path)


def test_every_single_byte_flip_is_caught(tmp_path):
    _, good = saved_bytes(DESCS[0], 5, tmp_path)
    path = tmp_path / "bad.bin"
    for i in range(len(good)):
        data = bytearray(good)
        data[i] ^= 0x04
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError):
            weights.load(str(path))


def test_shape_mismatch_names_both(tmp_path):
    _, good = saved_bytes(DESCS[0], 5, tmp_path)
    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1}}, seed=1)
    before = list(m.params)
    with pytest.raises(ValueError, match=r"shape mismatch: the file holds \[gru 2->3, head 3->1 identity\], "
                                         r"the model is \[gru 2->4, head 4->1 identity\]"):
        weights.load_into(m, str(tmp_path / "lib.bin"))
    assert list(m.params) == before
    with pytest.raises(ValueError, match="cannot open"):
        weights.load(str(tmp_path / "missing.bin"))


VM_SCRIPT = r"""
import json, os
from tinyrnn import weights
from tinyrnn.model import Model
cases = json.load(open('cases.json'))
out = {}
# the board saves the same models the host saves
for i, c in enumerate(cases['save']):
    m = Model(c['desc'], c['seed'])
    weights.save(m, 'board%d.bin' % i)
# corrupt files: every one refused with its message, the model untouched
m = Model(cases['desc'], 11)
before = list(m.params)
for label in cases['bad']:
    try:
        weights.load_into(m, label + '.bin')
        out[label] = 'LOADED'
    except ValueError as e:
        out[label] = str(e)
    if list(m.params) != before:
        out[label] = 'MODEL CHANGED'
weights.load_into(m, 'good.bin')
out['good'] = list(m.params)
print(json.dumps(out))
"""


def test_board_saved_equals_host_saved_and_corrupt_files_on_vm(tmp_path):
    desc = DESCS[1]
    _, good = saved_bytes(desc, 5, tmp_path)
    bad = corruptions(good)
    files = {"good.bin": good}
    files.update({label.replace(" ", "_") + ".bin": data for label, data, _ in bad})
    save_cases = [{"desc": d, "seed": 20 + i} for i, d in enumerate(DESCS)]
    cases = {"save": save_cases, "desc": desc, "bad": [label.replace(" ", "_") for label, _, _ in bad]}
    files["cases.json"] = json.dumps(cases).encode()
    res = mpvm.run_vm(VM_SCRIPT, heap_bytes=262144, mpy=True, files=files,
                      collect=["board%d.bin" % i for i in range(len(DESCS))])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for label, _, words in bad:
        assert words in out[label.replace(" ", "_")], (label, out[label.replace(" ", "_")])
    assert out["good"] == np.concatenate([v.ravel() for v in weights_io.load(tmp_path / "lib.bin")[1].values()]).tolist()
    for i, c in enumerate(save_cases):
        host = weights_io.encode(c["desc"], MirrorModel(c["desc"], seed=c["seed"]).params)
        assert res.files["board%d.bin" % i] == host, "board-saved file %d differs from the host's" % i


def test_loading_streams_on_the_board(tmp_path):
    # loading a 10 KB weights file allocates well under its size (the VM frees
    # nothing during a call, so gc.mem_alloc() counts every byte load_into took; the reader's
    # code, _wload.py, is loaded before: loaded, it stays, and the count is the data's)
    desc = DESCS[4]
    m, data = saved_bytes(desc, 2, tmp_path)
    assert len(data) > 10000
    script = ("from tinyrnn import weights, _wload\nfrom tinyrnn.model import Model\nimport gc\n"
              "m = Model(%r, None)\ngc.collect()\n" % desc,
              "a = gc.mem_alloc()\nweights.load_into(m, 'w.bin')\n"
              "print(gc.mem_alloc() - a, sum(m.params))")
    res = mpvm.run_vm(list(script), heap_bytes=65536, mpy=True, files={"w.bin": data})
    used, total = map(int, res.stdout.split()[-2:])
    assert total == sum(m.params)
    # measured: 3232 bytes (a 256-byte chunk buffer, a file object, the header fields)
    assert used < len(data) // 2, "load_into allocated %d bytes for a %d-byte file" % (used, len(data))
