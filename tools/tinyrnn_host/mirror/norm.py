"""Input normalisation, vectorised: mirrors lib/tinyrnn/norm.py (spec: docs/weights-format.md).

    n = Norm(offset, mul, shift)     # one int per channel each
    x = n.apply(raw)                 # raw (..., C) ints in [-32768, 32767] -> Q8.8 int64 (..., C)

x = sat16(((raw - offset) * mul + round) >> shift), round = 2^(shift-1) (0 for shift 0).
"""
import numpy as np

MAX_MUL = 16383
MAX_SHIFT = 16


class Norm:
    """Per-channel offset (int16), mul (0..16383) and shift (0..16)."""

    def __init__(self, offset, mul, shift):
        self.offset = np.asarray(offset, dtype=np.int64).reshape(-1)
        self.mul = np.asarray(mul, dtype=np.int64).reshape(-1)
        self.shift = np.asarray(shift, dtype=np.int64).reshape(-1)
        n = len(self.offset)
        if n < 1 or len(self.mul) != n or len(self.shift) != n:
            raise ValueError("norm: offset, mul and shift need one value per channel, got %d, %d, %d"
                             % (n, len(self.mul), len(self.shift)))
        for name, v, lo, hi in (("offset", self.offset, -32768, 32767), ("mul", self.mul, 0, MAX_MUL),
                                ("shift", self.shift, 0, MAX_SHIFT)):
            bad = np.flatnonzero((v < lo) | (v > hi))
            if len(bad):
                raise ValueError("norm: %s[%d]=%d is outside %d..%d" % (name, bad[0], v[bad[0]], lo, hi))

    @property
    def n(self):
        return len(self.offset)

    def apply(self, raw):
        """raw (..., C) ints in [-32768, 32767] -> the Q8.8 inputs, int64 (..., C), as the board's
        Norm.apply computes them; floats, the wrong channel count and out-of-range values are refused."""
        raw = np.asarray(raw)
        if not np.issubdtype(raw.dtype, np.integer) or raw.dtype == np.bool_:
            raise TypeError("norm: raw values must be ints, got %s" % raw.dtype)
        raw = raw.astype(np.int64)
        if raw.shape[-1:] != (self.n,):
            raise ValueError("norm: raw values have %s channels, the model takes %d" % (raw.shape[-1:], self.n))
        if raw.size and (raw.min() < -32768 or raw.max() > 32767):
            raise ValueError("norm: raw values outside [-32768, 32767]")
        rnd = np.where(self.shift > 0, np.left_shift(1, np.maximum(self.shift - 1, 0)), 0)
        v = ((raw - self.offset) * self.mul + rnd) >> self.shift
        return np.clip(v, -32768, 32767)

    def __eq__(self, other):
        return (isinstance(other, Norm) and np.array_equal(self.offset, other.offset)
                and np.array_equal(self.mul, other.mul) and np.array_equal(self.shift, other.shift))

    def __repr__(self):
        return "Norm(offset=%s, mul=%s, shift=%s)" % (self.offset.tolist(), self.mul.tolist(), self.shift.tolist())
