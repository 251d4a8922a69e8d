# Weights files: save a model, load one back (format: docs/weights-format.md).
#
#     from tinyrnn import weights
#     weights.save(model, "model.bin")       # writes model.bin.tmp, then renames
#     model = weights.load("model.bin")      # rebuilds the model from the file alone
#     weights.load_into(model, "model.bin")  # or fills an existing one, shapes checked
#
# The loader streams: it never reads the whole file into RAM. It checks
# everything (magic, version, Q format, architecture, size, CRC32) in a first
# pass and only then touches a model, so a bad file raises ValueError naming
# the problem and leaves the model as it was.
import os
import struct
import sys

from ._cell import ACTS, bad_type
from .model import KINDS, Model, _layer_params, parse

MAGIC = b"TRNN"
VERSION = 1
_CHUNK = 256
_HEAD_FMT = "<4sBBBBHBBI"     # magic, version, frac bits, value bytes, layers, input, head?, 0, n_params
_HEAD_LEN = 16

try:
    from binascii import crc32 as _crc32
except ImportError:          # a port built without binascii.crc32: the same CRC, bit by bit
    def _crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF


class WeightsError(ValueError):
    """A weights file is not what it must be; the message says what is wrong."""


def _args(fn, path, model=False):
    # the public functions' arguments, checked before anything is read or written
    if model is not False and not isinstance(model, Model):
        bad_type(fn + ": model", "a tinyrnn Model", model)
    if type(path) is not str:
        bad_type(fn + ": path", "a str", path)
    try:
        mode = os.stat(path)[0]
    except OSError:
        return                   # not there (yet): save creates it, the loaders say they cannot open it
    if mode & 0x4000:            # S_IFDIR
        raise WeightsError("%s: path %r is a directory, not a weights file" % (fn, path))


def _describe(spec):
    out = []
    for kind, n_in, n_out, act in spec:
        out.append("%s %d->%d%s" % (kind, n_in, n_out, "" if kind in ("elman", "lstm", "gru") else " " + ACTS[act]))
    return ", ".join(out)


def header(model):
    """The header bytes (magic .. architecture) of a model's weights file."""
    spec = parse(model.desc)
    head = spec[-1][0] == "head"
    layers = spec[:-1] if head else spec
    out = [struct.pack(_HEAD_FMT, MAGIC, VERSION, 8, 2, len(layers), model.n_inputs, 1 if head else 0, 0,
                       model.n_params)]
    for kind, _, n_out, act in layers:
        out.append(struct.pack("<BBH", KINDS.index(kind), act, n_out))
    if head:
        out.append(struct.pack("<HBB", spec[-1][2], spec[-1][3], 0))
    return b"".join(out)


def save(model, path):
    """Write the model's Q8.8 weights to `path` (via `path`.tmp and a rename). Returns the CRC32."""
    _args("save", path, model)
    if sys.byteorder != "little":
        raise OSError("weights files are little-endian; this port is big-endian")
    tmp = path + ".tmp"
    h = header(model)
    crc = _crc32(h)
    pv = memoryview(model.params)
    n = model.n_params
    with open(tmp, "wb") as f:
        f.write(h)
        i = 0
        while i < n:
            j = min(n, i + _CHUNK)
            block = pv[i:j]
            f.write(block)
            crc = _crc32(block, crc)
            i = j
        f.write(struct.pack("<I", crc & 0xFFFFFFFF))
    _replace(tmp, path)
    return crc & 0xFFFFFFFF


def _replace(tmp, path):
    try:
        os.rename(tmp, path)
    except OSError:              # a filesystem whose rename will not replace (FAT): remove, then rename
        try:
            os.remove(path)
        except OSError:
            pass
        os.rename(tmp, path)


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        raise WeightsError("weights: cannot open %r" % path)


def _read4(f):
    raw = f.read(4)
    if len(raw) < 4:
        raise WeightsError("weights: file truncated inside the architecture")
    return raw


def read_desc(path):
    """Validate the whole file (header, size, CRC); return (description, CRC32)."""
    size = _size(path)
    with open(path, "rb") as f:
        raw = f.read(_HEAD_LEN)
        if len(raw) < _HEAD_LEN:
            raise WeightsError("weights: file truncated: %d bytes, a header alone is %d" % (len(raw), _HEAD_LEN))
        magic, version, frac, vbytes, n_layers, n_in, has_head, _, n_params = struct.unpack(_HEAD_FMT, raw)
        if magic != MAGIC:
            raise WeightsError("weights: bad magic %r: not a tinyrnn weights file" % magic)
        if version != VERSION:
            raise WeightsError("weights: format version %d not supported (this library reads %d)" % (version, VERSION))
        if frac != 8 or vbytes != 2:
            raise WeightsError("weights: Q format with %d fraction bits in %d bytes; this library is Q8.8 int16"
                               % (frac, vbytes))
        crc = _crc32(raw)
        layers = []
        for l in range(n_layers):
            raw = _read4(f)
            crc = _crc32(raw, crc)
            kind, act, n_out = struct.unpack("<BBH", raw)
            if kind >= len(KINDS):
                raise WeightsError("weights: layer %d has unknown kind code %d" % (l, kind))
            if kind == 3:
                if act >= len(ACTS):
                    raise WeightsError("weights: layer %d has unknown activation code %d" % (l, act))
                layers.append({"kind": "dense", "out": n_out, "act": ACTS[act]})
            else:
                layers.append({"kind": KINDS[kind], "hidden": n_out})
        head = None
        if has_head:
            raw = _read4(f)
            crc = _crc32(raw, crc)
            n_out, act, _ = struct.unpack("<HBB", raw)
            if act >= len(ACTS):
                raise WeightsError("weights: head has unknown activation code %d" % act)
            head = {"out": n_out, "act": ACTS[act]}
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
        expect = _HEAD_LEN + 4 * n_layers + (4 if has_head else 0) + 2 * n_params + 4
        if size != expect:
            raise WeightsError("weights: file is %d bytes, expected %d (%s)"
                               % (size, expect, "truncated" if size < expect else "extra bytes at the end"))
        buf = bytearray(_CHUNK)
        whole = memoryview(buf)
        left = 2 * n_params
        while left:
            k = min(left, _CHUNK)
            mv = whole if k == _CHUNK else whole[:k]
            if f.readinto(mv) != k:
                raise WeightsError("weights: file truncated while reading parameters")
            crc = _crc32(mv, crc)
            left -= k
        stored = struct.unpack("<I", f.read(4))[0]
        crc &= 0xFFFFFFFF
        if stored != crc:
            raise WeightsError("weights: CRC mismatch: file says 0x%08x, contents give 0x%08x (corrupted)"
                               % (stored, crc))
    return desc, crc


def file_crc(path):
    """The CRC32 of a valid weights file (raises WeightsError for an invalid one)."""
    _args("file_crc", path)
    return read_desc(path)[1]


def load(path):
    """A new Model built from the weights file alone."""
    _args("load", path)
    desc, _ = read_desc(path)
    model = Model(desc, seed=None)
    _read_params(model, path)
    return model


def load_into(model, path):
    """Fill an existing model from a weights file whose architecture matches it exactly."""
    _args("load_into", path, model)
    desc, _ = read_desc(path)
    have = parse(model.desc)
    got = parse(desc)
    if have != got:
        raise WeightsError("weights: shape mismatch: the file holds [%s], the model is [%s]"
                           % (_describe(got), _describe(have)))
    _read_params(model, path)
    return model


def _read_params(model, path):
    # read_desc() has just validated the whole file; read the parameters straight
    # into the model's array
    if sys.byteorder != "little":
        raise OSError("weights files are little-endian; this port is big-endian")
    skip = len(header(model))
    with open(path, "rb") as f:
        f.seek(skip)
        f.readinto(memoryview(model.params))     # straight into the weights: no copy of the file
    model.reset()
