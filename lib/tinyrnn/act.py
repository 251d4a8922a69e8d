# Activation functions on Q8.8 ints: sigmoid, tanh, and exp (for softmax).
# Integer lookup tables with linear interpolation; tables come from
# tools/gen_tables.py (lib/tinyrnn/_tables.py). Spec: docs/arithmetic.md.
# Inputs are not range-checked here (hot path); callers pass Q8.8 ints.

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

from ._tables import SIGMOID, TANH, EXP2

# sigmoid and tanh: table step 1/16 (16 raw units), entries scaled by 2^15.
# v = T[j] * 16 + (T[j+1] - T[j]) * r is the value scaled by 2^19; >> 11 gives Q8.8.
_SIG_END = const(2048)      # 8.0: sigmoid(x >= 8) rounds to 1.0 (256)
_TANH_END = const(1024)     # 4.0: tanh(x >= 4) rounds to 1.0 (256)
_LERP_ROUND = const(1024)   # 2^10, half of the final >> 11

# exp: exp(x) = 2^(x * log2 e). log2(e) scaled by 2^18, so q * _LOG2E is
# the exponent scaled by 2^26; EXP2[j] = 2^(j/64) scaled by 2^15.
_LOG2E = const(378194)
_EXP_HI = const(1280)       # 5.0: exp(x > 5) > 128 saturates
_EXP_LO = const(-1792)      # -7.0: exp(x < -7) * 256 < 0.5 rounds to 0


def sigmoid(q):
    """1 / (1 + e^-x) of a Q8.8 int, as a Q8.8 int in [0, 256]."""
    x = -q if q < 0 else q
    if x >= _SIG_END:
        s = 256
    else:
        j = x >> 4
        a = SIGMOID[j]
        s = (a * 16 + (SIGMOID[j + 1] - a) * (x & 15) + _LERP_ROUND) >> 11
    return 256 - s if q < 0 else s


def tanh(q):
    """tanh(x) of a Q8.8 int, as a Q8.8 int in [-256, 256]."""
    x = -q if q < 0 else q
    if x >= _TANH_END:
        t = 256
    else:
        j = x >> 4
        a = TANH[j]
        t = (a * 16 + (TANH[j + 1] - a) * (x & 15) + _LERP_ROUND) >> 11
    return -t if q < 0 else t


def exp(q):
    """e^x of a Q8.8 int, as a Q8.8 int, saturated at 32767."""
    if q > _EXP_HI:
        return 32767
    if q < _EXP_LO:
        return 0
    y = q * _LOG2E              # exponent in base 2, scaled by 2^26; |y| < 2^30
    k = y >> 26                 # integer part (floor), -11..7
    g = y & 0x3FFFFFF           # fraction, 26 bits
    j = g >> 20                 # segment 0..63
    r = (((g & 0xFFFFF) >> 9) + 1) >> 1   # position in the segment, 0..1024 (rounded)
    a = EXP2[j]
    v = (a << 10) + (EXP2[j + 1] - a) * r     # 2^(fraction) scaled by 2^25
    sh = 17 - k                 # value * 2^k * 2^8 / 2^25
    v = (v + (1 << (sh - 1))) >> sh
    return 32767 if v > 32767 else v
