"""Elman RNN cell, as torch.nn.RNN (tanh): h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
import numpy as np

# B = batch, T = time, I = input size, H = hidden size
# w_ih (H,I), w_hh (H,H), b_ih (H,), b_hh (H,)


def elman_forward(xs, h0, w_ih, w_hh, b_ih, b_hh):
    """Run over xs (B,T,I) from h0 (B,H); return hs (B,T,H), final h (B,H), cache."""
    B, T, _ = xs.shape
    H = w_hh.shape[1]
    xw = xs @ w_ih.T + b_ih  # (B,T,H) input term of every step at once
    h_prev = np.empty((B, T, H))  # state each step started from
    hs = np.empty((B, T, H))
    h = h0
    for t in range(T):
        h_prev[:, t] = h
        h = np.tanh(xw[:, t] + h @ w_hh.T + b_hh)
        hs[:, t] = h
    # dtanh(a) = 1 - h'^2, so the outputs are all backward needs besides inputs
    cache = {"xs": xs, "h_prev": h_prev, "hs": hs}
    return hs, h, cache


def elman_backward(dhs, dh_final, cache, w_ih, w_hh):
    """From dL/dhs (B,T,H) and dL/d(final h) (B,H) or None, return dxs (B,T,I), dh0 (B,H),
    and (dw_ih, dw_hh, db_ih, db_hh)."""
    xs, h_prev, hs = cache["xs"], cache["h_prev"], cache["hs"]
    B, T, I = xs.shape
    H = w_hh.shape[1]
    da = np.empty((B, T, H))  # dL/d(pre-activation) of every step
    dh = np.zeros((B, H)) if dh_final is None else dh_final
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]  # from above at this step, plus from step t+1
        da[:, t] = dh * (1 - hs[:, t] ** 2)
        dh = da[:, t] @ w_hh  # into the state step t started from
    da2 = da.reshape(B * T, H)
    dw_ih = da2.T @ xs.reshape(B * T, I)
    dw_hh = da2.T @ h_prev.reshape(B * T, H)
    db = da2.sum(axis=0)  # b_ih and b_hh enter the same sum
    dxs = da @ w_ih
    return dxs, dh, (dw_ih, dw_hh, db, db.copy())
