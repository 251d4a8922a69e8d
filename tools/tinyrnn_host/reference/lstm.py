"""LSTM cell, as torch.nn.LSTM (gate order i, f, g, o).

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
    f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)
    o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g
    h' = o * tanh(c')
"""
import numpy as np

from .activations import sigmoid

# B = batch, T = time, I = input size, H = hidden size
# w_ih (4H,I), w_hh (4H,H), b_ih (4H,), b_hh (4H,): row blocks i, f, g, o


def lstm_forward(xs, state0, w_ih, w_hh, b_ih, b_hh):
    """Run over xs (B,T,I) from state0 = (h0, c0), each (B,H); return hs (B,T,H), (h, c), cache."""
    B, T, _ = xs.shape
    H = w_hh.shape[1]
    h, c = state0
    gx = xs @ w_ih.T + b_ih  # (B,T,4H) input term of every gate and step at once
    h_prev = np.empty((B, T, H))
    c_prev = np.empty((B, T, H))
    ifgo = np.empty((B, T, 4 * H))  # gate values after their nonlinearity
    tanh_c = np.empty((B, T, H))
    hs = np.empty((B, T, H))
    for t in range(T):
        h_prev[:, t], c_prev[:, t] = h, c
        a = gx[:, t] + h @ w_hh.T + b_hh  # (B,4H)
        a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]  # each (B,H)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        ifgo[:, t, :H], ifgo[:, t, H:2 * H], ifgo[:, t, 2 * H:3 * H], ifgo[:, t, 3 * H:] = i, f, g, o
        tanh_c[:, t] = tc
        hs[:, t] = h
    cache = {"xs": xs, "h_prev": h_prev, "c_prev": c_prev, "ifgo": ifgo, "tanh_c": tanh_c}
    return hs, (h, c), cache


def lstm_backward(dhs, dfinal, cache, w_ih, w_hh):
    """From dL/dhs (B,T,H) and dL/d(final (h, c)) or None, return dxs (B,T,I), (dh0, dc0),
    and (dw_ih, dw_hh, db_ih, db_hh)."""
    xs, h_prev, c_prev, ifgo, tanh_c = (cache[k] for k in ("xs", "h_prev", "c_prev", "ifgo", "tanh_c"))
    B, T, I = xs.shape
    H = w_hh.shape[1]
    da = np.empty((B, T, 4 * H))  # dL/d(pre-activation) of the gates, blocks i, f, g, o
    dh, dc = (np.zeros((B, H)), np.zeros((B, H))) if dfinal is None else dfinal
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]
        gates = ifgo[:, t]
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        tc = tanh_c[:, t]
        # h' = o * tanh(c'); c' = f * c + i * g
        dc = dc + dh * o * (1 - tc * tc)
        da[:, t, :H] = dc * g * i * (1 - i)
        da[:, t, H:2 * H] = dc * c_prev[:, t] * f * (1 - f)
        da[:, t, 2 * H:3 * H] = dc * i * (1 - g * g)
        da[:, t, 3 * H:] = dh * tc * o * (1 - o)
        dh = da[:, t] @ w_hh
        dc = dc * f
    da2 = da.reshape(B * T, 4 * H)
    dw_ih = da2.T @ xs.reshape(B * T, I)
    dw_hh = da2.T @ h_prev.reshape(B * T, H)
    db = da2.sum(axis=0)
    dxs = da @ w_ih
    return dxs, (dh, dc), (dw_ih, dw_hh, db, db.copy())
