"""GRU cell, as torch.nn.GRU (gate order r, z, n; reset applied after the recurrent matmul).

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
"""
import numpy as np

from .activations import sigmoid

# B = batch, T = time, I = input size, H = hidden size
# w_ih (3H,I), w_hh (3H,H), b_ih (3H,), b_hh (3H,): row blocks r, z, n


def gru_forward(xs, h0, w_ih, w_hh, b_ih, b_hh):
    """Run over xs (B,T,I) from h0 (B,H); return hs (B,T,H), final h (B,H), cache."""
    B, T, _ = xs.shape
    H = w_hh.shape[1]
    gx = xs @ w_ih.T + b_ih  # (B,T,3H) input term of every gate and step at once
    h_prev = np.empty((B, T, H))
    r = np.empty((B, T, H))
    z = np.empty((B, T, H))
    n = np.empty((B, T, H))
    hn = np.empty((B, T, H))  # W_hn h + b_hn, which r scales
    hs = np.empty((B, T, H))
    h = h0
    for t in range(T):
        h_prev[:, t] = h
        x_r, x_z, x_n = np.split(gx[:, t], 3, axis=1)
        h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=1)  # each (B,H)
        r[:, t] = sigmoid(x_r + h_r)
        z[:, t] = sigmoid(x_z + h_z)
        n[:, t] = np.tanh(x_n + r[:, t] * h_n)
        hn[:, t] = h_n
        h = (1 - z[:, t]) * n[:, t] + z[:, t] * h
        hs[:, t] = h
    cache = {"xs": xs, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn}
    return hs, h, cache
