# Shared inner loops of the layers. Spec: docs/arithmetic.md, section 6.
#
# A recurrent layer's parameters sit in one flat view p, in PyTorch's order:
#     weight_ih (G*H, I) | weight_hh (G*H, H) | bias_ih (G*H) | bias_hh (G*H)
# with G gate blocks: w_ih starts at 0, w_hh at G*H*I, b_ih at G*H*(I+H),
# b_hh at G*H*(I+H+1). (Computed inline: a helper returning a tuple would
# allocate that tuple on every step.)


def row_dot(w, i, x, n, acc):
    """acc + w[i:i+n] . x[:n] (exact, unrounded)."""
    for j in range(n):
        acc += w[i] * x[j]
        i += 1
    return acc


def gates(out, p, n_gates, x, h, n_in, n_hid, r0, r1):
    """out[r] = sat(round(W_ih[r] . x + W_hh[r] . h + (b_ih[r] + b_hh[r]) * 256)) for r0 <= r < r1.

    One exact sum per row, rounded half up once, then saturated.
    """
    rows = n_gates * n_hid
    w_hh = rows * n_in
    b_ih = w_hh + rows * n_hid
    b_hh = b_ih + rows
    for r in range(r0, r1):
        acc = row_dot(p, r * n_in, x, n_in, (p[b_ih + r] + p[b_hh + r]) << 8)
        acc = (row_dot(p, w_hh + r * n_hid, h, n_hid, acc) + 128) >> 8
        out[r] = -32768 if acc < -32768 else (32767 if acc > 32767 else acc)


class Cell:
    """What every recurrent layer holds: views into the model's buffers, made once.
    p: its parameters; h: its state (also its output; an LSTM's is h then c);
    work: scratch for the gates."""

    def __init__(self, n_in, n_hid, p, h, work):
        self.n_in = n_in
        self.n_hid = n_hid
        self.p = p
        self.h = h
        self.work = work

    def reset(self):
        h = self.h
        for u in range(len(h)):
            h[u] = 0
