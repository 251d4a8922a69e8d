# What a Trainer runs once, loaded for it and dropped again (train.py): a program that
# trains keeps only what a training step runs in the heap.
# - Trainer(...)'s body past its argument checks (_args.trainer) and its code (its kernels,
#   loaded by train.py first): its train= parsed (trained_layers), the heap it will take summed
#   (needs) and checked against gc.mem_free() after a collection (fits), then its buffers (init);
# The host's estimate, `tinyrnn sizes --model DESC ...` (tinyrnn_host.reports.budget), is
# needs() run under CPython for a board's word size.
import sys

from ._cell import zeros


# ---- Trainer(...) --------------------------------------------------------------
def init(self, model, loss, opt, targets, window, max_steps, stateful, cv, cn, wd, seed, train, k, neg_ln):
    # Trainer.__init__'s body past its argument checks (_args.trainer) and its code (the kernels
    # k, the cross-entropy table neg_ln): the budget of the buffers checked before any is
    # allocated, then the buffers
    # the trained layers lo..hi-1, their parameters' start p0 and count n in model.params,
    # the largest frozen layer above them (its scratch gradients)
    steps = window if window is not None else max_steps
    lo, hi, p0, n, above = fits(model, opt, steps, train)
    try:
        _make(self, model, loss, opt, targets, window, max_steps, stateful, cv, cn, wd, seed, k, neg_ln,
              lo, hi, p0, n, above)
    except MemoryError as e:
        # enough free in all, but not in blocks the buffers need (a heap split by what the program
        # made before): the budget's words. What this trainer allocated is let go first (assigning
        # an attribute it has allocates nothing), then the figures
        for a in ("master", "grad", "cache", "_bufs", "_plan", "rng"):
            if getattr(self, a, None) is not None:
                setattr(self, a, None)
        try:
            from gc import collect, mem_free
        except ImportError:          # CPython: a MemoryError of its own
            raise e
        e = str(e)
        collect()
        raise MemoryError("Trainer needs %s bytes and %s are free, but not in one piece for each of its "
                          "buffers (%s): gc.collect() earlier, build the trainer before the data and other "
                          "large buffers" % (_k(needs(model, opt, steps, 0, lo, hi)[0]), _k(mem_free()), e))


def _make(self, model, loss, opt, targets, window, max_steps, stateful, cv, cn, wd, seed, k, neg_ln,
          lo, hi, p0, n, above):
    # the trainer's attributes and buffers, in the budget fits() checked
    from .rng import Rng             # (the shuffle's: it stays loaded with the trainer)
    self.model = model
    if loss == "ce":
        self.loss = loss
        self._neg_ln = neg_ln
    if targets != "all":
        self.targets = targets
    if window is not None:
        self.window = window
    self.steps = window if window is not None else max_steps
    if stateful:
        self.stateful = True
    if cv is not None:
        self.clip_value = cv
    if cn is not None:
        self.clip_norm = cn
    if wd:
        self.weight_decay = wd
    self.opt = opt
    self.rng = Rng(seed)
    # every attribute a step or an update assigns exists from here on: assigning a new
    # one later grows the instance dict (an allocation: MemoryError under heap_lock)
    self.clipped = False     # whether the last clip-by-norm update rescaled the gradients
    self.n_targets = 0       # target steps accumulated since the last update
    self._loss = [0, 0]      # the loss figure's sum and count since take_loss()
    layers = model.layers
    self.k = k
    self.master = zeros("i", n)
    self.grad = zeros("i", n)
    self._bfast = bytearray(len(layers))      # per layer: backward.fits_cols bits
    gv = memoryview(self.grad)
    sv = memoryview(zeros("i", above)) if above else None
    # per layer: (kind, n_in, width of h, state width, work width, grads view, cache offset,
    # its delta); below the lowest trained layer: no grads view (backward stops), offset -1
    self._plan = []
    at = 0
    off = 0
    widest = 1
    dwork = 1
    for l in range(len(layers)):
        layer = layers[l]
        kind = layer.__class__.__name__
        I = layer.n_in
        H = layer.n_hid
        S = len(layer.h)
        W = 0 if kind == "Dense" else layer.WORK * H
        if l < lo:
            self._plan.append((layer, kind, I, H, S, W, None, -1, None))
            continue
        n_p = len(layer.p)
        self._plan.append((layer, kind, I, H, S, W, gv[at:at + n_p] if l < hi else sv[:n_p], off,
                           zeros("i", S) if W else None))
        at += n_p                # (past hi: no trained layer comes after)
        off += I + 2 * S + W
        widest = max(widest, I, S)
        dwork = max(dwork, W, H)
    self._stride = off
    self.cache = zeros("h", off * self.steps)
    # the deltas passed down and up, two work rows, the input step (copied: kernels take
    # buffers) and the trained weights in model.params (what the master weights mirror): one
    # attribute, so the instance dict stays at 23 slots whatever the options
    self._bufs = (zeros("i", widest), zeros("i", widest), zeros("i", dwork), zeros("i", dwork),
                  zeros("h", model.n_inputs),
                  model.params if n == model.n_params else memoryview(model.params)[p0:p0 + n])
    # last, the only changes outside this trainer: the optimizer's state (bind allocates
    # all of it before it keeps any), then the model's bounds (sync_from_model)
    opt.bind(n, k)
    self.sync_from_model()




def needs(model, optimizer, steps, word=0, lo=0, hi=None):
    """(bytes, parts): the heap a Trainer for this model, optimizer and cache of `steps` steps
    (max_steps, or the window) allocates, for a port with `word`-byte words (0: this one's;
    4 on 32-bit boards, 8 on the unix port), training layers lo..hi-1 (Trainer's train=;
    hi None: to the last).
    parts: (master weights and gradients, optimizer state, BPTT cache, the rest: deltas, plan,
    the trainer itself). Only what is allocated counts: frozen parameters take no master weight,
    gradient or optimizer state, the layers below the lowest trained one no cache. Every buffer
    is rounded up to the collector's 4-word blocks, plus a block of header. Batches add nothing
    (gradients are summed in place). The host's estimate (tinyrnn sizes --model) calls this
    under CPython."""
    if hi is None:
        hi = len(model.layers)
    B = 4 * (word or (8 if sys.maxsize >> 32 else 4))
    _, n, above = split(model, lo, hi)
    rest = stride = 0
    widest = dw = 1
    l = 0
    for L in model.layers:
        l += 1
        rest += 3 * B                                    # its plan: a 9-tuple, a gradient view
        if l <= lo:
            continue
        S = len(L.h)
        w = 0 if L.__class__.__name__ == "Dense" else L.WORK * L.n_hid
        stride += L.n_in + 2 * S + w
        widest = max(widest, L.n_in, S)
        dw = max(dw, w, L.n_hid)
        rest += _arr(4 * S, B) if w else 0               # its delta
    a = _arr(4 * n, B)
    if n != model.n_params:
        rest += B                                        # the view of the trained weights
    if above:
        rest += _arr(4 * above, B) + B                   # the frozen layers' scratch gradients
    parts = (2 * a, getattr(optimizer, "STATE", 0) * a, _arr(2 * stride * steps, B),
             rest + 2 * _arr(4 * widest, B) + 2 * _arr(4 * dw, B) + _arr(2 * model.n_inputs, B)
             + _arr(len(model.layers), B) + 24 * B)
    return parts[0] + parts[1] + parts[2] + parts[3], parts


def split(model, lo, hi):
    """(p0, n, above): where the trained layers lo..hi-1's parameters start in model.params,
    how many they are, and the size of the largest frozen layer above them (0: none)."""
    p0 = n = above = l = 0
    for L in model.layers:
        n_p = len(L.p)
        if l < lo:
            p0 += n_p
        elif l < hi:
            n += n_p
        elif n_p > above:
            above = n_p
        l += 1
    return p0, n, above


def _arr(nbytes, B):
    # an array or bytearray: a block of header, its items in whole blocks
    return B + (nbytes + B - 1) // B * B


def fits(model, opt, steps, train):
    """(lo, hi, p0, n, above): the layers lo..hi-1 that train= names (ValueError/TypeError
    naming it) and split(); on a board, MemoryError with the figure, before anything is
    allocated, where the free heap cannot hold the trainer."""
    lo, hi = 0, len(model.layers)
    if train != "all":           # parsed by _subset.py, loaded for it and dropped again
        from . import _subset, _unload
        try:
            lo, hi = _subset.trained_layers(train, hi)
        finally:
            _unload("_subset")
    got = (lo, hi) + split(model, lo, hi)
    try:
        from gc import collect, mem_free
    except ImportError:          # CPython: no fixed heap to fit
        return got
    total, p = needs(model, opt, steps, 0, lo, hi)
    collect()
    free = mem_free()
    if free < total:
        n = _k(got[3])
        raise MemoryError("Trainer needs %s bytes (master weights and gradients for %s parameters: %s; "
                          "%s state for %s parameters: %s; BPTT cache for %d steps: %s; the rest: %s), %s free"
                          % (_k(total), n, _k(p[0]), opt.__class__.__name__, n, _k(p[1]), steps, _k(p[2]),
                             _k(p[3]), _k(free)))
    return got


def _k(v):
    # 12345 -> "12,345"
    s = str(v)
    out = ""
    while len(s) > 3:
        out = "," + s[-3:] + out
        s = s[:-3]
    return s + out
