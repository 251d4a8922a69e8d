# LSTM cell, as torch.nn.LSTM (gate order i, f, g, o):
#     i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
#     f = sigmoid(W_if x + b_if + W_hf h + b_hf)
#     g = tanh(W_ig x + b_ig + W_hg h + b_hg)
#     o = sigmoid(W_io x + b_io + W_ho h + b_ho)
#     c' = f * c + i * g
#     h' = o * tanh(c')
# Q8.8 (docs/arithmetic.md, 6): each pre-activation, c' and h' is one exact sum rounded once.
# This is the bytecode kernel; its viper twin is _viper.lstm_step (same signature).
from .act import sigmoid, tanh
from ._rows import gates


def lstm_step(p, x, hc, pre, I, H, flags):
    """One LSTM step in place: hc <- h', c'; pre <- the gate pre-activations. flags bit 0: plain loops safe."""
    gates(pre, p, 4, x, hc, I, H, 0, 4 * H, flags & 1)
    for u in range(H):
        i = sigmoid(pre[u])
        f = sigmoid(pre[H + u])
        g = tanh(pre[2 * H + u])
        o = sigmoid(pre[3 * H + u])
        v = (f * hc[H + u] + i * g + 128) >> 8
        v = -32768 if v < -32768 else (32767 if v > 32767 else v)
        hc[H + u] = v
        hc[u] = (o * tanh(v) + 128) >> 8      # |o * tanh| <= 256 * 256: never saturates
