# Elman RNN cell, as torch.nn.RNN with tanh:
#     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
# Q8.8: the pre-activation is one exact sum rounded once (docs/arithmetic.md, 6).
from .act import tanh
from ._cell import Cell, gates

GATES = 1    # row blocks in weight_ih / weight_hh


class Elman(Cell):
    """One Elman layer on views into the model's buffers: p its parameters
    (see _cell.py), h (H,) its state and output, work (H,) scratch."""

    GATES = 1
    WORK = 1
    KERNEL = "elman_step"


def elman_step(p, x, h, pre, I, H, flags):
    """One Elman step in place: h <- tanh(W_ih x + b_ih + W_hh h + b_hh). flags bit 0: plain loops safe."""
    gates(pre, p, 1, x, h, I, H, 0, H, flags & 1)
    for u in range(H):          # every pre-activation used the old h; now replace it
        h[u] = tanh(pre[u])
