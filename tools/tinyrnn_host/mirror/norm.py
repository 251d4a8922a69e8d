"""Input normalisation, vectorised: mirrors lib/tinyrnn/norm.py (spec: docs/weights-format.md).

    n = Norm(offset, mul, shift)     # one int per channel each
    x = n.apply(raw)                 # raw (..., C) ints in [-32768, 32767] -> Q8.8 int64 (..., C)

x = sat16(((raw - offset) * mul + round) >> shift), round = 2^(shift-1) (0 for shift 0).
"""
import numpy as np

from .check import q88_array

MAX_MUL = 16383
MAX_SHIFT = 16


class Norm:
    """Per-channel offset (int16), mul (0..16383) and shift (0..16)."""

    def __init__(self, offset, mul, shift):
        sizes = [len(v) if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) == 1 else -1
                 for v in (offset, mul, shift)]
        if sizes[0] < 1 or sizes[1] != sizes[0] or sizes[2] != sizes[0]:
            raise ValueError("norm: offset, mul and shift need one value per channel, got %d, %d, %d"
                             % tuple(sizes))
        # the board's messages: "norm: mul[1] must be an int, got float", "norm: mul[1]=20000 is outside 0..16383"
        self.offset = q88_array(offset, "norm: offset", (None,), -32768, 32767, "an int")
        self.mul = q88_array(mul, "norm: mul", (None,), 0, MAX_MUL, "an int")
        self.shift = q88_array(shift, "norm: shift", (None,), 0, MAX_SHIFT, "an int")

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
            at = tuple(int(i) for i in np.argwhere((raw < -32768) | (raw > 32767))[0])
            raise ValueError("norm: raw values outside [-32768, 32767]: raw%s=%d"
                             % ("".join("[%d]" % i for i in at), raw[at]))
        rnd = np.where(self.shift > 0, np.left_shift(1, np.maximum(self.shift - 1, 0)), 0)
        v = ((raw - self.offset) * self.mul + rnd) >> self.shift
        return np.clip(v, -32768, 32767)

    def __eq__(self, other):
        return (isinstance(other, Norm) and np.array_equal(self.offset, other.offset)
                and np.array_equal(self.mul, other.mul) and np.array_equal(self.shift, other.shift))

    def __repr__(self):
        return "Norm(offset=%s, mul=%s, shift=%s)" % (self.offset.tolist(), self.mul.tolist(), self.shift.tolist())
