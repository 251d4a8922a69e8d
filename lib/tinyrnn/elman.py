# Elman RNN cell, as torch.nn.RNN with tanh:
#     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
# Q8.8: the pre-activation is one exact sum rounded once (docs/arithmetic.md, 6).
from .act import tanh
from ._cell import gates

GATES = 1    # row blocks in weight_ih / weight_hh


class Elman:
    """One Elman layer on views into the model's buffers: p its parameters
    (see _cell.py), h (H,) its state and output, work (H,) scratch."""

    def __init__(self, n_in, n_hid, p, h, work):
        self.n_in = n_in
        self.n_hid = n_hid
        self.p = p
        self.h = h
        self.work = work

    def step(self, x):
        H = self.n_hid
        h = self.h
        pre = self.work
        gates(pre, self.p, 1, x, h, self.n_in, H, 0, H)
        for u in range(H):          # every pre-activation used the old h; now replace it
            h[u] = tanh(pre[u])
        return h

    def reset(self):
        h = self.h
        for u in range(self.n_hid):
            h[u] = 0
