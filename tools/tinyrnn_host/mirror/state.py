"""A model's state as bytes (docs/state.md) for the NumPy mirror: written from
the spec with struct and zlib, independently of lib/tinyrnn/state.py; the two give
the same bytes (host_tests/test_state_bitexact.py, device_tests/test_state.py).

    data = dumps(model, row=0)       # one batch row of a mirror Model
    loads(model, data)               # the model becomes a batch of 1 holding that state
    arch, values = decode(data)      # arch: [(kind, act, size)], values: int64 array
"""
import struct
import zlib

import numpy as np

MAGIC = b"TRNS"
VERSION = 1
HEADER = struct.Struct("<4sBBHHH")       # magic, version, entries, inputs, values, reserved
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


def bounds(arch):
    """(lo, hi, layer, index in layer) arrays: the range of each state value (a cell's h within
    [-1, 1], an LSTM's c anything, a dense output its activation's range) and whose it is."""
    rows = []
    for l, (kind, act, n) in enumerate(arch):
        name = KINDS[kind]
        if name in ("dense", "head"):
            b = [BOUNDS[ACTS[act]]] * n
        else:
            b = [(-256, 256)] * n + ([(-32768, 32767)] * n if name == "lstm" else [])
        rows += [(x, y, l, u) for u, (x, y) in enumerate(b)]
    return tuple(np.array(c, np.int64).reshape(-1) for c in zip(*rows)) if rows else (np.zeros(0, np.int64),) * 4


def describe(n_in, arch):
    """The words the board's errors use: 'input 2, lstm 2, head 2 sigmoid'."""
    return ", ".join(["input %d" % n_in] + ["%s %d%s" % (KINDS[k], n, " " + ACTS[a] if k >= 3 else "")
                                             for k, a, n in arch])


def encode(n_in, arch, values):
    body = HEADER.pack(MAGIC, VERSION, len(arch), n_in, len(values), 0)
    body += b"".join(struct.pack("<BBH", *e) for e in arch)
    body += np.asarray(values, np.int64).astype("<i2").tobytes()
    return body + struct.pack("<I", zlib.crc32(body))


def dumps(model, row=0):
    """The state of batch row `row` of a mirror Model as bytes."""
    n_in, arch = fingerprint(model)
    return encode(n_in, arch, model.state()[row])


def decode(data):
    """((inputs, arch), values) of a state; StateError naming the first problem (the board's order)."""
    data = bytes(data)
    if len(data) < HEADER.size + 4:
        raise StateError("state: truncated: %d bytes, a header and CRC alone are %d" % (len(data), HEADER.size + 4))
    magic, version, n, n_in, s, reserved = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise StateError("state: bad magic %r: not a tinyrnn state" % magic)
    if version != VERSION:
        raise StateError("state: format version %d not supported (this library reads %d)" % (version, VERSION))
    if reserved:
        raise StateError("state: reserved bytes 10-11 are 0x%04x, must be 0" % reserved)
    want = HEADER.size + 4 * n + 2 * s + 4
    if len(data) != want:
        raise StateError("state: %d bytes, its header says %d (%s)"
                         % (len(data), want, "truncated" if len(data) < want else "extra bytes at the end"))
    stored, = struct.unpack_from("<I", data, want - 4)
    got = zlib.crc32(data[:want - 4])
    if stored != got:
        raise StateError("state: CRC mismatch: the state says 0x%08x, its contents give 0x%08x (corrupted)"
                         % (stored, got))
    arch = [struct.unpack_from("<BBH", data, HEADER.size + 4 * i) for i in range(n)]
    values = np.frombuffer(data, "<i2", s, HEADER.size + 4 * n).astype(np.int64)
    return (n_in, arch), values


def loads(model, data):
    """Restore a mirror Model (as a batch of 1) from a state; StateError, the model untouched, if it is
    not a valid state of this model."""
    (n_in, arch), values = decode(data)
    have = fingerprint(model)
    if (n_in, arch) != have:
        raise StateError("state: architecture mismatch: the state is of [%s], the model is [%s]"
                         % (describe(n_in, arch), describe(*have)))
    lo, hi, layer, unit = bounds(arch)
    if len(values) != len(lo):
        raise StateError("state: header says %d values, the architecture has %d" % (len(values), len(lo)))
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        i = bad[0]
        raise StateError("state: layer %d (%s) value %d is %d, outside [%d, %d]: not a state this cell holds"
                         % (layer[i], KINDS[arch[layer[i]][0]], unit[i], values[i], lo[i], hi[i]))
    model.reset(1)
    at = 0
    for l, (kind, _, n_out, _) in enumerate(model.spec):
        model.h[l] = values[None, at:at + n_out].copy()
        at += n_out
        if kind == "lstm":
            model.c[l] = values[None, at:at + n_out].copy()
            at += n_out
    return model
