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
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        ifgo[:, t] = np.concatenate([i, f, g, o], axis=1)
        tanh_c[:, t] = tc
        hs[:, t] = h
    cache = {"xs": xs, "h_prev": h_prev, "c_prev": c_prev, "ifgo": ifgo, "tanh_c": tanh_c}
    return hs, (h, c), cache
