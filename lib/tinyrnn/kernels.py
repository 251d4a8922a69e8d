# The compute kernels, in two bodies with the same names and signatures:
#   "bytecode": everywhere; the readable reference (in elman.py, lstm.py, gru.py,
#               dense.py for inference; backward.py, optim.py for training);
#   "viper":    native code (_viper.py, _viper_train.py), where the port compiles it
#               (ESP32, RP2040, STM32, the unix port; not the WebAssembly port).
# Both give the same integers (docs/arithmetic.md, 10). A model takes the best
# available unless told otherwise:
#
#     import tinyrnn
#     from tinyrnn import kernels
#     kernels.use("bytecode")          # models built from now on use bytecode kernels
#     Model(desc, kernels="viper")     # or per model (ImportError where viper is missing)
#     tinyrnn.KERNELS                  # which the last model built got
import tinyrnn

_default = None              # what use() asked for: None = the best available
_native = None               # the answer to "does viper import here?", once known
_bc = None                   # the bytecode kernels, once loaded


def use(name=None):
    """Kernels for models and trainers built from now on: 'viper', 'bytecode', or None (best available)."""
    if name not in (None, "viper", "bytecode"):
        raise ValueError("kernels: %r is not 'viper', 'bytecode' or None" % (name,))
    global _default
    _default = name


def available():
    """True if the viper kernels import on this port."""
    global _native
    if _native is None:
        try:
            from . import _viper  # noqa: F401
            _native = True
        except (ImportError, SyntaxError, ValueError, NotImplementedError):
            _native = False
    return _native


def name(kind=None):
    """The kernel set a new model gets: `kind` if given, else what use() set, else the best."""
    if kind is None:
        kind = _default
    if kind not in (None, "viper", "bytecode"):
        raise ValueError("kernels: %r is not 'viper', 'bytecode' or None" % (kind,))
    if kind == "viper" and not available():
        raise ImportError("kernels: viper kernels do not run on this port (no native emitter, or no _viper module)")
    if kind is None:
        kind = "viper" if available() else "bytecode"
    return kind


def inference(kind):
    """The module holding elman_step, lstm_step, gru_step, dense_step for `kind`.
    Only that kind's bodies are loaded: a board running viper never loads the bytecode ones."""
    tinyrnn.KERNELS = kind
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
    if kind == "viper":
        from . import _viper_train as k
    else:
        from . import _bytecode_train as k
    return k
