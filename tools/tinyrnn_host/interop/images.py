"""Images read row by row: one row of pixels per step, the columns as channels.

    train = digits("train")          # scikit-learn's bundled 8x8 digits: a uea.Dataset, 8 steps of 8 pixels
    test = digits("test")            # the held-out fifth of every class (the same split on every machine)
    train = mnist("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")   # 28 steps of 28 pixels

A series is the image itself as float64 (rows, cols) in its pixel units (digits: 0..16,
MNIST: 0..255), so normalise.to_raw(series, 1) are the raw pixel counts a board gets.
"""
import numpy as np

from . import idx
from .uea import Dataset

PACKAGE = "scikit-learn==1.9.1"
TEST_FRACTION = 0.2
DIGITS = tuple(str(d) for d in range(10))


def by_rows(images, labels, name, split, classes=DIGITS):
    """A Dataset of images (N, rows, cols): step t is row t."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError("images: expected (N, rows, cols), got shape %s" % (images.shape,))
    return Dataset(name, split, [im.astype(np.float64) for im in images], np.asarray(labels, np.int64), classes)


def split_indices(y, test_fraction=TEST_FRACTION, seed=0):
    """(train, test) indices: of every class, a shuffled test_fraction (rounded) goes to test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(y):
        idx_k = rng.permutation(np.flatnonzero(y == k))
        n = int(np.floor(len(idx_k) * test_fraction + 0.5))
        test.append(idx_k[:n])
        train.append(idx_k[n:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def digits(split, test_fraction=TEST_FRACTION, seed=0):
    """scikit-learn's 1,797 handwritten digits (8x8, pixels 0..16), split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test', got %r" % (split,))
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the 8x8 digits come from scikit-learn: pip install %s (make setup does it)" % PACKAGE)
    d = load_digits()
    pick = split_indices(d.target, test_fraction, seed)[split == "test"]
    return by_rows(d.images[pick], d.target[pick], "digits", split)


def mnist(images_path, labels_path, split="?"):
    """A pair of MNIST IDX files (the user's download) as a Dataset, 28 steps of 28 pixels."""
    images, labels = idx.load_mnist(images_path, labels_path)
    return by_rows(images, labels, "MNIST", split)
