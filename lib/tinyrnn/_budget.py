# What a Trainer is checked against once, before it allocates anything: its train= (what
# learns, trained_layers) and the heap it will take, summed (train.py checks it against
# gc.mem_free() after a collection, then unloads this module again). The host's
# estimate, `tinyrnn sizes --model DESC ...` (tinyrnn_host.reports.budget), is needs()
# run under CPython for a board's word size. And what is said and done where kernels find no
# heap block for their code (kernels(), no_block()): code only such a failure loads.
import sys


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


def check(model, opt, steps, train):
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


def no_block(kind, err):
    # the text of the MemoryError of a model whose `kind` kernels found no heap block (kernels.name)
    return ("kernels: the %s kernels did not load: MemoryError (%s): no heap block for their code. gc.collect() "
            "earlier, build the model first, or use kernels=%r" % (kind, err, "viper" if kind == "c" else "bytecode"))


def kernels(kind, err):
    # The training kernels of a `kind` model whose own set raised `err` on import (train.py): the
    # next set that loads (viper, then bytecode: the same integers, docs/arithmetic.md 10). After a
    # failed attempt, what it loaded (_viper for _viper_train) is dropped again, and any name an
    # import that ran out of heap left in sys.modules bound to nothing (MicroPython 1.28's
    # mp_obj_new_module; .get() gives None), which the next import would hand back. None loads:
    # the text of the MemoryError to raise, each set's error in it (ImportError where none was
    # for lack of heap).
    from . import _unload
    from .kernels import ERRS
    why = "%s: %r" % (kind, err)
    kinds = ("c", "viper", "bytecode")
    for kind in kinds[kinds.index(kind) + 1:]:
        had = list(sys.modules)
        try:
            __import__("tinyrnn._%s_train" % kind)
            return sys.modules["tinyrnn._%s_train" % kind]
        except ERRS as e:
            why += "; %s: %r" % (kind, e)
        for m in list(sys.modules):
            if sys.modules.get(m) is None:
                sys.modules.pop(m)
            elif m not in had and m[:8] == "tinyrnn.":
                _unload(m[8:])
        had = None
    if "MemoryError" not in why:
        return ImportError("no training kernels import here: " + why)
    import gc
    gc.collect()
    return ("Trainer needs the code of its training kernels in the heap, and no set's fits (%s), %s free: "
            "gc.collect() earlier, build the trainer before other large buffers" % (why, _k(getattr(gc, "mem_free", int)())))


def _k(v):
    # 12345 -> "12,345"
    s = str(v)
    out = ""
    while len(s) > 3:
        out = "," + s[-3:] + out
        s = s[:-3]
    return s + out
