# The weights files' writer: weights.save and weights.header, loaded for the call and dropped
# after it (tinyrnn._once): a program that never saves keeps no writer in its heap.
import os
import struct
import sys

import tinyrnn
from ._cell import SOFTMAX
from .weights import (HAS_LABELS, HAS_NORM, KINDS, MAGIC, VERSION, WeightsError, _CHUNK, _HEAD_FMT, _crc32,
                      _label_ok, _replace, parse)


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


def header(model):
    # weights.header: the bytes of a model's file before its parameters
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
    # weights.save's body (its arguments checked there)
    if sys.byteorder != "little":
        raise OSError("weights files are little-endian; this port is big-endian")
    tmp = path + ".tmp"
    h = header(model)                    # checks norm and labels before anything is written
    try:                                 # never overwrite the only good copy (weights.recover): only
        os.stat(tmp)                     # where a .tmp is left over does it cost a read of the files
        left = True
    except OSError:
        left = False
    if left:
        tinyrnn._once("_wload", "recover", path)
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
