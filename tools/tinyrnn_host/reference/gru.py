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
        gx_t = gx[:, t]  # (B,3H)
        gh = h @ w_hh.T + b_hh  # (B,3H)
        x_r, x_z, x_n = gx_t[:, :H], gx_t[:, H:2 * H], gx_t[:, 2 * H:]  # each (B,H)
        h_r, h_z, h_n = gh[:, :H], gh[:, H:2 * H], gh[:, 2 * H:]
        r[:, t] = sigmoid(x_r + h_r)
        z[:, t] = sigmoid(x_z + h_z)
        n[:, t] = np.tanh(x_n + r[:, t] * h_n)
        hn[:, t] = h_n
        h = (1 - z[:, t]) * n[:, t] + z[:, t] * h
        hs[:, t] = h
    cache = {"xs": xs, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn}
    return hs, h, cache


def gru_backward(dhs, dh_final, cache, w_ih, w_hh):
    """From dL/dhs (B,T,H) and dL/d(final h) (B,H) or None, return dxs (B,T,I), dh0 (B,H),
    and (dw_ih, dw_hh, db_ih, db_hh)."""
    xs, h_prev, r, z, n, hn = (cache[k] for k in ("xs", "h_prev", "r", "z", "n", "hn"))
    B, T, I = xs.shape
    H = w_hh.shape[1]
    dgx = np.empty((B, T, 3 * H))  # dL/d(W_ih x + b_ih), blocks r, z, n
    dgh = np.empty((B, T, 3 * H))  # dL/d(W_hh h + b_hh), blocks r, z, n
    dh = np.zeros((B, H)) if dh_final is None else dh_final
    for t in reversed(range(T)):
        dh = dh + dhs[:, t]
        r_t, z_t, n_t = r[:, t], z[:, t], n[:, t]
        # h' = (1 - z) * n + z * h
        dn = dh * (1 - z_t)
        dz = dh * (h_prev[:, t] - n_t)
        # n = tanh(x_n + r * hn): x_n gets da_n, hn gets r * da_n, r gets hn * da_n
        da_n = dn * (1 - n_t * n_t)
        da_r = da_n * hn[:, t] * r_t * (1 - r_t)
        da_z = dz * z_t * (1 - z_t)
        dgx[:, t, :H], dgx[:, t, H:2 * H], dgx[:, t, 2 * H:] = da_r, da_z, da_n
        dgh[:, t, :H], dgh[:, t, H:2 * H], dgh[:, t, 2 * H:] = da_r, da_z, da_n * r_t
        dh = dh * z_t + dgh[:, t] @ w_hh
    dgx2, dgh2 = dgx.reshape(B * T, 3 * H), dgh.reshape(B * T, 3 * H)
    dw_ih = dgx2.T @ xs.reshape(B * T, I)
    dw_hh = dgh2.T @ h_prev.reshape(B * T, H)
    dxs = dgx @ w_ih
    return dxs, dh, (dw_ih, dw_hh, dgx2.sum(axis=0), dgh2.sum(axis=0))
