"""Temperature sampling from a softmax head: mirrors lib/tinyrnn/sample.py.

The logits come from the same model with an identity head (a copy of the description), the
softmax at temperature t is computed on the whole vector with NumPy, and the class is found
with a cumulative sum: an independent spelling of the lib's loops, the same integers.
"""
import copy

import numpy as np

from .act import exp
from .model import Model
from .q88 import from_str
from .rng import Rng


def temperature_q88(text):
    try:
        t = from_str(text)
    except ValueError:
        t = 32768                                       # outside Q8.8 (or not a number): refused below
        if not isinstance(text, str) or not text.strip().lstrip("+-").replace(".", "", 1).isdigit():
            raise ValueError("temperature=%r is not a decimal number" % (text,))
    if not 1 <= t <= 32767:
        raise ValueError("temperature=%r must be in (0, 128) (Q8.8: 1..32767, got %d)" % (text, t))
    return t


def draw(z, t, rng):
    """A class from the logits z (1-D Q8.8 ints) at temperature t (Q8.8)."""
    z = np.asarray(z, np.int64)
    e = exp(((z - z.max()) << 8) // t)                 # floor division, as the lib's //
    r = rng.randbelow(int(e.sum()))
    return int(np.searchsorted(np.cumsum(e), r, side="right"))


class Sampler:
    """Sampler(desc, params, "0.8", seed): step(x) -> the class the board draws for the same inputs."""

    def __init__(self, desc, params, temperature, seed=1):
        if desc["head"].get("act") != "softmax":
            raise ValueError("model: sampling needs a softmax head")
        plain = copy.deepcopy(desc)
        plain["head"]["act"] = "identity"
        self.model = Model(plain, params=params, batch=1)
        self.t = temperature_q88(temperature)
        self.rng = Rng(seed)

    def reset(self):
        self.model.reset(1)

    def logits(self, x):
        """One step of the identity-head twin: the Q8.8 logits (A,)."""
        return self.model.step(np.asarray(x, np.int64)[None])[0]

    def step(self, x):
        return draw(self.logits(x), self.t, self.rng)
