"""BPTT training on int64 batches: mirrors lib/tinyrnn/train.py (spec: docs/arithmetic.md, 7).

The sequences of a mini-batch run side by side (B = batch) when they have the
same length, one after another otherwise. Gradient sums saturate at +-G after
every addition, as lib's accumulators do, so the order of the additions is part
of the result: the contributions are applied as lib makes them, sequence by
sequence, window by window, from the last step of a window to its first.

B = batch, T = time, I = inputs, O = outputs. One sequence: xs (T, I), ys (T, O)
(loss 'mse') or (T,) class indices (loss 'ce'); with targets='last', ys (O,) or one
class index. accumulate() takes B of them stacked: xs (B, T, I), ys (B, T, O) ...
A dataset is a list or tuple of (xs, ys) pairs, or any object with len() and [i]
giving such pairs (recordings read on demand). Every argument and every sequence is
checked before anything changes, with the board's messages (mirror.check).
train= names what learns, as lib's: "all", "head", or consecutive layer indices. Only the
trained layers' parameters get master weights, gradients and optimizer state; backward runs
down to the lowest trained layer only (the frozen layers above it pass the deltas down).
"""
import math

import numpy as np

from . import backward as bw
from . import cells
from . import optim as _optim
from .check import _is_int, bad_type, board, check_flag, check_int, q88_array
from .model import Model, param_shapes
from .optim import SGD, parse_q16, r16
from .rng import Rng
from .tables import NEG_LN

WMAX = 2**23 - 1
G = bw.G
D = bw.D
ERR = 32767          # an output error counts at most this much in the loss figure
GATES = {"elman": 1, "lstm": 4, "gru": 3}


OPTIMIZERS = (_optim.SGD, _optim.Momentum, _optim.RMSprop, _optim.Adam)
SEQS = (list, tuple, np.ndarray)


class Trainer:
    """Trains a mirror Model as lib's Trainer trains the board's (same arguments; max_steps
    None: any length, else sequences longer than that are refused as on the board)."""

    def __init__(self, model, loss="mse", optimizer=None, targets="all", window=None,
                 stateful=False, clip_value=None, clip_norm=None, weight_decay=None, seed=1,
                 max_steps=None, train="all"):
        self._check_args(model, loss, optimizer, targets, window, stateful, clip_value, clip_norm,
                         weight_decay, seed, max_steps)
        self.lo, self.hi = trained_layers(train, len(model.spec))
        self.max_steps = max_steps
        self.model = model
        self.loss, self.targets, self.window, self.stateful = loss, targets, window, stateful
        self.clip_value = None if clip_value is None else parse_q16(clip_value)
        self.clip_norm = None if clip_norm is None else parse_q16(clip_norm)
        self.weight_decay = None if weight_decay is None else parse_q16(weight_decay)
        self.opt = optimizer if optimizer is not None else SGD()
        self.rng = Rng(seed)
        last = len(model.spec) - 1
        self.names = [n for n, _ in param_shapes(model.desc)
                      if self.lo <= (last if n.startswith("head.") else int(n.rsplit("_l", 1)[1])) < self.hi]
        self.master = {k: model.params[k].astype(np.int64) << 8 for k in self.names}
        self.grad = {k: np.zeros_like(model.params[k]) for k in self.names}
        self.n = sum(self.master[k].size for k in self.names)
        self.norm_lim = math.isqrt((2**30 - 1) // self.n)
        self.opt.bind(self.n)
        self.n_targets = 0
        self.loss_num = 0
        self.loss_den = 0

    # ---- checks: every problem is reported before anything changes -------
    @staticmethod
    def _check_args(model, loss, optimizer, targets, window, stateful, clip_value, clip_norm,
                    weight_decay, seed, max_steps):
        if not isinstance(model, Model):
            raise TypeError("model must be a tinyrnn Model, got %s (the mirror's: tinyrnn_host.mirror.model.Model)"
                            % type(model).__name__)
        if loss not in ("mse", "ce"):
            raise ValueError("loss must be 'mse' or 'ce', got %r" % (loss,))
        if targets not in ("all", "last"):
            raise ValueError("targets must be 'all' or 'last', got %r" % (targets,))
        softmax_out = model.spec[-1][3] == "softmax"
        if loss == "ce" and not softmax_out:
            raise ValueError("loss 'ce' (softmax cross-entropy) needs a softmax head; this model's output is not softmax")
        if loss == "mse" and softmax_out:
            raise ValueError("loss 'mse' on a softmax head: use loss='ce' for classification")
        if any(act == "softmax" for _, _, _, act in model.spec[:-1]):
            raise ValueError("softmax is only trainable as the output layer")
        if optimizer is not None and not isinstance(optimizer, OPTIMIZERS):
            bad_type("optimizer", "SGD, Momentum, RMSprop or Adam (tinyrnn_host.mirror.optim)", optimizer)
        if window is not None:
            check_int(window, "window", 1)
        if max_steps is not None:
            check_int(max_steps, "max_steps", 1)
        check_flag(stateful, "stateful")
        if type(seed) is not int:
            bad_type("seed", "an int", seed)
        q16 = board("tinyrnn._fixed").q16
        for v, name, lo, hi in ((clip_value, "clip_value", 1, G), (clip_norm, "clip_norm", 1, G),
                                (weight_decay, "weight_decay", 0, 65536)):
            if v is not None:
                q16(v, name, lo, hi)

    def check(self, xs, ys):
        """One sequence as int64 arrays (xs (T, I), ys); else TypeError/ValueError naming
        what is wrong, as lib's Trainer.check does."""
        if isinstance(xs, SEQS) and len(xs) == 0:
            raise ValueError("xs is empty: a sequence needs at least one step")
        xs = q88_array(xs, "xs", (None, self.model.n_inputs))
        T = xs.shape[0]
        if self.window is None and self.max_steps is not None and T > self.max_steps:
            raise ValueError("xs has %d steps, the trainer's cache holds max_steps=%d" % (T, self.max_steps))
        O = self.model.n_outputs
        if self.targets == "last":
            if self.loss == "ce":
                return xs, np.int64(self._check_class(ys, "ys"))
            return xs, q88_array(ys, "ys", (O,))
        if not isinstance(ys, SEQS):
            bad_type("ys", "a list, tuple or array", ys)
        if len(ys) != T:
            raise ValueError("sequence lengths differ: xs has %d steps, ys has %d" % (T, len(ys)))
        if self.loss == "ce":
            return xs, np.array([self._check_class(ys[t], "ys[%d]" % t) for t in range(T)], np.int64)
        return xs, q88_array(ys, "ys", (T, O))

    def _check_class(self, y, name):
        O = self.model.n_outputs
        if not _is_int(y) or y < 0 or y >= O:
            raise (TypeError if not _is_int(y) else ValueError)(
                "%s=%r: a class target must be an int in 0..%d" % (name, y, O - 1))
        return int(y)

    def _check_batch(self, xs, ys):
        """xs (B, T, I), ys stacked likewise, as int64 arrays; errors name xs[b][t][i]."""
        if isinstance(xs, SEQS) and len(xs) == 0:
            raise ValueError("xs is empty: a batch needs at least one sequence")
        xs = q88_array(xs, "xs", (None, None, self.model.n_inputs))
        B, T, _ = xs.shape
        if T == 0:
            raise ValueError("xs[0] is empty: a sequence needs at least one step")
        if self.window is None and self.max_steps is not None and T > self.max_steps:
            raise ValueError("xs has %d steps, the trainer's cache holds max_steps=%d" % (T, self.max_steps))
        O = self.model.n_outputs
        dims = (B,) if self.targets == "last" else (B, T)
        if self.loss == "ce":
            return xs, q88_array(ys, "ys", dims, 0, O - 1, "a class target int")
        return xs, q88_array(ys, "ys", dims + (O,))

    def _check_data(self, data, name):
        """A dataset: a non-empty list or tuple of (xs, ys) pairs, or an object with len() and [i];
        the board's own check, each pair checked by this trainer's check()."""
        board("tinyrnn._args").check_data(self, data, name)

    def _check_fit(self, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
                   callback, verbose):
        # the board's own check of fit()'s arguments (it calls this trainer's _check_data)
        board("tinyrnn._args").check_fit(self, dataset, epochs, batch_size, shuffle, val, patience,
                                           restore_best, schedule, callback, verbose)

    # ---- one batch of equal-length sequences -----------------------------
    def accumulate(self, xs, ys):
        """xs (B,T,I); ys (B,T,O) / (B,T) classes, or (B,O) / (B,) for targets='last'.
        Adds the batch's gradients (no weight change)."""
        xs, ys = self._check_batch(xs, ys)
        self._accumulate(xs, ys)

    def _accumulate(self, xs, ys):
        B, T, _ = xs.shape
        m = self.model
        if not self.stateful:
            m.reset(B)
        k = self.window or T
        self._contrib = []          # (parameter name, (B, ...) contributions), in lib's order per sequence
        for s in range(0, T, k):
            e = min(T, s + k)
            cache = self._forward(xs, s, e)
            self._backward(cache, ys, s, e, T)
        g = self.grad
        for b in range(B):          # lib adds one sequence after another, saturating every time
            for name, c in self._contrib:
                g[name] = np.clip(g[name] + c[b], -G, G)
        self._contrib = None

    def _forward(self, xs, s, e):
        m, p = self.model, self.model.params
        cache = []
        for t in range(s, e):
            x = xs[:, t]
            step = []
            for l, (kind, _, _, act) in enumerate(m.spec):
                ent = {"x": x, "h0": m.h[l], "c0": m.c[l]}
                if kind in ("head", "dense"):
                    pre = "head." if kind == "head" else ""
                    w = p[pre + "weight" if pre else "weight_l%d" % l]
                    b = p[pre + "bias" if pre else "bias_l%d" % l]
                    x = cells.dense_step(x, w, b, act)
                elif kind == "lstm":
                    x, m.c[l], ent["work"] = cells.lstm_step_full(x, m.h[l], m.c[l], *self._w(l))
                elif kind == "gru":
                    x, ent["work"] = cells.gru_step_full(x, m.h[l], *self._w(l))
                else:
                    x = cells.elman_step(x, m.h[l], *self._w(l))
                m.h[l] = x
                ent["h1"], ent["c1"] = x, m.c[l]
                step.append(ent)
            cache.append(step)
        return cache

    def _w(self, l):
        p = self.model.params
        return [p["%s_l%d" % (n, l)] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _backward(self, cache, ys, s, e, T):
        m, p, g = self.model, self.model.params, self._contrib
        L = len(m.spec)
        dh = [np.zeros_like(m.h[l]) for l in range(L)]
        dc = [np.zeros_like(m.h[l]) for l in range(L)]
        for t in range(e - 1, s - 1, -1):
            step = cache[t - s]
            y = step[-1]["h1"]
            if self.targets == "all":
                dup = self._loss_delta(y, ys[:, t])
            elif t == T - 1:
                dup = self._loss_delta(y, ys)
            else:
                dup = np.zeros_like(y)
            for l in range(L - 1, self.lo - 1, -1):
                kind, _, _, act = m.spec[l]
                ent = step[l]
                if l >= self.hi:            # frozen above the trained layers: deltas only
                    g = []
                else:
                    g = self._contrib
                if kind in ("head", "dense"):
                    pre = "head." if kind == "head" else ""
                    wn = pre + "weight" if pre else "weight_l%d" % l
                    bn = pre + "bias" if pre else "bias_l%d" % l
                    gw, gb, dup = bw.dense_backward(p[wn], act, ent["x"], ent["h1"], dup)
                    g.append((wn, gw))
                    g.append((bn, gb))
                    continue
                d = bw.dsat(dh[l] + dup)
                w_ih, w_hh, b_ih, b_hh = self._w(l)
                if kind == "lstm":
                    grads, dup, dh[l], dc[l] = bw.lstm_backward(w_ih, w_hh, ent["x"], ent["h0"], ent["c0"],
                                                              ent["work"], ent["c1"], d, dc[l])
                elif kind == "gru":
                    grads, dup, dh[l] = bw.gru_backward(w_ih, w_hh, ent["x"], ent["h0"], ent["work"], d)
                else:
                    grads, dup, dh[l] = bw.elman_backward(w_ih, w_hh, ent["x"], ent["h0"], ent["h1"], d)
                for name, gr in zip(("weight_ih", "bias_ih", "weight_hh", "bias_hh"), grads):
                    g.append(("%s_l%d" % (name, l), gr))

    def _loss_delta(self, y, yt):
        B, O = y.shape
        self.n_targets += B
        if self.loss == "ce":
            d = 16 * y
            d[np.arange(B), yt] -= 4096
            for b in range(B):
                self._add_loss(int(NEG_LN[y[b, yt[b]]]), 1)
            return d
        err = y - yt
        for b in range(B):
            self._add_loss(_squared(err[b]), O)
        return bw.dsat((64 * err + O) // (2 * O))

    def _add_loss(self, v, n):
        self.loss_num = min(G, self.loss_num + v)
        self.loss_den += n

    # ---- update ----------------------------------------------------------
    def update(self):
        N = self.n_targets
        if N == 0:
            return
        flat_g = np.concatenate([self.grad[n].ravel() for n in self.names])
        gq = (flat_g + 8 * N) // (16 * N)
        if self.clip_value is not None:
            gq = np.clip(gq, -self.clip_value, self.clip_value)
        if self.clip_norm is not None:
            gq = self._clip_norm(gq)
        w = np.concatenate([self.master[n].ravel() for n in self.names])
        if self.weight_decay:
            gq = gq + r16(self.weight_decay * w)
        w = np.clip(self.opt.step(w, gq), -WMAX - 1, WMAX)
        at = 0
        for n in self.names:
            shape = self.master[n].shape
            size = self.master[n].size
            self.master[n] = w[at:at + size].reshape(shape)
            self.model.params[n] = np.minimum((self.master[n] + 128) >> 8, 32767)
            self.grad[n][...] = 0
            at += size
        self.n_targets = 0

    def _clip_norm(self, g):
        """|g| computed in a scale 2^s where n squares stay below 2^30; the factor in Q.15."""
        a = np.abs(g)
        big = int(a.max(initial=0))
        s = 0
        while (big >> s) > self.norm_lim:
            s += 1
        norm = math.isqrt(int(((a >> s) ** 2).sum()))
        c = self.clip_norm
        self.clipped = norm > (c >> s)
        if not self.clipped:
            return g
        f = (c << (15 - s)) // norm if s <= 15 else (c >> (s - 15)) // norm
        return (g * f + 16384) >> 15

    def take_loss(self):
        num, den = self.loss_num, self.loss_den
        self.loss_num = self.loss_den = 0
        return (2 * num + den) // (2 * den) if den else 0

    def train_sequence(self, xs, ys):
        """One sequence (xs (T, I), ys), one update; returns its loss (Q8.8)."""
        xs, ys = self.check(xs, ys)
        self.take_loss()
        self._accumulate(xs[None], ys[None])
        self.update()
        return self.take_loss()

    def evaluate(self, dataset):
        """Mean loss (Q8.8) over a dataset, no gradients kept."""
        self._check_data(dataset, "dataset")
        keep = self.n_targets
        self.take_loss()
        m = self.model
        for xs, ys in dataset:
            xs = np.asarray(xs, np.int64)[None]
            if not self.stateful:
                m.reset(1)
            for t in range(xs.shape[1]):
                y = m._step(xs[:, t])
                if self.targets == "all" or t == xs.shape[1] - 1:
                    yt = np.asarray(ys[t] if self.targets == "all" else ys)[None]
                    self._eval_loss(y, yt)
        self.n_targets = keep
        return self.take_loss()

    def _eval_loss(self, y, yt):
        if self.loss == "ce":
            self._add_loss(int(NEG_LN[y[0, int(yt[0])]]), 1)
            return
        self._add_loss(_squared((y - yt)[0]), y.shape[1])

    def fit(self, dataset, epochs, batch_size=1, shuffle=True, val=None, patience=None,
            restore_best=False, schedule=None, callback=None, verbose=False):
        """Train for `epochs` over a dataset, as lib's fit (the mirror prints nothing);
        returns [(loss, val_loss)] per epoch. Everything is checked before the first update."""
        self._check_fit(dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
                        callback, verbose)
        order = list(range(len(dataset)))
        lr0 = self.opt.lr
        best, best_w, waited, history = None, None, 0, []
        self.take_loss()
        for epoch in range(epochs):
            if schedule is not None:
                self.opt.lr = schedule.lr(lr0, epoch)
            if shuffle:
                self.rng.shuffle(order)
            for b in range(0, len(order), batch_size):
                idx = order[b:b + batch_size]
                lens = {len(dataset[i][0]) for i in idx}
                pairs = [self.check(*dataset[i]) for i in idx]     # (checked above: converts)
                if len(lens) == 1 and not self.stateful:
                    self._accumulate(np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]))
                else:
                    for xs, ys in pairs:
                        self._accumulate(xs[None], ys[None])
                self.update()
            loss = self.take_loss()
            vloss = self.evaluate(val) if val is not None else None
            history.append((loss, vloss))
            if callback is not None and callback(epoch, loss, vloss):
                break
            if patience is not None:
                score = loss if vloss is None else vloss
                if best is None or score < best:
                    best, waited = score, 0
                    if restore_best:
                        best_w = {k: v.copy() for k, v in self.master.items()}
                else:
                    waited += 1
                    if waited >= patience:
                        break
        if best_w is not None:
            self.master = best_w
            for n in self.names:
                self.model.params[n] = np.minimum((self.master[n] + 128) >> 8, 32767)
        self.opt.lr = lr0
        return history


def _squared(err):
    """The loss figure's sum over outputs: r8(min(|err|, 32767)^2) each (Q8.8)."""
    e = np.minimum(np.abs(np.asarray(err, np.int64)), ERR)
    return int(((e * e + 128) >> 8).sum())


def trained_layers(train, n):
    """Trainer's train= as the range lo..hi-1 of trained layers (lib: _cell.trained_layers)."""
    if train == "all":
        return 0, n
    if train == "head":
        return n - 1, n
    if not isinstance(train, (list, tuple)) or not train or any(type(i) is not int for i in train):
        raise ValueError("train must be 'all', 'head' or a list of layer indices, got %r" % (train,))
    got = sorted(i + n if i < 0 else i for i in train)
    if got[0] < 0 or got[-1] >= n or got != list(range(got[0], got[-1] + 1)):
        raise ValueError("train=%r: not consecutive layer indices of a %d-layer model" % (train, n))
    return got[0], got[-1] + 1
