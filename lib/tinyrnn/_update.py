# The bytecode update kernels: the optimizers' per-weight loops and the trainer's
# update steps (mean, clip, decay, Q8.8 refresh), integer only. Their viper twins,
# same names and signatures, are in _viper_train.py; loaded only where they run.
# Spec: docs/arithmetic.md, 7 (the update) and 9 (every bound).
from .optim import isqrt, mul16

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

ONE16 = const(65536)
S = const(536870911)         # 2^29 - 1: optimizer state and normalised steps saturate here
_WMAX = const(8388607)       # master weights stay in [-2^23, 2^23 - 1]


def lim16(a):
    """The largest |b| for which a * b + 32768 is a small int: r16(a * b) is then one product."""
    return 1073709055 // a if a else S


def sq8(g):
    """min(S, r8(g^2)): the Q.24 square of a Q.16 value, exact below the cap, no product past 2^30."""
    if -32768 < g < 32768:
        return (g * g + 128) >> 8
    if g < 0:
        g = -g
    if g > 370727:                  # g^2 / 256 > 2^29 from here on
        return S
    h = g >> 8
    lo = g & 255
    v = ((h * h) << 8) + 2 * h * lo + ((lo * lo + 128) >> 8)
    return S if v > S else v


def step_ratio(m, d):
    """sat(round(m * 4096 / d)): a Q.16 value over a Q.12 one (1 <= d < 2^15 + 2^12), as
    Q.16; quotient and remainder keep every intermediate below 2^30."""
    q = m // d
    if q >= 131072:
        return S
    if q < -131072:
        return -S
    t = (q << 12) + (((m - q * d) * 8192 + d) // (2 * d))
    return -S if t < -S else (S if t > S else t)


# ---- the update kernels (bytecode; viper twins in _viper_train.py) -------------

def sgd_update(w, g, n, a):
    """w -= r16(a g). Every optimizer kernel also sets the gradients it consumed to 0."""
    la = lim16(a)
    for i in range(n):
        b = g[i]
        g[i] = 0                                # the gradient sums restart at 0 (consumed here)
        u = (a * b + 32768) >> 16 if -la <= b <= la else mul16(a, b)
        v = w[i] - u
        w[i] = -_WMAX - 1 if v < -_WMAX - 1 else (_WMAX if v > _WMAX else v)


def momentum_update(w, g, vel, n, a, mu):
    """vel = sat_S(r16(mu vel) + g); w -= r16(a vel)"""
    la = lim16(a)
    d = ONE16 - mu
    ld = lim16(d)
    for i in range(n):
        b = vel[i]
        # r16(mu v), as v + r16(-(1 - mu) v): the same integer, one small product
        m = b + ((32768 - d * b) >> 16) if -ld <= b <= ld else mul16(mu, b)
        m += g[i]
        g[i] = 0
        b = -S if m < -S else (S if m > S else m)
        vel[i] = b
        u = (a * b + 32768) >> 16 if -la <= b <= la else mul16(a, b)
        v = w[i] - u
        w[i] = -_WMAX - 1 if v < -_WMAX - 1 else (_WMAX if v > _WMAX else v)


def rmsprop_update(w, g, s, n, a, c, eps):
    """s += r16(c (sq(g) - s)); w -= r16(a ratio(g, isqrt(s) + eps)), c = 1 - alpha"""
    la = lim16(a)
    lc = lim16(c)
    for i in range(n):
        gi = g[i]
        g[i] = 0
        b = ((gi * gi + 128) >> 8 if -32768 < gi < 32768 else sq8(gi)) - s[i]
        v = s[i] + ((c * b + 32768) >> 16 if -lc <= b <= lc else mul16(c, b))
        s[i] = v
        t = step_ratio(gi, isqrt(v) + eps)
        u = (a * t + 32768) >> 16 if -la <= t <= la else mul16(a, t)
        v = w[i] - u
        w[i] = -_WMAX - 1 if v < -_WMAX - 1 else (_WMAX if v > _WMAX else v)


def adam_update(w, g, m, v, n, a, c1, c2, eps):
    """m += r16(c1 (g - m)); v += r16(c2 (sq(g) - v)); w -= r16(a ratio(m, isqrt(v) + eps))"""
    l1 = lim16(c1)
    l2 = lim16(c2)
    la = lim16(a)
    for i in range(n):
        gi = g[i]
        g[i] = 0
        b = gi - m[i]
        mi = m[i] + ((c1 * b + 32768) >> 16 if -l1 <= b <= l1 else mul16(c1, b))
        m[i] = mi
        b = ((gi * gi + 128) >> 8 if -32768 < gi < 32768 else sq8(gi)) - v[i]
        vi = v[i] + ((c2 * b + 32768) >> 16 if -l2 <= b <= l2 else mul16(c2, b))
        v[i] = vi
        t = step_ratio(mi, isqrt(vi) + eps)
        u = (a * t + 32768) >> 16 if -la <= t <= la else mul16(a, t)
        x = w[i] - u
        w[i] = -_WMAX - 1 if x < -_WMAX - 1 else (_WMAX if x > _WMAX else x)


def grad_mean(g, n, N, cv):
    """g = clamp((g + 8N) // (16N), -cv, cv): Q.20 sums to Q.16 means (cv 0: no clamp)."""
    half = 8 * N
    den = 16 * N
    for i in range(n):
        v = (g[i] + half) // den
        if cv:
            v = -cv if v < -cv else (cv if v > cv else v)
        g[i] = v


def max_abs(g, n):
    """max |g[i]|"""
    big = 0
    for i in range(n):
        v = g[i]
        v = -v if v < 0 else v
        if v > big:
            big = v
    return big


def sum_sq(g, n, s):
    """sum (|g[i]| >> s)^2 (the caller picks s so that it stays below 2^30)"""
    ss = 0
    for i in range(n):
        v = g[i]
        v = (-v if v < 0 else v) >> s
        ss += v * v
    return ss


def scale_q15(g, n, f):
    """g = r15(g f) for 0 <= f < 2^15: split so that no product passes 2^30"""
    for i in range(n):
        v = g[i]
        g[i] = (v >> 15) * f + (((v & 32767) * f + 16384) >> 15)


def add_decay(g, w, n, wd):
    """g += r16(wd w)"""
    for i in range(n):
        g[i] += mul16(wd, w[i])


def to_q88(p, w, n):
    """The model's Q8.8 weights from the Q8.16 masters (which stay in [-2^23, 2^23 - 1])."""
    for i in range(n):
        v = (w[i] + 128) >> 8
        p[i] = 32767 if v > 32767 else v


def from_q88(w, p, n):
    for i in range(n):
        w[i] = p[i] << 8
