# Training on the board: backpropagation through time in integer arithmetic.
# Training code: an inference-only program never imports this module.
# Spec: docs/arithmetic.md, 7.
#
#     from tinyrnn.train import Trainer
#     from tinyrnn.optim import Adam
#     t = Trainer(model, loss="mse", optimizer=Adam(lr="0.01"), max_steps=20)
#     t.fit(dataset, epochs=100)      # dataset: [(xs, ys), ...] of Q8.8 ints
#     Trainer(model, ..., train="head")   # fine-tuning: only the head learns
#
# train= names what learns: "all" (the default), "head" (the last layer), or a list of
# consecutive layer indices, e.g. [1] or [-2, -1] (negative ones count from the end). Frozen
# parameters cost nothing: no master weights, gradients or optimizer state; the layers below
# the lowest trained one take no cache and no backward (no delta goes below it); a frozen
# layer above the trained ones passes the deltas down through one shared scratch buffer of
# gradients that nothing reads. A frozen parameter is never written.
#
# Precision: the model keeps its Q8.8 int16 weights (inference runs on them);
# the trainer adds Q8.16 master weights (array 'i') that the optimizer updates,
# so updates far below 1/256 accumulate instead of rounding away, and a Q.20
# gradient accumulator per weight. Extra bytes per parameter: 8, plus the
# optimizer's state (Momentum 4, RMSprop 4, Adam 8).
#
# 32-bit clean (docs/arithmetic.md, 7): deltas, gradient sums and optimizer
# state saturate at stated bounds so every intermediate is a small int on a
# 32-bit board; a training step allocates nothing, whatever the values.
import tinyrnn
from . import kernels as _kernels
from ._cell import SEQS
from .optim import isqrt

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

_D = const(16383)            # deltas saturate here (backward.D, docs/arithmetic.md 7)
_G = const(536870911)        # gradient sums, clip bounds and the loss sum saturate here (2^29 - 1)
_ERR = const(32767)          # an output error counts at most this much in the loss figure


# What a training step does not run is not kept in the heap (a board loading .mpy files holds
# the bytecode of every module it imported): Trainer(...)'s argument checks are _args.py's, its
# budget and buffers _budget.py's, each loaded for the call and dropped again; fit(), epochs()
# and evaluate() are _fit.py's, loaded for the call and dropped when it returns (tinyrnn._once).

def _kernels_for(kind):
    # The training kernels of a `kind` model; where its set does not load (a module missing, or
    # no heap block for its code: a board's C training module is one 7 KB block), the next set
    # that does, or MemoryError in the budget's words, never the bare one of an import
    # (_nomem.kernels: loaded only then, and dropped again).
    try:
        if kind == "c":
            from . import _c_train as k
        elif kind == "viper":
            from . import _viper_train as k
        else:
            from . import _bytecode_train as k
        return k
    except _kernels.ERRS as e:
        err = e
    k = "Trainer needs the code of its training kernels in the heap: none fits"
    try:
        from . import _nomem as b
        k = b.kernels(kind, err)         # a module, or the error to raise
    except Exception:                    # no heap even for _nomem or the text (or _drop's case)
        pass
    try:
        _drop("_nomem")
    except MemoryError:                  # no heap for the drop either: the error below says why
        pass
    if type(k) is str:
        raise MemoryError(k)
    if isinstance(k, Exception):
        raise k
    return k


_NEEDS = "Trainer needs %s.py's code in the heap: gc.collect() earlier, build the trainer before other large buffers"


def _call(module, key, *args):
    # key(*args) from tinyrnn.<module>, code a trainer's construction runs once (_args.trainer,
    # _budget.init): loaded for the call and dropped after it unless something had loaded it
    # before (tinyrnn._once), and where its code finds no heap block, MemoryError in the budget's
    # words, not the bare one of an import
    import sys
    full = "tinyrnn." + module
    had = full in sys.modules
    try:
        __import__(full)
        f = getattr(sys.modules[full], key)
    except ImportError:
        raise
    except Exception:        # MemoryError, or a NameError (a name bound to nothing: _drop)
        _drop(module)
        raise MemoryError(_NEEDS % module)
    try:
        return f(*args)
    finally:
        if not had and sys.platform != "webassembly":    # (tinyrnn._once's reason)
            _drop(module)


def _drop(name):
    # a module unloaded, and its name taken out of sys.modules where an import that ran out of heap
    # left it there bound to nothing (MicroPython 1.28's mp_obj_new_module), which the next import
    # would hand back (a NameError at the first use)
    import sys
    tinyrnn._unload(name)
    sys.modules.pop("tinyrnn." + name, None)


class Trainer:
    """Trains a Model by BPTT. loss: "mse" or "ce" (softmax head + cross-entropy).
    targets: "all" (a target every step) or "last" (one target, for the last step).
    window: None (full BPTT) or k (truncated: gradients stop every k steps, state carries).
    max_steps: the longest sequence (full BPTT) to allocate the cache for.
    stateful: keep the state from one sequence to the next (a stream cut in pieces).
    train: what learns: "all", "head", or a list of consecutive layer indices ([1], [-1])."""

    # defaults in the class: a trainer's own attribute dict holds only what differs (RAM)
    loss = "mse"
    targets = "all"
    window = None
    stateful = False
    clip_value = None
    clip_norm = None
    weight_decay = None

    def __init__(self, model, loss="mse", optimizer=None, targets="all", window=None,
                 max_steps=32, stateful=False, clip_value=None, clip_norm=None,
                 weight_decay=None, seed=1, train="all"):
        # A collection first on a board (what the program left as garbage would split the blocks
        # the trainer's code and buffers need: a GRU 2-8-1 trainer failed to allocate 1,188 bytes
        # with 26 KB free). Then every argument checked (_args.trainer: loaded for it, then
        # dropped); the budget of the buffers (_budget.fits), before any code loads: native code
        # (the C and viper kernels) stays in a board's heap for good once loaded (MicroPython
        # keeps a root pointer to it), so a trainer that cannot fit must say so first; the
        # kernels: the model's kind, or the next whose training module loads (c, viper,
        # bytecode: the same integers), MemoryError in the budget's words where none fits; the
        # cross-entropy table; the budget again with the code in place, then the buffers
        # (_budget.init). Where it fails, what it loaded is dropped again: the heap as it was.
        import gc
        import sys
        if hasattr(gc, "mem_free"):       # (CPython: no fixed heap to keep whole)
            gc.collect()
        had = list(sys.modules)
        try:
            cv, cn, wd = _call("_args", "trainer", model, loss, optimizer, targets, window, max_steps,
                               stateful, clip_value, clip_norm, weight_decay, seed)
            if optimizer is None:
                from .optim import SGD   # (the optimizers load with the first trainer that needs one)
                optimizer = SGD()
            _call("_budget", "fits", model, optimizer, window if window is not None else max_steps, train)
            k = _kernels_for(model.kernels)
            neg_ln = None
            if loss == "ce":             # the cross-entropy table is loaded only by a CE trainer
                try:
                    from ._tables_train import NEG_LN as neg_ln
                except MemoryError:
                    raise MemoryError(_NEEDS % "_tables_train")
            _call("_budget", "init", self, model, loss, optimizer, targets, window, max_steps, stateful, cv, cn,
                  wd, seed, train, k, neg_ln)
        except BaseException:
            k = None
            for m in list(sys.modules):
                if m not in had and m[:8] == "tinyrnn.":
                    _drop(m[8:])
            raise

    # ---- the loops over a dataset: _fit.py, loaded for the call ------------
    def fit(self, dataset, epochs, *args, **kw):
        """Train for `epochs` over dataset [(xs, ys), ...] in mini-batches whose gradients
        are averaged before one update (_fit.fit: batch_size=1, shuffle=True, val=None,
        patience=None, restore_best=False, schedule=None, callback=None, verbose=True).
        Returns [(loss, val_loss)] per epoch, Q8.8 ints."""
        return tinyrnn._once("_fit", "fit", self, dataset, epochs, args, kw)

    def epochs(self, dataset, epochs, *args, **kw):
        """fit() as a generator of (epoch, loss, val_loss), one per epoch (_fit.epochs)."""
        return tinyrnn._once("_fit", "epochs", self, dataset, epochs, args, kw)

    def evaluate(self, dataset):
        """Mean loss (Q8.8) over a dataset, no gradients kept."""
        return tinyrnn._once("_fit", "evaluate", self, dataset)

    @property
    def kernels(self):
        """The training kernels this trainer runs: 'c', 'viper' or 'bytecode' (its model's, or
        the next that loaded where the model's training module did not: _kernels_for)."""
        n = self.k.__name__
        return "c" if n.endswith("_c_train") else ("viper" if n.endswith("_viper_train") else "bytecode")

    # ---- weights ---------------------------------------------------------
    def sync_from_model(self):
        """Take the model's Q8.8 weights as the master weights (after loading new weights)."""
        self.k.from_q88(self.master, self._bufs[5], len(self.master))
        self._bounds()

    def _sync_to_model(self):
        self.k.to_q88(self._bufs[5], self.master, len(self.master))
        self._bounds()

    def _bounds(self):
        # the weights changed: which exact loops each layer may use, forward and backward
        self.model.weights_changed()
        if getattr(self.k, "fits_cols", None) is None:   # native kernels bound their sums per step
            return                       # (the bytecode ones alone have fits_cols: no allocation)
        l = 0
        for plan in self._plan:
            layer = plan[0]
            H = plan[3] if plan[5] else 0          # a dense layer has no recurrent part
            rows = len(layer.p) // (plan[2] + H + 2) if plan[5] else plan[3]
            self._bfast[l] = self.k.fits_cols(layer.p, rows, plan[2], H)
            l += 1

    # ---- checks: every problem is reported before any weight changes -------
    def check(self, xs, ys):
        """Raise ValueError/TypeError naming what is wrong with one (xs, ys) pair."""
        # what is right passes here, allocating nothing; anything wrong is named by _args.check
        # (the same checks in the same order, with the messages: loaded only then)
        T = len(xs) if isinstance(xs, SEQS) else 0
        if T and (self.window is not None or T <= self.steps):
            self.model.check_inputs(xs)
            if self.targets == "last":
                if self._target_ok(ys):
                    return
            elif isinstance(ys, SEQS) and len(ys) == T:
                t = 0
                while t < T and self._target_ok(ys[t]):
                    t += 1
                if t == T:
                    return
        tinyrnn._once("_args", "check", self, xs, ys)

    def _target_ok(self, y):
        O = self.model.n_outputs
        if self.loss == "ce":
            return type(y) is int and 0 <= y < O
        if not isinstance(y, SEQS) or len(y) != O:
            return False
        for j in range(O):
            q = y[j]
            if type(q) is not int or q < -32768 or q > 32767:
                return False
        return True

    # ---- one sequence: forward with cache, backward, accumulate -----------
    def accumulate(self, xs, ys, check=True):
        """Forward and backward over one sequence; add its gradients (no weight change)."""
        if check:
            self.check(xs, ys)
        if not self.stateful:
            self.model.reset()
        T = len(xs)
        k = self.steps if self.window is not None else T
        s = 0
        while s < T:
            e = min(T, s + k)
            self._forward(xs, s, e)
            self._backward(ys, s, e, T)
            s = e

    def _forward(self, xs, s, e):
        c = self.cache
        st = self._stride
        copy = self.k.copy16
        xb = self._bufs[4]
        for t in range(s, e):
            x = xs[t]
            for j in range(len(xb)):
                xb[j] = x[j]
            x = xb
            base = (t - s) * st
            for plan in self._plan:
                L = plan[0]              # (one by one: a, b = x, y with more than 3 names builds a tuple)
                I = plan[2]
                S = plan[4]
                W = plan[5]
                o = plan[7]                  # -1: below the trained layers, nothing cached
                if o >= 0:
                    o += base
                    copy(c, o, x, I)                 # the layer's input
                    copy(c, o + I, L.h, S)           # its state before the step
                L.kern(L.p, x, L.h, L.work, I, L.n_hid, L.flags)
                x = L.h
                if o >= 0:
                    if W:
                        copy(c, o + I + S, L.work, W)    # its work buffer
                    copy(c, o + I + S + W, L.h, S)       # its state after

    def _backward(self, ys, s, e, T):
        c = self.cache
        st = self._stride
        plans = self._plan
        top = len(plans) - 1
        for plan in plans:
            dn = plan[8]
            if dn is not None:
                for j in range(len(dn)):
                    dn[j] = 0
        dup, ddown, dax, dah, _, _ = self._bufs
        k = self.k
        for t in range(e - 1, s - 1, -1):
            base = (t - s) * st
            out = plans[top]
            so = base + out[7] + out[2] + out[4] + out[5]      # the output layer's state after the step
            if self.targets == "all":
                self._loss_delta(ys[t], c, so, dup)
            elif t == T - 1:
                self._loss_delta(ys, c, so, dup)
            else:
                for j in range(out[3]):
                    dup[j] = 0
            l = top
            while l >= 0:
                layer, kind, I, H, S, W, gview, off, dn = plans[l]
                if gview is None:            # below the lowest trained layer: backward stops
                    break
                xo = base + off
                s0 = xo + I
                wk = s0 + S
                s1 = wk + W
                p = layer.p
                fast = self._bfast[l]
                if kind == "Dense":
                    k.dense_backward(p, gview, I, H, layer.act, c, xo, s1, dup, dax, ddown, fast)
                elif kind == "GRU":
                    k.gru_backward(p, gview, I, H, c, xo, s0, wk, dn, dup, dax, dah, ddown, fast)
                elif kind == "LSTM":
                    k.lstm_backward(p, gview, I, H, c, xo, s0, wk, s1, dn, dup, dax, ddown, fast)
                else:
                    k.elman_backward(p, gview, I, H, c, xo, s0, s1, dn, dup, dax, ddown, fast)
                dup, ddown = ddown, dup
                l -= 1

    def _loss_delta(self, y_t, c, so, d):
        """d = dL/d(output) at one target step (Q.12), and the loss added up."""
        O = self.model.n_outputs
        self.n_targets += 1
        if self.loss == "ce":
            for o in range(O):
                d[o] = 16 * c[so + o]
            d[y_t] -= 4096
            self._add_loss(self._neg_ln[c[so + y_t]], 1)
            return
        se = 0
        for o in range(O):
            err = c[so + o] - y_t[o]
            v = (64 * err + O) // (2 * O)          # 2 (y - t) / O, in Q.12
            d[o] = -_D if v < -_D else (_D if v > _D else v)
            err = -err if err < 0 else err
            err = _ERR if err > _ERR else err
            se += (err * err + 128) >> 8           # the squared error in Q8.8, < 2^22
        self._add_loss(se, O)

    def _add_loss(self, v, n):
        s = self._loss
        v += s[0]
        s[0] = _G if v > _G else v
        s[1] += n

    # ---- the update ------------------------------------------------------
    def update(self):
        """Average the accumulated gradients over the target steps, clip, decay, step.
        Atomic: whatever can raise (the optimizer's checks and per-step scalars) runs before
        anything changes; then only kernel loops over preallocated arrays, which allocate
        nothing and cannot raise; the counters are committed last."""
        N = self.n_targets
        if N == 0:
            return
        opt = self.opt
        opt.prepare()                             # checks lr, computes this step's scalars: no change yet
        g = self.grad
        n = len(g)
        k = self.k
        k.grad_mean(g, n, N, self.clip_value or 0)         # Q.20 sums -> Q.16 means, clipped by value
        clipped = False
        if self.clip_norm is not None:
            clipped = self._clip_norm(g, n)
        if self.weight_decay:
            k.add_decay(g, self.master, n, self.weight_decay)
        opt.apply(self.master, g, n)              # (and sets the gradient sums back to 0)
        self._sync_to_model()
        self.clipped = clipped
        self.n_targets = 0

    def _clip_norm(self, g, n):
        # norm = |g| in a scale 2^s where the sum of squares stays below 2^30 (docs, 7)
        big = self.k.max_abs(g, n)
        s = 0
        lim = isqrt(1073741823 // n)                # the largest |g| >> s whose square, summed n times, stays below 2^30
        while (big >> s) > lim:
            s += 1
        norm = isqrt(self.k.sum_sq(g, n, s))        # |g| / 2^s, Q.16
        c = self.clip_norm
        if norm <= (c >> s):                        # |g| <= c
            return False
        # f = floor(c / |g| * 2^15) < 2^15: the scale factor, Q.15
        self.k.scale_q15(g, n, (c << (15 - s)) // norm if s <= 15 else (c >> (s - 15)) // norm)
        return True

    def train_sequence(self, xs, ys):
        """One sequence, one update. Returns the sequence's loss (Q8.8)."""
        self.check(xs, ys)
        self.take_loss()
        self.accumulate(xs, ys, check=False)
        self.update()
        return self.take_loss()

    def take_loss(self):
        """Mean loss (Q8.8) since the last call, rounded half up; 0 if none."""
        s = self._loss
        num = s[0]
        den = s[1]
        s[0] = 0
        s[1] = 0
        if not den:
            return 0
        q = num // den                          # round half up, without doubling num
        return q + 1 if 2 * (num - q * den) >= den else q
