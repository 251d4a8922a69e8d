"""Recordings files (.rec) on the host: the training data a board reads from flash with
lib/tinyrnn/recordings.py (format: docs/recordings-format.md).

    encode(xs, ys, kind, labels=None) -> bytes      # xs (N, T, C) int16; ys per kind:
        "class": (N,) class indices;  "steps": (N, T, O) Q8.8;  "last": (N, O) Q8.8
    write(path, xs, ys, kind, labels=None)
    xs, ys, kind, labels = decode(data)             # numpy int64 arrays, for the mirror
    check(data) -> None, or why the board's reader refuses these bytes (decode raises
        RecordingsError, a ValueError, with that message; read() puts the path first)
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
        O = len(labels) if labels is not None else (int(ys.max()) + 1 if ys.size else 0)
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
    if O > 65535 or len(lb) > 65535:
        raise ValueError("%d outputs, %d label bytes: the header holds at most 65535 of each" % (O, len(lb)))
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


class RecordingsError(ValueError):
    """A recordings file the board's reader refuses; the message says what is wrong."""


def check(data):
    """None if lib/tinyrnn/recordings.py opens a file of these bytes, else the message it
    gives after the path: the same checks in the same order (lib/tinyrnn/_rec_open.py), the
    file's size against the header's sizes before anything is read from them."""
    data = memoryview(data).cast("B")
    if len(data) < 16:
        return "truncated: %d bytes, a recordings file starts with a 16-byte header" % len(data)
    magic, version, k, N, T, C, O, L = struct.unpack(HEAD_FMT, data[:16])
    if magic != MAGIC:
        return "not a recordings file (magic %r, expected %r)" % (magic, MAGIC)
    if version != VERSION:
        return "format version %d, this reader reads version %d" % (version, VERSION)
    if k >= len(KINDS):
        return "target kind %d is not 0 (class), 1 (steps) or 2 (last)" % k
    for name, v in (("recordings", N), ("steps", T), ("channels", C), ("outputs", O)):
        if v == 0:
            return "%s is 0" % name
    if k == 0 and O < 2:
        return "%d classes: a class target needs at least 2" % O
    if k != 0 and L:
        return "%d label bytes, but only class targets have labels" % L
    tw = 1 if k == 0 else (T * O if k == 1 else O)
    rec = 2 * (T * C + tw)
    want = 16 + L + N * rec + 4
    if len(data) != want:
        return "%s: %d bytes, the header declares %d (%d label bytes, %d recordings of %d bytes, a CRC32)" % (
            "truncated file" if len(data) < want else "trailing bytes", len(data), want, L, N, rec)
    lb, at, n = data[16:16 + L], 0, 0
    while at < L:
        size = lb[at]
        name = lb[at + 1:at + 1 + size]
        if size == 0 or len(name) < size or any(c < 32 or c > 126 for c in name):
            return "label %d is not 1..255 printable ASCII bytes" % n
        at += 1 + size
        n += 1
    if L and n != O:
        return "%d labels for %d classes" % (n, O)
    if k == 0:
        cls = np.frombuffer(data[16 + L:-4], "<u2").reshape(N, rec // 2)[:, -1]
        bad = np.flatnonzero(cls >= O)
        if bad.size:
            return "recording %d has class %d, the file has %d classes" % (bad[0], cls[bad[0]], O)
    stored, crc = struct.unpack("<I", data[-4:])[0], zlib.crc32(data[:-4])
    if stored != crc:
        return "CRC mismatch: stored 0x%08x, computed 0x%08x" % (stored, crc)
    return None


def decode(data):
    """(xs, ys, kind, labels) of a recordings file's bytes; RecordingsError (a ValueError)
    naming what is wrong for exactly the files the board's reader refuses."""
    why = check(data)
    if why:
        raise RecordingsError(why)
    data = memoryview(data).cast("B")
    _, _, k, N, T, C, O, L = struct.unpack(HEAD_FMT, data[:16])
    kind = KINDS[k]
    tw = 1 if kind == "class" else (T * O if kind == "steps" else O)
    labels, at = [], 16
    while at < 16 + L:
        n = data[at]
        labels.append(bytes(data[at + 1:at + 1 + n]).decode("ascii"))
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
        data = f.read()
    try:
        return decode(data)
    except RecordingsError as e:
        raise RecordingsError("%s: %s" % (path, e)) from None
