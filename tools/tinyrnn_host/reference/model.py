"""A stack of recurrent layers and an optional dense head, built from a short description.

    desc = {"input": 2,
            "layers": [{"kind": "gru", "hidden": 16}, {"kind": "gru", "hidden": 8}],
            "head": {"out": 1, "act": "identity"}}       # or "head": None

Parameters are a dict keyed by PyTorch's names: weight_ih_l{l}, weight_hh_l{l},
bias_ih_l{l}, bias_hh_l{l} for recurrent layer l, head.weight and head.bias.
A state is one entry per layer: h (B,H), or (h, c) for an LSTM.

Training: loss_and_grads gives a loss and the gradient of every parameter by backpropagation
through time, over the whole sequence or in truncated windows (see its docstring).
"""
import numpy as np

from . import loss as losses
from .activations import ACTIVATIONS
from .dense import dense_backward, dense_forward
from .elman import elman_backward, elman_forward
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward

# B = batch, T = time, I = input size, H = hidden size, O = output size

# kind -> (forward over time, gate blocks stacked in weight_ih / weight_hh)
CELLS = {"elman": (elman_forward, 1), "lstm": (lstm_forward, 4), "gru": (gru_forward, 3)}
CELL_BACKWARD = {"elman": elman_backward, "lstm": lstm_backward, "gru": gru_backward}
LOSSES = ("mse", "ce")


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


def backward(desc, params, cache, dys, dfinal=None, pre_activation=False):
    """From dL/dys (B,T,O) -- dL/d(head logits) if pre_activation -- and dL/d(final state) per layer
    (or None), return the gradient of every parameter (a dict like params) and dL/d(initial state)."""
    grads = {}
    d = dys
    head = desc.get("head")
    if head is not None:
        d, grads["head.weight"], grads["head.bias"] = dense_backward(
            dys, cache["head"], params["head.weight"], pre_activation)
    elif pre_activation:
        raise ValueError("backward: pre_activation needs a head")
    dstate = [None] * len(desc["layers"])
    for l in reversed(range(len(desc["layers"]))):
        kind = desc["layers"][l]["kind"]
        names = [name % l for name in ("weight_ih_l%d", "weight_hh_l%d", "bias_ih_l%d", "bias_hh_l%d")]
        d, dstate[l], g = CELL_BACKWARD[kind](d, None if dfinal is None else dfinal[l], cache["layers"][l],
                                              params[names[0]], params[names[1]])
        grads.update(zip(names, g))  # d (B,T,H_l) now flows into layer l-1's outputs
    return grads, dstate


def check_loss(desc, loss):
    """Raise ValueError if loss ('mse' or 'ce') does not fit the model's head."""
    head = desc.get("head")
    act = None if head is None else head.get("act", "identity")
    if loss == "mse":
        if act == "softmax":
            raise ValueError("loss 'mse' does not fit a softmax head: use loss='ce', or an identity/sigmoid/tanh head")
    elif loss == "ce":
        if act != "softmax":
            raise ValueError("loss 'ce' (cross-entropy) needs a softmax head, the model's head is %s"
                             % ("absent" if head is None else repr(act)))
    else:
        raise ValueError("loss %r is not one of %s" % (loss, LOSSES))


def windows(steps, window=None):
    """Split range(steps) into consecutive [start, end) windows of `window` steps (the last may be shorter)."""
    if window is None:
        return [(0, steps)]
    if not _positive_int(window):
        raise ValueError("window must be None or a positive int, got %r" % (window,))
    return [(s, min(s + window, steps)) for s in range(0, steps, window)]


def _training_data(desc, xs, ys, loss, mask):
    """Check the loss against the head and the shapes of xs (B,T,I), ys, mask (B,T); return them as arrays."""
    check_loss(desc, loss)
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim != 3 or xs.shape[2] != desc["input"]:
        raise ValueError("xs has shape %s, expected (B, T, %d)" % (xs.shape, desc["input"]))
    B, T, _ = xs.shape
    if mask is None:
        mask = np.ones((B, T), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (B, T):
        raise ValueError("mask has shape %s, expected %s" % (mask.shape, (B, T)))
    out = desc["head"]["out"] if desc.get("head") is not None else desc["layers"][-1]["hidden"]
    if loss == "mse":
        ys = np.asarray(ys, dtype=np.float64)
        expected = (B, T, out)
    else:
        ys = np.asarray(ys)
        if not np.issubdtype(ys.dtype, np.integer):
            raise ValueError("ce: targets must be int class indices, got dtype %s" % ys.dtype)
        expected = (B, T)
    if ys.shape != expected:
        raise ValueError("%s: targets have shape %s, expected %s" % (loss, ys.shape, expected))
    return xs, ys, mask


def _loss(loss, out, cache, ys, mask, n):
    """Loss of one window and its gradient: dL/dy for mse, dL/d(logits) for ce."""
    if loss == "mse":
        return losses.mse(out, ys, mask, n)
    return losses.cross_entropy(cache["head"]["a"], ys, mask, n)


def loss_value(desc, params, xs, ys, loss="mse", mask=None, state=None):
    """The loss L alone (forward only), as loss_and_grads defines it."""
    xs, ys, mask = _training_data(desc, xs, ys, loss, mask)
    out, _, cache = forward_with_cache(desc, params, xs, state)
    return _loss(loss, out, cache, ys, mask, None)[0]


def loss_and_grads(desc, params, xs, ys, loss="mse", mask=None, window=None, state=None):
    """Loss L and the gradient of every parameter, by backpropagation through time.

    xs (B,T,I); ys (B,T,O) floats for loss='mse', (B,T) class indices for loss='ce' (softmax head);
    mask (B,T) bool marks the steps with a target (None: all); L = (1/N) sum over them, N = mask.sum().
    window=None: full BPTT. window=k: windows [0,k), [k,2k), ... ; the state carries its value into
    the next window but no gradient flows back across a boundary; window gradients are summed.
    state: the initial state (None: zeros), a constant.
    """
    xs, ys, mask = _training_data(desc, xs, ys, loss, mask)
    check_params(desc, params)
    n = int(mask.sum())
    if n == 0:
        raise ValueError("mask selects no step with a target")
    grads = {name: np.zeros(shape) for name, shape in param_shapes(desc).items()}
    L = 0.0
    for s, e in windows(xs.shape[1], window):
        out, final, cache = forward_with_cache(desc, params, xs[:, s:e], state)
        if mask[:, s:e].any():
            L_w, d = _loss(loss, out, cache, ys[:, s:e], mask[:, s:e], n)
            g, _ = backward(desc, params, cache, d, pre_activation=(loss == "ce"))
            L += L_w
            for name in grads:
                grads[name] += g[name]
        state = final  # its value goes on; the next window's backward starts from dfinal = None
    return L, grads
