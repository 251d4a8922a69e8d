"""Shoulder exercises recorded by a smartwatch, ten subjects: the file the `seglearn` package ships.

    w = load()                 # a Windows: every recording cut into short sequences
    w.x                        # float64 (N, STEPS, 6): accelerometer (g) and gyroscope (rad/s), 10 Hz
    w.y, w.classes             # class indices into ('PEN', 'ABD', 'FEL', 'IR', 'ER', 'TRAP', 'ROW')
    w.subject, w.recording     # who made each sequence (1..10), which recording it was cut from
    w.part                     # its place in that recording (0 = the first STEPS steps)

`seglearn==1.2.5` (pinned in requirements-data.txt, installed with --no-deps) ships
seglearn/data/watch_dataset.npy: 140 recordings (10 subjects x 7 exercises x 2, one per
arm) of a watch's 6-axis inertial sensor at 50 Hz, each a set of 20 repetitions of one
shoulder exercise, 20-52 s long (Burns et al., https://arxiv.org/abs/1802.01489). The file
is a pickled dict (numpy's allow_pickle), so it is read only after its SHA-256 matches the
one below: another package version, or a damaged copy, is a DataError naming the file, and
nothing of it is unpickled. seglearn itself is never imported (its folder is found with
importlib, which runs none of its code; it would pull in scikit-learn's pipeline machinery).

The recordings are made short enough to train on a board: each is averaged over blocks of
DOWN samples (50 Hz -> 10 Hz) and cut into consecutive, non-overlapping windows of STEPS
steps (3 s, one or two repetitions); the tail that does not fill a window is dropped.
"""
import hashlib
import importlib.util
import pathlib

import numpy as np

PACKAGE = "seglearn==1.2.5"
FILE = "data/watch_dataset.npy"
SHA256 = "eb122f23cdf06ef6bd6c6c5312958ec5cf9d038e2e6d457b8081662c75a42537"
DOWN = 5            # 50 Hz -> 10 Hz: the mean of each block of 5 samples
STEPS = 30          # 3 s per sequence


class DataError(ValueError):
    """The data file is missing or not the one this reader was written for; the message says which."""


class Windows:
    """Sequences cut from the recordings (float64 (N, T, C)), with their class, subject and origin."""

    def __init__(self, x, y, subject, recording, part, classes, channels):
        self.x, self.y = x, y
        self.subject, self.recording, self.part = subject, recording, part
        self.classes, self.channels = classes, channels

    def __len__(self):
        return len(self.x)

    def subjects(self):
        return sorted(int(s) for s in np.unique(self.subject))

    def take(self, mask):
        """The sequences where mask (a boolean (N,) array) is True."""
        return Windows(self.x[mask], self.y[mask], self.subject[mask], self.recording[mask], self.part[mask],
                       self.classes, self.channels)


def path():
    """The installed seglearn's watch_dataset.npy, found without importing seglearn."""
    spec = importlib.util.find_spec("seglearn")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the watch recordings come from the seglearn package: pip install --no-deps %s "
                        "(make setup does it)" % PACKAGE)
    p = pathlib.Path(list(spec.submodule_search_locations)[0]) / FILE
    if not p.is_file():
        raise DataError("%s: no such file in the installed seglearn package (%s)" % (p, PACKAGE))
    return p


def read(p=None):
    """The file's dict ('X': 140 float64 (T, 6) arrays, 'y', 'subject', 'side', 'X_labels', 'y_labels'),
    after its SHA-256 is checked."""
    p = pathlib.Path(p or path())
    data = p.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != SHA256:
        raise DataError("%s: SHA-256 %s, expected %s (the file of %s); a different or damaged copy is not read"
                        % (p, got, SHA256, PACKAGE))
    d = np.load(p, allow_pickle=True).item()
    if len(d["X"]) != 140 or any(r.ndim != 2 or r.shape[1] != 6 for r in d["X"]):
        raise DataError("%s: expected 140 recordings of 6 channels" % p)
    return d


def load(p=None, down=DOWN, steps=STEPS):
    """Every recording averaged over blocks of `down` samples and cut into windows of `steps`."""
    d = read(p)
    xs, ys, subj, rec, part = [], [], [], [], []
    for i, r in enumerate(d["X"]):
        n = len(r) // down
        slow = r[:n * down].reshape(n, down, -1).mean(axis=1)
        for k in range(n // steps):
            xs.append(slow[k * steps:(k + 1) * steps])
            ys.append(int(d["y"][i]))
            subj.append(int(d["subject"][i]))
            rec.append(i)
            part.append(k)
    arr = np.array
    return Windows(np.stack(xs), arr(ys, np.int64), arr(subj, np.int64), arr(rec, np.int64), arr(part, np.int64),
                   tuple(str(v) for v in d["y_labels"]), tuple(str(v) for v in d["X_labels"]))
