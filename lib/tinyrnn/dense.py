# Dense layer, as torch.nn.Linear followed by an activation:
#     y = act(W x + b),  act in identity, sigmoid, tanh, softmax
# Q8.8 (docs/arithmetic.md, 6): W x + b is one exact sum rounded once; softmax
# subtracts the max, takes the exp table, and divides by the sum rounding half up.
# This is the bytecode kernel; its viper twin is _viper.dense_step (same signature).
from .act import exp, sigmoid, tanh
from ._rows import dot_split

SIGMOID = 1
TANH = 2
SOFTMAX = 3


def dense_step(p, x, y, work, I, O, flags):
    """y <- act(W x + b); flags: bit 0 the plain loop is safe, bits 1-2 the activation (_cell.ACTS)."""
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
