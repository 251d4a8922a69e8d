"""City names from the IANA time-zone database, for character-level models.

    train, test = city_names()        # lists of lower-case names, e.g. "lisbon", "los angeles"
    xs, ys = encode("lisbon")         # one-hot Q8.8 inputs (T, A) of ".lisbon", classes of "lisbon."

The zone names come from the `tzdata` package (pinned in requirements-examples.txt; its
`zones` file lists every zone): the last part of each Area/Place zone in a continent or
ocean area (Europe/Lisbon -> "lisbon", America/Argentina/Buenos_Aires -> "buenos aires"),
underscores as spaces, lower case, each name once. A fifth of them, chosen by a seeded
shuffle, is held out: the test names are never seen in training.
"""
import importlib.resources

import numpy as np

PACKAGE = "tzdata==2026.6"
AREAS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
ALPHABET = ".abcdefghijklmnopqrstuvwxyz -"      # index 0 "." ends a name (and is the first input)
END = 0


def zone_names():
    try:
        text = importlib.resources.files("tzdata").joinpath("zones").read_text()
    except ModuleNotFoundError:
        raise ImportError("the city names come from the tzdata package: pip install %s (make setup does it)"
                          % PACKAGE)
    return text.split()


def city_names(test_fraction=0.2, seed=0):
    """(train, test): sorted lists of distinct names over ALPHABET[1:], disjoint."""
    names = set()
    for zone in zone_names():
        parts = zone.split("/")
        if parts[0] in AREAS and len(parts) >= 2:
            name = parts[-1].replace("_", " ").lower()
            if name and all(c in ALPHABET[1:] for c in name):
                names.add(name)
    names = sorted(names)
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = int(np.floor(len(names) * test_fraction + 0.5))
    test = sorted(names[i] for i in order[:n_test])
    train = sorted(names[i] for i in order[n_test:])
    return train, test


def classes(name):
    """The name's characters as class indices, then END."""
    return [ALPHABET.index(c) for c in name] + [END]


def encode(name):
    """(xs (T, A) one-hot Q8.8 int64, ys (T,)): the inputs are END then the name, the targets the name then END."""
    ys = classes(name)
    xs = np.zeros((len(ys), len(ALPHABET)), np.int64)
    xs[np.arange(len(ys)), [END] + ys[:-1]] = 256
    return xs, np.array(ys, np.int64)


def unigram_cross_entropy(train, test):
    """Nats per character on `test` of the character frequencies of `train` (add-one smoothed), END included."""
    counts = np.bincount(np.concatenate([classes(n) for n in train]), minlength=len(ALPHABET)) + 1.0
    logp = np.log(counts / counts.sum())
    ys = np.concatenate([classes(n) for n in test])
    return float(-logp[ys].mean())
