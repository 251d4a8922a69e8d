"""Activations on Q8.8 int arrays: mirrors lib/tinyrnn/act.py (spec: docs/arithmetic.md)."""
import numpy as np

from .tables import SIGMOID, TANH, EXP2

_SIG_END = 2048
_TANH_END = 1024
_LOG2E = 378194
_EXP_HI = 1280
_EXP_LO = -1792


def _lerp16(table, x, end):
    """Interpolate table (step 16 raw units, entries * 2^15) at 0 <= x; 256 from `end` on."""
    xc = np.minimum(x, end - 1)
    j = xc >> 4
    a = table[j]
    v = (a * 16 + (table[j + 1] - a) * (xc & 15) + 1024) >> 11
    return np.where(x >= end, 256, v)


def _sigmoid(q):
    s = _lerp16(SIGMOID, np.abs(q), _SIG_END)
    return np.where(q < 0, 256 - s, s)


def _tanh(q):
    t = _lerp16(TANH, np.abs(q), _TANH_END)
    return np.where(q < 0, -t, t)


# Both functions at every Q8.8 input, computed once by the functions above: a lookup of
# the clipped input is then the same integer (both are constant past +-2048 and +-1024).
_Q = np.arange(-32768, 32768, dtype=np.int64)
_SIG_ALL = _sigmoid(_Q)
_TANH_ALL = _tanh(_Q)


def _index(q):
    i = np.clip(np.asarray(q, dtype=np.int64), -32768, 32767)
    i += 32768
    return i


def sigmoid(q):
    return _SIG_ALL[_index(q)]


def tanh(q):
    return _TANH_ALL[_index(q)]


def exp(q):
    q = np.asarray(q, dtype=np.int64)
    qc = np.clip(q, _EXP_LO, _EXP_HI)
    y = qc * _LOG2E
    k = y >> 26
    g = y & 0x3FFFFFF
    j = g >> 20
    r = (((g & 0xFFFFF) >> 9) + 1) >> 1
    a = EXP2[j]
    v = (a << 10) + (EXP2[j + 1] - a) * r
    sh = 17 - k
    v = (v + (np.int64(1) << (sh - 1))) >> sh
    v = np.minimum(v, 32767)
    return np.where(q > _EXP_HI, 32767, np.where(q < _EXP_LO, 0, v))
