# Optimizers, integer only, on Q8.16 master weights. Training code: inference
# never imports it. Spec: docs/arithmetic.md, 7.
#
# Formats: master weights w and averaged gradients g are Q.16 (65536 = 1.0) in
# array('i'); hyperparameters are Q.16 ints, given as decimal strings
# ("0.01") or raw ints (655). r16(v) = (v + 32768) >> 16 rounds half up.
# Second moments (RMSprop, Adam) are Q.24, their square roots Q.12.
from ._fixed import isqrt, parse_fixed, zeros32

ONE16 = 65536


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
        raise ValueError("%s=%r is out of range" % (name, value))
    return v


class SGD:
    """w -= lr * g"""

    def __init__(self, lr="0.01"):
        self.lr = q16(lr, "lr", 1)

    def bind(self, n):
        pass

    def step(self, w, g, n):
        lr = self.lr
        for i in range(n):
            w[i] = _wclamp(w[i] - ((lr * g[i] + 32768) >> 16))


class Momentum:
    """SGD with momentum, as torch.optim.SGD: v = mu * v + g; w -= lr * v"""

    def __init__(self, lr="0.01", momentum="0.9"):
        self.lr = q16(lr, "lr", 1)
        self.mu = q16(momentum, "momentum", 0, ONE16 - 1)
        self.v = None

    def bind(self, n):
        self.v = zeros32(n)                     # Q.16

    def step(self, w, g, n):
        lr = self.lr
        d = ONE16 - self.mu
        v = self.v
        for i in range(n):
            vi = v[i]
            # r16(mu * v) computed as v + r16(-(1 - mu) * v): the same integer, small products
            m = vi + ((32768 - d * vi) >> 16) + g[i]
            v[i] = _sat32(m)
            w[i] = _wclamp(w[i] - ((lr * m + 32768) >> 16))


class RMSprop:
    """As torch.optim.RMSprop: s = alpha * s + (1 - alpha) * g^2; w -= lr * g / (sqrt(s) + eps)"""

    def __init__(self, lr="0.01", alpha="0.99", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1)
        self.alpha = q16(alpha, "alpha", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16) >> 4     # Q.12, at least 1/4096
        self.s = None

    def bind(self, n):
        self.s = zeros32(n)                     # Q.24

    def step(self, w, g, n):
        lr = self.lr
        a = self.alpha
        b = ONE16 - a
        eps = self.eps
        s = self.s
        for i in range(n):
            gi = g[i]
            si = s[i]
            v = si + ((32768 - b * si) >> 16) + ((b * ((gi * gi + 128) >> 8) + 32768) >> 16)
            v = _sat32(v)
            s[i] = v
            d = 16 * (isqrt(v) + eps)               # sqrt(s) in Q.12, times 16: Q.16 units
            w[i] = _wclamp(w[i] - (2 * lr * gi + d) // (2 * d))   # lr * g / den, rounded half up, Q.16


class Adam:
    """As torch.optim.Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t).

    Computed in the equivalent form w -= a_t * m / (sqrt(v) + eps_t) with
    a_t = lr * sqrt(1 - b2^t) / (1 - b1^t) and eps_t = eps * sqrt(1 - b2^t),
    both once per step, so no per-weight value outgrows a small int."""

    def __init__(self, lr="0.001", beta1="0.9", beta2="0.999", eps="0.000244140625"):
        self.lr = q16(lr, "lr", 1)
        self.b1 = q16(beta1, "beta1", 0, ONE16 - 1)
        self.b2 = q16(beta2, "beta2", 0, ONE16 - 1)
        self.eps = q16(eps, "eps", 16) >> 4     # Q.12, at least 1/4096
        self.m = None
        self.v = None

    def bind(self, n):
        self.m = zeros32(n)                     # Q.16
        self.v = zeros32(n)                     # Q.24
        self.b1t = ONE16                        # b1^t, Q.16
        self.b2t = ONE16

    def step(self, w, g, n):
        c1 = ONE16 - self.b1
        c2 = ONE16 - self.b2
        b1t = self.b1t                          # b^t <- r16(b^t * b), as b^t + r16(-(1 - b) * b^t)
        b2t = self.b2t
        self.b1t = b1t + ((32768 - c1 * b1t) >> 16)
        self.b2t = b2t + ((32768 - c2 * b2t) >> 16)
        k1 = ONE16 - self.b1t                   # 1 - b1^t, Q.16
        k2 = ONE16 - self.b2t
        # sqrt(1 - b2^t) in Q.16 from a Q.15 root: k2 << 14 stays a small int
        s2 = ONE16 if k2 >= ONE16 else isqrt(k2 << 14) << 1
        a = (2 * self.lr * s2 + k1) // (2 * k1)             # a_t, Q.16
        eps = max(1, (self.eps * s2 + 32768) >> 16)         # eps_t, Q.12, at least 1/4096
        m = self.m
        v = self.v
        for i in range(n):
            gi = g[i]
            mi = m[i]
            vi = v[i]
            # r16(b * x) as x + r16(-(1 - b) * x): the same integer, small products
            mi = _sat32(mi + ((32768 - c1 * mi) >> 16) + ((c1 * gi + 32768) >> 16))
            vi = _sat32(vi + ((32768 - c2 * vi) >> 16) + ((c2 * ((gi * gi + 128) >> 8) + 32768) >> 16))
            m[i] = mi
            v[i] = vi
            d = 16 * (isqrt(vi) + eps)
            w[i] = _wclamp(w[i] - (2 * a * mi + d) // (2 * d))


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
            lr = (lr * self.gamma + 32768) >> 16
        return max(lr, 1)


class ExpDecay(StepDecay):
    """lr = lr0 * gamma^epoch."""

    def __init__(self, gamma="0.95"):
        StepDecay.__init__(self, 1, gamma)


def _wclamp(v):
    # master weights stay within the Q8.8 range, in Q8.16: [-2^23, 2^23 - 1]
    return -8388608 if v < -8388608 else (8388607 if v > 8388607 else v)


def _sat32(v):
    # optimizer state saturates at +-(2^30 - 1): small ints, no allocation on a board
    return -1073741823 if v < -1073741823 else (1073741823 if v > 1073741823 else v)
