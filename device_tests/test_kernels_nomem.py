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
import harness
import tinyrnn
from tinyrnn import kernels
from tinyrnn.model import Model
from heapfill import UNIX, check_raw, forget, fragment, release, size, sweep

GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}


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
