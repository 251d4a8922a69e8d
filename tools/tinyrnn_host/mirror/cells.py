"""Elman, LSTM, GRU and Dense steps on int64 batches: mirrors lib/tinyrnn/{elman,lstm,gru,dense,_cell}.py.

B = batch, I = input size, H = hidden size, O = output size. Weights as PyTorch
lays them out: w_ih (G*H, I), w_hh (G*H, H), biases (G*H,). Spec: docs/arithmetic.md, 6.
"""
import numpy as np

from .act import exp, sigmoid, tanh
from .q88 import matmul

ACTS = ("identity", "sigmoid", "tanh", "softmax")


def rnd(acc):
    """Round half up from 16 to 8 fraction bits, then saturate (in place on a fresh int64 sum)."""
    acc = np.add(acc, 128, dtype=np.int64)
    np.right_shift(acc, 8, out=acc)
    return np.clip(acc, -32768, 32767, out=acc)


def gates(x, h, w_ih, w_hh, b_ih, b_hh):
    """(B, G*H): every gate pre-activation, one exact sum per row rounded once."""
    return rnd(matmul(x, w_ih.T) + matmul(h, w_hh.T) + ((b_ih + b_hh) << 8))


def elman_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """x (B,I), h (B,H) -> h' (B,H)."""
    return tanh(gates(x, h, w_ih, w_hh, b_ih, b_hh))


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """x (B,I), h (B,H), c (B,H) -> h', c'."""
    h, c, _ = lstm_step_full(x, h, c, w_ih, w_hh, b_ih, b_hh)
    return h, c


def lstm_step_full(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """-> h', c', and the pre-activations (B,4H) (lib's work buffer)."""
    H = h.shape[1]
    p = gates(x, h, w_ih, w_hh, b_ih, b_hh)
    i, f, o = sigmoid(p[:, :H]), sigmoid(p[:, H:2 * H]), sigmoid(p[:, 3 * H:])
    g = tanh(p[:, 2 * H:3 * H])
    c = rnd(f * c + i * g)
    h = rnd(o * tanh(c))
    return h, c, p


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """x (B,I), h (B,H) -> h' (B,H)."""
    return _gru(x, h, w_ih, w_hh, b_ih, b_hh)[0]


def gru_step_full(x, h, w_ih, w_hh, b_ih, b_hh):
    """-> h' and r, z, n, hn (B,4H) (lib's work buffer; hn = W_hn h + b_hn, kept for backward)."""
    h, rz, n, hn = _gru(x, h, w_ih, w_hh, b_ih, b_hh)
    return h, np.concatenate([rz, n, hn], axis=1)


def _gru(x, h, w_ih, w_hh, b_ih, b_hh):
    # two products, W_ih x and W_hh h, each row summed exactly; r and z add their two sums
    H = h.shape[1]
    ax = matmul(x, w_ih.T)
    ah = matmul(h, w_hh.T)
    rz = sigmoid(rnd(ax[:, :2 * H] + ah[:, :2 * H] + ((b_ih[:2 * H] + b_hh[:2 * H]) << 8)))
    r, z = rz[:, :H], rz[:, H:]
    hn = rnd(ah[:, 2 * H:] + (b_hh[2 * H:] << 8))
    n = tanh(rnd(ax[:, 2 * H:] + (b_ih[2 * H:] << 8) + r * hn))
    return rnd((256 - z) * n + z * h), rz, n, hn


def dense_step(x, w, b, act):
    """x (B,I) -> act(W x + b) (B,O); act is a name in ACTS."""
    a = rnd(matmul(x, w.T) + (b << 8))
    if act == "sigmoid":
        return sigmoid(a)
    if act == "tanh":
        return tanh(a)
    if act == "softmax":
        return softmax(a)
    return a


def softmax(y):
    e = exp(y - y.max(axis=-1, keepdims=True))
    s = e.sum(axis=-1, keepdims=True)
    return (2 * 256 * e + s) // (2 * s)
