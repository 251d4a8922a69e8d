"""UEA/UCR time-series classification data from the files the `aeon` package ships.

    train = load("BasicMotions", "train")      # a Dataset
    train.series[0]      # float64 array (T, C): one multivariate sequence, time along axis 0
    train.y              # int class indices into train.classes
    train.classes        # ('Standing', 'Running', 'Walking', 'Badminton'): the file's order

`aeon==1.6.0` (pinned in requirements-data.txt) ships the archive's `.ts` files in
its wheel (aeon/datasets/data/NAME/NAME_TRAIN.ts). The repository never copies them.
aeon's own loader needs pandas and numba, and numba 0.63 does not install next to
the numpy this project pins, so `make setup` installs aeon with --no-deps and this
module reads the files itself; aeon is never imported (its package folder is found
with importlib, which runs none of its code).

The `.ts` format, as far as these files use it: lines starting with `#` are comments;
`@name value` lines are the header (`@dimensions C`, `@equalLength`, `@seriesLength T`,
`@classLabel true LABEL...` gives the classes in order); after `@data`, one line per
sequence: C channels separated by `:`, each a comma-separated list of T floats, then
`:` and the class label. Channels of one sequence have equal lengths; sequences may
differ (`@equalLength false`). Missing values (`?`) and timestamps are refused.
"""
import importlib.util
import pathlib

import numpy as np

PACKAGE = "aeon==1.6.0"


class DataError(ValueError):
    """A data file is missing or not what the reader understands; the message says which and where."""


class Dataset:
    """Sequences (each float64 (T, C)), class indices y, class names (the file's order)."""

    def __init__(self, name, split, series, y, classes):
        self.name, self.split = name, split
        self.series = series            # list of (T, C) float64 arrays
        self.y = y                      # (N,) int64
        self.classes = classes          # tuple of str

    def __len__(self):
        return len(self.series)

    @property
    def channels(self):
        return self.series[0].shape[1]

    def lengths(self):
        return np.array([len(s) for s in self.series])


def data_dir():
    """aeon's shipped data folder (aeon/datasets/data), found without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the UEA data files come from the aeon package: pip install --no-deps %s "
                        "(make setup does it)" % PACKAGE)
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def path(name, split):
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test', got %r" % (split,))
    p = data_dir() / name / ("%s_%s.ts" % (name, split.upper()))
    if not p.is_file():
        raise DataError("%s: no such file in the installed aeon package (%s)" % (p.name, PACKAGE))
    return p


def load(name, split):
    """The dataset `name` ('JapaneseVowels', 'BasicMotions', ...), split 'train' or 'test'."""
    return parse(path(name, split).read_text(), name, split)


def parse(text, name="?", split="?"):
    """A Dataset from the text of a .ts file (the format in the module docstring)."""
    header, classes, series, labels = {}, None, [], []
    in_data = False
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = "%s line %d" % (name, n)
        if not in_data:
            if not line.startswith("@"):
                raise DataError("%s: expected an @ header line before @data" % where)
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                in_data = True
                if classes is None:
                    raise DataError("%s: @data before @classLabel: not a classification file" % where)
                continue
            if key == "classlabel":
                words = value.split()
                if not words or words[0].lower() != "true" or len(words) < 3:
                    raise DataError("%s: @classLabel must be 'true' and list the classes" % where)
                classes = tuple(words[1:])
            header[key] = value.strip()
            if key in ("missing", "timestamps") and value.strip().lower() != "false":
                raise DataError("%s: @%s %s is not supported by this reader" % (where, key, value.strip()))
            continue
        *chans, label = line.split(":")
        if label not in classes:
            raise DataError("%s: class %r is not one of the @classLabel classes" % (where, label))
        try:
            cols = [np.array([float(v) for v in c.split(",")]) for c in chans]
        except ValueError as e:
            raise DataError("%s: %s" % (where, e))
        if "dimensions" in header and len(cols) != int(header["dimensions"]):
            raise DataError("%s: %d channels, @dimensions says %s" % (where, len(cols), header["dimensions"]))
        if len({len(c) for c in cols}) != 1:
            raise DataError("%s: channels of different lengths %s" % (where, sorted({len(c) for c in cols})))
        if "serieslength" in header and len(cols[0]) != int(header["serieslength"]):
            raise DataError("%s: %d steps, @seriesLength says %s" % (where, len(cols[0]), header["serieslength"]))
        series.append(np.stack(cols, axis=1))
        labels.append(classes.index(label))
    if not series:
        raise DataError("%s: no sequences after @data" % name)
    return Dataset(name, split, series, np.array(labels, dtype=np.int64), classes)
