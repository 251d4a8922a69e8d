"""The mirror's argument checks, with the board's messages.

What the board and the mirror share as a concept is checked by the board's own code,
imported under CPython (the only lib/ code the mirror runs, and none of it computes):
the model description by lib/tinyrnn/model.parse, ints, flags and hyperparameters by
lib/tinyrnn/_args.check_int / check_flag / q16. Arrays are checked here: the board takes
one step of ints at a time, the mirror whole batches, so the mirror's names carry one
more index (the board's ``step: x[1]`` is the mirror's ``step: x[0][1]`` for row 0).

    spec = parse(desc)                                 # [(kind, n_in, n_out, act name or None)]
    x = q88_array(x, "step: x", (None, 2))             # int64 (B, 2), or TypeError/ValueError
"""
import numpy as np

from array import array

from .. import paths

Q88_MIN, Q88_MAX = -32768, 32767
_SEQ = (list, tuple, np.ndarray, array, memoryview)


def board(name):
    """A board-library module (e.g. "tinyrnn.optim"), imported under CPython."""
    return paths.import_board(name)


def parse(desc):
    """The board's description check (lib/tinyrnn/model.parse): [(kind, n_in, n_out, act)],
    act the activation's name for dense layers and the head, None for recurrent layers."""
    acts = board("tinyrnn._cell").ACTS
    return [(kind, n_in, n_out, acts[a] if kind in ("dense", "head") else None)
            for kind, n_in, n_out, a in board("tinyrnn.model").parse(desc)]


def check_int(v, name, lo, hi=None):
    board("tinyrnn._args").check_int(v, name, lo, hi)


def check_flag(v, name):
    board("tinyrnn._args").check_flag(v, name)


def bad_type(name, want, v):
    raise TypeError("%s must be %s, got %s" % (name, want, type(v).__name__))


def _is_int(q):
    """An int of Python or NumPy, not a bool."""
    return isinstance(q, (int, np.integer)) and not isinstance(q, (bool, np.bool_))


def _shape_text(dims):
    return "(%s)" % ", ".join("B" if d is None and i == 0 else ("T" if d is None else str(d))
                              for i, d in enumerate(dims))


def q88_array(v, name, dims, lo=Q88_MIN, hi=Q88_MAX, what="a Q8.8 int"):
    """v as an int64 array of shape dims (None: any size, the same for every row), each
    value an int (not a bool) in lo..hi; otherwise TypeError/ValueError naming the first
    bad value as name[i][j]. An integer array is checked at once; lists are walked."""
    if not isinstance(v, _SEQ):
        bad_type(name, "a list, tuple or array of shape %s" % _shape_text(dims), v)
    if isinstance(v, np.ndarray) and v.dtype.kind in "iu" and v.ndim == len(dims) and all(
            d is None or d == n for d, n in zip(dims, v.shape)):
        if v.size and (v.min() < lo or v.max() > hi):       # (two passes, no temporaries)
            at = tuple(int(i) for i in np.argwhere((v < lo) | (v > hi))[0])
            raise ValueError("%s%s=%d is outside %s" % (name, _index(at), v[at], _range_text(lo, hi, what)))
        return v.astype(np.int64)
    u, depth = v, 0
    while isinstance(u, _SEQ) and len(u) and not (isinstance(u, np.ndarray) and u.ndim == 0):
        u, depth = u[0], depth + 1
    if depth < len(dims) and _is_int(u) or isinstance(v, np.ndarray) and v.ndim != len(dims):
        raise ValueError("%s must be a %s array, got shape %s" % (name, _shape_text(dims), np.shape(v)))
    sizes = list(dims)
    _walk(v, name, sizes, 0, [], lo, hi, what)
    return np.asarray(v, np.int64).reshape([0 if n is None else n for n in sizes])


def q88_values(v, name):
    """v (an int, or an array or nested lists of any shape) as int64 Q8.8 values; else the
    board's error naming v (or v[i][j]): "a must be a Q8.8 int, got float", "a=40000 is outside ..."."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if not isinstance(v, _SEQ):
        if not _is_int(v):
            bad_type(name, "a Q8.8 int", v)
        if v < Q88_MIN or v > Q88_MAX:
            raise ValueError("%s=%d is outside %s" % (name, v, _range_text(Q88_MIN, Q88_MAX)))
        return np.int64(v)
    try:
        shape = np.shape(v)
    except ValueError:
        raise ValueError("%s must be a rectangular array of Q8.8 ints (rows of equal length)" % name) from None
    return q88_array(v, name, shape)


def _index(at):
    return "".join("[%d]" % i for i in at)


def _range_text(lo, hi, what="a Q8.8 int"):
    return "Q8.8 range [-32768, 32767]" if what == "a Q8.8 int" else "%d..%d" % (lo, hi)


def _walk(v, name, sizes, depth, at, lo, hi, what):
    """Raise the error for the first wrong thing in the nested sequence v (sizes: None is
    fixed by the first row met); at: v's index path, formatted only for a message."""
    if not isinstance(v, _SEQ) or isinstance(v, np.ndarray) and v.ndim == 0:
        bad_type(name + _index(at), "a list, tuple or array", v)
    if sizes[depth] is None:
        sizes[depth] = len(v)
    elif len(v) != sizes[depth]:
        raise ValueError("%s has %d values, expected %d" % (name + _index(at), len(v), sizes[depth]))
    if depth + 1 < len(sizes):
        for i in range(len(v)):
            _walk(v[i], name, sizes, depth + 1, at + [i], lo, hi, what)
        return
    for i in range(len(v)):
        q = v[i]
        if type(q) is not int and not _is_int(q):
            bad_type(name + _index(at + [i]), what, q)
        if q < lo or q > hi:
            raise ValueError("%s=%d is outside %s" % (name + _index(at + [i]), q, _range_text(lo, hi, what)))
