# Input normalisation: raw sensor integers -> the Q8.8 inputs a model was trained on.
# Spec: docs/weights-format.md ("Normalisation"), 32-bit bound in docs/arithmetic.md 9.
#
#     model = weights.load("motion.bin")     # a version-2 file carries model.norm
#     x = model.norm.apply(raw)             # raw: one int per channel, in [-32768, 32767]
#     y = model.step(x)
#
# Per channel c:  x[c] = sat16(((raw[c] - offset[c]) * mul[c] + round) >> shift[c])
# with round = 2^(shift-1) (half up; 0 when shift is 0). The host fits offset, mul
# and shift on training data (tinyrnn_host.interop.normalise) and the mirror applies
# the same integers. |raw - offset| <= 65535 and mul <= 16383 keep every
# intermediate below 2^30: a small int on a 32-bit board. apply() allocates nothing.
from ._cell import zeros

MAX_MUL = 16383
MAX_SHIFT = 16


class Norm:
    """Per-channel offset, multiplier and shift; see the module comment."""

    def __init__(self, offset, mul, shift):
        n = len(offset)
        if n < 1 or len(mul) != n or len(shift) != n:
            raise ValueError("norm: offset, mul and shift need one value per channel, got %d, %d, %d"
                             % (n, len(mul), len(shift)))
        for c in range(n):
            _check("offset", c, offset[c], -32768, 32767)
            _check("mul", c, mul[c], 0, MAX_MUL)
            _check("shift", c, shift[c], 0, MAX_SHIFT)
        self.offset = zeros("h", n)
        self.mul = zeros("h", n)
        self.shift = bytearray(n)
        for c in range(n):
            self.offset[c] = offset[c]
            self.mul[c] = mul[c]
            self.shift[c] = shift[c]
        self.out = zeros("h", n)        # apply() writes here: copy it to keep it

    @property
    def n(self):
        return len(self.out)

    def apply(self, raw):
        """The Q8.8 inputs for one step of raw channel values (the `out` buffer, reused)."""
        n = len(self.out)
        if len(raw) != n:
            raise ValueError("norm: got %d raw values, the model takes %d channels" % (len(raw), n))
        off = self.offset
        mul = self.mul
        sh = self.shift
        out = self.out
        for c in range(n):
            r = raw[c]
            if type(r) is not int or r < -32768 or r > 32767:
                _bad_raw(c, r)
        for c in range(n):
            s = sh[c]
            v = (raw[c] - off[c]) * mul[c]
            if s:
                v = (v + (1 << (s - 1))) >> s
            out[c] = -32768 if v < -32768 else (32767 if v > 32767 else v)
        return out

    def __eq__(self, other):
        return (isinstance(other, Norm) and list(self.offset) == list(other.offset)
                and list(self.mul) == list(other.mul) and list(self.shift) == list(other.shift))


def _check(name, c, v, lo, hi):
    if type(v) is not int:
        raise TypeError("norm: %s[%d] must be an int, got %s" % (name, c, type(v).__name__))
    if v < lo or v > hi:
        raise ValueError("norm: %s[%d]=%d is outside %d..%d" % (name, c, v, lo, hi))


def _bad_raw(c, r):
    if type(r) is not int:
        raise TypeError("norm: raw[%d] must be an int, got %s" % (c, type(r).__name__))
    raise ValueError("norm: raw[%d]=%d is outside [-32768, 32767]" % (c, r))
