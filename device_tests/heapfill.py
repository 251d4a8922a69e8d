# Filling a board's heap for real, for the tests of what happens when a module's code finds no
# heap block (test_kernels_nomem.py, test_train_nomem.py): fill it and reopen holes of a size
# (fragment), fill it but for one block (squeeze), sweep a build over the room left, give it back.
import gc
import os
import sys

import tinyrnn
from tinyrnn import kernels

UNIX = sys.platform in ("linux", "darwin")      # native code outside the heap
_held = [None, None, None]   # what fills the heap while a test runs


def size(name):
    """The bytes of tinyrnn/<name>.mpy on the filesystem; None where it is not there (frozen, absent)."""
    p = tinyrnn.__path__
    try:
        return os.stat((p if isinstance(p, str) else p[0]) + "/" + name + ".mpy")[6]
    except OSError:
        return None


def forget(names):
    # unload, so that the next use imports them again (into the heap as it is then)
    for n in names:
        tinyrnn._unload(n)
        sys.modules.pop("tinyrnn." + n, None)    # (or its name left bound to nothing: kernels.ERRS)
    if "_c" in names:
        kernels._has["c"] = None
    gc.collect()


def fragment(hole, count=1000):
    """Fill the heap, then reopen up to `count` holes of `hole` bytes, each between held blocks.
    Returns the largest block that can then be allocated; -1 (nothing held) where the heap has
    no room for two blocks of that size."""
    gc.collect()
    S = hole + 64
    blocks = [None] * 200
    pins = [None] * 200
    i = 0
    while i < 200:
        try:
            blocks[i] = bytearray(S)
        except MemoryError:
            break
        i += 1
    rest = None
    n = S
    while n:
        try:
            rest = (bytearray(n), rest)
        except MemoryError:
            n //= 2
    if i < 2:                                # no room for holes of this size
        blocks = pins = rest = None
        gc.collect()
        return -1
    for j in range(min(i, count) - 1, -1, -1):
        blocks[j] = None                     # free one block, and take back its tail: from the
        gc.collect()                         # last, so that no earlier hole is lower (first fit)
        try:
            pins[j] = bytearray(S - hole)
        except MemoryError:                  # (not freed: a stale pointer on the stack still held
            pass                             # it; once freed it is a hole of S bytes)
    _held[0] = blocks
    _held[1] = pins
    _held[2] = rest
    gc.collect()
    lo, hi = 0, 4 * S                        # the largest block that fits now, by bisection
    while hi - lo > 16:
        mid = (lo + hi) // 2
        try:
            x = bytearray(mid)
            x = None
            lo = mid
        except MemoryError:
            hi = mid
    gc.collect()
    return lo


def squeeze(free):
    """Fill the heap but for about `free` bytes in one block; False where no such block is free."""
    gc.collect()
    try:
        spare = bytearray(free) if free else None
    except MemoryError:
        return False
    rest = None
    n = 4096
    while n:
        try:
            rest = (bytearray(n), rest)
        except MemoryError:
            n //= 2
    _held[2] = rest
    spare = None
    gc.collect()
    return True


def release():
    _held[0] = _held[1] = _held[2] = None
    gc.collect()


def traceback(e):
    import io
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return buf.getvalue()


def sweep(build, reset, judge, limit, step):
    """build() with the heap full but for X bytes, X = 0, step, ... below limit, reset() before
    each; judge(X, what build returned or the exception it raised) with the heap back, at once
    (with the heap full the VM raises one shared MemoryError object: the next fill rewrites it)."""
    for X in range(0, limit, step):
        reset()
        if not squeeze(X):
            break
        try:
            got = build()
        except Exception as e:   # noqa: BLE001 (judged below, with the heap back)
            got = e
        release()
        judge(X, got)
        got = None


def check_raw(e, frames):
    # a MemoryError that is not the library's own may come only from outside the kernels' loading
    tb = traceback(e)
    for f in frames:
        assert f not in tb, "a bare MemoryError from %s:\n%s" % (f, tb)
