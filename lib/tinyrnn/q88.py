# Q8.8 fixed-point arithmetic: the scalar core every layer is built on.
# Spec: docs/arithmetic.md. Integer only; runs unchanged on MicroPython and CPython.
#
# A Q8.8 value is a plain int q in [MIN, MAX] meaning q / 256.
# Every rounding is "round half up": floor(v + 1/2), for products (p + 128) >> 8.
# Every result is saturated into [MIN, MAX]; nothing ever wraps around.

from array import array

import tinyrnn

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

FRAC_BITS = const(8)
ONE = const(256)          # 1.0
HALF = const(128)         # 0.5, also the rounding offset of a >> 8
MIN = const(-32768)       # -128.0
MAX = const(32767)        # 127.99609375
_MAX_DIGITS = const(8)    # q / 256 has at most 8 decimal places
_SEQS = (list, tuple, array, memoryview)


def _check(name, q):
    # A clear error beats a silently wrapped array store on the board.
    if type(q) is not int:
        raise TypeError("%s must be a Q8.8 int, got %s" % (name, type(q).__name__))
    if q < MIN or q > MAX:
        raise ValueError("%s=%d is outside Q8.8 range [-32768, 32767]" % (name, q))


def sat(v):
    """Clamp any int into [MIN, MAX]."""
    if type(v) is not int:
        raise TypeError("sat: v must be an int, got %s" % type(v).__name__)
    return MIN if v < MIN else (MAX if v > MAX else v)


def add(a, b):
    """a + b, saturated."""
    _check("a", a)
    _check("b", b)
    s = a + b
    return MIN if s < MIN else (MAX if s > MAX else s)


def sub(a, b):
    """a - b, saturated."""
    _check("a", a)
    _check("b", b)
    s = a - b
    return MIN if s < MIN else (MAX if s > MAX else s)


def mul(a, b):
    """a * b: exact product, rounded half up once, saturated."""
    _check("a", a)
    _check("b", b)
    p = (a * b + HALF) >> FRAC_BITS
    return MIN if p < MIN else (MAX if p > MAX else p)


def dot(ws, xs, bias=0):
    """bias + sum(w * x): summed exactly, rounded half up once, saturated.

    ws and xs are equal-length sequences of Q8.8 ints (lists or array('h')).
    The exact sum may leave the small-int range on a 32-bit board; it stays
    exact (MicroPython ints grow), only slower.
    """
    if not isinstance(ws, _SEQS) or not isinstance(xs, _SEQS):
        raise TypeError("dot: ws and xs must be lists, tuples or arrays, got %s and %s"
                        % (type(ws).__name__, type(xs).__name__))
    n = len(ws)
    if len(xs) != n:
        raise ValueError("dot: %d weights but %d inputs" % (n, len(xs)))
    _check("bias", bias)
    acc = bias << FRAC_BITS
    for i in range(n):
        w = ws[i]
        x = xs[i]
        if type(w) is not int or w < MIN or w > MAX:
            _check("ws[%d]" % i, w)
        if type(x) is not int or x < MIN or x > MAX:
            _check("xs[%d]" % i, x)
        acc += w * x
    acc = (acc + HALF) >> FRAC_BITS
    return MIN if acc < MIN else (MAX if acc > MAX else acc)


def div(a, b):
    """a / b rounded half up, saturated. b == 0 raises ZeroDivisionError."""
    _check("a", a)
    _check("b", b)
    if b == 0:
        raise ZeroDivisionError("q88.div: division by zero")
    n = a << FRAC_BITS
    if b < 0:
        n = -n
        b = -b
    q = (2 * n + b) // (2 * b)     # floor(n / b + 1/2)
    return MIN if q < MIN else (MAX if q > MAX else q)


def from_int(n):
    """The Q8.8 value of the whole number n (from_int(1) == 256)."""
    if type(n) is not int:
        raise TypeError("from_int: n must be an int, got %s" % type(n).__name__)
    if n < -128 or n > 127:
        raise ValueError("from_int: %d is outside Q8.8 range [-128, 127]" % n)
    return n << FRAC_BITS


def to_str(q, digits=4):
    """Decimal text of q / 256 with `digits` places (0..8), rounded half away from zero.

    to_str(180) == '0.7031'; digits=8 is exact. No float is involved.
    """
    _check("q", q)
    if type(digits) is not int or digits < 0 or digits > _MAX_DIGITS:
        raise ValueError("to_str: digits must be an int in 0..8")
    return fixed_str(q, FRAC_BITS, digits)


# The decimal text and the integer square root are _fixed.py's, loaded for the call and dropped
# after it (tinyrnn._once): a program that imports q88 for to_str keeps 2 KB less in its heap.

def fixed_str(v, frac_bits, digits=4):
    """Decimal text of v / 2**frac_bits with `digits` places, rounded half away from zero."""
    return tinyrnn._once("_fixed", "fixed_str", v, frac_bits, digits)


def parse_fixed(text, frac_bits, name="text"):
    """A decimal string to the nearest int v / 2**frac_bits (rounded half up); ValueError naming it."""
    return tinyrnn._once("_fixed", "parse_fixed", text, frac_bits, name)


def isqrt(n):
    """floor(sqrt(n)) of an int n >= 0, exactly."""
    return tinyrnn._once("_fixed", "isqrt", n)


def from_str(text):
    """Parse a decimal like '-1.25', '3', '.5' or '+0.703125' to the nearest Q8.8 int.

    Rounds half up; raises ValueError naming the text if it does not parse
    or lies outside [-128, 127.99609375].
    """
    q = parse_fixed(text, FRAC_BITS)
    if q < MIN or q > MAX:
        raise ValueError("from_str: %r is outside Q8.8 range [-128, 127.99609375]" % text)
    return q
