# GRU cell, as torch.nn.GRU (gate order r, z, n; reset applied after the
# recurrent matmul, b_hn inside):
#     r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
#     z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
#     n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
#     h' = (1 - z) * n + z * h
# Q8.8 (docs/arithmetic.md, 6): (W_hn h + b_hn) is rounded once to Q8.8 because r
# multiplies it; everything else in n and h' is one exact sum rounded once.
# This is the bytecode kernel; its viper twin is _viper.gru_step (same signature).
from .act import sigmoid, tanh
from ._rows import dot_split, gates


def gru_step(p, x, h, g, I, H, flags):
    """One GRU step in place: h <- h'(x, h); g <- r, z, n, hn. flags bit 0: the plain loops are safe."""
    fast = flags & 1
    w_hh = 3 * H * I                                 # offsets in p, see _cell.py
    b_ih = w_hh + 3 * H * H
    b_hh = b_ih + 3 * H
    gates(g, p, 3, x, h, I, H, 0, 2 * H, fast)      # r, z pre-activations
    for u in range(2 * H):
        g[u] = sigmoid(g[u])
    for u in range(H):
        row = 2 * H + u
        if fast:
            acc = p[b_hh + row] << 8                 # W_hn h + b_hn
            k = w_hh + row * H
            for j in range(H):
                acc += p[k + j] * h[j]
            hn = (acc + 128) >> 8
        else:
            hn = dot_split(p, 0, x, 0, w_hh + row * H, h, H, p[b_hh + row], 128)
        hn = -32768 if hn < -32768 else (32767 if hn > 32767 else hn)
        g[3 * H + u] = hn
        if fast:                                     # W_in x + b_in + r * hn
            acc = (p[b_ih + row] << 8) + g[u] * hn + 128
            k = row * I
            for j in range(I):
                acc += p[k + j] * x[j]
            a = acc >> 8
        else:
            a = dot_split(p, row * I, x, I, 0, h, 0, p[b_ih + row], g[u] * hn + 128)
        g[row] = tanh(-32768 if a < -32768 else (32767 if a > 32767 else a))
    for u in range(H):          # h' = (1 - z) * n + z * h, one rounding
        z = g[H + u]
        v = ((256 - z) * g[2 * H + u] + z * h[u] + 128) >> 8
        h[u] = -32768 if v < -32768 else (32767 if v > 32767 else v)
