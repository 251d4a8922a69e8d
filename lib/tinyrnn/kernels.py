# The compute kernels, in three bodies with the same names and signatures:
#   "bytecode": everywhere; the readable reference (in elman.py, lstm.py, gru.py,
#               dense.py for inference; backward.py, optim.py for training);
#   "viper":    native code (_viper.py, _viper_train.py), where the port compiles it
#               (ESP32, RP2040, STM32, the unix port; not the WebAssembly port);
#   "c":        C compiled per architecture into native modules (_c.mpy for inference,
#               _c_train.mpy for training, from lib/tinyrnn_c/_c.c), where they are
#               deployed for the board's arch (x64, armv6m, armv7m, armv7emsp, rv32imc;
#               not xtensawin).
# All give the same integers (docs/arithmetic.md, 10). A model takes the best
# available (c, then viper, then bytecode) unless told otherwise:
#
#     import tinyrnn
#     from tinyrnn import kernels
#     kernels.use("bytecode")          # models built from now on use bytecode kernels
#     Model(desc, kernels="viper")     # or per model (ImportError where that kind is missing,
#                                      # MemoryError where its code found no heap block)
#     tinyrnn.KERNELS                  # which the last model built got
#
# A kind whose code found no heap block (MemoryError while importing it) is tried again by the
# next model: a collection may have made room. A trainer takes its model's kind, else the next
# whose training module loads (c, then viper, then bytecode; Trainer.kernels says which), and
# where none does, MemoryError in the budget's words ("Trainer needs ..."): train.py.
import tinyrnn

KINDS = ("c", "viper", "bytecode")
_default = None              # what use() asked for: None = the best available
# kind -> None (not tried yet), True, or why it did not import (the exception: a MemoryError
# where its code found no heap block); both keys from the start: recording one never grows the dict
_has = {"c": None, "viper": None}
_bc = None                   # the bytecode kernels, once loaded
# what a kernel module that does not load raises (NameError: an import that ran out of heap can
# leave its name in sys.modules bound to nothing, MicroPython 1.28's mp_obj_new_module, and the
# next import hands that back); a tuple built once: an except clause naming them builds it each
# time it runs, an allocation when the heap may be full
ERRS = (ImportError, SyntaxError, ValueError, NotImplementedError, MemoryError, NameError)


def _check(kind):
    if kind is not None and kind not in KINDS:
        raise ValueError("kernels: %r is not 'c', 'viper', 'bytecode' or None" % (kind,))


def use(name=None):
    """Kernels for models and trainers built from now on: 'c', 'viper', 'bytecode', or None (best available)."""
    _check(name)
    global _default
    _default = name


# available() and name() run when a model is built: their bodies are _desc.py's (loaded for the
# call, then dropped), so that a program does not keep them in the heap
def available(kind="viper"):
    """True if the `kind` kernels ('c' or 'viper') import on this port (a kind whose code found
    no heap block is tried again)."""
    return tinyrnn._once("_desc", "available", kind)


def name(kind=None):
    """The kernel set a new model gets: `kind` if given, else what use() set, else the best."""
    return tinyrnn._once("_desc", "name", kind)


def inference(kind):
    """The module holding elman_step, lstm_step, gru_step, dense_step for `kind`.
    Only that kind's bodies are loaded: a board running viper never loads the bytecode ones."""
    if kind == "c":
        from . import _c as k
    elif kind == "viper":
        from . import _viper as k
    else:
        k = bytecode()
    tinyrnn.KERNELS = kind           # once they are loaded
    return k


def bytecode():
    """The bytecode inference kernels (and their bound check, fits), loaded once; no allocation after."""
    global _bc
    if _bc is None:
        from . import _bytecode
        _bc = _bytecode
    return _bc
