# Drawing the next class from a softmax head at a temperature: integers only, the library's
# own PRNG, so the NumPy mirror (tools/tinyrnn_host/mirror/sample.py) draws the same classes.
#
#     s = Sampler(model, "0.8", seed=7)     # temperature as a decimal string
#     k = s.step(x)                         # one model step; a class drawn from softmax(z / T)
#
# z are the head's logits (Q8.8, the model run with its softmax switched off for the step);
# t = T in Q8.8 (round half up). u_i = floor((z_i - max z) * 256 / t), e_i = exp(u_i) from the
# library's table (0 below -7.0, so the max gets 256), r = rng.randbelow(e_0 + ... + e_n-1),
# and k is the first i with e_0 + ... + e_i > r: exactly in proportion to the e_i.
from ._cell import ACTS, zeros
from ._fixed import parse_fixed
from .act import exp
from .rng import Rng

_SOFTMAX = ACTS.index("softmax")


def temperature_q88(text):
    """A temperature given as a decimal string ("0.8") as a Q8.8 int in 1..32767."""
    t = parse_fixed(text, 8, "temperature")
    if t < 1 or t > 32767:
        raise ValueError("temperature=%r must be in (0, 128) (Q8.8: 1..32767, got %d)" % (text, t))
    return t


def draw(z, n, t, rng, e):
    """A class index from the n logits z at temperature t (Q8.8), e: n ints of scratch."""
    m = z[0]
    for i in range(1, n):
        if z[i] > m:
            m = z[i]
    s = 0
    for i in range(n):
        v = exp(((z[i] - m) << 8) // t)
        e[i] = v
        s += v
    r = rng.randbelow(s)
    for i in range(n):
        r -= e[i]
        if r < 0:
            return i
    return n - 1                 # (not reached: the e_i sum to s > r)


class Sampler:
    """Steps a model with a softmax head and draws each step's class (see the module comment)."""

    def __init__(self, model, temperature, seed=1):
        head = model.layers[-1]
        if getattr(head, "act", None) != _SOFTMAX:
            raise ValueError("model: sampling needs a softmax head")
        self.t = temperature_q88(temperature)
        self.model = model
        self.head = head
        self.rng = Rng(seed)
        self.e = zeros("i", head.n_hid)

    def logits(self, x):
        """One model step with the head's softmax off: the Q8.8 logits (the model's output buffer)."""
        head = self.head
        head.act = 0
        head.flags &= 1          # bit 0 (the plain loop is safe) stays; the activation bits say identity
        model = self.model
        plan = model._prog[4] if model._run is not None else None   # C kernels: the flags they read
        at = 6 * len(model.layers) - 3                               # (the head's flags in the plan)
        if plan is not None:
            plan[at] = head.flags
        try:
            return model.step(x)
        finally:
            head.act = _SOFTMAX
            head.flags = (head.flags & 1) | (_SOFTMAX << 1)
            if plan is not None:
                plan[at] = head.flags

    def step(self, x):
        """One model step; the class drawn from its softmax at the temperature."""
        z = self.logits(x)
        return draw(z, len(z), self.t, self.rng, self.e)
