# The compute kernels, in three bodies with the same names and signatures:
#   "bytecode": everywhere; the readable reference (in elman.py, lstm.py, gru.py,
#               dense.py for inference; backward.py, optim.py for training);
#   "viper":    native code (_viper.py, _viper_train.py), where the port compiles it
#               (ESP32, RP2040, STM32, the unix port; not the WebAssembly port);
#   "c":        C compiled per architecture into native modules (_c.mpy for inference,
#               _c_train.mpy for training, from lib/tinyrnn_c/_c.c), where they are
#               deployed for the board's arch (x64, armv6m, armv7m, armv7emsp, rv32imc;
#               not xtensawin). Where the training module does not load (no heap block
#               for its code), a "c" model trains with the viper kernels: the same integers.
# All give the same integers (docs/arithmetic.md, 10). A model takes the best
# available (c, then viper, then bytecode) unless told otherwise:
#
#     import tinyrnn
#     from tinyrnn import kernels
#     kernels.use("bytecode")          # models built from now on use bytecode kernels
#     Model(desc, kernels="viper")     # or per model (ImportError where that kind is missing)
#     tinyrnn.KERNELS                  # which the last model built got
import tinyrnn

KINDS = ("c", "viper", "bytecode")
_default = None              # what use() asked for: None = the best available
_has = {}                    # kind -> does it import here, once known
_bc = None                   # the bytecode kernels, once loaded


def _check(kind):
    if kind is not None and kind not in KINDS:
        raise ValueError("kernels: %r is not 'c', 'viper', 'bytecode' or None" % (kind,))


def use(name=None):
    """Kernels for models and trainers built from now on: 'c', 'viper', 'bytecode', or None (best available)."""
    _check(name)
    global _default
    _default = name


def available(kind="viper"):
    """True if the `kind` kernels ('c' or 'viper') import on this port."""
    if kind == "bytecode":
        return True
    got = _has.get(kind)
    if got is None:
        try:
            if kind == "c":
                from . import _c  # noqa: F401
            else:
                from . import _viper  # noqa: F401
            got = True
        except (ImportError, SyntaxError, ValueError, NotImplementedError, MemoryError):
            got = False             # (MemoryError: no heap block for the module's code)
        _has[kind] = got
    return got


def name(kind=None):
    """The kernel set a new model gets: `kind` if given, else what use() set, else the best."""
    if kind is None:
        kind = _default
    _check(kind)
    if kind is None:
        for kind in KINDS:
            if available(kind):
                return kind
    if not available(kind):
        raise ImportError("kernels: %s kernels do not run on this port (%s)" % (kind, "no _c module for its arch"
                          if kind == "c" else "no native emitter, or no _viper module"))
    return kind


def inference(kind):
    """The module holding elman_step, lstm_step, gru_step, dense_step for `kind`.
    Only that kind's bodies are loaded: a board running viper never loads the bytecode ones."""
    tinyrnn.KERNELS = kind
    if kind == "c":
        from . import _c as k
        return k
    if kind == "viper":
        from . import _viper as k
        return k
    return bytecode()


def bytecode():
    """The bytecode inference kernels (and their bound check, fits), loaded once; no allocation after."""
    global _bc
    if _bc is None:
        from . import _bytecode
        _bc = _bytecode
    return _bc


def training(kind):
    """The module holding the backward, update and copy kernels for `kind`."""
    if kind == "c":
        try:
            from . import _c_train as k
            return k
        except (ImportError, MemoryError):
            kind = "viper"
    if kind == "viper":
        from . import _viper_train as k
    else:
        from . import _bytecode_train as k
    return k
