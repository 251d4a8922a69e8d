"""The model on int64 batches: mirrors lib/tinyrnn/model.py (same description,
same parameter names, layout and seeded initialisation, same state layout).

B = batch (sequences side by side), T = time, I = inputs, O = outputs, S = state.

    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 1}}, seed=1)
    m.reset(batch=4)              # state for 4 sequences
    y = m.step(x)                 # x (4, 2) Q8.8 ints -> y (4, 1)
    outs, states = m.run(xs)      # xs (4, T, 2) -> (4, T, 1), (4, T, S), from the current state

Every argument is checked before anything changes, with the board's messages
(tinyrnn_host.mirror.check): the description by the board's own parse().
"""
import math

import numpy as np

from . import cells, fast
from .check import check_int, parse, q88_array
from .rng import Rng

GATES = {"elman": 1, "lstm": 4, "gru": 3}


def layers(desc):
    """[(kind, n_in, n_out, act)] for the layers then the head ("head"); the description
    is checked as the board checks it (ValueError/TypeError naming the layer and key)."""
    return parse(desc)


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
        spec = layers(desc)
        if params is not None:
            params = check_params(desc, params)
        elif seed is not None and type(seed) is not int:
            raise TypeError("seed must be an int or None, got %s" % type(seed).__name__)
        check_int(batch, "batch", 1)
        self.desc = desc
        self.spec = spec
        if params is None:      # seed=None: all weights 0 (to be loaded), as on the board
            params = init_params(desc, seed) if seed is not None else {
                name: np.zeros(shape, np.int64) for name, shape in param_shapes(desc)}
        self.params = params
        self.reset(batch)

    @property
    def n_inputs(self):
        return self.spec[0][1]

    @property
    def n_outputs(self):
        return self.spec[-1][2]

    @property
    def batch(self):
        """How many sequences the state holds (reset(batch=) sets it)."""
        return self.h[0].shape[0]

    def reset(self, batch=1):
        """Clear the state, for `batch` sequences side by side."""
        check_int(batch, "batch", 1)
        z = lambda n: np.zeros((batch, n), np.int64)  # noqa: E731
        self.h = [z(n_out) for _, _, n_out, _ in self.spec]
        self.c = [z(n_out) if kind == "lstm" else None for kind, _, n_out, _ in self.spec]

    def step(self, x):
        """x (B, I) Q8.8 ints -> output (B, O), a new array. B must be the state's batch."""
        x = self._check_batch(q88_array(x, "step: x", (None, self.n_inputs)), "step: x")
        return self._step(x)

    def _check_batch(self, x, name):
        if x.shape[0] != self.batch:
            raise ValueError("%s holds %d sequences, the state %d: call reset(batch=%d) first"
                             % (name, x.shape[0], self.batch, x.shape[0]))
        return x

    def _step(self, x):
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
        """xs (B, T, I) -> (outputs (B, T, O), states (B, T, S) after every step), from the
        current state. Every input is checked before the first step; T >= 1."""
        xs = self._check_batch(q88_array(xs, "run: xs", (None, None, self.n_inputs)), "run: xs")
        if xs.shape[1] == 0:
            raise ValueError("run: xs is empty: a sequence needs at least one step")
        if fast.exact(self.spec):
            return fast.run(self, xs)
        return self._run_steps(xs)

    def _run_steps(self, xs):
        """run's reference: cells.py one step at a time (fast.py must equal it)."""
        outs, states = [], []
        for t in range(xs.shape[1]):
            outs.append(self._step(xs[:, t]))
            states.append(self.state())
        return np.stack(outs, 1), np.stack(states, 1)

    def flat_params(self):
        """All parameters in storage order, as lib's `params` array."""
        return np.concatenate([self.params[n].ravel() for n, _ in param_shapes(self.desc)])


def check_params(desc, params):
    """params {name: array} as int64 arrays, after checking they are exactly the model's
    parameters (names and shapes of param_shapes) with Q8.8 values."""
    if not isinstance(params, dict):
        raise TypeError("params must be a dict {name: array}, got %s" % type(params).__name__)
    shapes = dict(param_shapes(desc))
    for name in params:
        if name not in shapes:
            raise KeyError("params: no parameter %r in this model; have: %s" % (name, ", ".join(shapes)))
    out = {}
    for name, shape in shapes.items():
        if name not in params:
            raise KeyError("params: %r is missing" % (name,))
        out[name] = q88_array(params[name], "params[%r]" % name, shape)
    return out
