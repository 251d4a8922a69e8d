# Optimizers, integer only, on Q8.16 master weights. Training code: inference
# never imports it. Spec: docs/arithmetic.md, 7.
#
# Formats: master weights w and averaged gradients g are Q.16 (65536 = 1.0) in
# array('i'); hyperparameters are Q.16 ints, given as decimal strings
# ("0.01") or raw ints (655). r16(v) = (v + 32768) >> 16 rounds half up.
# Second moments (RMSprop, Adam) are Q.24, their square roots Q.12; optimizer
# state and the normalised step g / sqrt(s) saturate at +-S = +-(2^29 - 1).
#
# 32-bit clean: r16(a * b) of a hyperparameter a <= 65536 and a value |b| < 2^30
# is one product while |b| <= lim16(a), else _fixed.mul16 (three 10-bit pieces);
# every division keeps its numerator below 2^30. A board never makes a long int here.
from ._cell import zeros
from ._fixed import div_round, fixed_str, isqrt, mul16, parse_fixed

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

ONE16 = const(65536)
S = const(536870911)         # 2^29 - 1: optimizer state and normalised steps saturate here
_WMAX = const(8388607)       # master weights stay in [-2^23, 2^23 - 1] (the Q8.8 range, in Q8.16)


def q16(value, name, lo=0, hi=None):
    """A hyperparameter as a Q.16 int, from a decimal string or a raw int, range-checked."""
    if type(value) is str:
        v = parse_fixed(value, 16)
    elif type(value) is int:
        v = value
    else:
        raise TypeError("%s must be a decimal string like '0.01' or a raw Q.16 int, got %s"
                        % (name, type(value).__name__))
    if v < lo or (hi is not None and v > hi):
        raise ValueError("%s=%r is out of range: %s .. %s" % (name, value, _dec(lo), "" if hi is None else _dec(hi)))
    return v


def _dec(v):
    # a Q.16 bound as short decimal text: 0.0000153 .. 1
    s = fixed_str(v, 16, 7)
    while s[-1] == "0":
        s = s[:-1]
    return s[:-1] if s[-1] == "." else s


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
    """w -= r16(a g)"""
    la = lim16(a)
    for i in range(n):
        b = g[i]
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


def zero32(g, n):
    for i in range(n):
        g[i] = 0


# ---- the optimizers ---------------------------------------------------------

class SGD:
    """w -= lr * g"""

    def __init__(self, lr="0.01"):
        self.lr = q16(lr, "lr", 1, ONE16)

    def bind(self, n, k):
        self.k = k                              # the kernels: bytecode or viper (kernels.py)

    def step(self, w, g, n):
        self.k.sgd_update(w, g, n, self.lr)


class Momentum:
    """SGD with momentum, as torch.optim.SGD: v = mu * v + g; w -= lr * v"""

    def __init__(self, lr="0.01", momentum="0.9"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.mu = q16(momentum, "momentum", 0, ONE16 - 1)
        self.v = None

    def bind(self, n, k):
        self.k = k
        self.v = zeros("i", n)                  # Q.16

    def step(self, w, g, n):
        self.k.momentum_update(w, g, self.v, n, self.lr, self.mu)


class RMSprop:
    """As torch.optim.RMSprop: s = alpha * s + (1 - alpha) * g^2; w -= lr * g / (sqrt(s) + eps).

    The mean square is updated as s += (1 - alpha)(g^2 - s): one product, one rounding."""

    def __init__(self, lr="0.01", alpha="0.99", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.alpha = q16(alpha, "alpha", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16, ONE16) >> 4     # Q.12, 1/4096 .. 1.0
        self.s = None

    def bind(self, n, k):
        self.k = k
        self.s = zeros("i", n)                  # Q.24

    def step(self, w, g, n):
        self.k.rmsprop_update(w, g, self.s, n, self.lr, ONE16 - self.alpha, self.eps)


class Adam:
    """As torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Computed in the equivalent form w -= a_t * m / (sqrt(v) + eps_t) with
    a_t = lr * sqrt(1 - b2^t) / (1 - b1^t) (capped at 1.0) and eps_t = eps * sqrt(1 - b2^t),
    both once per step; the moments as m += (1 - b1)(g - m), v += (1 - b2)(g^2 - v)."""

    def __init__(self, lr="0.001", beta1="0.9", beta2="0.999", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.b1 = q16(beta1, "beta1", 0, ONE16 - 1)
        self.b2 = q16(beta2, "beta2", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16, ONE16) >> 4     # Q.12, 1/4096 .. 1.0
        self.m = None
        self.v = None

    def bind(self, n, k):
        self.k = k
        self.m = zeros("i", n)                  # Q.16
        self.v = zeros("i", n)                  # Q.24
        self.b1t = ONE16                        # b1^t, Q.16
        self.b2t = ONE16

    def step(self, w, g, n):
        self.b1t = mul16(self.b1, self.b1t)
        self.b2t = mul16(self.b2, self.b2t)
        k1 = ONE16 - self.b1t                   # 1 - b1^t, Q.16, >= 1
        k2 = ONE16 - self.b2t
        # sqrt(1 - b2^t) in Q.16 from a Q.15 root: k2 << 14 stays a small int
        s2 = ONE16 if k2 >= ONE16 else isqrt(k2 << 14) << 1
        a = div_round(mul16(self.lr, s2), 16, k1)           # a_t, Q.16
        eps = (self.eps * s2 + 32768) >> 16                 # eps_t, Q.12, at least 1/4096
        self.k.adam_update(w, g, self.m, self.v, n, ONE16 if a > ONE16 else a,
                           ONE16 - self.b1, ONE16 - self.b2, 1 if eps < 1 else eps)


class StepDecay:
    """lr = lr0 * gamma^(epoch // every): multiply by gamma (rounded) at every `every`-th epoch."""

    def __init__(self, every, gamma="0.5"):
        if type(every) is not int or every < 1:
            raise ValueError("StepDecay: every must be an int >= 1")
        self.every = every
        self.gamma = q16(gamma, "gamma", 0, ONE16)

    def lr(self, lr0, epoch):
        lr = lr0
        for _ in range(epoch // self.every):
            lr = mul16(self.gamma, lr)
        return max(lr, 1)


class ExpDecay(StepDecay):
    """lr = lr0 * gamma^epoch."""

    def __init__(self, gamma="0.95"):
        StepDecay.__init__(self, 1, gamma)
