# The heap a Trainer will take, summed before it allocates anything (train.py checks it
# against gc.mem_free() after a collection, then unloads this module again). The host's
# estimate, `tinyrnn sizes --model DESC ...` (tinyrnn_host.reports.budget), is needs()
# run under CPython for a board's word size.
import sys


def needs(model, optimizer, steps, word=0):
    """(bytes, parts): the heap a Trainer for this model, optimizer and cache of `steps` steps
    (max_steps, or the window) allocates, for a port with `word`-byte words (0: this one's;
    4 on 32-bit boards, 8 on the unix port). parts: (master weights and gradients, optimizer
    state, BPTT cache, the rest: deltas, plan, the trainer itself). Every buffer is rounded
    up to the collector's 4-word blocks, plus a block of header. Batches add nothing (gradients
    are summed in place). The host's estimate (tinyrnn sizes --model) calls this under CPython."""
    B = 4 * (word or (8 if sys.maxsize >> 32 else 4))
    n = model.n_params
    rest = stride = 0
    widest = model.n_inputs
    dw = 1
    for L in model.layers:
        S = len(L.h)
        w = 0 if L.__class__.__name__ == "Dense" else L.WORK * L.n_hid
        stride += L.n_in + 2 * S + w
        widest = max(widest, L.n_in, S)
        dw = max(dw, w, L.n_hid)
        rest += 3 * B + (_arr(4 * S, B) if w else 0)     # its plan: a 9-tuple, a gradient view, its delta
    a = _arr(4 * n, B)
    parts = (2 * a, getattr(optimizer, "STATE", 0) * a, _arr(2 * stride * steps, B),
             rest + 2 * _arr(4 * widest, B) + 2 * _arr(4 * dw, B) + _arr(2 * model.n_inputs, B)
             + _arr(len(model.layers), B) + 24 * B)
    return parts[0] + parts[1] + parts[2] + parts[3], parts


def _arr(nbytes, B):
    # an array or bytearray: a block of header, its items in whole blocks
    return B + (nbytes + B - 1) // B * B


def check(model, opt, steps):
    """MemoryError with the figure, before anything is allocated, where the free heap cannot hold it."""
    from gc import collect, mem_free
    total, p = needs(model, opt, steps)
    collect()
    free = mem_free()
    if free < total:
        n = _k(model.n_params)
        raise MemoryError("Trainer needs %s bytes (master weights and gradients for %s parameters: %s; "
                          "%s state for %s parameters: %s; BPTT cache for %d steps: %s; the rest: %s), %s free"
                          % (_k(total), n, _k(p[0]), opt.__class__.__name__, n, _k(p[1]), steps, _k(p[2]),
                             _k(p[3]), _k(free)))


def _k(v):
    # 12345 -> "12,345"
    s = str(v)
    out = ""
    while len(s) > 3:
        out = "," + s[-3:] + out
        s = s[:-3]
    return s + out
