# Elman RNN cell, as torch.nn.RNN with tanh:
#     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
# Q8.8: the pre-activation is one exact sum rounded once (docs/arithmetic.md, 6).
# This is the bytecode kernel; its viper twin is _viper.elman_step (same signature).
from .act import tanh
from ._rows import gates


def elman_step(p, x, h, pre, I, H, flags):
    """One Elman step in place: h <- tanh(W_ih x + b_ih + W_hh h + b_hh). flags bit 0: plain loops safe."""
    gates(pre, p, 1, x, h, I, H, 0, H, flags & 1)
    for u in range(H):          # every pre-activation used the old h; now replace it
        h[u] = tanh(pre[u])
