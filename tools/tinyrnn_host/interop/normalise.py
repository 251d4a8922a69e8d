"""Fit the input normalisation a model carries in its weights file (docs/weights-format.md).

    raw = to_raw(series, per_unit=512)     # what the board's sensor driver hands over: int16 counts
    norm = fit(raw)                        # per channel: (raw - mean) / std, in Q8.8
    x = norm.apply(raw)                    # Q8.8 model inputs, bit for bit what the board computes
    weights_io.save(desc, params, "m.bin", norm=norm)

The board runs x = sat16(((raw - offset) * mul + round) >> shift) per channel
(lib/tinyrnn/norm.py), integers only. fit() picks offset = the channel's mean and
mul / 2^shift = target / std with the largest shift (most precision) that keeps
mul <= 16383, so the relative error of the scale is below 2^-13 unless the wanted
scale is tiny or huge (then it is clamped to the nearest the format holds).
"""
import numpy as np

from ..mirror.norm import MAX_MUL, MAX_SHIFT, Norm


def to_raw(values, per_unit):
    """Float readings (any shape) as int16 counts: floor(v * per_unit + 1/2), saturated."""
    v = np.floor(np.asarray(values, dtype=np.float64) * per_unit + 0.5)
    return np.clip(v, -32768, 32767).astype(np.int64)


def _stack(raw):
    """(N, C) int64 from one array (..., C) or a list of (T, C) arrays of different lengths."""
    if isinstance(raw, (list, tuple)):
        raw = np.concatenate([np.asarray(r) for r in raw])
    raw = np.asarray(raw)
    if raw.ndim < 2 or raw.shape[-1] < 1 or raw.size == 0:
        raise ValueError("raw: expected training data shaped (..., channels), got shape %s" % (raw.shape,))
    if not np.issubdtype(raw.dtype, np.integer):
        raise TypeError("raw: the board's raw values are ints (see to_raw), got %s" % raw.dtype)
    if raw.min() < -32768 or raw.max() > 32767:
        raise ValueError("raw: values outside int16 [-32768, 32767]")
    return raw.reshape(-1, raw.shape[-1]).astype(np.int64)


def scale_to_mul_shift(scale):
    """(mul, shift) with mul / 2^shift closest to `scale` (>= 0) for the largest shift that fits."""
    if not scale > 0:
        return 0, 0
    for shift in range(MAX_SHIFT, -1, -1):
        mul = int(np.floor(scale * 2 ** shift + 0.5))
        if mul <= MAX_MUL:
            return mul, shift
    return MAX_MUL, 0


def fit(raw, target=1.0, mode="std"):
    """A Norm for training data `raw` (ints, (..., C) or a list of (T, C) arrays).

    mode "std": (raw - mean) / std * target; "range": the channel's [min, max] onto
    [-target, target]. target is in model units (1.0 = 256 in Q8.8). A constant
    channel gets mul 0 (it always reads 0)."""
    if mode not in ("std", "range"):
        raise ValueError("mode must be 'std' or 'range', got %r" % (mode,))
    if not target > 0:
        raise ValueError("target must be positive, got %r" % (target,))
    r = _stack(raw).astype(np.float64)
    if mode == "std":
        centre, spread = r.mean(axis=0), r.std(axis=0)
    else:
        lo, hi = r.min(axis=0), r.max(axis=0)
        centre, spread = (lo + hi) / 2, (hi - lo) / 2
    offset = np.clip(np.floor(centre + 0.5), -32768, 32767).astype(np.int64)
    pairs = [scale_to_mul_shift(256.0 * target / s if s > 0 else 0.0) for s in spread]
    return Norm(offset, [m for m, _ in pairs], [s for _, s in pairs])
