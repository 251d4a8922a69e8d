# The layers' common part: the objects that hold a layer's views into the model's
# buffers and its step kernel (bytecode or viper, see kernels.py), and zeroed arrays.
# The kernels themselves live elsewhere: bytecode in elman.py, lstm.py, gru.py,
# dense.py (loaded only where they run), viper in _viper.py.
from array import array

import tinyrnn

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

MAX_ROW = const(255)         # the longest row (inputs + hidden) a layer may have (docs/arithmetic.md, 6)
ACTS = ("identity", "sigmoid", "tanh", "softmax")     # dense activations, by index
SOFTMAX = const(3)


class Cell:
    """What every recurrent layer holds: views into the model's buffers, made once.
    p: its parameters; h: its state (also its output; an LSTM's is h then c);
    work: scratch for the gates; flags: bit 0 set when the plain loops are safe
    (see fits); kern: the step kernel (bytecode or viper, see kernels.py)."""

    def __init__(self, n_in, n_hid, p, h, work, kern):
        self.n_in = n_in
        self.n_hid = n_hid
        self.p = p
        self.h = h
        self.work = work
        self.flags = 0
        self.kern = kern


class Elman(Cell):
    """torch.nn.RNN (tanh): h (H,) its state and output, work (H,) scratch."""
    GATES = 1
    WORK = 1
    KERNEL = "elman_step"


class LSTM(Cell):
    """torch.nn.LSTM: hc (2H,) its state h then c (h is the output), work (4H,) the gates."""
    GATES = 4
    WORK = 4
    KERNEL = "lstm_step"


class GRU(Cell):
    """torch.nn.GRU: h (H,) its state and output, work (4H,) r, z, n and hn = W_hn h + b_hn."""
    GATES = 3
    WORK = 4
    KERNEL = "gru_step"


class Dense:
    """One dense layer on views into the model's buffers: p its parameters,
    weight (O, I) then bias (O,), as torch.nn.Linear; h (O,) its output.
    flags: bit 0 set when the plain loop is safe (see _rows.fits), the activation above it."""

    KERNEL = "dense_step"
    work = None               # (a class attribute: no scratch, and no dict entry per layer)

    def __init__(self, n_in, n_out, act, p, h, kern):
        self.n_in = n_in
        self.n_hid = n_out
        self.act = act        # index into ACTS
        self.p = p
        self.h = h
        self.flags = act << 1
        self.kern = kern


def zeros(code, n):
    """A zeroed array of n items ('h' or 'i') in ONE allocation of its final size:
    array() sizes its buffer from len(range(n)) (on MicroPython the values wrap on
    store and are cleared below), where array(code, bytes(...)) would first make
    a throwaway bytes object as large as the array."""
    try:
        a = array(code, range(n))
    except OverflowError:        # CPython refuses values that do not fit the type
        return array(code, bytes((2 if code == "h" else 4) * n))
    for i in range(n):
        a[i] = 0
    return a


# ---- argument checks, shared by model, train, optim and weights --------------
# Fast checks return a bool; the raising ones build their message only on error.
SEQS = (list, tuple, array, memoryview)      # what a sequence argument may be


def bad_type(name, want, v):
    raise TypeError("%s must be %s, got %s" % (name, want, type(v).__name__))


def check_seq(v, name, n=-1):
    """TypeError unless v is a list, tuple, array or memoryview; ValueError unless it has n items (n >= 0)."""
    if not isinstance(v, SEQS) or (n >= 0 and len(v) != n):
        tinyrnn._once("_params", "check_seq", v, name, n)


def check_q88s(v, name, n, t=-1):
    """Raise the error naming what is wrong with v (called name, or name[t] for t >= 0)
    as n Q8.8 ints, if anything is; allocates nothing when v is right."""
    if isinstance(v, SEQS) and len(v) == n:
        for j in range(n):
            q = v[j]
            if type(q) is not int or q < -32768 or q > 32767:
                break
        else:
            return
    tinyrnn._once("_params", "check_q88s", v, name, n, t)
