"""Optimizers on int64 arrays: mirrors lib/tinyrnn/optim.py (spec: docs/arithmetic.md, 7).

Master weights w and gradients g are Q.16, hyperparameters Q.16 ints,
second moments Q.24, optimizer state saturated at +-S. Every update is applied
to the whole flat array at once. int64 holds every product exactly, so r16(a * b)
is computed directly (lib splits it to stay below 2^30; the integer is the same).

Hyperparameters are checked by the board's own constructors (same ranges, same
messages) before the mirror parses them.
"""
import math

import numpy as np

from .check import board, check_int

ONE16 = 65536
S = 2**29 - 1        # optimizer state and normalised steps saturate at +-S
WMAX = 2**23 - 1


def parse_q16(value):
    """A hyperparameter: decimal string -> nearest Q.16 int (round half up), or a raw int."""
    if isinstance(value, str):
        from .q88 import _DECIMAL
        m = _DECIMAL.fullmatch(value.strip())
        sign, ip, fp = m.group(1), m.group(2), m.group(3) or ""
        num = int(ip + fp) * (-1 if sign == "-" else 1)
        den = 10 ** len(fp)
        return (2 * num * ONE16 + den) // (2 * den)
    return int(value)


def r16(v):
    return (v + 32768) >> 16


def sat(v, lim=S):
    return np.clip(v, -lim, lim)


def sq8(g):
    """min(S, r8(g^2)): Q.24 squares of Q.16 values."""
    g = np.asarray(g, np.int64)
    a = np.minimum(np.abs(g), 2**20)            # beyond 2^20 the square is far past the cap anyway
    return np.minimum((a * a + 128) >> 8, S)


def isqrt(v):
    """Exact floor(sqrt(v)) of a non-negative int64 array."""
    v = np.asarray(v, np.int64)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > v, r - 1, r)
    r = np.where(r * r > v, r - 1, r)
    r = np.where((r + 1) * (r + 1) <= v, r + 1, r)
    return r


def div_round(num, den):
    """floor(num / den + 1/2) for den > 0."""
    return (2 * num + den) // (2 * den)


def step_ratio(m, d):
    """sat(round(m * 4096 / d)): the normalised step, Q.16."""
    return sat(div_round(m * 4096, d))


class SGD:
    def __init__(self, lr="0.01"):
        board("tinyrnn.optim").SGD(lr)
        self.lr = parse_q16(lr)

    def bind(self, n):
        pass

    def step(self, w, g):
        return w - r16(self.lr * g)


class Momentum:
    def __init__(self, lr="0.01", momentum="0.9"):
        board("tinyrnn.optim").Momentum(lr, momentum)
        self.lr, self.mu = parse_q16(lr), parse_q16(momentum)

    def bind(self, n):
        self.v = np.zeros(n, np.int64)

    def step(self, w, g):
        self.v = sat(r16(self.mu * self.v) + g)
        return w - r16(self.lr * self.v)


class RMSprop:
    def __init__(self, lr="0.01", alpha="0.99", eps="0.000244140625"):
        board("tinyrnn.optim").RMSprop(lr, alpha, eps)
        self.lr, self.alpha, self.eps = parse_q16(lr), parse_q16(alpha), parse_q16(eps) >> 4

    def bind(self, n):
        self.s = np.zeros(n, np.int64)

    def step(self, w, g):
        self.s = self.s + r16((ONE16 - self.alpha) * (sq8(g) - self.s))
        return w - r16(self.lr * step_ratio(g, isqrt(self.s) + self.eps))


class Adam:
    """w -= a_t * m / (sqrt(v) + eps_t), a_t = min(1, lr sqrt(1 - b2^t) / (1 - b1^t)), eps_t = eps sqrt(1 - b2^t)."""

    def __init__(self, lr="0.001", beta1="0.9", beta2="0.999", eps="0.000244140625"):
        board("tinyrnn.optim").Adam(lr, beta1, beta2, eps)
        self.lr, self.b1, self.b2 = parse_q16(lr), parse_q16(beta1), parse_q16(beta2)
        self.eps = parse_q16(eps) >> 4

    def bind(self, n):
        self.m = np.zeros(n, np.int64)
        self.v = np.zeros(n, np.int64)
        self.b1t = self.b2t = ONE16

    def step(self, w, g):
        b1, b2 = self.b1, self.b2
        self.b1t = r16(self.b1t * b1)
        self.b2t = r16(self.b2t * b2)
        k1 = ONE16 - self.b1t
        k2 = ONE16 - self.b2t
        s2 = ONE16 if k2 >= ONE16 else math.isqrt(k2 << 14) << 1
        a = min(ONE16, S, div_round(r16(self.lr * s2) << 16, k1))
        eps = max(1, r16(self.eps * s2))
        self.m = self.m + r16((ONE16 - b1) * (g - self.m))
        self.v = self.v + r16((ONE16 - b2) * (sq8(g) - self.v))
        return w - r16(a * step_ratio(self.m, isqrt(self.v) + eps))


class StepDecay:
    def __init__(self, every, gamma="0.5"):
        board("tinyrnn.optim").StepDecay(every, gamma)
        self.every, self.gamma = every, parse_q16(gamma)

    def lr(self, lr0, epoch):
        check_int(lr0, "lr0", 1, ONE16)
        check_int(epoch, "epoch", 0)
        lr = lr0
        for _ in range(epoch // self.every):
            lr = r16(lr * self.gamma)
        return max(lr, 1)


class ExpDecay(StepDecay):
    def __init__(self, gamma="0.95"):
        board("tinyrnn.optim").ExpDecay(gamma)
        super().__init__(1, gamma)
