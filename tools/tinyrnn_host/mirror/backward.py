"""Backward passes on int64 batches: mirrors lib/tinyrnn/backward.py (spec: docs/arithmetic.md, 7).

B = batch, I = input size, H = hidden size. Deltas are Q.12, gradients Q.20,
forward values Q8.8. Gradients are summed over the batch: integer sums are
exact, so the order (lib: one sequence after another) does not matter.
"""
import numpy as np

from .act import sigmoid, tanh

DMAX = 2**30 - 1


def dsat(v):
    return np.clip(v, -DMAX, DMAX)


def r8(v):
    return (v + 128) >> 8


def r16(v):
    return (v + 32768) >> 16


def accumulate(w_ih, w_hh, dax, dah, x, h_prev, dh=None):
    """Grads of the gate rows and the input/recurrent deltas.

    w_ih (R,I), w_hh (R,H) or None (dense), dax/dah (B,R), x (B,I), h_prev (B,H).
    Returns (gw_ih (R,I), gb_ih (R,), gw_hh, gb_hh, dx (B,I), dh (B,H) = dh + r8(dah @ w_hh))."""
    gw_ih = dax.T @ x
    gb_ih = dax.sum(0) << 8
    dx = dsat(r8(dax @ w_ih))
    if w_hh is None:
        return gw_ih, gb_ih, None, None, dx, None
    gw_hh = dah.T @ h_prev
    gb_hh = dah.sum(0) << 8
    dh = dsat((0 if dh is None else dh) + r8(dah @ w_hh))
    return gw_ih, gb_ih, gw_hh, gb_hh, dx, dh


def act_delta(d, y, act):
    if act == "sigmoid":
        return dsat(r16(d * (y * (256 - y))))
    if act == "tanh":
        return dsat(r16(d * (65536 - y * y)))
    return d


def dense_backward(w, act, x, y, dy):
    """-> (gw, gb, dx). For softmax, dy is already the pre-activation delta."""
    da = dy if act == "softmax" else act_delta(dy, y, act)
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
    di, df, dg = r8(dc * g), r8(dc * c_prev), r8(dc * i)
    dc_prev = dsat(r8(dc * f))
    da = np.concatenate([dsat(r16(di * (i * (256 - i)))), dsat(r16(df * (f * (256 - f)))),
                         dsat(r16(dg * (65536 - g * g))), dsat(r16(do * (o * (256 - o))))], axis=1)
    gw_ih, gb_ih, gw_hh, gb_hh, dx, dhp = accumulate(w_ih, w_hh, da, da, x, h_prev, 0)
    return (gw_ih, gb_ih, gw_hh, gb_hh), dx, dhp, dc_prev


def gru_backward(w_ih, w_hh, b_hh, x, h_prev, rzn, dh):
    """rzn (B,3H) cached r, z, n; dh: dL/dh_t -> grads, dx, dL/dh_{t-1}."""
    H = dh.shape[1]
    r, z, n = rzn[:, :H], rzn[:, H:2 * H], rzn[:, 2 * H:]
    hn = np.clip(r8(h_prev @ w_hh[2 * H:].T + (b_hh[2 * H:] << 8)), -32768, 32767)
    dn = r8(dh * (256 - z))
    dz = r8(dh * (h_prev - n))
    direct = dsat(r8(dh * z))
    dan = dsat(r16(dn * (65536 - n * n)))
    da_r = dsat(r16(r8(dan * hn) * (r * (256 - r))))
    da_z = dsat(r16(dz * (z * (256 - z))))
    dhn = dsat(r8(dan * r))
    dax = np.concatenate([da_r, da_z, dan], axis=1)
    dah = np.concatenate([da_r, da_z, dhn], axis=1)
    gw_ih, gb_ih, gw_hh, gb_hh, dx, dhp = accumulate(w_ih, w_hh, dax, dah, x, h_prev, direct)
    return (gw_ih, gb_ih, gw_hh, gb_hh), dx, dhp
