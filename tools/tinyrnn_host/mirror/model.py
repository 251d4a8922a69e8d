"""The model on int64 batches: mirrors lib/tinyrnn/model.py (same description,
same parameter names, layout and seeded initialisation, same state layout)."""
import math

import numpy as np

from . import cells
from .rng import Rng

GATES = {"elman": 1, "lstm": 4, "gru": 3}


def layers(desc):
    """[(kind, n_in, n_out, act)] for the layers then the head ("head")."""
    out, n = [], desc["input"]
    for d in desc.get("layers") or []:
        if d["kind"] == "dense":
            out.append(("dense", n, d["out"], d.get("act", "tanh")))
        else:
            out.append((d["kind"], n, d["hidden"], None))
        n = out[-1][2]
    if desc.get("head") is not None:
        out.append(("head", n, desc["head"]["out"], desc["head"].get("act", "identity")))
    return out


def param_shapes(desc):
    shapes = []
    for l, (kind, n_in, n_out, _) in enumerate(layers(desc)):
        if kind == "head":
            shapes += [("head.weight", (n_out, n_in)), ("head.bias", (n_out,))]
        elif kind == "dense":
            shapes += [("weight_l%d" % l, (n_out, n_in)), ("bias_l%d" % l, (n_out,))]
        else:
            g = GATES[kind] * n_out
            shapes += [("weight_ih_l%d" % l, (g, n_in)), ("weight_hh_l%d" % l, (g, n_out)),
                       ("bias_ih_l%d" % l, (g,)), ("bias_hh_l%d" % l, (g,))]
    return shapes


def init_params(desc, seed):
    """PyTorch's uniform init in Q8.8 from the library PRNG, in storage order."""
    rng = Rng(seed)
    params = {}
    spec = layers(desc)
    for name, shape in param_shapes(desc):
        l = 0 if name.startswith("head") else int(name.rsplit("_l", 1)[1])
        kind, n_in, n_out, _ = spec[-1] if name.startswith("head") else spec[l]
        fan = n_out if kind in GATES else n_in
        b = math.floor(256 / math.sqrt(fan) + 0.5)
        n = int(np.prod(shape))
        params[name] = np.array([rng.randint(-b, b) for _ in range(n)], dtype=np.int64).reshape(shape)
    return params


class Model:
    """Batched integer model: params {name: int64 array}, state per layer."""

    norm = None          # the input normalisation (mirror.norm.Norm) a weights file brought, if any
    labels = None        # the class names of a softmax head a weights file brought, if any

    def __init__(self, desc, seed=1, params=None, batch=1):
        self.desc = desc
        self.spec = layers(desc)
        self.params = init_params(desc, seed) if params is None else {k: np.asarray(v, np.int64) for k, v in params.items()}
        self.reset(batch)

    def reset(self, batch=1):
        z = lambda n: np.zeros((batch, n), np.int64)  # noqa: E731
        self.h = [z(n_out) for _, _, n_out, _ in self.spec]
        self.c = [z(n_out) if kind == "lstm" else None for kind, _, n_out, _ in self.spec]

    def step(self, x):
        """x (B,I) -> output (B,O)."""
        x = np.asarray(x, np.int64)
        p = self.params
        for l, (kind, _, _, act) in enumerate(self.spec):
            if kind == "head":
                x = cells.dense_step(x, p["head.weight"], p["head.bias"], act)
            elif kind == "dense":
                x = cells.dense_step(x, p["weight_l%d" % l], p["bias_l%d" % l], act)
            else:
                w = [p["%s_l%d" % (n, l)] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                if kind == "lstm":
                    x, self.c[l] = cells.lstm_step(x, self.h[l], self.c[l], *w)
                elif kind == "gru":
                    x = cells.gru_step(x, self.h[l], *w)
                else:
                    x = cells.elman_step(x, self.h[l], *w)
            self.h[l] = x
        return x

    def state(self):
        """(B, S): every layer's h (then c for an LSTM; a dense layer's output), as lib lays out `state`."""
        parts = []
        for l, (kind, _, _, _) in enumerate(self.spec):
            parts.append(self.h[l])
            if kind == "lstm":
                parts.append(self.c[l])
        return np.concatenate(parts, axis=1)

    def run(self, xs):
        """xs (B,T,I) -> outputs (B,T,O), states (B,T,S) after every step."""
        outs, states = [], []
        for t in range(xs.shape[1]):
            outs.append(self.step(xs[:, t]))
            states.append(self.state())
        return np.stack(outs, 1), np.stack(states, 1)

    def flat_params(self):
        """All parameters in storage order, as lib's `params` array."""
        return np.concatenate([self.params[n].ravel() for n, _ in param_shapes(self.desc)])
