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
import tinyrnn
from ._cell import bad_type, zeros

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

ONE16 = const(65536)


def __getattr__(name):
    # Momentum, RMSprop, StepDecay and ExpDecay are _optim.py's, loaded with the first of them a
    # program imports (and kept: the same classes each time), so that a program training with
    # SGD or Adam does not keep their code in the heap (1.4 KB on the Cortex-M3, .mpy files).
    # check_int, check_flag and q16 (the argument checks of training code, part of this
    # module's API) are _args.py's: code run at construction, loaded for the lookup only.
    if name in ("Momentum", "RMSprop", "StepDecay", "ExpDecay"):
        from . import _optim
        return getattr(_optim, name)
    return tinyrnn._once("_args", "get", name)


def _q16s(*args):
    # the hyperparameters (value, name, lo, hi), ... as Q.16 ints, checked: _fixed.q16s, loaded
    # for the call (an optimizer keeps only the code of its steps in the heap)
    return tinyrnn._once("_fixed", "q16s", *args)


def _lr(v, name="lr"):
    # a learning rate a program may have set (a schedule does): _args.check_int's errors, raised
    # here (an update refused for a bad lr needs no heap for a module)
    if type(v) is not int:
        bad_type(name, "an int", v)
    if v < 1 or v > ONE16:
        raise ValueError("%s=%d is out of range 1..65536" % (name, v))


def isqrt(n):
    """floor(sqrt(n)) for an int n >= 0, integer only (Newton's method): _fixed.isqrt's
    steps, here for the trainer, the optimizers and the update kernels without the rest of
    _fixed (1.4 KB of heap on the Cortex-M3 with .mpy files)."""
    if n < 2:
        return n
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


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
        self.lr = _q16s(lr, "lr", 1, ONE16)[0]
        self.k = None                           # the kernels, set by bind()

    def bind(self, n, k):
        self.k = k                              # the kernels: bytecode or viper (kernels.py)

    def prepare(self):
        _lr(self.lr)                            # a program may have set it (a schedule does)

    def step(self, w, g, n):
        self.prepare()
        self.apply(w, g, n)

    def apply(self, w, g, n):
        self.k.sgd_update(w, g, n, self.lr)


class Adam(SGD):
    """As torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Computed in the equivalent form w -= a_t * m / (sqrt(v) + eps_t) with
    a_t = lr * sqrt(1 - b2^t) / (1 - b1^t) (capped at 1.0) and eps_t = eps * sqrt(1 - b2^t),
    both once per step; the moments as m += (1 - b1)(g - m), v += (1 - b2)(g^2 - v)."""

    STATE = 2

    def __init__(self, lr="0.001", beta1="0.9", beta2="0.999", eps="0.000244140625"):
        self.lr, self.b1, self.b2, eps = _q16s(lr, "lr", 1, ONE16, beta1, "beta1", 0, ONE16 - 1,
                                               beta2, "beta2", 0, ONE16 - 1, eps, "eps", 16, ONE16)
        self.k = None                           # the kernels, set by bind()
        self.eps = eps >> 4                     # Q.12, 1/4096 .. 1.0
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
        _lr(self.lr)
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
