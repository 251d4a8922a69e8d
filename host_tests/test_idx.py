"""The IDX reader (MNIST's format) on files these tests write byte by byte with struct:
values, shapes and types come back; truncated, wrong-magic, wrong-dims and mismatched
files raise IDXError naming the file and the problem. The images-as-rows Dataset."""
import gzip
import struct

import numpy as np
import pytest

from tinyrnn_host.interop import idx, images


def idx_bytes(code, fmt, shape, values):
    """An IDX file written by hand: 00 00 code ndim, big-endian u32 sizes, big-endian values."""
    head = bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape)
    return head + b"".join(struct.pack(">" + fmt, v) for v in values)


def mnist_pair(tmp_path, n=3, rows=4, cols=5, gz=False):
    pix = [(7 * i + 3) % 256 for i in range(n * rows * cols)]
    labels = [(2 * i + 1) % 10 for i in range(n)]
    im, lb = tmp_path / "images-idx3-ubyte", tmp_path / "labels-idx1-ubyte"
    blobs = (idx_bytes(0x08, "B", (n, rows, cols), pix), idx_bytes(0x08, "B", (n,), labels))
    if gz:
        im, lb = im.with_suffix(".gz"), lb.with_suffix(".gz")
        blobs = tuple(gzip.compress(b) for b in blobs)
    im.write_bytes(blobs[0])
    lb.write_bytes(blobs[1])
    return im, lb, pix, labels


@pytest.mark.parametrize("gz", [False, True])
def test_an_mnist_pair_reads_back(tmp_path, gz):
    im, lb, pix, labels = mnist_pair(tmp_path, gz=gz)
    x, y = idx.load_mnist(im, lb)
    assert x.dtype == np.uint8 and x.shape == (3, 4, 5)
    assert x.reshape(-1).tolist() == pix                       # row-major, the last size fastest
    assert x[1, 2, 3] == pix[1 * 20 + 2 * 5 + 3]
    assert y.tolist() == labels


@pytest.mark.parametrize("code,fmt,dtype,values", [
    (0x09, "b", np.int8, [-128, -1, 0, 127]),
    (0x0B, "h", np.int16, [-32768, -2, 1, 32767]),
    (0x0C, "i", np.int32, [-2 ** 31, 5, 70000, 2 ** 31 - 1]),
    (0x0D, "f", np.float32, [0.5, -1.25, 3.0, 1e-3]),
    (0x0E, "d", np.float64, [0.1, -2.5, 1e300, 0.0]),
])
def test_every_type_is_big_endian(tmp_path, code, fmt, dtype, values):
    p = tmp_path / "t.idx"
    p.write_bytes(idx_bytes(code, fmt, (2, 2), values))
    a = idx.read(p)
    assert a.dtype == dtype and a.shape == (2, 2)
    assert a.reshape(-1).tolist() == np.array(values, dtype).tolist()


def expect(tmp_path, data, *words, ndim=None):
    p = tmp_path / "bad-idx"
    p.write_bytes(data)
    with pytest.raises(idx.IDXError) as e:
        idx.read(p, ndim=ndim)
    msg = str(e.value)
    assert str(p) in msg, msg
    for w in words:
        assert w in msg, msg


def test_truncated_files_are_refused(tmp_path):
    good = idx_bytes(0x08, "B", (2, 3, 3), range(18))
    expect(tmp_path, good[:-1], "truncated", "%d bytes" % (len(good) - 1), "need %d" % len(good))
    expect(tmp_path, good[:10], "truncated in its header")
    expect(tmp_path, good[:2], "too short")
    expect(tmp_path, good + b"\0", "trailing bytes")
    p = tmp_path / "cut.gz"
    p.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(idx.IDXError, match="not a complete gzip file"):
        idx.read(p)


def test_wrong_magic_is_refused(tmp_path):
    good = idx_bytes(0x08, "B", (2, 2), range(4))
    expect(tmp_path, b"\x01" + good[1:], "is not an IDX magic", "01 00 08 02")
    expect(tmp_path, good[:2] + b"\x07" + good[3:], "is not an IDX magic")
    expect(tmp_path, b"PK\x03\x04" + good[4:], "is not an IDX magic")      # e.g. a zip saved under the name


def test_wrong_dims_are_refused(tmp_path):
    im, lb, _, _ = mnist_pair(tmp_path)
    expect(tmp_path, idx_bytes(0x08, "B", (2, 6), range(12)), "2 dimensions, expected 3", ndim=3)
    with pytest.raises(idx.IDXError, match="1 dimensions, expected 3"):
        idx.load_mnist(lb, lb)                                  # the labels passed as images
    with pytest.raises(idx.IDXError, match="3 dimensions, expected 1"):
        idx.load_mnist(im, im)


def test_mismatched_mnist_pairs_are_refused(tmp_path):
    im, _, _, _ = mnist_pair(tmp_path)
    (tmp_path / "four").write_bytes(idx_bytes(0x08, "B", (4,), [1, 2, 3, 4]))
    with pytest.raises(idx.IDXError, match="has 3 images but .*four has 4 labels"):
        idx.load_mnist(im, tmp_path / "four")
    (tmp_path / "big").write_bytes(idx_bytes(0x08, "B", (3,), [1, 12, 3]))
    with pytest.raises(idx.IDXError, match="label 12 is not a digit"):
        idx.load_mnist(im, tmp_path / "big")
    (tmp_path / "wide").write_bytes(idx_bytes(0x0B, "h", (3,), [1, 2, 3]))
    with pytest.raises(idx.IDXError, match="u8 values"):
        idx.load_mnist(im, tmp_path / "wide")
    with pytest.raises(idx.IDXError, match="no such file"):
        idx.load_mnist(tmp_path / "absent", im)


def test_mnist_images_become_rows(tmp_path):
    im, lb, pix, labels = mnist_pair(tmp_path)
    d = images.mnist(im, lb, "test")
    assert len(d) == 3 and d.channels == 5 and d.lengths().tolist() == [4, 4, 4]
    assert d.series[2][1].tolist() == pix[2 * 20 + 5:2 * 20 + 10]      # step 1 of image 2: its row 1
    assert d.y.tolist() == labels and d.classes == tuple("0123456789")


def test_the_digits_split_holds_out_a_fifth_of_every_class():
    tr, te = images.digits("train"), images.digits("test")
    assert len(tr) + len(te) == 1797 and len(te) == 359
    assert tr.channels == 8 and set(tr.lengths()) == {8}
    for k in range(10):
        n_k = (tr.y == k).sum() + (te.y == k).sum()
        assert (te.y == k).sum() == int(np.floor(n_k * 0.2 + 0.5))
    a, b = images.split_indices(np.repeat(np.arange(10), 30))
    assert len(set(a) | set(b)) == 300 and not set(a) & set(b) and len(b) == 60
    assert images.digits("test").y.tolist() == te.y.tolist()           # the same split every time
    with pytest.raises(ValueError, match="split"):
        images.digits("val")
