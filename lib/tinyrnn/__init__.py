# tinyrnn: Q8.8 recurrent networks that run and train on MicroPython (README.md).
KERNELS = None      # "c", "viper" or "bytecode": the kernels of the last model built (tinyrnn.kernels)

# `tinyrnn deploy` writes _upgrading into this folder before it changes the first library file and
# removes it after the last (docs/deploy.md): while it is there the folder may hold a mix of old and
# new modules, and nothing imports; the file says why and what to do. (Module-level code, freed
# after the import; its text is the file's, so that every program does not keep it as a constant.)
try:
    _u = open(__path__ + "/_upgrading")
except Exception:   # no such file (OSError); CPython, where __path__ is a list (TypeError)
    _u = None
if _u:
    raise ImportError(_u.read())
del _u


def _unload(name):
    # drop a module that ran once (a check at construction, a file's validation) so a board's
    # heap does not keep its code: sys.modules and this package forget it, the collector frees it
    # (no allocation: it may run where the heap is full)
    import sys
    m = globals().pop(name, None)
    if m:
        sys.modules.pop(m.__name__, None)


def _once(module, key, *args):
    # key(*args) from tinyrnn.<module>, a module loaded for this call and dropped after it (code run
    # once, at construction or on a rare path, does not stay in a board's heap), unless something
    # had loaded it before: then it stays. (Names here and in the modules it loads are chosen
    # among the firmware's own qstrs where they read as well: each new name is interned into
    # the heap for good when a module is loaded, in pools that grow by doubling.)
    import sys
    full = "tinyrnn." + module
    had = full in sys.modules
    try:
        __import__(full)
        return getattr(sys.modules[full], key)(*args)
    finally:
        # (kept on the WebAssembly port: its heap frees garbage only between top-level calls, so
        # a module dropped here would stay in the heap as garbage, and each call load one more)
        if not had and sys.platform != "webassembly":
            _unload(module)
            sys.modules.pop(full, None)     # (or its name left bound to nothing: kernels.ERRS)
