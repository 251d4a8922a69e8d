"""A stack of recurrent layers and an optional dense head, built from a short description.

    desc = {"input": 2,
            "layers": [{"kind": "gru", "hidden": 16}, {"kind": "gru", "hidden": 8}],
            "head": {"out": 1, "act": "identity"}}       # or "head": None

Parameters are a dict keyed by PyTorch's names: weight_ih_l{l}, weight_hh_l{l},
bias_ih_l{l}, bias_hh_l{l} for recurrent layer l, head.weight and head.bias.
A state is one entry per layer: h (B,H), or (h, c) for an LSTM.
"""
import numpy as np

from .activations import ACTIVATIONS
from .dense import dense_forward
from .elman import elman_forward
from .gru import gru_forward
from .lstm import lstm_forward

# B = batch, T = time, I = input size, H = hidden size, O = output size

# kind -> (forward over time, gate blocks stacked in weight_ih / weight_hh)
CELLS = {"elman": (elman_forward, 1), "lstm": (lstm_forward, 4), "gru": (gru_forward, 3)}


def _positive_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1


def check_desc(desc):
    """Raise ValueError naming the first thing wrong with a description."""
    if not _positive_int(desc.get("input")):
        raise ValueError("desc: 'input' must be a positive int, got %r" % (desc.get("input"),))
    if not desc.get("layers"):
        raise ValueError("desc: 'layers' must list at least one recurrent layer")
    for l, layer in enumerate(desc["layers"]):
        if layer.get("kind") not in CELLS:
            raise ValueError("desc: layer %d kind %r is not one of %s" % (l, layer.get("kind"), sorted(CELLS)))
        if not _positive_int(layer.get("hidden")):
            raise ValueError("desc: layer %d 'hidden' must be a positive int" % l)
    head = desc.get("head")
    if head is not None:
        if not _positive_int(head.get("out")):
            raise ValueError("desc: head 'out' must be a positive int")
        if head.get("act", "identity") not in ACTIVATIONS:
            raise ValueError("desc: head act %r is not one of %s" % (head.get("act"), sorted(ACTIVATIONS)))


def layers(desc):
    """List (kind, input size, hidden size) per recurrent layer."""
    sizes = [desc["input"]] + [layer["hidden"] for layer in desc["layers"]]
    return [(layer["kind"], sizes[l], sizes[l + 1]) for l, layer in enumerate(desc["layers"])]


def param_shapes(desc):
    """Map each parameter name to its shape, in PyTorch's layout."""
    check_desc(desc)
    shapes = {}
    for l, (kind, I, H) in enumerate(layers(desc)):
        G = CELLS[kind][1] * H
        shapes["weight_ih_l%d" % l] = (G, I)
        shapes["weight_hh_l%d" % l] = (G, H)
        shapes["bias_ih_l%d" % l] = (G,)
        shapes["bias_hh_l%d" % l] = (G,)
    if desc.get("head") is not None:
        H, O = desc["layers"][-1]["hidden"], desc["head"]["out"]
        shapes["head.weight"] = (O, H)
        shapes["head.bias"] = (O,)
    return shapes


def check_params(desc, params):
    """Raise ValueError if params lacks a tensor of the description or has one of the wrong shape."""
    for name, shape in param_shapes(desc).items():
        if name not in params:
            raise ValueError("params: missing %s" % name)
        if np.shape(params[name]) != shape:
            raise ValueError("params: %s has shape %s, expected %s" % (name, np.shape(params[name]), shape))


def init_params(desc, rng=None, scale=1.0):
    """Draw parameters as PyTorch does, U(-k, k) with k = 1/sqrt(fan), times scale."""
    rng = np.random.default_rng(rng)
    params = {}
    for name, shape in param_shapes(desc).items():
        if name.startswith("head."):
            fan = desc["layers"][-1]["hidden"]  # nn.Linear: 1/sqrt(in_features)
        else:
            fan = desc["layers"][int(name.rsplit("_l", 1)[1])]["hidden"]  # RNN/LSTM/GRU: 1/sqrt(H)
        k = scale / np.sqrt(fan)
        params[name] = rng.uniform(-k, k, size=shape)
    return params


def zero_state(desc, batch):
    """All-zero state for a batch: h (B,H) per layer, (h, c) for an LSTM."""
    state = []
    for kind, _, H in layers(desc):
        h = np.zeros((batch, H))
        state.append((h, np.zeros((batch, H))) if kind == "lstm" else h)
    return state


def forward_with_cache(desc, params, xs, state=None):
    """Run over xs (B,T,I); return ys (B,T,O), final state per layer, and the cache backward needs."""
    check_params(desc, params)
    xs = np.asarray(xs, dtype=np.float64)
    if state is None:
        state = zero_state(desc, xs.shape[0])
    h, final, caches = xs, [], []
    for l, (kind, _, _) in enumerate(layers(desc)):
        cell_forward = CELLS[kind][0]
        w = [params[name % l] for name in ("weight_ih_l%d", "weight_hh_l%d", "bias_ih_l%d", "bias_hh_l%d")]
        h, s, cache = cell_forward(h, state[l], *w)  # h (B,T,H_l) feeds layer l+1
        final.append(s)
        caches.append(cache)
    head = desc.get("head")
    head_cache = None
    if head is not None:
        h, head_cache = dense_forward(h, params["head.weight"], params["head.bias"], head.get("act", "identity"))
    return h, final, {"layers": caches, "head": head_cache}


def forward(desc, params, xs, state=None):
    """Run over xs (B,T,I); return ys (B,T,O) (head at every step, else last layer's h) and final state."""
    ys, final, _ = forward_with_cache(desc, params, xs, state)
    return ys, final


def step(desc, params, x, state=None):
    """Advance one time step: x (B,I) -> y (B,O) and the new state."""
    ys, final = forward(desc, params, np.asarray(x, dtype=np.float64)[:, None, :], state)
    return ys[:, 0], final
