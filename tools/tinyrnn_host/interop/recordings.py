"""Recordings files (.rec) on the host: the training data a board reads from flash with
lib/tinyrnn/recordings.py (format: docs/recordings-format.md).

    encode(xs, ys, kind, labels=None) -> bytes      # xs (N, T, C) int16; ys per kind:
        "class": (N,) class indices;  "steps": (N, T, O) Q8.8;  "last": (N, O) Q8.8
    write(path, xs, ys, kind, labels=None)
    xs, ys, kind, labels = decode(data)             # numpy int64 arrays, for the mirror
"""
import struct
import zlib

import numpy as np

MAGIC = b"TREC"
VERSION = 1
KINDS = ("class", "steps", "last")
HEAD_FMT = "<4sBBHHHHH"


def _int16(a, name):
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError("%s: expected ints, got %s" % (name, a.dtype))
    if a.size and (a.min() < -32768 or a.max() > 32767):
        raise ValueError("%s: values outside int16" % name)
    return a


def encode(xs, ys, kind, labels=None):
    if kind not in KINDS:
        raise ValueError("kind must be one of %s, got %r" % (", ".join(KINDS), kind))
    xs = _int16(xs, "xs")
    if xs.ndim != 3 or 0 in xs.shape or max(xs.shape) > 65535:
        raise ValueError("xs: expected (recordings, steps, channels), each 1..65535, got %s" % (xs.shape,))
    N, T, C = xs.shape
    ys = np.asarray(ys)
    if kind == "class":
        if labels is not None:
            O = len(labels)
        elif ys.size:
            O = int(ys.max()) + 1
        if ys.shape != (N,) or not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0 or ys.max() >= O or O < 2:
            raise ValueError("ys: expected %d class indices in 0..%d (at least 2 classes)" % (N, O - 1))
    else:
        ys = _int16(ys, "ys")
        want = (N, T) if kind == "steps" else (N,)
        if ys.ndim != len(want) + 1 or ys.shape[:-1] != want or ys.shape[-1] == 0:
            raise ValueError("ys: expected shape %s + (outputs,) for kind %r, got %s" % (want, kind, ys.shape))
        O = ys.shape[-1]
        if labels is not None:
            raise ValueError("labels: only class targets have labels")
    lb = b""
    for name in labels or ():
        b = name.encode("ascii")
        if not 1 <= len(b) <= 255 or any(c < 32 or c > 126 for c in b):
            raise ValueError("label %r: 1..255 printable ASCII characters" % name)
        lb += bytes([len(b)]) + b
    out = [struct.pack(HEAD_FMT, MAGIC, VERSION, KINDS.index(kind), N, T, C, O, len(lb)), lb]
    for i in range(N):
        out.append(xs[i].astype("<i2").tobytes())
        out.append(struct.pack("<H", int(ys[i])) if kind == "class" else ys[i].astype("<i2").tobytes())
    body = b"".join(out)
    return body + struct.pack("<I", zlib.crc32(body))


def write(path, xs, ys, kind, labels=None):
    data = encode(xs, ys, kind, labels)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def decode(data):
    """(xs, ys, kind, labels) of a recordings file's bytes; ValueError naming what is wrong."""
    if len(data) < 20:
        raise ValueError("truncated: %d bytes" % len(data))
    magic, version, k, N, T, C, O, L = struct.unpack(HEAD_FMT, data[:16])
    if magic != MAGIC:
        raise ValueError("not a recordings file (magic %r)" % magic)
    if version != VERSION or k >= len(KINDS) or 0 in (N, T, C, O):
        raise ValueError("bad header: version %d, kind %d, shape %d x %d x %d, outputs %d" % (version, k, N, T, C, O))
    kind = KINDS[k]
    tw = 1 if kind == "class" else (T * O if kind == "steps" else O)
    size = 16 + L + N * 2 * (T * C + tw) + 4
    if len(data) != size:
        raise ValueError("recordings file is %d bytes, expected %d" % (len(data), size))
    if struct.unpack("<I", data[-4:])[0] != zlib.crc32(data[:-4]):
        raise ValueError("CRC mismatch")
    labels, at = [], 16
    while at < 16 + L:
        n = data[at]
        labels.append(data[at + 1:at + 1 + n].decode("ascii"))
        at += 1 + n
    rec = np.frombuffer(data[16 + L:-4], "<i2").reshape(N, T * C + tw).astype(np.int64)
    xs = rec[:, :T * C].reshape(N, T, C)
    if kind == "class":
        ys = rec[:, T * C] & 0xFFFF
    elif kind == "steps":
        ys = rec[:, T * C:].reshape(N, T, O)
    else:
        ys = rec[:, T * C:]
    return xs, ys, kind, tuple(labels) or None


def read(path):
    with open(path, "rb") as f:
        return decode(f.read())
