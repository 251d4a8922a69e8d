"""Model.run's fast path: the same integers as cells.py, a layer at a time over the whole sequence.

A layer's step at time t needs only its own state and the layer below's output at t, so
the stack is computed layer by layer: the input products of every step in one BLAS call,
then one product per step for the state. Everything stays in float64, where every value
here is an integer below 2^53 and so exact (docs/arithmetic.md, 11; the bound is checked
by `exact`, and Model.run takes cells.py's path when it fails):

- a row sum S of the spec is exact in any order of addition; rnd(S) = floor((S + 128) /
  256), and multiplying by 1/256 and flooring are exact in float64;
- everything is scaled by 1/256 (weights, biases, gates), which is exact for a power of 2:
  |q| >= 2048 on, tanh -256 and 256 from |q| >= 1024 on: checked at import against
  act.py's functions at every Q8.8 input) and looked up in a table of floats, which
  merges rnd's saturation and act.py's clip into one;
- products of a gate (<= 256) and a Q8.8 value are below 2^24.

host_tests/test_mirror_fast.py holds it to cells.py, == on integers, at the rails and
past them (wide weights that saturate every sum).
"""
import numpy as np

from . import act, cells

EXACT = 2.0 ** 52
_SIG_END, _TANH_END = 2048, 1024
# sigmoid / 256 (a gate as the factor it is) and tanh, from -end to end
_SIG = act._SIG_ALL[32768 - _SIG_END:32768 + _SIG_END + 1] / 256.0
_TANH = act._TANH_ALL[32768 - _TANH_END:32768 + _TANH_END + 1].astype(np.float64)
# the small tables are the whole functions: constant beyond their ends
assert (act._SIG_ALL[:32768 - _SIG_END] == 0).all() and (act._SIG_ALL[32768 + _SIG_END:] == 256).all()
assert (act._TANH_ALL[:32768 - _TANH_END] == -256).all() and (act._TANH_ALL[32768 + _TANH_END:] == 256).all()


def exact(spec):
    """True when every sum of the fast path stays below 2^52: a row sums n_in + n_out
    products of two Q8.8 values (each at most 2^30), a bias times 256 and 128 (then, / 256
    and + 2^-9 + a table's end, it still has a bit to spare in float64's 53)."""
    return all((n_in + n_out + 2) << 30 < EXACT for _, n_in, n_out, _ in spec)


_ROUND = 1.5 * 2.0 ** 52            # u + _ROUND rounds u to an integer (|u| < 2^51) ...
_ROUND_BITS = np.float64(_ROUND).view(np.int64)   # ... whose bits, as an int64, are these + it
_TIE = 2.0 ** -9


def _index(u, idx):
    """idx = floor(S / 256 + 1/2) + end for u = S / 256 + 2^-9 + end, in place in u: u is
    a multiple of 2^-9 that is never one half past an integer, so rounding it to the nearest
    integer (the float adder does) is that floor; the integer is read off the float's bits
    (twice as fast as a conversion to int64)."""
    u += _ROUND
    np.subtract(u.view(np.int64), _ROUND_BITS, out=idx)
    return idx


def _look(table, u, idx, out):
    """out = table[clip(index, 0, len - 1)] (_index: u = a row sum / 256 + 2^-9 + the
    table's end, folded into the bias); every index < 0 clips to 0 with take's "clip"."""
    return np.take(table, _index(u, idx), mode="clip", out=out)


def _q(s):
    """floor(s) saturated to Q8.8, in place; s = a row sum / 256 + 1/2."""
    np.floor(s, out=s)
    return np.clip(s, -32768, 32767, out=s)


def _weights(w_ih, w_hh, bias, blocks):
    """The matrix of a step, it @ [x; h; 1]: columns w_ih / 256, w_hh / 256, then the bias;
    `blocks` [(ih, hh)] picks w_ih's and w_hh's rows per output block (None: zero)."""
    I, H = w_ih.shape[1], w_hh.shape[1]
    rows = []
    for ih, hh in blocks:
        n = len(range(*(ih or hh).indices((w_ih if ih else w_hh).shape[0])))
        r = np.zeros((n, I + H + 1))
        if ih is not None:
            r[:, :I] = w_ih[ih] / 256.0
        if hh is not None:
            r[:, I:I + H] = w_hh[hh] / 256.0
        rows.append(r)
    m = np.concatenate(rows)
    m[:, I + H] = bias
    return m


def _buffer(xs, h, *heights):
    """Feature-major (a row per feature, a column per sequence: every block a step works
    on is then contiguous, which halves a ufunc's time): [x_t; h; 1], whose h rows are the
    state, updated in place; the outputs (T, H, B); and a float and an index array per
    height. Every array a step writes exists before the first (a megabyte allocated per
    step, mapped afresh each time, cost more than the step's arithmetic)."""
    T, I, B = xs.shape
    H = h.shape[1]
    buf = np.ones((I + H + 1, B))
    buf[I:-1] = h.T
    work = [(np.empty((n, B)), np.empty((n, B), np.intp)) for n in heights]
    return (buf, buf[I:-1], np.empty((T, H, B))), work


def gru(xs, h, w_ih, w_hh, b_ih, b_hh):
    """xs (T, I, B) float64, h (B, H) -> outputs (T, H, B) float64: cells.gru_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    rz, nn = slice(0, 2 * H), slice(2 * H, 3 * H)
    # per step, one product: [r z sums; W_hn h + b_hn]; and for every step at once W_in x +
    # b_in. Each + 1/2 (rnd) or + 2^-9 and the table's end (an activation's input)
    w = _weights(w_ih, w_hh, np.concatenate([b_ih[rz] + b_hh[rz] + (_TIE + _SIG_END), b_hh[nn] + 0.5]),
                 [(rz, rz), (None, nn)])
    axn = np.matmul(w_ih[nn] / 256.0, xs)
    axn += (b_ih[nn] + (_TIE + _TANH_END))[:, None]
    (buf, h, out), ((a, _), (g, i2), (n, i1)) = _buffer(xs, h, 3 * H, 2 * H, H)
    r, z, hn = g[:H], g[H:], a[2 * H:]
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=a)
        _look(_SIG, a[:2 * H], i2, g)            # r, z (/ 256)
        _q(hn)                                   # rnd(W_hn h + b_hn), a Q8.8 value
        hn *= r                                  # r hn / 256
        hn += axn[t]
        _look(_TANH, hn, i1, n)
        # rnd((256 - z) n + z h) = n + floor(z (h - n) / 256 + 1/2): within [min(n, h),
        # max(n, h)] for 0 <= z <= 256, so it needs no saturation
        h -= n
        h *= z
        h += 0.5
        np.floor(h, out=h)
        h += n
        out[t] = h
    return out


def lstm(xs, h, c, w_ih, w_hh, b_ih, b_hh):
    """-> outputs, cells (T, H, B) float64: cells.lstm_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    ends = np.repeat([_SIG_END, _SIG_END, _TANH_END, _SIG_END], H)
    w = _weights(w_ih, w_hh, b_ih + b_hh + _TIE + ends, [(slice(None), slice(None))])
    (buf, h, out), ((p, idx), (i_f, _), (g, _), (o, _)) = _buffer(xs, h, 4 * H, 2 * H, H, H)
    i, f = i_f[:H], i_f[H:]
    cs = np.empty((T, H, B))
    c = np.array(c.T, dtype=np.float64, order="C")
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=p)
        _index(p, idx)
        np.take(_SIG, idx[:2 * H], mode="clip", out=i_f)
        np.take(_TANH, idx[2 * H:3 * H], mode="clip", out=g)
        np.take(_SIG, idx[3 * H:], mode="clip", out=o)
        c *= f                                   # c = rnd(f c + i g)
        g *= i
        c += g
        c += 0.5
        _q(c)
        np.add(c, _TANH_END + _TIE, out=g)       # tanh(c) (g is free): c + the table's end
        _look(_TANH, g, idx[:H], h)
        h *= o                                   # h = rnd(o tanh(c)), |o tanh(c)| <= 2^16
        h += 0.5
        np.floor(h, out=h)
        out[t], cs[t] = h, c
    return out, cs


def elman(xs, h, w_ih, w_hh, b_ih, b_hh):
    """-> outputs (T, H, B) float64: cells.elman_step over t."""
    T, I, B = xs.shape
    H = h.shape[1]
    w = _weights(w_ih, w_hh, b_ih + b_hh + (_TIE + _TANH_END), [(slice(None), slice(None))])
    (buf, h, out), ((u, idx),) = _buffer(xs, h, H)
    for t in range(T):
        buf[:I] = xs[t]
        np.matmul(w, buf, out=u)
        _look(_TANH, u, idx, h)
        out[t] = h
    return out


def dense(xs, w, b, act_name):
    """xs (T, I, B) float64 -> act(W x + b) (T, O, B) int64: cells.dense_step on every step."""
    a = _q(np.matmul(w / 256.0, xs) + (b + 0.5)[:, None]).astype(np.int64)
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
    x = np.ascontiguousarray(xs.transpose(1, 2, 0), dtype=np.float64)      # (T, I, B)
    width = sum(n_out * (2 if kind == "lstm" else 1) for kind, _, n_out, _ in spec)
    states = np.empty((B, T, width), np.int64)
    at = 0

    def keep(v):                        # v (T, n, B) -> states[:, :, at:at + n]
        nonlocal at
        n = v.shape[1]
        states[:, :, at:at + n] = v.transpose(2, 0, 1)
        at += n
        return states[:, -1, at - n:at].copy()

    for l, (kind, _, _, act_name) in enumerate(spec):
        if kind in ("head", "dense"):
            w, b = (p["head.weight"], p["head.bias"]) if kind == "head" else (p["weight_l%d" % l], p["bias_l%d" % l])
            y = dense(x, w, b, act_name)
            x = y.astype(np.float64)
        else:
            w = [p["%s_l%d" % (n, l)] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            if kind == "lstm":
                y, c = lstm(x, model.h[l], model.c[l], *w)
            else:
                y = (gru if kind == "gru" else elman)(x, model.h[l], *w)
            x = y
        out_at = at                     # the model's output: the last layer's h
        model.h[l] = keep(y)
        if kind == "lstm":
            model.c[l] = keep(c)
    return states[:, :, out_at:out_at + spec[-1][2]].copy(), states
