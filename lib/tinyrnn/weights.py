# Weights files: save a model, load one back (format: docs/weights-format.md).
#
#     from tinyrnn import weights
#     weights.save(model, "model.bin")       # writes model.bin.tmp, then renames
#     model = weights.load("model.bin")      # rebuilds the model from the file alone
#     weights.load_into(model, "model.bin")  # or fills an existing one, shapes checked
#
# A version-2 file also carries the input normalisation (model.norm, a norm.Norm)
# and the class names of a softmax head (model.labels); version-1 files still load.
# The loader streams: it never reads the whole file into RAM. It checks
# everything (magic, version, flags and reserved bytes, Q format, architecture,
# normalisation, labels, size, CRC32) in a first pass and only then touches a
# model, so a bad file raises ValueError naming the problem and leaves the model
# as it was. The second pass reads the parameters with the same open file, checks
# every read and the CRC again: a file that changed in between raises, and the
# model's parameters are cleared rather than left half old, half new.
# A replace that a power cut interrupted (on FAT, where rename will not replace,
# the old file is removed first) is completed from a CRC-valid NAME.tmp by the
# next load or save (recover()).
import gc
import os
import struct
import sys

import tinyrnn
from ._cell import ACTS, SOFTMAX, bad_type
from .model import Model

KINDS = ("elman", "lstm", "gru", "dense")      # (model.KINDS: their index is the file's layer kind)


def parse(desc):
    # model.parse, from _desc.py loaded for the call (holding it would keep all of _desc in the heap)
    return tinyrnn._once("_desc", "parse", desc)


def _layer_params(kind, n_in, n_out):
    return tinyrnn._once("_desc", "_layer_params", kind, n_in, n_out)

MAGIC = b"TRNN"
VERSION = 2                  # what save() writes
VERSIONS = (1, 2)            # what the loader reads
HAS_NORM = 1                 # flags (byte 11, version 2): a normalisation section follows the architecture
HAS_LABELS = 2               # ... a labels section follows it
_CHUNK = 256
_HEAD_FMT = "<4sBBBBHBBI"     # magic, version, frac bits, value bytes, layers, input, head?, flags, n_params
_HEAD_LEN = 16

try:
    from binascii import crc32 as _crc32
except ImportError:          # a port built without binascii.crc32: the same CRC, bit by bit
    def _crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in bytes(data):           # the bytes of any buffer (an 'h' view too)
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


# ---- writing ------------------------------------------------------------------

def _extras(model, spec):
    """(flags, normalisation bytes, labels bytes) of a model; WeightsError if they do not fit it."""
    flags = 0
    nb = b""
    lb = b""
    norm = model.norm
    if norm is not None:
        n = model.n_inputs
        if len(norm.offset) != n or len(norm.mul) != n or len(norm.shift) != n:
            raise WeightsError("weights: model.norm has %d channels, the model takes %d inputs"
                               % (len(norm.offset), n))
        parts = []
        for c in range(n):
            off = norm.offset[c]
            mul = norm.mul[c]
            sh = norm.shift[c]
            if not (-32768 <= off <= 32767 and 0 <= mul <= 16383 and 0 <= sh <= 16):
                raise WeightsError("weights: model.norm channel %d (offset %d, mul %d, shift %d) is out of spec"
                                   % (c, off, mul, sh))
            parts.append(struct.pack("<hhBB", off, mul, sh, 0))
        nb = b"".join(parts)
        flags |= HAS_NORM
    labels = model.labels
    if labels is not None:
        if spec[-1][0] != "head" or spec[-1][3] != SOFTMAX:
            raise WeightsError("weights: model.labels name the classes of a softmax head; this model has none")
        if len(labels) != spec[-1][2]:
            raise WeightsError("weights: %d labels for a head of %d classes" % (len(labels), spec[-1][2]))
        parts = []
        for i in range(len(labels)):
            b = labels[i].encode() if isinstance(labels[i], str) else None
            if b is None or not _label_ok(b):
                raise WeightsError("weights: label %d (%r) must be 1 to 255 printable ASCII characters"
                                   % (i, labels[i]))
            parts.append(bytes((len(b),)) + b)
        lb = b"".join(parts)
        flags |= HAS_LABELS
    return flags, nb, lb


def _label_ok(b):
    if len(b) < 1 or len(b) > 255:
        return False
    for c in b:
        if c < 32 or c > 126:
            return False
    return True


def header(model):
    """The bytes of a model's weights file before its parameters (header, architecture,
    normalisation, labels)."""
    spec = parse(model.desc)
    head = spec[-1][0] == "head"
    layers = spec[:-1] if head else spec
    flags, nb, lb = _extras(model, spec)
    out = [struct.pack(_HEAD_FMT, MAGIC, VERSION, 8, 2, len(layers), model.n_inputs, 1 if head else 0, flags,
                       model.n_params)]
    for kind, _, n_out, act in layers:
        out.append(struct.pack("<BBH", KINDS.index(kind), act, n_out))
    if head:
        out.append(struct.pack("<HBB", spec[-1][2], spec[-1][3], 0))
    out.append(nb)
    out.append(lb)
    return b"".join(out)


def save(model, path):
    """Write the model's Q8.8 weights (and its norm and labels) to `path`, via `path`.tmp
    and a rename. Returns the CRC32."""
    _args("save", path, model)
    if sys.byteorder != "little":
        raise OSError("weights files are little-endian; this port is big-endian")
    return _save(model, path)


def _save(model, path):
    tmp = path + ".tmp"
    h = header(model)                    # checks norm and labels before anything is written
    _finish_interrupted(path)            # never overwrite the only good copy (see recover)
    crc = _crc32(h)
    pv = memoryview(model.params)
    n = model.n_params
    try:
        f = open(tmp, "wb")
    except OSError as e:     # no such folder, read-only: say which call and which file
        raise OSError("save: cannot write %r (its folder must exist and be writable): %s" % (path, e))
    try:
        f.write(h)
        i = 0
        while i < n:
            j = min(n, i + _CHUNK)
            block = pv[i:j]
            f.write(block)
            crc = _crc32(block, crc)
            i = j
        f.write(struct.pack("<I", crc & 0xFFFFFFFF))
        f.close()
    except OSError as e:     # e.g. the flash is full: leave no partial file behind
        f.close()
        os.remove(tmp)
        raise OSError("save: writing %r failed, nothing was replaced: %s" % (path, e))
    _replace(tmp, path)
    return crc & 0xFFFFFFFF


def _replace(tmp, path):
    try:
        os.rename(tmp, path)
    except OSError:              # a filesystem whose rename will not replace (FAT): remove, then rename.
        try:                     # A cut between the two leaves only the complete tmp: recover() finishes it.
            os.remove(path)
        except OSError:
            pass
        os.rename(tmp, path)


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
    """Finish a replace of `path` that was cut short. If `path` is missing or invalid and
    `path`.tmp is a complete, CRC-valid file, the .tmp becomes `path`; otherwise nothing
    changes. Returns True if it replaced `path`. load(), load_into() and save() call it."""
    tmp = path + ".tmp"
    if not _exists(tmp) or _valid(path) or not _valid(tmp):
        return False
    _replace(tmp, path)
    return True


def _finish_interrupted(path):
    # save(): only when a .tmp is left over does it cost a read of the files
    if _exists(path + ".tmp"):
        recover(path)


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
    """Validate the whole file (header, size, CRC); return (description, CRC32)."""
    f, info = _open(path)
    f.close()
    return info.desc, info.crc


def file_crc(path):
    """The CRC32 of a valid weights file (raises WeightsError for an invalid one)."""
    _args("file_crc", path)
    return read_desc(path)[1]


def load(path):
    """A new Model built from the weights file alone (with its norm and labels)."""
    _args("load", path)
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
    """Fill an existing model from a weights file whose architecture matches it exactly
    (its norm and labels become the file's)."""
    _args("load_into", path, model)
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
