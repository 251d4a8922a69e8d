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
