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
    weight (O, I) then bias (O,), as torch.nn.Linear; h (O,) its output.
    flags: bit 0 set when the plain loop is safe (see _cell.fits), the activation above it."""

    KERNEL = "dense_step"

    def __init__(self, n_in, n_out, act, p, h, kern):
        self.n_in = n_in
        self.n_hid = n_out
        self.act = act        # index into ACTS
        self.p = p
        self.h = h
        self.work = None
        self.flags = act << 1
        self.kern = kern

    def bound(self, x_max):
        """Choose the loop for inputs up to x_max in magnitude (see _cell.fits)."""
        self.flags = (self.act << 1) | (1 if fits(self.p, self.n_hid, self.n_in, 0, 1, x_max) else 0)

    def step(self, x):
        self.kern(self.p, x, self.h, None, self.n_in, self.n_hid, self.flags)
        return self.h

    def reset(self):
        pass


def dense_step(p, x, y, work, I, O, flags):
    """y <- act(W x + b); flags: bit 0 the plain loop is safe, bits 1-2 the activation (ACTS)."""
    act = flags >> 1
    b = O * I
    k = 0
    for o in range(O):
        if flags & 1:
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
