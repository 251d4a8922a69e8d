# What is said and done where kernels find no heap block for their code: the message of a
# model's (no_block, for _desc.name) and a trainer's fallback to the next training set that
# loads (kernels, for train.py's _kernels_for). Code only such a failure loads, and drops again:
# small, so that it fits where the kernels did not.
import sys

from .kernels import ERRS


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
    # 12345 -> "12,345" (_budget._k's lines: a copy, so that the message of a heap with no room
    # for the kernels loads no more code than this module)
    s = str(v)
    out = ""
    while len(s) > 3:
        out = "," + s[-3:] + out
        s = s[:-3]
    return s + out
