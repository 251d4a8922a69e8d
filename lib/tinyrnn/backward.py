# Backward passes of the layers for BPTT, integer only. Training code: an
# inference-only program never imports this module. Spec: docs/arithmetic.md, 7.
#
# Formats: forward values are Q8.8, read back from the trainer's cache `c`;
# deltas are Q.12 (4096 = 1.0), saturated to +-(2^14 - 1) as soon as they are
# formed, in array('i'); gradients accumulate in Q.20 (a Q.12 delta times a
# Q8.8 value), saturated to +-(2^29 - 1), in array('i'). So every product of a
# delta and a Q8.8 value or an activation derivative (<= 2^16) stays below 2^30:
# a small int on a 32-bit board. Products are rounded half up:
# r8(v) = (v + 128) >> 8, r16(v) = (v + 32768) >> 16.
#
# Each *_backward handles one layer at one time step. Cache offsets: xo the
# layer's input x_t, s0 its state before the step, wk the forward's work
# buffer, s1 its state after the step. p is the layer's flat parameter view
# (weight_ih | weight_hh | bias_ih | bias_hh, see _cell.py; a dense layer:
# weight | bias) and g the matching view of gradient accumulators.
from .act import sigmoid, tanh

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

D = const(16383)             # deltas saturate at +-(2^14 - 1): 3.9998 in Q.12
G = const(536870911)         # gradient sums saturate at +-(2^29 - 1): 512.0 in Q.20
_COLS = const(65539)         # (2^30 - 1 - 128) // D: the largest column sum of |w| the plain matvec takes
_TOP = const(268435456)      # 2^28: the carry unit of the split matvec


def fits_cols(p, rows, n_in, n_hid):
    """Which backward matvecs may use the plain loop for any deltas: 1 if every column
    of weight_ih has sum|w| <= 65540, plus 2 if every column of weight_hh does."""
    out = 3
    w_hh = rows * n_in
    for j in range(n_in):
        s = 0
        i = j
        for r in range(rows):
            v = p[i]
            s += -v if v < 0 else v
            i += n_in
        if s > _COLS:
            out &= 2
            break
    for k in range(n_hid):
        s = 0
        i = w_hh + k
        for r in range(rows):
            v = p[i]
            s += -v if v < 0 else v
            i += n_hid
        if s > _COLS:
            out &= 1
            break
    return out


def col_split(p, i, step, d, rows, base):
    """dsat(base + r8(sum_r p[i + r * step] * d[r])), exact for |d| <= D, any number of
    rows, every intermediate below 2^30: each product (< 2^29) is split into its high
    part (>> 8) and low byte, and the high sum carries into `top` in units of 2^28."""
    hi = 0
    lo = 128
    top = 0
    for r in range(rows):
        v = p[i] * d[r]
        hi += v >> 8
        lo += v & 255
        i += step
        if hi > _TOP:
            hi -= _TOP
            top += 1
        elif hi < -_TOP:
            hi += _TOP
            top -= 1
    if top > 1:
        return D
    if top < -1:
        return -D
    v = hi + (lo >> 8) + top * _TOP + base
    return -D if v < -D else (D if v > D else v)


def accumulate(p, g, rows, n_in, n_hid, dax, dah, c, xo, hp, dx, dh, fast):
    """Gradients and input deltas of `rows` gate rows.

    Input part, delta dax[r]:     dW_ih[r] += dax[r] * x,  db_ih[r] += dax[r] * 256,
                                  dx[j] = dsat(r8(sum_r W_ih[r, j] * dax[r]))
    Recurrent part, delta dah[r]: dW_hh[r] += dah[r] * h_prev,  db_hh[r] += dah[r] * 256,
                                  dh[k] = dsat(dh[k] + r8(sum_r W_hh[r, k] * dah[r]))
    Every gradient sum saturates at +-G. n_hid == 0 means a dense layer: weight then
    one bias, no recurrent part. fast: the fits_cols() bits for this layer's weights.
    """
    w_hh = rows * n_in
    b_ih = w_hh + rows * n_hid
    b_hh = b_ih + rows
    for r in range(rows):
        d = dax[r]
        if d:
            i = r * n_in
            for j in range(n_in):
                v = g[i] + d * c[xo + j]              # |d * x| < 2^29, |g| <= 2^29 - 1
                g[i] = -G if v < -G else (G if v > G else v)
                i += 1
            v = g[b_ih + r] + (d << 8)
            g[b_ih + r] = -G if v < -G else (G if v > G else v)
        if n_hid:
            d = dah[r]
            if d:
                i = w_hh + r * n_hid
                for k in range(n_hid):
                    v = g[i] + d * c[hp + k]
                    g[i] = -G if v < -G else (G if v > G else v)
                    i += 1
                v = g[b_hh + r] + (d << 8)
                g[b_hh + r] = -G if v < -G else (G if v > G else v)
    for j in range(n_in):
        if fast & 1:
            v = 128
            i = j
            for r in range(rows):
                v += p[i] * dax[r]
                i += n_in
            v >>= 8
            dx[j] = -D if v < -D else (D if v > D else v)
        else:
            dx[j] = col_split(p, j, n_in, dax, rows, 0)
    for k in range(n_hid):
        if fast & 2:
            v = 128
            i = w_hh + k
            for r in range(rows):
                v += p[i] * dah[r]
                i += n_hid
            v = dh[k] + (v >> 8)
            dh[k] = -D if v < -D else (D if v > D else v)
        else:
            dh[k] = col_split(p, w_hh + k, n_hid, dah, rows, dh[k])


def copy16(dst, at, src, n):
    """dst[at:at + n] = src[:n] (the trainer's cache)."""
    for j in range(n):
        dst[at + j] = src[j]


def act_delta(d, y, act):
    """Delta through an activation from its output y (Q8.8): 1 sigmoid, 2 tanh, else identity."""
    if act == 1:
        v = (d * (y * (256 - y)) + 32768) >> 16
    elif act == 2:
        v = (d * (65536 - y * y) + 32768) >> 16
    else:
        v = d
    return -D if v < -D else (D if v > D else v)


def dense_backward(p, g, n_in, n_out, act, c, xo, s1, dy, da, dx, fast):
    """y = act(W x + b): dy (dL/dy, Q.12) -> grads, dx. For softmax (act 3), dy must
    already be the pre-activation delta (softmax + cross-entropy: y - onehot)."""
    for o in range(n_out):
        da[o] = act_delta(dy[o], c[s1 + o], 0 if act == 3 else act)
    accumulate(p, g, n_out, n_in, 0, da, da, c, xo, 0, dx, None, fast)


def elman_backward(p, g, n_in, H, c, xo, s0, s1, dh, dup, da, dx, fast):
    """h' = tanh(a): da = dh (1 - h'^2). dh: dL/dh_t from step t+1 (dup: from the layer
    above) in, dL/dh_{t-1} out."""
    for u in range(H):
        h = c[s1 + u]
        v = dh[u] + dup[u]
        d = -D if v < -D else (D if v > D else v)
        v = (d * (65536 - h * h) + 32768) >> 16
        da[u] = -D if v < -D else (D if v > D else v)
        dh[u] = 0
    accumulate(p, g, H, n_in, H, da, da, c, xo, s0, dx, dh, fast)


def lstm_backward(p, g, n_in, H, c, xo, s0, wk, s1, dh, dup, da, dx, fast):
    """c' = f c + i g, h' = o tanh(c'). dh holds dL/dh_t then dL/dc_t (2H) from step
    t+1 (dup: dL/dh_t from the layer above) in, and dL/dh_{t-1}, dL/dc_{t-1} out.
    wk: the cached pre-activations i, f, g, o."""
    for u in range(H):
        i = sigmoid(c[wk + u])
        f = sigmoid(c[wk + H + u])
        gg = tanh(c[wk + 2 * H + u])
        o = sigmoid(c[wk + 3 * H + u])
        tc = tanh(c[s1 + H + u])
        v = dh[u] + dup[u]
        d = -D if v < -D else (D if v > D else v)
        do = (d * tc + 128) >> 8                                   # |do| <= D
        v = dh[H + u] + ((((d * o + 128) >> 8) * (65536 - tc * tc) + 32768) >> 16)
        dc = -D if v < -D else (D if v > D else v)
        di = (dc * gg + 128) >> 8
        v = (dc * c[s0 + H + u] + 128) >> 8                        # c_prev: any Q8.8 value
        df = -D if v < -D else (D if v > D else v)
        dg = (dc * i + 128) >> 8
        dh[H + u] = (dc * f + 128) >> 8                            # dL/dc_{t-1}
        dh[u] = 0
        v = (di * (i * (256 - i)) + 32768) >> 16
        da[u] = -D if v < -D else (D if v > D else v)
        v = (df * (f * (256 - f)) + 32768) >> 16
        da[H + u] = -D if v < -D else (D if v > D else v)
        v = (dg * (65536 - gg * gg) + 32768) >> 16
        da[2 * H + u] = -D if v < -D else (D if v > D else v)
        v = (do * (o * (256 - o)) + 32768) >> 16
        da[3 * H + u] = -D if v < -D else (D if v > D else v)
    accumulate(p, g, 4 * H, n_in, H, da, da, c, xo, s0, dx, dh, fast)


def gru_backward(p, g, n_in, H, c, xo, s0, wk, dh, dup, dax, dah, dx, fast):
    """h' = (1 - z) n + z h, n = tanh(a_n), a_n = W_in x + b_in + r hn, hn = W_hn h + b_hn.
    wk: the cached r, z, n (after activation) and hn. dh: dL/dh_t from step t+1 (dup:
    from the layer above) in, dL/dh_{t-1} out. dax gets the input-side row deltas
    (r, z, a_n), dah the recurrent-side ones (r, z, hn)."""
    for u in range(H):
        row = 2 * H + u
        hn = c[wk + 3 * H + u]
        v = dh[u] + dup[u]
        d = -D if v < -D else (D if v > D else v)
        r = c[wk + u]
        z = c[wk + H + u]
        n = c[wk + row]
        dn = (d * (256 - z) + 128) >> 8                            # |dn| <= D
        v = (d * (c[s0 + u] - n) + 128) >> 8                       # h_prev - n: up to 2^15 + 256
        dz = -D if v < -D else (D if v > D else v)
        dh[u] = (d * z + 128) >> 8                                 # the direct path z * h; <= D
        v = (dn * (65536 - n * n) + 32768) >> 16
        dan = -D if v < -D else (D if v > D else v)
        v = (dan * hn + 128) >> 8                                  # hn: any Q8.8 value
        dr = -D if v < -D else (D if v > D else v)
        v = (dr * (r * (256 - r)) + 32768) >> 16
        da_r = -D if v < -D else (D if v > D else v)
        v = (dz * (z * (256 - z)) + 32768) >> 16
        da_z = -D if v < -D else (D if v > D else v)
        dax[u] = da_r
        dah[u] = da_r
        dax[H + u] = da_z
        dah[H + u] = da_z
        dax[row] = dan
        dah[row] = (dan * r + 128) >> 8                            # delta of hn; <= D
    accumulate(p, g, 3 * H, n_in, H, dax, dah, c, xo, s0, dx, dh, fast)
