"""Recordings files (.seq) for a board: equal-length raw int16 sensor sequences with their classes.

    write("train.seq", raw, y, classes)     # raw (N, T, C) ints in int16, y (N,) class indices
    raw, y, classes = read("train.seq")

Layout (little-endian): magic `TSEQ`; u16 N, T, C, K (recordings, steps, channels, classes);
K class names, each u8 length + ASCII; then N records: u16 class, T x C int16 (time-major).
The board reads it one record at a time (examples/motions_train.py, Recordings).
"""
import struct

import numpy as np

MAGIC = b"TSEQ"


def encode(raw, y, classes):
    raw = np.asarray(raw)
    y = np.asarray(y)
    if raw.ndim != 3 or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError("raw: expected an int array (N, T, C), got %s %s" % (raw.dtype, raw.shape))
    if raw.min() < -32768 or raw.max() > 32767:
        raise ValueError("raw: values outside int16")
    N, T, C = raw.shape
    if y.shape != (N,) or y.min() < 0 or y.max() >= len(classes):
        raise ValueError("y: expected %d class indices in 0..%d" % (N, len(classes) - 1))
    out = [struct.pack("<4sHHHH", MAGIC, N, T, C, len(classes))]
    for name in classes:
        b = name.encode("ascii")
        out.append(bytes([len(b)]) + b)
    for i in range(N):
        out.append(struct.pack("<H", int(y[i])) + raw[i].astype("<i2").tobytes())
    return b"".join(out)


def write(path, raw, y, classes):
    with open(path, "wb") as f:
        f.write(encode(raw, y, classes))


def decode(data):
    magic, N, T, C, K = struct.unpack("<4sHHHH", data[:12])
    if magic != MAGIC:
        raise ValueError("not a .seq file (magic %r)" % magic)
    at, classes = 12, []
    for _ in range(K):
        k = data[at]
        classes.append(data[at + 1:at + 1 + k].decode("ascii"))
        at += 1 + k
    rec = 2 + 2 * T * C
    if len(data) != at + N * rec:
        raise ValueError(".seq file is %d bytes, expected %d" % (len(data), at + N * rec))
    y = np.empty(N, np.int64)
    raw = np.empty((N, T, C), np.int64)
    for i in range(N):
        r = data[at + i * rec:at + (i + 1) * rec]
        y[i] = struct.unpack("<H", r[:2])[0]
        raw[i] = np.frombuffer(r[2:], "<i2").reshape(T, C)
    return raw, y, tuple(classes)


def read(path):
    with open(path, "rb") as f:
        return decode(f.read())
