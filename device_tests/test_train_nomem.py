# Trainers whose training kernels find no heap block, with the heap really filled (no pretending).
# On a board a module's code lives in the heap, the C training module's machine code as ONE block
# (7.3 KB on the Cortex-M3), so a fragmented heap with plenty free refuses it. Here the heap is
# filled, then reopened in holes too small for that block, and:
# - a "c" model's Trainer falls back to a training set that loads, viper (holes of half the
#   block) or bytecode (holes of 1.5 KB, below viper's blocks), drops what a failed attempt
#   loaded, and trains to the NumPy mirror's golden CRC (test_kernels_train.py's); with no room
#   for either beside this test (a 64 KB Cortex-M3), the budget's MemoryError names each set's
#   error (host_tests/test_nomem_qemu.py runs it on the 256 KB firmware: viper, then bytecode);
# - where no training set loads, Trainer raises MemoryError in the budget's words ("Trainer
#   needs the code of its training kernels ..."), not the bare one of an import, and nothing
#   changed: model, optimizer (not bound), modules.
# The unix port maps native code outside its heap (mmap): a module fails there only when the heap
# is all but full, so it builds the trainer with the heap full but for X bytes, X swept, and every
# MemoryError must be the library's own or come from outside the kernels' loading (there the
# budget of the buffers, checked before the kernels load, speaks first: its figure). The
# WebAssembly VM's heap grows when full (nothing to fill) and it has no C kernels: nothing to
# run there. Models: test_kernels_nomem.py.
# unix-heap: c 98304, viper 98304, bytecode 98304
import gc
import sys
from binascii import crc32

import harness
from tinyrnn import kernels
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer
from heapfill import UNIX, check_raw, forget, fragment, release, size, sweep

GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}
TRAIN_GOLDEN = 688713694     # test_kernels_train.py's: the NumPy mirror's (host_tests/test_device_kernels.py)
TRAINING = ("_c_train", "_viper_train", "_viper", "_bytecode_train", "backward", "_update", "_args", "_budget")
ONCE = ("_args", "_budget")
VM = sys.platform == "webassembly"


def data():
    return [([[(s * 31 + j * 7 + n * 3) % 600 - 300 for j in range(2)] for s in range(5)],
             [[(s * 50 + n * 20) % 256 - 128, 100] for s in range(5)]) for n in range(6)]


def once_code():
    # the code a trainer's construction runs before its kernels (its argument checks, its budget),
    # loaded here and so kept (train._call keeps what was loaded before it): the holes below are
    # the kernels' to find (where that code finds none, Trainer names it in the budget's words: train._call)
    forget(ONCE)
    for name in ONCE:
        __import__("tinyrnn." + name)


def test_c_trainer_falls_back_to_a_set_that_fits():
    n = size("_c_train")
    if VM:                                   # no C kernels, nothing to fall back from (a trainer on
        assert not kernels.available("c")    # its model's own set: the next test)
        return
    if n is None or UNIX or not kernels.available("c"):
        # no C training module here, or (unix) one that never needs a large block: a trainer takes
        # its model's own set (or the next that loads), or raises MemoryError, not from the kernels' loading (viper's 30 KB
        # beside this test in a 64 KB Cortex-M3 heap: the budget's words, or a buffer the budget
        # counted in a heap too fragmented for it)
        m = Model(GRU, 4)
        try:
            t = Trainer(m, optimizer=Adam(lr="0.05"), max_steps=5, clip_norm="0.5")
        except MemoryError as e:
            if not str(e).startswith("Trainer needs"):
                check_raw(e, ("_kernels_for", "in kernels\n", "kernels.py", "in available\n", "in name\n", "in inference\n"))
            return
        # its model's set, or where that set's training module found no heap block, a later one
        # (kernels.KINDS order: c, viper, bytecode; the same integers)
        assert kernels.KINDS.index(t.kernels) >= kernels.KINDS.index(m.kernels), (t.kernels, m.kernels)
        return
    ds = data()
    m = Model(GRU, 4, "c")
    # holes below _c_train's block (7.3 KB on the Cortex-M3): of half its size, where viper's
    # blocks fit (its largest: 2,636 bytes there), then of 1.5 KB, below _viper's 2,104-byte
    # block: bytecode, whose blocks are smaller. With room (a 256 KB heap: host_tests/
    # test_nomem_qemu.py) the trainer falls back to viper, then to bytecode, and trains to the
    # golden CRC; in a 64 KB heap beside this test neither fits, and the budget's MemoryError
    # names all three sets tried.
    for hole, want in ((n // 2, "viper"), (1536, "bytecode")):
        forget(TRAINING)
        once_code()
        t = None
        kind = crc = loaded = None
        try:
            big = fragment(hole)
            if big < 0:
                print("c model, holes of %d bytes: no room for them here" % hole)
                continue
            try:
                t = Trainer(m, optimizer=Adam(lr="0.05"), max_steps=5, clip_norm="0.5")
            except MemoryError as e:
                kind = e
            loaded = [k for k in TRAINING[:4] if "tinyrnn." + k in sys.modules]
            if t is not None:
                kind = t.kernels
                # the heap back for the training: fit() loads its loops and checks (_fit, _args)
                # for the call, and the holes here are sized for the kernels' blocks
                release()
                m.init(4)
                t.sync_from_model()
                t.fit(ds, 3, batch_size=2, shuffle=False, verbose=False)
                crc = crc32(t.master, crc32(m.params))
        finally:
            t = None
            release()
            forget(TRAINING)                 # (loaded into the holes: the next round fills afresh)
        print("c model, holes of %d bytes (largest free block %d): %s; loaded %s" % (hole, big, kind, loaded))
        assert big < hole + 100, "largest free block %d, for a %d-byte module" % (big, n)
        assert "_c_train" not in loaded, loaded
        if isinstance(kind, MemoryError):
            kind = str(kind)
            if "not in one piece" in kind:
                # a training set loaded into the holes, then its buffers found no block: the
                # budget's words, and what it loaded dropped again
                assert kind.startswith("Trainer needs "), kind
                assert not loaded, "left loaded: %s" % loaded
                continue
            if loaded:
                # a training set loaded into the holes, and then the code a construction runs
                # once (_args.py, _budget.py) found no block: the budget's words, naming it
                assert kind.startswith("Trainer needs _") and "py's code in the heap" in kind, kind
                continue
            assert kind.startswith("Trainer needs the code of its training kernels in the heap"), kind
            if kind.endswith("none fits"):   # no heap even for _nomem.py's text of what each set said
                continue
            for part in ("c: MemoryError", "viper: ", "bytecode: MemoryError", " free: gc.collect() earlier"):
                assert part in kind, (part, kind)
            assert not loaded, "left loaded: %s" % loaded
            continue
        harness.eq(crc, TRAIN_GOLDEN, "crc32 after 3 epochs (c model, %s training kernels)" % kind)
        if kind == "bytecode":               # what the viper attempt loaded was dropped again
            assert "_viper" not in loaded and "_viper_train" not in loaded, loaded
        if size("_viper_train") is not None:
            # viper in holes of half the C block where the heap has room for its 16.7 KB (the
            # 256 KB board: host_tests/test_nomem_qemu.py); in 64 KB beside this test it may
            # not, and the bytecode set (smaller blocks) may then fit: the next set, as documented
            assert kind == want or (kind == "bytecode" and gc.mem_free() + gc.mem_alloc() < 131072), (kind, want)


def test_trainer_with_no_room_for_any_training_kernels_raises_the_budget_error():
    if VM:       # its heap grows when full: nothing to fill (and no room for a trainer beside this
        assert kernels.name() == "bytecode"  # file in 64 KB: its trainers are test_train.py's)
        return
    m = Model(GRU, 4)
    kind = m.kernels
    p0 = crc32(m.params, crc32(m.state))
    if UNIX:
        opts = [None]
        said = [0]

        def reset():
            opts[0] = None
            forget(TRAINING)
            once_code()
            opts[0] = Adam(lr="0.05")

        def build():
            return Trainer(m, optimizer=opts[0], max_steps=5).kernels

        def judge(X, got):
            if isinstance(got, MemoryError) and str(got).startswith("Trainer needs"):
                # (the budget of the buffers comes before the kernels load, and on this port
                # a kernel module needs less heap than the buffers: the budget's figure)
                said[0] += 1
            elif isinstance(got, MemoryError):
                check_raw(got, ("_kernels_for", "in kernels\n", "kernels.py", "in available\n", "in name\n", "in inference\n"))
            else:
                assert got == kind, (X, got)         # built: on the model's own set
                return
            assert opts[0].k is None, "the optimizer was bound (X=%d)" % X
            assert crc32(m.params, crc32(m.state)) == p0 and m.kernels == kind, "the model changed (X=%d)" % X
        sweep(build, reset, judge, 4096, 128)
        assert said[0], "no X gave the budget's words"
        return
    forget(TRAINING)             # (first: Adam() loads its hyperparameters' checks, _args, for the call)
    opt = Adam(lr="0.05")
    once_code()
    try:
        # small holes: no C or viper module's largest block, and a few only: not the bytecode set's total
        fragment(1024, 4)
        msg = harness.expect_error(MemoryError, Trainer, m, "mse", opt, "all", None, 5)
        loaded = [k for k in TRAINING[:4] if "tinyrnn." + k in sys.modules and k != "_" + kind]
    finally:
        release()
    print("no room for any training kernels: MemoryError: %s" % msg)
    assert msg.startswith("Trainer needs the code of its training kernels in the heap"), msg
    assert crc32(m.params, crc32(m.state)) == p0 and m.kernels == kind, "the model changed"
    assert opt.k is None, "the optimizer was bound"
    assert not loaded, "left loaded: %s" % loaded
    try:                                     # the heap is back: it builds, or says why not
        Trainer(m, optimizer=opt, max_steps=5)
    except MemoryError as e:
        assert str(e).startswith("Trainer needs"), e
    forget(TRAINING)


if __name__ == "__main__":
    harness.run_all(globals())
