"""Float64 optimizers with PyTorch's update rules, updating a params dict in place.

One step, in this order, on the (already batch-averaged) gradient g of each parameter w:
  1. clip by value: g = clip(g, -clip_value, clip_value)                (torch.nn.utils.clip_grad_value_)
  2. clip by global norm over all parameters: g *= min(1, clip_norm / (||g|| + 1e-6))
                                                                         (torch.nn.utils.clip_grad_norm_)
  3. L2 weight decay: g = g + weight_decay * w                           (torch.optim's weight_decay)
  4. the rule, t = 1, 2, ... counting steps:
     SGD       w -= lr * g;  with momentum: v = momentum * v + g; w -= lr * v    (v starts at 0)
     RMSprop   s = alpha * s + (1 - alpha) * g^2;  w -= lr * g / (sqrt(s) + eps)
     Adam      m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g^2
               w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
Clipping comes first so that weight decay is never clipped away.
"""
import numpy as np


def clip_grads(grads, clip_value=None, clip_norm=None):
    """A new grads dict, clipped elementwise to +-clip_value, then to global L2 norm clip_norm."""
    out = {name: np.asarray(g, dtype=np.float64) for name, g in grads.items()}
    if clip_value is not None:
        out = {name: np.clip(g, -clip_value, clip_value) for name, g in out.items()}
    if clip_norm is not None:
        total = np.sqrt(sum(float((g * g).sum()) for g in out.values()))
        coef = min(1.0, clip_norm / (total + 1e-6))  # torch's formula, the 1e-6 included
        out = {name: g * coef for name, g in out.items()}
    return out


class Optimizer:
    """Shared part: clipping, weight decay, the step count; subclasses give update(name, w, g)."""

    def __init__(self, lr, weight_decay=0.0, clip_value=None, clip_norm=None):
        if lr <= 0:
            raise ValueError("lr must be positive, got %r" % (lr,))
        self.lr, self.weight_decay = lr, weight_decay
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.t = 0  # steps taken
        self.state = {}  # per parameter name: the rule's buffers

    def step(self, params, grads):
        """Update every array of params (a dict) in place from grads (a dict of the same names)."""
        grads = clip_grads(grads, self.clip_value, self.clip_norm)
        self.t += 1
        for name, w in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * w
            self.update(name, w, g)

    def update(self, name, w, g):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain SGD, or SGD with momentum (torch.optim.SGD, dampening 0, no Nesterov)."""

    def __init__(self, lr, momentum=0.0, **kw):
        super().__init__(lr, **kw)
        self.momentum = momentum

    def update(self, name, w, g):
        if self.momentum:
            v = self.state.setdefault(name, np.zeros_like(w))
            v *= self.momentum
            v += g
            g = v
        w -= self.lr * g


class RMSprop(Optimizer):
    """torch.optim.RMSprop (not centred, no momentum)."""

    def __init__(self, lr, alpha=0.99, eps=1e-8, **kw):
        super().__init__(lr, **kw)
        self.alpha, self.eps = alpha, eps

    def update(self, name, w, g):
        s = self.state.setdefault(name, np.zeros_like(w))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        w -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """torch.optim.Adam with bias correction (L2 weight decay added to g, not AdamW)."""

    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8, **kw):
        super().__init__(lr, **kw)
        self.b1, self.b2 = betas
        self.eps = eps

    def update(self, name, w, g):
        m, v = self.state.setdefault(name, (np.zeros_like(w), np.zeros_like(w)))
        m *= self.b1
        m += (1 - self.b1) * g
        v *= self.b2
        v += (1 - self.b2) * g * g
        m_hat = m / (1 - self.b1 ** self.t)
        v_hat = v / (1 - self.b2 ** self.t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def make(name, **kw):
    """An optimizer by name: make('adam', lr=1e-2, clip_norm=1.0)."""
    if name not in OPTIMIZERS:
        raise ValueError("optimizer %r is not one of %s" % (name, sorted(OPTIMIZERS)))
    return OPTIMIZERS[name](**kw)
