"""Weights files on the host (format: docs/weights-format.md), written from the
spec with struct and zlib: an implementation independent of lib/tinyrnn/weights.py.

    desc, params = load("model.bin")        # params: {PyTorch name: int64 array (Q8.8)}
    f = read("model.bin")                   # everything: f.desc, f.params, f.norm, f.labels, f.version, f.crc
    save(desc, params, "model.bin", norm=None, labels=None)   # writes version 2
    model = load_mirror("model.bin")        # a NumPy mirror model (model.norm, model.labels)

Version 2 adds the input normalisation (a mirror.norm.Norm) and the class names of a
softmax head; version-1 files still load (norm and labels None).
"""
import os
import struct
import zlib

import numpy as np

from ..mirror.model import Model, layers, param_shapes
from ..mirror.norm import Norm

MAGIC = b"TRNN"
VERSION = 2
VERSIONS = (1, 2)
HAS_NORM, HAS_LABELS = 1, 2
KINDS = ["elman", "lstm", "gru", "dense"]
ACTS = ["identity", "sigmoid", "tanh", "softmax"]
MAX_ROW = 255


class WeightsError(ValueError):
    pass


class WeightsFile:
    """One decoded file."""

    def __init__(self, desc, params, norm, labels, version, crc):
        self.desc, self.params, self.norm, self.labels = desc, params, norm, labels
        self.version, self.crc = version, crc


def _label_bytes(labels, desc):
    head = desc.get("head")
    if head is None or head.get("act", "identity") != "softmax":
        raise WeightsError("weights: labels name the classes of a softmax head; this model has none")
    if len(labels) != head["out"]:
        raise WeightsError("weights: %d labels for a head of %d classes" % (len(labels), head["out"]))
    out = b""
    for i, label in enumerate(labels):
        b = label.encode("ascii", "replace") if isinstance(label, str) else b""
        if not (1 <= len(b) <= 255) or any(c < 0x20 or c > 0x7E for c in b):
            raise WeightsError("weights: label %d (%r) must be 1 to 255 printable ASCII characters" % (i, label))
        out += bytes([len(b)]) + b
    return out


def _norm_bytes(norm, desc):
    if norm.n != desc["input"]:
        raise WeightsError("weights: the normalisation has %d channels, the model takes %d inputs"
                           % (norm.n, desc["input"]))
    return b"".join(struct.pack("<hhBB", int(o), int(m), int(s), 0)
                    for o, m, s in zip(norm.offset, norm.mul, norm.shift))


def header(desc, norm=None, labels=None):
    """Every byte before the parameters: header, architecture, normalisation, labels."""
    spec = layers(desc)
    head = spec[-1][0] == "head"
    body = spec[:-1] if head else spec
    n_params = sum(int(np.prod(s)) for _, s in param_shapes(desc))
    flags = (HAS_NORM if norm is not None else 0) | (HAS_LABELS if labels is not None else 0)
    out = struct.pack("<4sBBBBHBBI", MAGIC, VERSION, 8, 2, len(body), desc["input"], int(head), flags, n_params)
    for kind, _, n_out, act in body:
        out += struct.pack("<BBH", KINDS.index(kind), ACTS.index(act) if kind == "dense" else 0, n_out)
    if head:
        out += struct.pack("<HBB", spec[-1][2], ACTS.index(spec[-1][3]), 0)
    if norm is not None:
        out += _norm_bytes(norm, desc)
    if labels is not None:
        out += _label_bytes(labels, desc)
    return out


def encode(desc, params, norm=None, labels=None):
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
    body = header(desc, norm, labels) + b"".join(blocks)
    return body + struct.pack("<I", zlib.crc32(body))


def _path(fn, path, reading=True):
    """The board's checks of a path argument (lib/tinyrnn/weights.py), before any file is touched;
    a host path may also be an os.PathLike (pathlib.Path)."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError("%s: path must be a str, got %s (a pathlib.Path is fine too)" % (fn, type(path).__name__))
    if os.path.isdir(path):
        raise WeightsError("%s: path %r is a directory, not a weights file" % (fn, str(path)))
    if reading and not os.path.isfile(path):
        raise WeightsError("weights: cannot open %r (no such file)" % str(path))
    return path


def save(desc, params, path, norm=None, labels=None):
    """Write via path.tmp and a rename (an interrupted write never replaces a good file).
    Everything is checked first; a folder that does not exist is an OSError naming the path."""
    _path("save", path, reading=False)
    data = encode(desc, params, norm, labels)
    tmp = str(path) + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OSError("save: cannot write %r (its folder must exist and be writable): %s" % (str(path), e)) from None
    os.replace(tmp, path)
    return zlib.crc32(data[:-4])


def _check_arch(n_in, body, head):
    sizes = [n_in] + [d.get("hidden", d.get("out")) for d in body] + ([head["out"]] if head else [])
    if min(sizes) < 1 or not (body or head):
        raise WeightsError("weights: the architecture in the file is invalid")
    n = n_in
    for l, d in enumerate(body):
        row = n + d["hidden"] if d["kind"] != "dense" else n
        if row > MAX_ROW:
            raise WeightsError("weights: the architecture in the file is invalid: layer %d has rows of %d terms"
                               % (l, row))
        n = d.get("hidden", d.get("out"))
    if head is not None and n > MAX_ROW:
        raise WeightsError("weights: the architecture in the file is invalid: head rows of %d inputs" % n)


def decode_file(data):
    """A WeightsFile from file bytes; WeightsError naming the problem."""
    if len(data) < 16:
        raise WeightsError("weights: file truncated: %d bytes, a header alone is 16" % len(data))
    magic, version, frac, vbytes, n_layers, n_in, has_head, flags, n_params = \
        struct.unpack("<4sBBBBHBBI", data[:16])
    if magic != MAGIC:
        raise WeightsError("weights: bad magic %r: not a tinyrnn weights file" % magic)
    if version not in VERSIONS:
        raise WeightsError("weights: format version %d not supported (this library reads 1 and 2)" % version)
    if (frac, vbytes) != (8, 2):
        raise WeightsError("weights: Q format with %d fraction bits in %d bytes; this library is Q8.8 int16"
                           % (frac, vbytes))
    if has_head > 1:
        raise WeightsError("weights: head flag is %d, must be 0 or 1" % has_head)
    known = HAS_NORM | HAS_LABELS if version == 2 else 0
    if flags & ~known:
        raise WeightsError("weights: reserved bits set in the flags byte (0x%02x) of a version %d file"
                           % (flags, version))

    at = 16

    def take(n, what):
        nonlocal at
        if len(data) < at + n:
            raise WeightsError("weights: file truncated inside the %s" % what)
        at += n
        return data[at - n:at]

    body = []
    for l in range(n_layers):
        kind, act, n_out = struct.unpack("<BBH", take(4, "architecture"))
        if kind >= len(KINDS):
            raise WeightsError("weights: layer %d has unknown kind code %d" % (l, kind))
        if KINDS[kind] == "dense":
            if act >= len(ACTS):
                raise WeightsError("weights: layer %d has unknown activation code %d" % (l, act))
            body.append({"kind": "dense", "out": n_out, "act": ACTS[act]})
        else:
            if act:
                raise WeightsError("weights: layer %d (%s) has activation byte %d, must be 0" % (l, KINDS[kind], act))
            body.append({"kind": KINDS[kind], "hidden": n_out})
    head = None
    if has_head:
        n_out, act, pad = struct.unpack("<HBB", take(4, "architecture"))
        if act >= len(ACTS):
            raise WeightsError("weights: head has unknown activation code %d" % act)
        if pad:
            raise WeightsError("weights: head's reserved byte is %d, must be 0" % pad)
        head = {"out": n_out, "act": ACTS[act]}
    desc = {"input": n_in, "layers": body, "head": head}
    _check_arch(n_in, body, head)
    shapes = param_shapes(desc)
    want = sum(int(np.prod(s)) for _, s in shapes)
    if want != n_params:
        raise WeightsError("weights: header says %d parameters, the architecture has %d" % (n_params, want))
    norm = labels = None
    if flags & HAS_NORM:
        rows = [struct.unpack("<hhBB", take(6, "normalisation")) for _ in range(n_in)]
        for c, (o, m, s, pad) in enumerate(rows):
            if not (0 <= m <= 16383) or s > 16 or pad:
                raise WeightsError("weights: normalisation of channel %d is out of spec (mul %d, shift %d, "
                                   "reserved %d)" % (c, m, s, pad))
        norm = Norm([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    if flags & HAS_LABELS:
        if head is None or head["act"] != "softmax":
            raise WeightsError("weights: the file has labels but no softmax head")
        labels = []
        for i in range(head["out"]):
            k = take(1, "labels")[0]
            text = take(k, "labels")
            if not (1 <= k <= 255) or any(c < 0x20 or c > 0x7E for c in text):
                raise WeightsError("weights: label %d is not 1 to 255 printable ASCII characters" % i)
            labels.append(text.decode("ascii"))
        labels = tuple(labels)
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
    return WeightsFile(desc, params, norm, labels, version, crc)


def decode(data):
    """(desc, params, crc) from file bytes; WeightsError naming the problem."""
    f = decode_file(data)
    return f.desc, f.params, f.crc


def read(path, fn="read"):
    """The whole file: a WeightsFile (desc, params, norm, labels, version, crc)."""
    with open(_path(fn, path), "rb") as f:
        return decode_file(f.read())


def load(path):
    """(desc, params) of a weights file."""
    f = read(path, "load")
    return f.desc, f.params


def file_crc(path):
    return read(path, "file_crc").crc


def load_mirror(path, batch=1):
    """A mirror Model of the file, with its norm and labels."""
    f = read(path, "load_mirror")
    model = Model(f.desc, params=f.params, batch=batch)
    model.norm, model.labels = f.norm, f.labels
    return model
