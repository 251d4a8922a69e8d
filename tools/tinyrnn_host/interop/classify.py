"""Sequence classifiers trained on the host in float64, quantised to Q8.8 for a board.

    xs = [norm.apply(r) for r in raw]                 # Q8.8 inputs, one (T, C) array per sequence
    params, history = train(desc, xs, y, stages=((30, 5e-3), (10, 1e-3)))   # tqdm bar per epoch
    params_q, saturated = quantise(params)
    probs = predict_float(desc, params, xs)           # (S, K) at each sequence's last step
    outs = predict_q88(desc, params_q, xs)            # (S, K) Q8.8 ints: the board's outputs, bit for bit

The target is the class at each sequence's last step (softmax head, cross-entropy).
Sequences may differ in length: a batch is padded at the end and only each sequence's
last real step is scored, which is exact (the model is causal). Training is the float64
reference (tinyrnn_host.reference: batched BPTT, Adam with PyTorch's rules); each stage
runs its epochs at its learning rate, the optimizer state carried on. The Q8.8 outputs are
the NumPy mirror's, which equals lib/tinyrnn on a board bit for bit.
"""
import numpy as np

from ..mirror import q88
from ..mirror.model import Model
from ..reference import model as ref
from ..reference import optim
from ..reference.train import fit

# S = sequences, T = steps (the longest), C = channels, K = classes


def pad(xs):
    """(S, T, C) int64 zero-padded at the end, (S,) index of each sequence's last step."""
    T = max(len(x) for x in xs)
    out = np.zeros((len(xs), T, xs[0].shape[1]), np.int64)
    for i, x in enumerate(xs):
        out[i, :len(x)] = x
    return out, np.array([len(x) - 1 for x in xs])


def _bar(total, desc, progress):
    if not progress:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="epoch", leave=True)


def train(desc, xs, y, stages, weight_decay=0.0, batch_size=16, seed=0, clip_norm=1.0, progress=True):
    """Train from PyTorch's init (NumPy default_rng(seed)); returns (params, per-epoch training loss)."""
    X, last = pad(xs)
    S, T, _ = X.shape
    mask = np.zeros((S, T), bool)
    mask[np.arange(S), last] = True
    Y = np.repeat(np.asarray(y)[:, None], T, axis=1)             # the class at every step; the mask picks one
    params = ref.init_params(desc, np.random.default_rng(seed))
    opt = optim.Adam(lr=stages[0][1], clip_norm=clip_norm, weight_decay=weight_decay)
    history = []
    bar = _bar(sum(e for e, _ in stages), "host training (float64)", progress)
    def tick(epoch, loss):
        if bar is not None:
            bar.set_postfix(loss="%.4f" % loss, lr="%.0e" % opt.lr)
            bar.update(1)

    for i, (epochs, lr) in enumerate(stages):
        opt.lr = lr
        params, h = fit(desc, params, X / 256.0, Y, "ce", opt, epochs=epochs, batch_size=batch_size, mask=mask,
                        seed=seed * 1000 + i, callback=tick)
        history += h["train"]
    if bar is not None:
        bar.close()
    return params, history


def quantise(params):
    """Q8.8 ints (round half up, saturated) and how many weights saturated."""
    raw = {k: np.floor(v * 256 + 0.5) for k, v in params.items()}
    saturated = int(sum(((r < -32768) | (r > 32767)).sum() for r in raw.values()))
    return {k: q88.from_float(v) for k, v in params.items()}, saturated


def predict_float(desc, params, xs):
    """(S, K) float64 softmax outputs at each sequence's last step, on the same Q8.8 inputs."""
    X, last = pad(xs)
    ys, _ = ref.forward(desc, params, X / 256.0)
    return ys[np.arange(len(xs)), last]


def predict_q88(desc, params_q, xs):
    """(S, K) Q8.8 outputs at each sequence's last step (the NumPy mirror, batched)."""
    X, last = pad(xs)
    ys, _ = Model(desc, params=params_q, batch=len(xs)).run(X)
    return ys[np.arange(len(xs)), last]


def argmax(outputs):
    """The class of each row, the first of equal maxima (as the board picks it)."""
    return np.asarray(outputs).argmax(axis=-1)


def confusion(y_true, y_pred, k):
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m
