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
#
# The reader (_wload.py) and the writer (_wsave.py) are loaded for the call and dropped after it
# (tinyrnn._once): a program keeps only this module in its heap, what the two share.
import os

import tinyrnn
from ._cell import bad_type
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


def _label_ok(b):
    if len(b) < 1 or len(b) > 255:
        return False
    for c in b:
        if c < 32 or c > 126:
            return False
    return True


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


def _replace(tmp, path):
    try:
        os.rename(tmp, path)
    except OSError:              # a filesystem whose rename will not replace (FAT): remove, then rename.
        try:                     # A cut between the two leaves only the complete tmp: recover() finishes it.
            os.remove(path)
        except OSError:
            pass
        os.rename(tmp, path)


def save(model, path):
    """Write the model's Q8.8 weights (and its norm and labels) to `path`, via `path`.tmp
    and a rename. Returns the CRC32."""
    _args("save", path, model)
    return tinyrnn._once("_wsave", "save", model, path)


def header(model):
    """The bytes of a model's weights file before its parameters (header, architecture,
    normalisation, labels)."""
    return tinyrnn._once("_wsave", "header", model)


def recover(path):
    """Finish a replace of `path` that was cut short. If `path` is missing or invalid and
    `path`.tmp is a complete, CRC-valid file, the .tmp becomes `path`; otherwise nothing
    changes. Returns True if it replaced `path`. load(), load_into() and save() call it."""
    return tinyrnn._once("_wload", "recover", path)


def read_desc(path):
    """Validate the whole file (header, size, CRC); return (description, CRC32)."""
    return tinyrnn._once("_wload", "read_desc", path)


def file_crc(path):
    """The CRC32 of a valid weights file (raises WeightsError for an invalid one)."""
    _args("file_crc", path)
    return read_desc(path)[1]


def load(path):
    """A new Model built from the weights file alone (with its norm and labels)."""
    _args("load", path)
    return tinyrnn._once("_wload", "load", path)


def load_into(model, path):
    """Fill an existing model from a weights file whose architecture matches it exactly
    (its norm and labels become the file's)."""
    _args("load_into", path, model)
    return tinyrnn._once("_wload", "load_into", model, path)
