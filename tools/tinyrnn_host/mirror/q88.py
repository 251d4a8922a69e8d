"""Q8.8 scalar core, vectorised: mirrors lib/tinyrnn/q88.py name by name.

add, sub, mul, div, dot and to_str take ints or arrays of Q8.8 ints and refuse anything
else as the board does ("a must be a Q8.8 int, got float", "b=40000 is outside ...");
sat and round_shift take any int (they work on the wide intermediates).
"""
import re

import numpy as np

from .check import _is_int, bad_type, q88_values

FRAC_BITS = 8
ONE = 256
HALF = 128
MIN = -32768
MAX = 32767


def _i64(a):
    return np.asarray(a, dtype=np.int64)


def sat(v):
    """Clamp into [MIN, MAX]."""
    return np.minimum(np.maximum(_i64(v), MIN), MAX)


def add(a, b):
    return sat(q88_values(a, "a") + q88_values(b, "b"))


def sub(a, b):
    return sat(q88_values(a, "a") - q88_values(b, "b"))


def round_shift(acc, shift=FRAC_BITS):
    """floor(acc / 2^shift + 1/2): the one rounding rule (round half up)."""
    return (_i64(acc) + (1 << (shift - 1))) >> shift


def mul(a, b):
    return sat(round_shift(q88_values(a, "a") * q88_values(b, "b")))


def dot(ws, xs, bias=0):
    """bias + sum(w * x) over the last axis, exact, rounded once, saturated.

    int64 holds any sum of up to 2^33 int16 products exactly.
    """
    seqs = (list, tuple, np.ndarray)
    if not isinstance(ws, seqs) or not isinstance(xs, seqs):
        raise TypeError("dot: ws and xs must be lists, tuples or arrays, got %s and %s"
                        % (type(ws).__name__, type(xs).__name__))
    if np.shape(ws)[-1:] != np.shape(xs)[-1:]:
        raise ValueError("dot: %d weights but %d inputs" % (np.shape(ws)[-1], np.shape(xs)[-1]))
    bias = q88_values(bias, "bias")
    ws, xs = q88_values(ws, "ws"), q88_values(xs, "xs")
    acc = (ws * xs).sum(axis=-1) + (bias << FRAC_BITS)
    return sat(round_shift(acc))


def div(a, b):
    """a / b rounded half up, saturated; any b == 0 raises ZeroDivisionError."""
    a, b = q88_values(a, "a"), q88_values(b, "b")
    if np.any(b == 0):
        raise ZeroDivisionError("q88.div: division by zero")
    n = np.where(b < 0, -(a << FRAC_BITS), a << FRAC_BITS)
    d = np.abs(b)
    return sat(np.floor_divide(2 * n + d, 2 * d))


def from_float(x):
    """Nearest Q8.8 (round half up), saturated: host-side quantisation."""
    return sat(np.floor(np.asarray(x, dtype=np.float64) * ONE + 0.5).astype(np.int64))


def to_float(q):
    return _i64(q).astype(np.float64) / ONE


def to_str(q, digits=4):
    """Decimal strings of q / 256 (list), rounded half away from zero."""
    if not _is_int(digits) or digits < 0 or digits > 8:
        raise ValueError("to_str: digits must be an int in 0..8")
    q = np.atleast_1d(q88_values(q, "q"))
    m = np.abs(q)
    scale = 10 ** digits
    r = (m * scale * 2 + ONE) // (2 * ONE)
    ip, fp = r // scale, r % scale
    out = []
    for qi, ri, i, f in zip(q.ravel(), r.ravel(), ip.ravel(), fp.ravel()):
        s = str(i) + ("." + str(f).rjust(digits, "0") if digits else "")
        out.append("-" + s if qi < 0 and ri else s)
    return out


def from_str(text):
    """Parse one decimal string exactly as lib does (round half up); ValueError if bad."""
    if not isinstance(text, str):
        bad_type("text", "a decimal string", text)
    m = _DECIMAL.fullmatch(text.strip(" \t\n\r\v\f"))
    if m is None or not (m.group(2) or m.group(3)):
        raise ValueError("text=%r is not a decimal number" % text)
    sign, ip, fp = m.group(1), m.group(2), m.group(3) or ""
    num = int(ip + fp)
    num = -num if sign == "-" else num
    den = 10 ** len(fp)
    q = (2 * num * ONE + den) // (2 * den)
    if q < MIN or q > MAX:
        raise ValueError("from_str: %r is outside Q8.8 range [-128, 127.99609375]" % text)
    return q


_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")


EXACT = 2**53      # float64 holds every integer below this exactly


def matmul(a, b):
    """a @ b of int arrays, exactly, through float64 BLAS (docs/arithmetic.md, 11): every
    partial sum of a row is an integer of magnitude at most K max|a| max|b|, which is
    checked to stay below 2^53, so every float64 addition (in any order, fused or not)
    is exact. Past that bound, numpy's int64 product (exact, without BLAS)."""
    a = _i64(a)
    b = _i64(b)
    if a.size == 0 or b.size == 0:
        return a @ b
    if int(np.abs(a).max()) * int(np.abs(b).max()) * a.shape[-1] >= EXACT:
        return a @ b
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
