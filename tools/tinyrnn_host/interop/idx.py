"""IDX files, the format MNIST ships in (train-images-idx3-ubyte, ... and their .gz).

    images = read("train-images-idx3-ubyte.gz")      # uint8 (60000, 28, 28)
    images, labels = load_mnist("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

Layout: a 4-byte magic, two zero bytes, a type code, the number of dimensions D; then D
big-endian u32 sizes; then the values, big-endian, the last dimension varying fastest.
Type codes: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. A file that is not
exactly that (a bad magic, an unknown type, fewer or more bytes than its sizes say, other
dimensions than the caller needs) raises IDXError naming the file and what is wrong.
The user downloads MNIST; nothing here fetches anything.
"""
import gzip
import pathlib
import struct

import numpy as np

TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """An IDX file is not what its header says or what the caller needs."""


def decode(data, name="IDX data", ndim=None):
    """The array in the bytes of an IDX file; ndim: the number of dimensions required."""
    if len(data) < 4:
        raise IDXError("%s: %d bytes, too short for the 4-byte IDX magic" % (name, len(data)))
    if data[0] or data[1] or data[2] not in TYPES:
        raise IDXError("%s: magic %s is not an IDX magic (00 00, a type code in %s, the number of dimensions)"
                       % (name, data[:4].hex(" "), ", ".join("%02x" % t for t in TYPES)))
    dtype, dims = np.dtype(TYPES[data[2]]), data[3]
    if ndim is not None and dims != ndim:
        raise IDXError("%s: %d dimensions, expected %d" % (name, dims, ndim))
    head = 4 + 4 * dims
    if len(data) < head:
        raise IDXError("%s: truncated in its header (%d bytes, the %d sizes need %d)" % (name, len(data), dims, head))
    shape = struct.unpack(">%dI" % dims, data[4:head])
    want = head + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != want:
        raise IDXError("%s: %d bytes, sizes %s of %s need %d (%s)" % (
            name, len(data), "x".join(map(str, shape)), dtype.str[1:], want,
            "truncated" if len(data) < want else "trailing bytes"))
    return np.frombuffer(data, dtype, offset=head).reshape(shape).astype(dtype.newbyteorder("="))


def read(path, ndim=None):
    """The array in an IDX file (gzip-compressed if its name ends in .gz)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise IDXError("%s: no such file" % path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise IDXError("%s: not a complete gzip file (%s)" % (path, e))
    return decode(data, str(path), ndim)


def load_mnist(images_path, labels_path):
    """(images uint8 (N, rows, cols), labels int64 (N,) in 0..9) from a pair of MNIST files."""
    images = read(images_path, ndim=3)
    labels = read(labels_path, ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise IDXError("%s, %s: MNIST files hold u8 values, got %s and %s"
                       % (images_path, labels_path, images.dtype, labels.dtype))
    if len(images) != len(labels):
        raise IDXError("%s has %d images but %s has %d labels" % (images_path, len(images), labels_path, len(labels)))
    if len(labels) and labels.max() > 9:
        raise IDXError("%s: label %d is not a digit" % (labels_path, labels.max()))
    return images, labels.astype(np.int64)
