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
# is one product while |b| <= lim16(a), else mul16 (three 10-bit pieces);
# every division keeps its numerator below 2^30. A board never makes a long int here.
from ._fit import check_flag, check_int, q16  # noqa: F401 (also part of this module's API)
from ._cell import zeros
from ._fixed import isqrt

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

ONE16 = const(65536)


def mul16(a, b):
    """r16(a * b) = floor(a * b / 65536 + 1/2), exact, for 0 <= a <= 65536 and |b| <= 2^30 - 1,
    with every intermediate below 2^30: b is taken in three pieces of 10 bits (hot loops
    inline this, with the one-product shortcut for |b| < 2^14)."""
    if -16384 < b < 16384:
        return (a * b + 32768) >> 16
    return ((a * (b >> 20)) << 4) + ((a * ((b >> 10) & 1023) + ((a * (b & 1023) + 32768) >> 10)) >> 6)


def div_round(n, shift, d):
    """min(2^29 - 1, floor(n * 2^shift / d + 1/2)) for 0 <= n <= 2^30 - 1 and 1 <= d <= 2^16,
    by long division 8 bits at a time, so no intermediate passes 2^30."""
    q = n // d
    r = n - q * d
    k = shift + 1                   # y = floor(n * 2^(shift+1) / d); the result is ceil(y / 2)
    while k:
        t = 8 if k > 8 else k
        if q > (1073741823 >> t):
            return 536870911
        r <<= t
        qq = r // d
        q = (q << t) + qq
        r -= qq * d
        k -= t
    q = (q >> 1) + (q & 1)
    return 536870911 if q > 536870911 else q


# ---- the optimizers ---------------------------------------------------------
# An optimizer step is prepare() (checks and this step's scalars: may raise, changes
# nothing) then apply() (the kernel loop, then the step's scalars committed: cannot
# raise). step() is both; Trainer.update() runs its own kernels between the two.

class SGD:
    """w -= lr * g"""

    STATE = 0                                   # int32 state arrays of n values that bind() allocates

    def __init__(self, lr="0.01"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.k = None                           # the kernels, set by bind()

    def bind(self, n, k):
        self.k = k                              # the kernels: bytecode or viper (kernels.py)

    def prepare(self):
        check_int(self.lr, "lr", 1, ONE16)      # a program may have set it (a schedule does)

    def step(self, w, g, n):
        self.prepare()
        self.apply(w, g, n)

    def apply(self, w, g, n):
        self.k.sgd_update(w, g, n, self.lr)


class Momentum(SGD):
    """SGD with momentum, as torch.optim.SGD: v = mu * v + g; w -= lr * v"""

    STATE = 1

    def __init__(self, lr="0.01", momentum="0.9"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.k = None                           # the kernels, set by bind()
        self.mu = q16(momentum, "momentum", 0, ONE16 - 1)
        self.v = None

    def bind(self, n, k):
        v = zeros("i", n)                       # Q.16
        self.k = k
        self.v = v

    def apply(self, w, g, n):
        self.k.momentum_update(w, g, self.v, n, self.lr, self.mu)


class RMSprop(SGD):
    """As torch.optim.RMSprop: s = alpha * s + (1 - alpha) * g^2; w -= lr * g / (sqrt(s) + eps).

    The mean square is updated as s += (1 - alpha)(g^2 - s): one product, one rounding."""

    STATE = 1

    def __init__(self, lr="0.01", alpha="0.99", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.k = None                           # the kernels, set by bind()
        self.alpha = q16(alpha, "alpha", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16, ONE16) >> 4     # Q.12, 1/4096 .. 1.0
        self.s = None

    def bind(self, n, k):
        s = zeros("i", n)                       # Q.24
        self.k = k
        self.s = s

    def apply(self, w, g, n):
        self.k.rmsprop_update(w, g, self.s, n, self.lr, ONE16 - self.alpha, self.eps)


class Adam(SGD):
    """As torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Computed in the equivalent form w -= a_t * m / (sqrt(v) + eps_t) with
    a_t = lr * sqrt(1 - b2^t) / (1 - b1^t) (capped at 1.0) and eps_t = eps * sqrt(1 - b2^t),
    both once per step; the moments as m += (1 - b1)(g - m), v += (1 - b2)(g^2 - v)."""

    STATE = 2

    def __init__(self, lr="0.001", beta1="0.9", beta2="0.999", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1, ONE16)
        self.k = None                           # the kernels, set by bind()
        self.b1 = q16(beta1, "beta1", 0, ONE16 - 1)
        self.b2 = q16(beta2, "beta2", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16, ONE16) >> 4     # Q.12, 1/4096 .. 1.0
        self.m = None
        self.v = None
        # b^t, and the next step's b1^t, b2^t, a_t, eps_t (set by prepare(), committed by apply()):
        # every attribute exists before bind, so binding or stepping never grows the dict
        self.b1t = self.b2t = ONE16
        self._b1t = self._b2t = self._a = self._eps = 0

    def bind(self, n, k):
        m = zeros("i", n)                       # Q.16 (both allocated before either is kept)
        v = zeros("i", n)                       # Q.24
        self.k = k
        self.m = m
        self.v = v
        self.b1t = ONE16                        # b1^t, Q.16
        self.b2t = ONE16

    def prepare(self):
        check_int(self.lr, "lr", 1, ONE16)
        b1t = mul16(self.b1, self.b1t)
        b2t = mul16(self.b2, self.b2t)
        k1 = ONE16 - b1t                        # 1 - b1^t, Q.16, >= 1
        k2 = ONE16 - b2t
        # sqrt(1 - b2^t) in Q.16 from a Q.15 root: k2 << 14 stays a small int
        s2 = ONE16 if k2 >= ONE16 else isqrt(k2 << 14) << 1
        a = div_round(mul16(self.lr, s2), 16, k1)           # a_t, Q.16
        eps = (self.eps * s2 + 32768) >> 16                 # eps_t, Q.12, at least 1/4096
        self._b1t = b1t
        self._b2t = b2t
        self._a = ONE16 if a > ONE16 else a
        self._eps = 1 if eps < 1 else eps

    def apply(self, w, g, n):
        self.k.adam_update(w, g, self.m, self.v, n, self._a, ONE16 - self.b1, ONE16 - self.b2, self._eps)
        self.b1t = self._b1t
        self.b2t = self._b2t


class StepDecay:
    """lr = lr0 * gamma^(epoch // every): multiply by gamma (rounded) at every `every`-th epoch."""

    def __init__(self, every, gamma="0.5"):
        check_int(every, "every", 1)
        self.every = every
        self.gamma = q16(gamma, "gamma", 0, ONE16)

    def lr(self, lr0, epoch):
        """The learning rate (Q.16) of epoch `epoch` (0, 1, ...) for a starting lr0 (Q.16)."""
        check_int(lr0, "lr0", 1, ONE16)
        check_int(epoch, "epoch", 0)
        lr = lr0
        for _ in range(epoch // self.every):
            lr = mul16(self.gamma, lr)
        return max(lr, 1)


class ExpDecay(StepDecay):
    """lr = lr0 * gamma^epoch."""

    def __init__(self, gamma="0.95"):
        StepDecay.__init__(self, 1, gamma)
