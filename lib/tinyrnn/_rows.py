# The bytecode row kernels of the layers (docs/arithmetic.md, sections 6 and 9),
# loaded only where the bytecode kernels run (the viper ones bound their own sums).
#
# A recurrent layer's parameters sit in one flat view p, in PyTorch's order:
#     weight_ih (G*H, I) | weight_hh (G*H, H) | bias_ih (G*H) | bias_hh (G*H)
# with G gate blocks: w_ih starts at 0, w_hh at G*H*I, b_ih at G*H*(I+H),
# b_hh at G*H*(I+H+1). (Computed inline: a helper returning a tuple would
# allocate that tuple on every step.) A dense layer: weight (O, I) | bias (O).
#
# Every row sum is exact. Two loops compute it:
# - the plain loop adds the products as they come; a layer uses it when its
#   weights guarantee that every partial sum stays below 2^30 in magnitude for
#   any input (`fits`), so on a 32-bit board no sum becomes a heap-allocated
#   long int;
# - the split loop (`dot_split`) splits every input into its high and low byte
#   and keeps two partial sums, each far from 2^30 for any Q8.8 inputs and
#   weights in rows of up to MAX_ROW terms.
# Both give the same integer; the choice changes speed, never a result.

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

_SMALL = const(1073741823)   # 2^30 - 1: the largest small int of a 32-bit port
_EXTRA = const(8388736)      # 2^23 + 128: GRU's r * hn term and the rounding offset


def weights_changed(layers):
    """Model.weights_changed() with bytecode kernels: each layer's flags bit 0, set where its plain
    loop is safe (fits) for its inputs: the model's input is any Q8.8 value; a cell's h, or a
    squashed dense output, is within [-1.0, 1.0]; an identity dense output can be anything.
    (Here, not in the layer classes, so that a model on native kernels never loads it.)"""
    x_max = 32768
    for L in layers:
        if L.work is None:           # a Dense layer (no scratch): the activation above bit 0
            L.flags = (L.act << 1) | (1 if fits(L.p, L.n_hid, L.n_in, 0, 1, x_max) else 0)
            x_max = 32768 if L.act == 0 else 256
        else:
            L.flags = 1 if fits(L.p, L.GATES * L.n_hid, L.n_in, L.n_hid, 2, x_max) else 0
            x_max = 256


def fits(p, rows, n_in, n_hid, n_bias, x_max):
    """True if, for every row, |biases| * 256 + sum|w_ih| * x_max + sum|w_hh| * 256
    + 2^23 + 128 <= 2^30 - 1: the plain loop then never leaves the small-int range
    for inputs up to x_max and a state up to 256 (1.0) in magnitude.
    Layout: rows x n_in weights, rows x n_hid weights, then n_bias bias vectors."""
    w_hh = rows * n_in
    b0 = w_hh + rows * n_hid
    for r in range(rows):
        b = 0
        for k in range(n_bias):
            v = p[b0 + k * rows + r]
            b += -v if v < 0 else v
        s = 0
        i = w_hh + r * n_hid
        for k in range(n_hid):
            v = p[i + k]
            s += -v if v < 0 else v
        if s > 2097152:                          # s * 256 would pass 2^29
            return False
        left = _SMALL - _EXTRA - (b << 8) - (s << 8)
        s = 0
        i = r * n_in
        for j in range(n_in):
            v = p[i + j]
            s += -v if v < 0 else v
        if left < 0 or s > left // x_max:
            return False
    return True


def gates(out, p, n_gates, x, h, n_in, n_hid, r0, r1, fast):
    """out[r] = sat(round(W_ih[r] . x + W_hh[r] . h + (b_ih[r] + b_hh[r]) * 256)) for r0 <= r < r1.

    One exact sum per row, rounded half up once, then saturated."""
    rows = n_gates * n_hid
    w_hh = rows * n_in
    b_ih = w_hh + rows * n_hid
    b_hh = b_ih + rows
    if not fast:
        for r in range(r0, r1):
            v = dot_split(p, r * n_in, x, n_in, w_hh + r * n_hid, h, n_hid, p[b_ih + r] + p[b_hh + r], 128)
            out[r] = -32768 if v < -32768 else (32767 if v > 32767 else v)
        return
    i = r0 * n_in
    k = w_hh + r0 * n_hid
    for r in range(r0, r1):
        acc = (p[b_ih + r] + p[b_hh + r]) << 8
        for j in range(n_in):
            acc += p[i] * x[j]
            i += 1
        for j in range(n_hid):
            acc += p[k] * h[j]
            k += 1
        acc = (acc + 128) >> 8
        out[r] = -32768 if acc < -32768 else (32767 if acc > 32767 else acc)


def dot_split(p, i, x, n, k, h, m, hi, lo):
    """floor((256 * hi + lo + p[i:i+n] . x + p[k:k+m] . h) / 256), exact, for Q8.8
    p, x, h and rows of n + m <= MAX_ROW terms: every intermediate stays below 2^30.

    Each input v is split as 256 * (v >> 8) + (v & 255); the running value is kept
    as 256 * hi + lo with 0 <= lo < 256 after every term, so |hi| never exceeds
    |the exact partial sum| / 256 + 1 <= 255 * 2^22 + 2^16 + 1."""
    hi += lo >> 8
    lo &= 255
    for j in range(n):
        w = p[i + j]
        v = x[j]
        lo += w * (v & 255)
        hi += w * (v >> 8) + (lo >> 8)
        lo &= 255
    for j in range(m):
        w = p[k + j]
        v = h[j]
        lo += w * (v & 255)
        hi += w * (v >> 8) + (lo >> 8)
        lo &= 255
    return hi
