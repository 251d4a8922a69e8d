"""A model's state as bytes (docs/state.md) for the NumPy mirror: written from
the spec with struct and zlib, independently of lib/tinyrnn/state.py; the two give
the same bytes and refuse the same states in the same words
(host_tests/test_state_bitexact.py, host_tests/test_state_refused.py).

    data = dumps(model, row=0)               # one batch row of a mirror Model
    data = dumps(model, 0, window)           # with a stream's window (mirror.stream.Window)
    window = loads(model, data)              # the model becomes a batch of 1 holding that state;
                                             # the window (None for a model's state alone)
    (n_in, arch), values, window = decode(data)
"""
import struct
import zlib

import numpy as np

from .stream import Window

MAGIC = b"TRNS"
VERSION = 1
HEADER = struct.Struct("<4sBBHHH")       # magic, version, entries, inputs, values, window steps
KINDS = ["elman", "lstm", "gru", "dense", "head"]
ACTS = ["identity", "sigmoid", "tanh", "softmax"]
BOUNDS = {"identity": (-32768, 32767), "sigmoid": (0, 256), "softmax": (0, 256), "tanh": (-256, 256)}


class StateError(ValueError):
    pass


def fingerprint(model):
    """(inputs, [(kind code, act code, size)]) of a mirror Model, as the header holds them."""
    arch = [(KINDS.index(kind), ACTS.index(act) if kind in ("dense", "head") else 0, n_out)
            for kind, _, n_out, act in model.spec]
    return model.desc["input"], arch


def _entry_bounds(kind, act, n):
    name = KINDS[kind]
    if name in ("dense", "head"):
        return [BOUNDS[ACTS[act]]] * n
    return [(-256, 256)] * n + ([(-32768, 32767)] * n if name == "lstm" else [])


def bounds(arch):
    """(lo, hi, layer, index in layer) arrays: the range of each state value (a cell's h within
    [-1, 1], an LSTM's c anything, a dense output its activation's range) and whose it is."""
    rows = [(x, y, l, u) for l, e in enumerate(arch) for u, (x, y) in enumerate(_entry_bounds(*e))]
    return tuple(np.array(c, np.int64).reshape(-1) for c in zip(*rows)) if rows else (np.zeros(0, np.int64),) * 4


def describe(n_in, arch):
    """The words the board's errors use: 'input 2, lstm 2, head 2 sigmoid'."""
    return ", ".join(["input %d" % n_in] + ["%s %d%s" % (KINDS[k], n, " " + ACTS[a] if k >= 3 else "")
                                             for k, a, n in arch])


def encode(n_in, arch, values, window=None):
    w = window.size if window is not None else 0
    body = HEADER.pack(MAGIC, VERSION, len(arch), n_in, len(values), w)
    body += b"".join(struct.pack("<BBH", *e) for e in arch)
    body += np.asarray(values, np.int64).astype("<i2").tobytes()
    if window is not None:
        body += struct.pack("<HH", window.count, window.next) + np.asarray(window.ring, np.int64).astype("<i2").tobytes()
    return body + struct.pack("<I", zlib.crc32(body))


def dumps(model, row=0, window=None):
    """The state of batch row `row` of a mirror Model (and a stream's window) as bytes."""
    n_in, arch = fingerprint(model)
    return encode(n_in, arch, model.state()[row], window)


def decode(data):
    """((inputs, arch), values, window or None) of a state; StateError naming the first problem of
    its bytes on their own (the board's order)."""
    data = bytes(data)
    if len(data) < HEADER.size + 4:
        raise StateError("state: truncated: %d bytes, a header and CRC alone are %d" % (len(data), HEADER.size + 4))
    magic, version, n, n_in, s, w = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise StateError("state: bad magic %r: not a tinyrnn state" % magic)
    if version != VERSION:
        raise StateError("state: format version %d not supported (this library reads %d)" % (version, VERSION))
    end = HEADER.size + 4 * n
    o = struct.unpack_from("<H", data, end - 2)[0] if w and n and len(data) >= end else 0
    want = end + 2 * s + 4 + (4 + 2 * w * o if w else 0)
    if len(data) != want:
        raise StateError("state: %d bytes, its header says %d (%s)"
                         % (len(data), want, "truncated" if len(data) < want else "extra bytes at the end"))
    stored, = struct.unpack_from("<I", data, want - 4)
    got = zlib.crc32(data[:want - 4])
    if stored != got:
        raise StateError("state: CRC mismatch: the state says 0x%08x, its contents give 0x%08x (corrupted)"
                         % (stored, got))
    arch = [struct.unpack_from("<BBH", data, HEADER.size + 4 * i) for i in range(n)]
    values = np.frombuffer(data, "<i2", s, end).astype(np.int64)
    window = None
    if w:
        count, nxt = struct.unpack_from("<HH", data, end + 2 * s)
        ring = np.frombuffer(data, "<i2", w * o, end + 2 * s + 4).astype(np.int64).reshape(w, o)
        window = Window(w, count, nxt, ring)
    return (n_in, arch), values, window


def _check_window(window, arch):
    w, count, nxt, ring = window
    if count > w or nxt >= w or (count < w and nxt != count):
        raise StateError("state: window counters (count %d, next row %d) do not fit a window of %d steps"
                         % (count, nxt, w))
    kind, act, o = arch[-1]
    b = _entry_bounds(kind, act, o)[:o]          # the outputs: an LSTM's h, not its c
    lo = np.array([x for x, _ in b])
    hi = np.array([y for _, y in b])
    for row in range(w):
        for u in range(o):
            v = ring[row, u]
            if row >= count and v:
                raise StateError("state: window row %d is not filled yet but holds %d" % (row, v))
            if not lo[u] <= v <= hi[u]:
                raise StateError("state: window row %d output %d is %d, outside [%d, %d]: not an output of this model"
                                 % (row, u, v, lo[u], hi[u]))


def _what(w):
    return "a stream window of %d steps" % w if w else "no window"


def loads(model, data, window_size=0):
    """Restore a mirror Model (as a batch of 1) from a state, for a stream of window_size steps
    (0: a model's state alone); returns the window (None for 0). StateError, the model untouched,
    if it is not a valid state of this model (and window)."""
    (n_in, arch), values, window = decode(data)
    have = fingerprint(model)
    if (n_in, arch) != have:
        raise StateError("state: architecture mismatch: the state is of [%s], the model is [%s]"
                         % (describe(n_in, arch), describe(*have)))
    w = window.size if window is not None else 0
    if w != window_size:
        raise StateError("state: window mismatch: the state holds %s, this %s has %s"
                         % (_what(w), "Stream" if window_size else "Model", _what(window_size)))
    lo, hi, layer, unit = bounds(arch)
    if len(values) != len(lo):
        raise StateError("state: header says %d values, the architecture has %d" % (len(values), len(lo)))
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        i = bad[0]
        raise StateError("state: layer %d (%s) value %d is %d, outside [%d, %d]: not a state this cell holds"
                         % (layer[i], KINDS[arch[layer[i]][0]], unit[i], values[i], lo[i], hi[i]))
    if window is not None:
        _check_window(window, arch)
    model.reset(1)
    at = 0
    for l, (kind, _, n_out, _) in enumerate(model.spec):
        model.h[l] = values[None, at:at + n_out].copy()
        at += n_out
        if kind == "lstm":
            model.c[l] = values[None, at:at + n_out].copy()
            at += n_out
    return window
