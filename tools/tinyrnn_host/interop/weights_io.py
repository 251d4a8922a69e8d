"""Weights files on the host (format: docs/weights-format.md), written from the
spec with struct and zlib: an implementation independent of lib/tinyrnn/weights.py.

    desc, params = load("model.bin")        # params: {PyTorch name: int64 array (Q8.8)}
    save(desc, params, "model.bin")
    model = load_mirror("model.bin")        # a NumPy mirror model
"""
import os
import struct
import zlib

import numpy as np

from ..mirror.model import Model, layers, param_shapes

MAGIC = b"TRNN"
VERSION = 1
KINDS = ["elman", "lstm", "gru", "dense"]
ACTS = ["identity", "sigmoid", "tanh", "softmax"]


class WeightsError(ValueError):
    pass


def header(desc):
    spec = layers(desc)
    head = spec[-1][0] == "head"
    body = spec[:-1] if head else spec
    n_params = sum(int(np.prod(s)) for _, s in param_shapes(desc))
    out = struct.pack("<4sBBBBHBBI", MAGIC, VERSION, 8, 2, len(body), desc["input"], int(head), 0, n_params)
    for kind, _, n_out, act in body:
        out += struct.pack("<BBH", KINDS.index(kind), ACTS.index(act) if kind == "dense" else 0, n_out)
    if head:
        out += struct.pack("<HBB", spec[-1][2], ACTS.index(spec[-1][3]), 0)
    return out


def encode(desc, params):
    """The whole file as bytes. params: Q8.8 ints by PyTorch name (checked: shape, range)."""
    blocks = []
    for name, shape in param_shapes(desc):
        if name not in params:
            raise WeightsError("weights: missing tensor %s" % name)
        v = np.asarray(params[name])
        if v.shape != tuple(shape):
            raise WeightsError("weights: %s has shape %s, the architecture needs %s" % (name, v.shape, tuple(shape)))
        if v.min(initial=0) < -32768 or v.max(initial=0) > 32767:
            raise WeightsError("weights: %s holds values outside Q8.8 int16" % name)
        blocks.append(v.astype("<i2").tobytes())
    body = header(desc) + b"".join(blocks)
    return body + struct.pack("<I", zlib.crc32(body))


def save(desc, params, path):
    """Write via path.tmp and a rename (an interrupted write never replaces a good file)."""
    data = encode(desc, params)
    tmp = str(path) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return zlib.crc32(data[:-4])


def decode(data):
    """(desc, params, crc) from file bytes; WeightsError naming the problem."""
    if len(data) < 16:
        raise WeightsError("weights: file truncated: %d bytes, a header alone is 16" % len(data))
    magic, version, frac, vbytes, n_layers, n_in, has_head, _, n_params = struct.unpack("<4sBBBBHBBI", data[:16])
    if magic != MAGIC:
        raise WeightsError("weights: bad magic %r: not a tinyrnn weights file" % magic)
    if version != VERSION:
        raise WeightsError("weights: format version %d not supported (this library reads %d)" % (version, VERSION))
    if (frac, vbytes) != (8, 2):
        raise WeightsError("weights: Q format with %d fraction bits in %d bytes; this library is Q8.8 int16"
                           % (frac, vbytes))
    at = 16
    body = []
    for l in range(n_layers):
        if len(data) < at + 4:
            raise WeightsError("weights: file truncated inside the architecture")
        kind, act, n_out = struct.unpack("<BBH", data[at:at + 4])
        at += 4
        if kind >= len(KINDS):
            raise WeightsError("weights: layer %d has unknown kind code %d" % (l, kind))
        if KINDS[kind] == "dense":
            if act >= len(ACTS):
                raise WeightsError("weights: layer %d has unknown activation code %d" % (l, act))
            body.append({"kind": "dense", "out": n_out, "act": ACTS[act]})
        else:
            body.append({"kind": KINDS[kind], "hidden": n_out})
    head = None
    if has_head:
        if len(data) < at + 4:
            raise WeightsError("weights: file truncated inside the architecture")
        n_out, act, _ = struct.unpack("<HBB", data[at:at + 4])
        at += 4
        if act >= len(ACTS):
            raise WeightsError("weights: head has unknown activation code %d" % act)
        head = {"out": n_out, "act": ACTS[act]}
    desc = {"input": n_in, "layers": body, "head": head}
    if n_in < 1 or not (body or head) or any(d.get("hidden", d.get("out", 1)) < 1 for d in body) or \
            (head is not None and head["out"] < 1):
        raise WeightsError("weights: the architecture in the file is invalid")
    shapes = param_shapes(desc)
    want = sum(int(np.prod(s)) for _, s in shapes)
    if want != n_params:
        raise WeightsError("weights: header says %d parameters, the architecture has %d" % (n_params, want))
    expect = at + 2 * n_params + 4
    if len(data) != expect:
        raise WeightsError("weights: file is %d bytes, expected %d (%s)"
                           % (len(data), expect, "truncated" if len(data) < expect else "extra bytes at the end"))
    stored = struct.unpack("<I", data[-4:])[0]
    crc = zlib.crc32(data[:-4])
    if stored != crc:
        raise WeightsError("weights: CRC mismatch: file says 0x%08x, contents give 0x%08x (corrupted)" % (stored, crc))
    flat = np.frombuffer(data[at:at + 2 * n_params], dtype="<i2").astype(np.int64)
    params, i = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        params[name] = flat[i:i + n].reshape(shape)
        i += n
    return desc, params, crc


def load(path):
    desc, params, _ = decode(open(path, "rb").read())
    return desc, params


def file_crc(path):
    return decode(open(path, "rb").read())[2]


def load_mirror(path, batch=1):
    desc, params = load(path)
    return Model(desc, params=params, batch=batch)
