# Backward passes of the layers for BPTT, integer only. Training code: an
# inference-only program never imports this module. Spec: docs/arithmetic.md, 7.
#
# Formats: forward values are Q8.8, read back from the trainer's cache `c`;
# deltas are Q.12 (4096 = 1.0) in array('i'); gradients accumulate exactly in
# Q.20 (a Q.12 delta times a Q8.8 value) in array('i'). Products are rounded
# half up: r8(v) = (v + 128) >> 8, r16(v) = (v + 32768) >> 16.
#
# Each *_backward handles one layer at one time step. Cache offsets: xo the
# layer's input x_t, s0 its state before the step, wk the forward's work
# buffer, s1 its state after the step. p is the layer's flat parameter view
# (weight_ih | weight_hh | bias_ih | bias_hh, see _cell.py; a dense layer:
# weight | bias) and g the matching view of gradient accumulators.
from .act import sigmoid, tanh

_DMAX = 1073741823          # deltas saturate at +-(2^30 - 1)
_GMAX = 1073741823          # an accumulator leaving +-(2^30 - 1) (1024.0) is an error, not a wrap
# (both bounds are small ints: comparing with a larger constant allocates on a board)


def _dsat(v):
    return -_DMAX if v < -_DMAX else (_DMAX if v > _DMAX else v)


def _add(g, i, v):
    v += g[i]
    if v > _GMAX or v < -_GMAX:
        raise OverflowError("gradient accumulator overflow: gradients beyond 1024.0; lower the learning rate or clip")
    g[i] = v


def accumulate(p, g, rows, n_in, n_hid, dax, dah, c, xo, hp, dx, dh):
    """Gradients and input deltas of `rows` gate rows.

    Input part, delta dax[r]:     dW_ih[r] += dax[r] * x,  db_ih[r] += dax[r] * 256,
                                  dx[j] = r8(sum_r W_ih[r, j] * dax[r])
    Recurrent part, delta dah[r]: dW_hh[r] += dah[r] * h_prev,  db_hh[r] += dah[r] * 256,
                                  dh[k] += r8(sum_r W_hh[r, k] * dah[r])
    n_hid == 0 means a dense layer: weight then one bias, no recurrent part.
    """
    w_hh = rows * n_in
    b_ih = w_hh + rows * n_hid
    b_hh = b_ih + rows
    for r in range(rows):
        d = dax[r]
        if d:
            i = r * n_in
            for j in range(n_in):
                _add(g, i + j, d * c[xo + j])
            _add(g, b_ih + r, d << 8)
        if n_hid:
            d = dah[r]
            if d:
                i = w_hh + r * n_hid
                for k in range(n_hid):
                    _add(g, i + k, d * c[hp + k])
                _add(g, b_hh + r, d << 8)
    for j in range(n_in):
        v = 0
        i = j
        for r in range(rows):
            v += p[i] * dax[r]
            i += n_in
        dx[j] = _dsat((v + 128) >> 8)
    for k in range(n_hid):
        v = 0
        i = w_hh + k
        for r in range(rows):
            v += p[i] * dah[r]
            i += n_hid
        dh[k] = _dsat(dh[k] + ((v + 128) >> 8))


def act_delta(d, y, act):
    """Delta through an activation from its output y (Q8.8): 1 sigmoid, 2 tanh, else identity."""
    if act == 1:
        return _dsat((d * (y * (256 - y)) + 32768) >> 16)
    if act == 2:
        return _dsat((d * (65536 - y * y) + 32768) >> 16)
    return d


def dense_backward(p, g, n_in, n_out, act, c, xo, s1, dy, da, dx):
    """y = act(W x + b): dy (dL/dy, Q.12) -> grads, dx. For softmax (act 3), dy must
    already be the pre-activation delta (softmax + cross-entropy: y - onehot)."""
    for o in range(n_out):
        da[o] = dy[o] if act == 3 else act_delta(dy[o], c[s1 + o], act)
    accumulate(p, g, n_out, n_in, 0, da, da, c, xo, 0, dx, None)


def elman_backward(p, g, n_in, H, c, xo, s0, s1, dh, da, dx):
    """h' = tanh(a): da = dh (1 - h'^2). dh: dL/dh_t in, dL/dh_{t-1} out."""
    for u in range(H):
        h = c[s1 + u]
        da[u] = _dsat((dh[u] * (65536 - h * h) + 32768) >> 16)
        dh[u] = 0
    accumulate(p, g, H, n_in, H, da, da, c, xo, s0, dx, dh)


def lstm_backward(p, g, n_in, H, c, xo, s0, wk, s1, dh, da, dx):
    """c' = f c + i g, h' = o tanh(c'). dh holds dL/dh_t then dL/dc_t (2H): in, and
    dL/dh_{t-1}, dL/dc_{t-1} out. wk: the cached pre-activations i, f, g, o."""
    for u in range(H):
        i = sigmoid(c[wk + u])
        f = sigmoid(c[wk + H + u])
        gg = tanh(c[wk + 2 * H + u])
        o = sigmoid(c[wk + 3 * H + u])
        tc = tanh(c[s1 + H + u])
        d = dh[u]
        do = (d * tc + 128) >> 8
        dc = _dsat(dh[H + u] + ((((d * o + 128) >> 8) * (65536 - tc * tc) + 32768) >> 16))
        di = (dc * gg + 128) >> 8
        df = (dc * c[s0 + H + u] + 128) >> 8
        dg = (dc * i + 128) >> 8
        dh[H + u] = _dsat((dc * f + 128) >> 8)              # dL/dc_{t-1}
        dh[u] = 0
        da[u] = _dsat((di * (i * (256 - i)) + 32768) >> 16)
        da[H + u] = _dsat((df * (f * (256 - f)) + 32768) >> 16)
        da[2 * H + u] = _dsat((dg * (65536 - gg * gg) + 32768) >> 16)
        da[3 * H + u] = _dsat((do * (o * (256 - o)) + 32768) >> 16)
    accumulate(p, g, 4 * H, n_in, H, da, da, c, xo, s0, dx, dh)


def gru_backward(p, g, n_in, H, c, xo, s0, wk, dh, dax, dah, dx):
    """h' = (1 - z) n + z h, n = tanh(a_n), a_n = W_in x + b_in + r hn, hn = W_hn h + b_hn.
    wk: the cached r, z, n (after activation). dh: dL/dh_t in, dL/dh_{t-1} out.
    dax gets the input-side row deltas (r, z, a_n), dah the recurrent-side ones (r, z, hn)."""
    I = n_in
    w_hh = 3 * H * I
    b_hh = w_hh + 3 * H * H + 3 * H
    for u in range(H):
        row = 2 * H + u
        v = p[b_hh + row] << 8                               # hn, exactly as gru.py computes it
        i = w_hh + row * H
        for k in range(H):
            v += p[i + k] * c[s0 + k]
        v = (v + 128) >> 8
        hn = -32768 if v < -32768 else (32767 if v > 32767 else v)
        d = dh[u]
        r = c[wk + u]
        z = c[wk + H + u]
        n = c[wk + row]
        dn = (d * (256 - z) + 128) >> 8
        dz = (d * (c[s0 + u] - n) + 128) >> 8
        dh[u] = _dsat((d * z + 128) >> 8)                    # the direct path z * h
        dan = _dsat((dn * (65536 - n * n) + 32768) >> 16)
        dr = (dan * hn + 128) >> 8
        da_r = _dsat((dr * (r * (256 - r)) + 32768) >> 16)
        da_z = _dsat((dz * (z * (256 - z)) + 32768) >> 16)
        dax[u] = da_r
        dah[u] = da_r
        dax[H + u] = da_z
        dah[H + u] = da_z
        dax[row] = dan
        dah[row] = _dsat((dan * r + 128) >> 8)               # delta of hn
    accumulate(p, g, 3 * H, I, H, dax, dah, c, xo, s0, dx, dh)
