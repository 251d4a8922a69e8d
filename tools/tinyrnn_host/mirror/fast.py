"""Model.run's fast path: the same integers as cells.py, a layer at a time over the whole sequence.

A layer's step at time t needs only its own state and the layer below's output at t, so
the stack is computed layer by layer, one matrix product per step (feature-major: a row
per feature, a column per sequence, so every block a step works on is contiguous).
Model.run takes cells.py's step-by-step path where `exact` fails (layers of millions).

Exactness (docs/arithmetic.md, 11). Everything is scaled by 1/256: weights, biases and
gates (exact: a power of 2). A row sum S of the spec is then S / 256 + 2^-9 + an offset,
a multiple of 2^-9, and every partial sum of the product is one too, bounded by the sum
of its terms' magnitudes. A float type with p mantissa bits holds all of them exactly,
in any order of addition, fused or not, while that bound stays below 2^(p - 10):

- float64 (p = 53) always: a row of n terms of at most 2^30 (two Q8.8 values) is below
  2^52 for any layer `exact` accepts;
- float32 (p = 24) when the bound, computed for the weights and the layer's actual input
  (its largest |x|, and for h max(|h0|, 256): a GRU's h is a convex mix of tanh and h,
  an LSTM's and an Elman's are tanh-bounded), is below 2^14 for every row and for the
  GRU's W_in x + r hn. The products after it (a gate, a multiple of 2^-8 in [0, 1], times
  a Q8.8 value or a difference of two) are multiples of 2^-8 below 2^16: exact in 24 bits.
  This is what torch's float32 gets for free; here it is proven per call, else float64.

Then rnd(S) = floor(S / 256 + 1/2) = round(S / 256 + 2^-9) (a multiple of 2^-9 is never
one half past an integer), which adding 1.5 * 2^(p - 1) does in the float adder; the
integer is read off the float's bits. Activations: the index clipped into a table of the
function from -end to end (sigmoid is 0 and 256 from |q| >= 2048 on, tanh -256 and 256
from |q| >= 1024 on: checked at import against act.py at every Q8.8 input), which merges
rnd's saturation and act.py's clip into one.

host_tests/test_mirror_fast.py holds both precisions to cells.py, == on integers, at the
rails, past them (wide weights that saturate every sum) and at float32's bound.
"""
import numpy as np

from . import act, cells

EXACT = 2.0 ** 52
F32_BOUND = 2.0 ** 14
_SIG_END, _TANH_END = 2048, 1024
_TIE = 2.0 ** -9
# the small tables are the whole functions: constant beyond their ends
assert (act._SIG_ALL[:32768 - _SIG_END] == 0).all() and (act._SIG_ALL[32768 + _SIG_END:] == 256).all()
assert (act._TANH_ALL[:32768 - _TANH_END] == -256).all() and (act._TANH_ALL[32768 + _TANH_END:] == 256).all()


class _Kind:
    """One float type's tables (sigmoid / 256: a gate as the factor it is; tanh) and its
    rounding constant: u + round rounds u to an integer, whose float bits, read as the
    same-sized int, are round_bits + that integer (|u| < 2^(p - 2))."""

    def __init__(self, dtype, int_type, p):
        self.dtype = dtype
        self.int_type = int_type
        self.sig = (act._SIG_ALL[32768 - _SIG_END:32768 + _SIG_END + 1] / 256.0).astype(dtype)
        self.tanh = act._TANH_ALL[32768 - _TANH_END:32768 + _TANH_END + 1].astype(dtype)
        self.round = dtype(1.5 * 2.0 ** (p - 1))
        self.round_bits = np.array(self.round).view(int_type)[()]


F64 = _Kind(np.float64, np.int64, 53)
F32 = _Kind(np.float32, np.int32, 24)
last_kinds = []          # the float type of each recurrent layer in the last run (for the tests)


def exact(spec):
    """True when every sum stays below 2^52 in float64: a row sums n_in + n_out products
    of two Q8.8 values (each at most 2^30), a bias times 256 and 128."""
    return all((n_in + n_out + 2) << 30 < EXACT for _, n_in, n_out, _ in spec)


def _index(k, u, idx):
    """idx = the integer nearest u (in place in u: u += k.round)."""
    u += k.round
    np.subtract(u.view(k.int_type), k.round_bits, out=idx, casting="unsafe")
    return idx


def _look(k, table, u, idx, out):
    """out = table[clip(round(u), 0, len - 1)], u = a row sum / 256 + 2^-9 + the table's end
    (folded into the bias): rnd then the activation; below 0, take's mode "clip" gives 0."""
    return np.take(table, _index(k, u, idx), mode="clip", out=out)


def _q(s):
    """floor(s) saturated to Q8.8, in place; s = a row sum / 256 + 1/2."""
    np.floor(s, out=s)
    return np.clip(s, -32768, 32767, out=s)


def _weights(k, w_ih, w_hh, bias, blocks):
    """The matrix of a step, it @ [x; h; 1]: columns w_ih / 256, w_hh / 256, then the bias;
    `blocks` [(ih, hh)] picks w_ih's and w_hh's rows per output block (None: zero)."""
    I, H = w_ih.shape[1], w_hh.shape[1]
    rows = []
    for ih, hh in blocks:
        n = (w_ih[ih] if ih is not None else w_hh[hh]).shape[0]
        r = np.zeros((n, I + H + 1))
        if ih is not None:
            r[:, :I] = w_ih[ih] / 256.0
        if hh is not None:
            r[:, I:I + H] = w_hh[hh] / 256.0
        rows.append(r)
    m = np.concatenate(rows)
    m[:, I + H] = bias
    return m.astype(k.dtype)


def _buffer(k, xs, h, *heights):
    """[x_t; h; 1] (its h rows are the state, updated in place), the outputs (T, H, B), and
    a float and an index array per height: every array a step writes exists before the
    first (a megabyte allocated per step, mapped afresh each time, cost more than the
    step's arithmetic)."""
    T, I, B = xs.shape
    H = h.shape[1]
    buf = np.ones((I + H + 1, B), k.dtype)
    buf[I:-1] = h.T
    work = [(np.empty((n, B), k.dtype), np.empty((n, B), np.intp)) for n in heights]
    return (buf, buf[I:-1], np.empty((T, H, B), k.dtype)), work


def _bound(w, m):
    """Per row of w (Q8.8 ints), the largest |w x| / 256 for |x_j| <= m_j."""
    return np.abs(w) @ m / 256.0


def _kind(kind, mx, h, w_ih, w_hh, b_ih, b_hh):
    """F32 when every sum of this layer's run is within float32's bound (module docstring),
    else F64. mx: the layer input's largest |value|; h: the starting state (an LSTM's c
    enters only products bounded without it)."""
    H = w_hh.shape[1]
    mh = max(int(np.abs(h).max(initial=0)), 256)
    ends = _SIG_END + 1
    if kind == "gru":
        rz = _bound(w_ih[:2 * H], np.full(w_ih.shape[1], mx)) + _bound(w_hh[:2 * H], np.full(H, mh))
        hn = _bound(w_hh[2 * H:], np.full(H, mh)) + np.abs(b_hh[2 * H:]) + 1
        xn = _bound(w_ih[2 * H:], np.full(w_ih.shape[1], mx)) + np.abs(b_ih[2 * H:]) + _TANH_END + 1
        ok = (rz + np.abs(b_ih[:2 * H] + b_hh[:2 * H]) + ends < F32_BOUND).all() and (
            hn < F32_BOUND).all() and (xn + np.minimum(hn, 32768) < F32_BOUND).all()
    else:
        s = _bound(w_ih, np.full(w_ih.shape[1], mx)) + _bound(w_hh, np.full(H, mh)) + np.abs(b_ih + b_hh) + ends
        ok = (s < F32_BOUND).all()
    return F32 if ok else F64


def gru(k, xs, h, w_ih, w_hh, b_ih, b_hh):
    """xs (T, I, B), h (B, H) -> outputs (T, H, B), floats of k: cells.gru_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    rz, nn = slice(0, 2 * H), slice(2 * H, 3 * H)
    # per step, one product: [r z sums; W_hn h + b_hn]; and for every step at once W_in x +
    # b_in. Each + 1/2 (rnd) or + 2^-9 and the table's end (an activation's input)
    w = _weights(k, w_ih, w_hh, np.concatenate([b_ih[rz] + b_hh[rz] + (_TIE + _SIG_END), b_hh[nn] + 0.5]),
                 [(rz, rz), (None, nn)])
    axn = np.matmul((w_ih[nn] / 256.0).astype(k.dtype), xs)
    axn += (b_ih[nn] + (_TIE + _TANH_END)).astype(k.dtype)[:, None]
    (buf, h, out), ((a, _), (g, i2), (n, i1)) = _buffer(k, xs, h, 3 * H, 2 * H, H)
    r, z, hn = g[:H], g[H:], a[2 * H:]
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=a)
        _look(k, k.sig, a[:2 * H], i2, g)        # r, z (/ 256)
        _q(hn)                                   # rnd(W_hn h + b_hn), a Q8.8 value
        hn *= r                                  # r hn / 256
        hn += axn[t]
        _look(k, k.tanh, hn, i1, n)
        # rnd((256 - z) n + z h) = n + floor(z (h - n) / 256 + 1/2): within [min(n, h),
        # max(n, h)] for 0 <= z <= 256, so it needs no saturation
        h -= n
        h *= z
        h += 0.5
        np.floor(h, out=h)
        h += n
        out[t] = h
    return out


def lstm(k, xs, h, c, w_ih, w_hh, b_ih, b_hh):
    """-> outputs, cells (T, H, B), floats of k: cells.lstm_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    ends = np.repeat([_SIG_END, _SIG_END, _TANH_END, _SIG_END], H)
    w = _weights(k, w_ih, w_hh, b_ih + b_hh + _TIE + ends, [(slice(None), slice(None))])
    (buf, h, out), ((p, idx), (i_f, _), (g, _), (o, _)) = _buffer(k, xs, h, 4 * H, 2 * H, H, H)
    i, f = i_f[:H], i_f[H:]
    cs = np.empty((T, H, B), k.dtype)
    c = np.array(c.T, dtype=k.dtype, order="C")
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=p)
        _index(k, p, idx)
        np.take(k.sig, idx[:2 * H], mode="clip", out=i_f)
        np.take(k.tanh, idx[2 * H:3 * H], mode="clip", out=g)
        np.take(k.sig, idx[3 * H:], mode="clip", out=o)
        c *= f                                   # c = rnd(f c + i g)
        g *= i
        c += g
        c += 0.5
        _q(c)
        np.add(c, _TANH_END, out=g)              # tanh(c) (g is free): the integer c + the end
        _look(k, k.tanh, g, idx[:H], h)
        h *= o                                   # h = rnd(o tanh(c)), |o tanh(c)| <= 2^16
        h += 0.5
        np.floor(h, out=h)
        out[t], cs[t] = h, c
    return out, cs


def elman(k, xs, h, w_ih, w_hh, b_ih, b_hh):
    """-> outputs (T, H, B), floats of k: cells.elman_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    w = _weights(k, w_ih, w_hh, b_ih + b_hh + (_TIE + _TANH_END), [(slice(None), slice(None))])
    (buf, h, out), ((u, idx),) = _buffer(k, xs, h, H)
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=u)
        _look(k, k.tanh, u, idx, h)
        out[t] = h
    return out


def dense(xs, w, b, act_name):
    """xs (T, I, B) -> act(W x + b) (T, O, B) int64: cells.dense_step on every step (float64)."""
    a = _q(np.matmul(w / 256.0, xs.astype(np.float64)) + (b + 0.5)[:, None]).astype(np.int64)
    if act_name == "sigmoid":
        return act.sigmoid(a)
    if act_name == "tanh":
        return act.tanh(a)
    if act_name == "softmax":
        return cells.softmax(a.transpose(0, 2, 1)).transpose(0, 2, 1)
    return a


def run(model, xs):
    """model.run(xs) for a checked xs (B, T, I) int64 -> (outs, states) int64; leaves the
    model's state after the last step, as the step-by-step path does."""
    p, spec = model.params, model.spec
    B, T, _ = xs.shape
    x = np.ascontiguousarray(xs.transpose(1, 2, 0))                       # (T, I, B) int64
    width = sum(n_out * (2 if kind == "lstm" else 1) for kind, _, n_out, _ in spec)
    states = np.empty((B, T, width), np.int64)
    at = 0
    del last_kinds[:]

    def keep(v):                        # v (T, n, B) -> states[:, :, at:at + n]
        nonlocal at
        n = v.shape[1]
        states[:, :, at:at + n] = v.transpose(2, 0, 1)
        at += n
        return states[:, -1, at - n:at].copy()

    for l, (kind, _, _, act_name) in enumerate(spec):
        if kind in ("head", "dense"):
            w, b = (p["head.weight"], p["head.bias"]) if kind == "head" else (p["weight_l%d" % l], p["bias_l%d" % l])
            y = x = dense(x, w, b, act_name)
        else:
            w = [p["%s_l%d" % (n, l)] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            k = _kind(kind, int(np.abs(x).max(initial=0)), model.h[l], *w)
            last_kinds.append(k.dtype)
            x = x.astype(k.dtype)
            if kind == "lstm":
                y, c = lstm(k, x, model.h[l], model.c[l], *w)
            else:
                y = (gru if kind == "gru" else elman)(k, x, model.h[l], *w)
            x = y
        out_at = at                     # the model's output: the last layer's h
        model.h[l] = keep(y)
        if kind == "lstm":
            model.c[l] = keep(c)
    return states[:, :, out_at:out_at + spec[-1][2]].copy(), states
