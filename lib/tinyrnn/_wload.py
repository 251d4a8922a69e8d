# The weights files' reader: weights.load, load_into, read_desc, file_crc and recover, loaded for
# the call and dropped after it (tinyrnn._once). What it checks, in which order: weights.py.
import gc
import os
import struct
import sys

from ._cell import ACTS
from .model import Model
from .weights import (HAS_LABELS, HAS_NORM, KINDS, MAGIC, VERSIONS, WeightsError, _CHUNK, _HEAD_FMT, _HEAD_LEN,
                      _crc32, _label_ok, _layer_params, _replace, parse)


def _describe(spec):
    out = []
    for kind, n_in, n_out, act in spec:
        out.append("%s %d->%d%s" % (kind, n_in, n_out, "" if kind in ("elman", "lstm", "gru") else " " + ACTS[act]))
    return ", ".join(out)


# ---- interrupted replaces -------------------------------------------------------

def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _valid(path):
    try:
        _check_path(path)
        return True
    except (OSError, ValueError):
        return False


def recover(path):
    # weights.recover: a replace of `path` cut short, finished from a complete, CRC-valid
    # `path`.tmp where `path` is missing or invalid; True if it replaced `path`
    tmp = path + ".tmp"
    if not _exists(tmp) or _valid(path) or not _valid(tmp):
        return False
    _replace(tmp, path)
    return True


# ---- reading --------------------------------------------------------------------

class _Info:
    """What the first pass found: description, norm, labels, where the parameters start,
    the CRC of the bytes before them, and the file's CRC."""

    def __init__(self, desc, version, norm, labels, at, crc_head, crc):
        self.desc = desc
        self.version = version
        self.norm = norm
        self.labels = labels
        self.at = at
        self.crc_head = crc_head
        self.crc = crc


def _read(f, n, what):
    raw = f.read(n)
    if len(raw) < n:
        raise WeightsError("weights: file truncated inside the %s" % what)
    return raw


def _scan(f, size):
    """First pass over an open file: validate everything; an _Info."""
    raw = f.read(_HEAD_LEN)
    if len(raw) < _HEAD_LEN:
        raise WeightsError("weights: file truncated: %d bytes, a header alone is %d" % (len(raw), _HEAD_LEN))
    magic, version, frac, vbytes, n_layers, n_in, has_head, flags, n_params = struct.unpack(_HEAD_FMT, raw)
    if magic != MAGIC:
        raise WeightsError("weights: bad magic %r: not a tinyrnn weights file" % magic)
    if version not in VERSIONS:
        raise WeightsError("weights: format version %d not supported (this library reads 1 and 2)" % version)
    if frac != 8 or vbytes != 2:
        raise WeightsError("weights: Q format with %d fraction bits in %d bytes; this library is Q8.8 int16"
                           % (frac, vbytes))
    if has_head > 1:
        raise WeightsError("weights: head flag is %d, must be 0 or 1" % has_head)
    known = (HAS_NORM | HAS_LABELS) if version == 2 else 0     # version 1: byte 11 is reserved, 0
    if flags & ~known:
        raise WeightsError("weights: reserved bits set in the flags byte (0x%02x) of a version %d file"
                           % (flags, version))
    crc = _crc32(raw)
    at = _HEAD_LEN
    layers = []
    for l in range(n_layers):
        raw = _read(f, 4, "architecture")
        crc = _crc32(raw, crc)
        kind, act, n_out = struct.unpack("<BBH", raw)
        if kind >= len(KINDS):
            raise WeightsError("weights: layer %d has unknown kind code %d" % (l, kind))
        if kind == 3:
            if act >= len(ACTS):
                raise WeightsError("weights: layer %d has unknown activation code %d" % (l, act))
            layers.append({"kind": "dense", "out": n_out, "act": ACTS[act]})
        else:
            if act:
                raise WeightsError("weights: layer %d (%s) has activation byte %d, must be 0" % (l, KINDS[kind], act))
            layers.append({"kind": KINDS[kind], "hidden": n_out})
    at += 4 * n_layers
    head = None
    if has_head:
        raw = _read(f, 4, "architecture")
        crc = _crc32(raw, crc)
        n_out, act, pad = struct.unpack("<HBB", raw)
        if act >= len(ACTS):
            raise WeightsError("weights: head has unknown activation code %d" % act)
        if pad:
            raise WeightsError("weights: head's reserved byte is %d, must be 0" % pad)
        head = {"out": n_out, "act": ACTS[act]}
        at += 4
    desc = {"input": n_in, "layers": layers, "head": head}
    try:
        spec = parse(desc)
    except ValueError as e:
        raise WeightsError("weights: the architecture in the file is invalid: %s" % e)
    want = 0
    for kind, a, b, _ in spec:
        want += _layer_params(kind, a, b)
    if want != n_params:
        raise WeightsError("weights: header says %d parameters, the architecture has %d" % (n_params, want))
    norm = None
    if flags & HAS_NORM:
        norm, crc = _scan_norm(f, n_in, crc)
        at += 6 * n_in
    labels = None
    if flags & HAS_LABELS:
        if head is None or head["act"] != "softmax":
            raise WeightsError("weights: the file has labels but no softmax head")
        labels, n, crc = _scan_labels(f, head["out"], crc)
        at += n
    expect = at + 2 * n_params + 4
    if size != expect:
        raise WeightsError("weights: file is %d bytes, expected %d (%s)"
                           % (size, expect, "truncated" if size < expect else "extra bytes at the end"))
    crc_head = crc
    crc = _crc_params(f, 2 * n_params, crc)
    stored = struct.unpack("<I", _read(f, 4, "CRC"))[0]
    if stored != crc:
        raise WeightsError("weights: CRC mismatch: file says 0x%08x, contents give 0x%08x (corrupted)"
                           % (stored, crc))
    return _Info(desc, version, norm, labels, at, crc_head, crc)


def _scan_norm(f, n, crc):
    offset = []
    mul = []
    shift = []
    for c in range(n):
        raw = _read(f, 6, "normalisation")
        crc = _crc32(raw, crc)
        o, m, s, pad = struct.unpack("<hhBB", raw)
        if m < 0 or m > 16383 or s > 16 or pad:
            raise WeightsError("weights: normalisation of channel %d is out of spec (mul %d, shift %d, reserved %d)"
                               % (c, m, s, pad))
        offset.append(o)
        mul.append(m)
        shift.append(s)
    from .norm import Norm          # only a file with a normalisation loads the module
    return Norm(offset, mul, shift), crc


def _scan_labels(f, n, crc):
    labels = []
    total = 0
    for i in range(n):
        raw = _read(f, 1, "labels")
        k = raw[0]
        text = _read(f, k, "labels") if k else b""
        if not _label_ok(text):
            raise WeightsError("weights: label %d is not 1 to 255 printable ASCII characters" % i)
        crc = _crc32(text, _crc32(raw, crc))
        labels.append(text.decode())
        total += 1 + k
    return tuple(labels), total, crc


def _crc_params(f, left, crc):
    buf = bytearray(_CHUNK)
    whole = memoryview(buf)
    while left:
        k = min(left, _CHUNK)
        mv = whole if k == _CHUNK else whole[:k]
        if f.readinto(mv) != k:
            raise WeightsError("weights: file truncated while reading parameters")
        crc = _crc32(mv, crc)
        left -= k
    return crc & 0xFFFFFFFF


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        raise WeightsError("weights: cannot open %r" % path)


def _check_path(path):
    with open(path, "rb") as f:
        return _scan(f, _size(path))


def _open(path):
    """The file, opened and validated (first pass): (file, _Info). A missing or invalid
    file is first recovered from a CRC-valid path.tmp (an interrupted replace)."""
    try:
        size = _size(path)
        f = open(path, "rb")
    except WeightsError:
        if not recover(path):
            raise
        size = _size(path)
        f = open(path, "rb")
    try:
        return f, _scan(f, size)
    except WeightsError:
        f.close()
        if not recover(path):
            raise
    return _open(path)


def read_desc(path):
    # weights.read_desc: the whole file validated (header, size, CRC); (description, CRC32)
    f, info = _open(path)
    f.close()
    return info.desc, info.crc


def load(path):
    # weights.load's body (the argument checked there)
    # a collection first: the description read from the file lasts as long as the model, and
    # built above a previous call's garbage it would split the block the weights need (a model
    # of 163 KB failed to load in a 256 KB heap after weights.file_crc)
    gc.collect()
    f, info = _open(path)
    try:
        model = Model(info.desc, seed=None)
        _fill(model, f, info)
    finally:
        f.close()
    return model


def load_into(model, path):
    # weights.load_into's body (the arguments checked there)
    f, info = _open(path)
    try:
        have = parse(model.desc)
        got = parse(info.desc)
        if have != got:
            raise WeightsError("weights: shape mismatch: the file holds [%s], the model is [%s]"
                               % (_describe(got), _describe(have)))
        _fill(model, f, info)
    finally:
        f.close()
    return model


def _fill(model, f, info):
    # Second pass, same open file: the parameters straight into the model's array (no copy
    # of the file), every read counted and the CRC checked again. If the file changed since
    # the first pass, the parameters read so far are a mix: clear them all and raise.
    if sys.byteorder != "little":
        raise OSError("weights files are little-endian; this port is big-endian")
    pv = memoryview(model.params)
    f.seek(info.at)
    err = None
    got = f.readinto(pv)                  # straight into the weights: no copy of the file
    if got != 2 * len(pv):
        err = "the file got shorter while loading (read %s of %d parameter bytes)" % (got, 2 * len(pv))
    crc = _crc32(pv, info.crc_head)
    if err is None:
        tail = f.read(4)
        crc &= 0xFFFFFFFF
        if len(tail) != 4 or struct.unpack("<I", tail)[0] != crc or crc != info.crc:
            err = "the file changed while loading (CRC 0x%08x, the first pass saw 0x%08x)" % (crc, info.crc)
    if err is not None:
        p = model.params
        for i in range(len(p)):
            p[i] = 0
        model.weights_changed()
        model.reset()
        raise WeightsError("weights: %s; the model's parameters were cleared, not left half loaded" % err)
    model.norm = info.norm
    model.labels = info.labels
    model.weights_changed()
    model.reset()
