# A model whose kernels' code finds no heap block, with the heap really filled (no pretending).
# On a board a module's code lives in the heap, the C modules' machine code as ONE block (3.8 KB
# for _c on the Cortex-M3), so a fragmented heap with plenty free refuses it. Here the heap is
# filled, then reopened in holes too small for that block: Model(desc, kernels="c") says
# MemoryError and what to do (not "no _c module for its arch"), tinyrnn.KERNELS stays what it
# was; with the heap back, "c" loads again (the failure is not remembered); the default model
# takes the next set that loads. Trainers: test_train_nomem.py.
# The unix port maps native code outside its heap (mmap): _c fails there only when the heap is
# all but full, so it builds the model with the heap full but for X bytes, X swept, and every
# MemoryError must be the kernels' own message or come from outside kernels.py. Where there is
# no _c.mpy (the WebAssembly VM, the viper and bytecode sets) "c" is refused with ImportError;
# where _c is frozen or in ROM (its code takes no heap) it simply loads.
# unix-heap: c 98304, viper 98304, bytecode 98304
import gc
import os
import sys

import harness
import tinyrnn
from tinyrnn import kernels
from tinyrnn.model import Model

GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}
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


def test_c_model_without_a_heap_block_says_memoryerror():
    n = size("_c")
    if n is None:
        if kernels.available("c"):           # C kernels frozen or in ROM: their code takes no heap
            Model(GRU, 1, "c")
            assert tinyrnn.KERNELS == "c"
            return
        msg = harness.expect_error(ImportError, Model, GRU, 1, "c")      # none here: the other refusal
        assert "no _c module for its arch" in msg, msg
        return
    forget(["_c"])
    before = tinyrnn.KERNELS
    if UNIX:
        # Model(...) loads _desc.py (the description's checks, the kernels' choice) and drops it
        # again: held here, so that the X swept is what the kernels find
        from tinyrnn import _desc  # noqa: F401
        said = [0]

        def build():
            Model(GRU, 1, "c")
            return tinyrnn.KERNELS

        def judge(X, got):
            if isinstance(got, MemoryError) and str(got).startswith("kernels:"):
                said[0] += 1                 # (where the heap has no room for more: a short text)
                print("X=%d: MemoryError: %s" % (X, got))
            elif isinstance(got, MemoryError):
                check_raw(got, ("kernels.py", "in available\n", "in name\n", "in inference\n"))
            else:
                assert got == "c", (X, got)
        sweep(build, lambda: forget(["_c"]), judge, 1600, 64)
        forget(["_desc"])
        assert said[0], "no X made _c fail to load"
        return
    try:
        big = fragment(n // 2)               # the module's code is one block of about n bytes
        msg = harness.expect_error(MemoryError, Model, GRU, 1, "c")
        after = tinyrnn.KERNELS
    finally:
        release()
    assert 0 < big < n // 2 + 100, "largest free block %d, for a %d-byte module" % (big, n)
    for part in ("MemoryError", "allocating", "gc.collect()", "kernels='viper'"):
        assert part in msg, (part, msg)
    assert "arch" not in msg, msg
    assert after == before, "tinyrnn.KERNELS %r after a failed build, %r before" % (after, before)
    Model(GRU, 1, "c")                       # the heap is back: tried again, and it loads
    assert tinyrnn.KERNELS == "c"
    forget(["_c"])
    m = None
    try:
        fragment(n // 2)
        m = Model(GRU, 1)                    # the default: the best set that loads
        got = (m.kernels, tinyrnn.KERNELS)
    finally:
        m = None
        release()
    assert got[0] != "c" and got[0] == got[1], got


if __name__ == "__main__":
    harness.run_all(globals())
