# Dense layer, as torch.nn.Linear followed by an activation:
#     y = act(W x + b),  act in identity, sigmoid, tanh, softmax
# Q8.8 (docs/arithmetic.md, 6): W x + b is one exact sum rounded once; softmax
# subtracts the max, takes the exp table, and divides by the sum rounding half up.
from .act import exp, sigmoid, tanh
from ._cell import dot_split, fits

IDENTITY = 0
SIGMOID = 1
TANH = 2
SOFTMAX = 3
ACTS = ("identity", "sigmoid", "tanh", "softmax")


class Dense:
    """One dense layer on views into the model's buffers: p its parameters,
    weight (O, I) then bias (O,), as torch.nn.Linear; h (O,) its output."""

    def __init__(self, n_in, n_out, act, p, h):
        self.n_in = n_in
        self.n_hid = n_out
        self.act = act        # index into ACTS
        self.p = p
        self.h = h
        self.fast = False

    def bound(self, x_max):
        """Choose the loop for inputs up to x_max in magnitude (see _cell.fits)."""
        self.fast = fits(self.p, self.n_hid, self.n_in, 0, 1, x_max)

    def step(self, x):
        I = self.n_in
        O = self.n_hid
        p = self.p
        y = self.h
        act = self.act
        fast = self.fast
        b = O * I
        k = 0
        for o in range(O):
            if fast:
                a = p[b + o] << 8
                for j in range(I):
                    a += p[k] * x[j]
                    k += 1
                a = (a + 128) >> 8
            else:
                a = dot_split(p, o * I, x, I, 0, x, 0, p[b + o], 128)
            a = -32768 if a < -32768 else (32767 if a > 32767 else a)
            if act == SIGMOID:
                a = sigmoid(a)
            elif act == TANH:
                a = tanh(a)
            y[o] = a
        if act == SOFTMAX:
            softmax(y, O)
        return y

    def reset(self):
        pass


def softmax(y, n):
    """In place: y[i] = round(exp(y[i] - max) * 256 / sum_j exp(y[j] - max))."""
    m = y[0]
    for i in range(1, n):
        if y[i] > m:
            m = y[i]
    s = 0
    for i in range(n):
        e = exp(y[i] - m)             # y[i] - m in [-65535, 0]; exp of < -7.0 is 0
        y[i] = e
        s += e                        # >= 256: the max contributes exp(0)
    for i in range(n):
        y[i] = (2 * 256 * y[i] + s) // (2 * s)
