# The optimizers and schedules beyond SGD and Adam (optim.py): Momentum, RMSprop, StepDecay,
# ExpDecay, imported from tinyrnn.optim as the others are (optim.__getattr__ loads this module
# with the first of them a program asks for). Spec: docs/arithmetic.md, 7.
import tinyrnn
from ._cell import zeros
from .optim import ONE16, SGD, _lr, _q16s, mul16


class Momentum(SGD):
    """SGD with momentum, as torch.optim.SGD: v = mu * v + g; w -= lr * v"""

    STATE = 1

    def __init__(self, lr="0.01", momentum="0.9"):
        self.lr, self.mu = _q16s(lr, "lr", 1, ONE16, momentum, "momentum", 0, ONE16 - 1)
        self.k = None                           # the kernels, set by bind()
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
        self.lr, self.alpha, eps = _q16s(lr, "lr", 1, ONE16, alpha, "alpha", 0, ONE16 - 1, eps, "eps", 16, ONE16)
        self.k = None                           # the kernels, set by bind()
        self.eps = eps >> 4                     # Q.12, 1/4096 .. 1.0
        self.s = None

    def bind(self, n, k):
        s = zeros("i", n)                       # Q.24
        self.k = k
        self.s = s

    def apply(self, w, g, n):
        self.k.rmsprop_update(w, g, self.s, n, self.lr, ONE16 - self.alpha, self.eps)


class StepDecay:
    """lr = lr0 * gamma^(epoch // every): multiply by gamma (rounded) at every `every`-th epoch."""

    def __init__(self, every, gamma="0.5"):
        if type(every) is not int or every < 1:
            tinyrnn._once("_args", "check_int", every, "every", 1)
        self.every = every
        self.gamma = _q16s(gamma, "gamma", 0, ONE16)[0]

    def lr(self, lr0, epoch):
        """The learning rate (Q.16) of epoch `epoch` (0, 1, ...) for a starting lr0 (Q.16)."""
        _lr(lr0, "lr0")
        if type(epoch) is not int or epoch < 0:
            tinyrnn._once("_args", "check_int", epoch, "epoch", 0)
        lr = lr0
        for _ in range(epoch // self.every):
            lr = mul16(self.gamma, lr)
        return max(lr, 1)


class ExpDecay(StepDecay):
    """lr = lr0 * gamma^epoch."""

    def __init__(self, gamma="0.95"):
        StepDecay.__init__(self, 1, gamma)
