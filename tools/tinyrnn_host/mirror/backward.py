"""Backward passes on int64 batches: mirrors lib/tinyrnn/backward.py (spec: docs/arithmetic.md, 7).

B = batch, I = input size, H = hidden size. Deltas are Q.12, saturated to
+-D = +-(2^14 - 1) where lib saturates them; gradient contributions are Q.20.
The functions return each batch row's gradient contribution separately
(leading axis B): lib adds them one sequence at a time into accumulators that
saturate at +-G, so the trainer applies them in lib's order (train.py).
"""
import numpy as np

from .act import sigmoid, tanh
from .q88 import matmul

D = 2**14 - 1
G = 2**29 - 1


def dsat(v):
    return np.clip(v, -D, D)


def r8(v):
    return (v + 128) >> 8


def r16(v):
    return (v + 32768) >> 16


def outer(d, v):
    """(B,R), (B,K) -> (B,R,K): each row's gradient contribution d[r] * v[k]."""
    return d[:, :, None] * v[:, None, :]


def accumulate(w_ih, w_hh, dax, dah, x, h_prev, dh=None):
    """Grads of the gate rows and the input/recurrent deltas.

    w_ih (R,I), w_hh (R,H) or None (dense), dax/dah (B,R), x (B,I), h_prev (B,H).
    Returns (gw_ih (B,R,I), gb_ih (B,R), gw_hh, gb_hh, dx (B,I), dh (B,H) = dsat(dh + r8(dah @ w_hh)))."""
    gw_ih = outer(dax, x)
    gb_ih = dax << 8
    dx = dsat(r8(matmul(dax, w_ih)))
    if w_hh is None:
        return gw_ih, gb_ih, None, None, dx, None
    gw_hh = outer(dah, h_prev)
    gb_hh = dah << 8
    dh = dsat((0 if dh is None else dh) + r8(matmul(dah, w_hh)))
    return gw_ih, gb_ih, gw_hh, gb_hh, dx, dh


def act_delta(d, y, act):
    if act == "sigmoid":
        return dsat(r16(d * (y * (256 - y))))
    if act == "tanh":
        return dsat(r16(d * (65536 - y * y)))
    return dsat(d)


def dense_backward(w, act, x, y, dy):
    """-> (gw, gb, dx). For softmax, dy is already the pre-activation delta."""
    da = act_delta(dy, y, "identity" if act == "softmax" else act)
    gw, gb, _, _, dx, _ = accumulate(w, None, da, da, x, None)
    return gw, gb, dx


def elman_backward(w_ih, w_hh, x, h_prev, h, dh):
    """dh: dL/dh_t (B,H) -> (grads (gw_ih, gb_ih, gw_hh, gb_hh), dx, dL/dh_{t-1})."""
    da = dsat(r16(dh * (65536 - h * h)))
    gw_ih, gb_ih, gw_hh, gb_hh, dx, dhp = accumulate(w_ih, w_hh, da, da, x, h_prev, 0)
    return (gw_ih, gb_ih, gw_hh, gb_hh), dx, dhp


def lstm_backward(w_ih, w_hh, x, h_prev, c_prev, pre, c, dh, dc):
    """pre (B,4H) cached pre-activations; dh, dc: dL/dh_t, dL/dc_t -> grads, dx, dh_{t-1}, dc_{t-1}."""
    H = dh.shape[1]
    i, f = sigmoid(pre[:, :H]), sigmoid(pre[:, H:2 * H])
    g, o = tanh(pre[:, 2 * H:3 * H]), sigmoid(pre[:, 3 * H:])
    tc = tanh(c)
    do = r8(dh * tc)
    dc = dsat(dc + r16(r8(dh * o) * (65536 - tc * tc)))
    di, df, dg = r8(dc * g), dsat(r8(dc * c_prev)), r8(dc * i)
    dc_prev = r8(dc * f)
    da = np.concatenate([dsat(r16(di * (i * (256 - i)))), dsat(r16(df * (f * (256 - f)))),
                         dsat(r16(dg * (65536 - g * g))), dsat(r16(do * (o * (256 - o))))], axis=1)
    gw_ih, gb_ih, gw_hh, gb_hh, dx, dhp = accumulate(w_ih, w_hh, da, da, x, h_prev, 0)
    return (gw_ih, gb_ih, gw_hh, gb_hh), dx, dhp, dc_prev


def gru_backward(w_ih, w_hh, x, h_prev, work, dh):
    """work (B,4H) cached r, z, n, hn; dh: dL/dh_t -> grads, dx, dL/dh_{t-1}."""
    H = dh.shape[1]
    r, z, n, hn = work[:, :H], work[:, H:2 * H], work[:, 2 * H:3 * H], work[:, 3 * H:]
    dn = r8(dh * (256 - z))
    dz = dsat(r8(dh * (h_prev - n)))
    direct = r8(dh * z)
    dan = dsat(r16(dn * (65536 - n * n)))
    da_r = dsat(r16(dsat(r8(dan * hn)) * (r * (256 - r))))
    da_z = dsat(r16(dz * (z * (256 - z))))
    dhn = r8(dan * r)
    dax = np.concatenate([da_r, da_z, dan], axis=1)
    dah = np.concatenate([da_r, da_z, dhn], axis=1)
    gw_ih, gb_ih, gw_hh, gb_hh, dx, dhp = accumulate(w_ih, w_hh, dax, dah, x, h_prev, direct)
    return (gw_ih, gb_ih, gw_hh, gb_hh), dx, dhp
