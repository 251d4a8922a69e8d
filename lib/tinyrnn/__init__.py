# tinyrnn: Q8.8 recurrent networks that run and train on MicroPython (README.md).
KERNELS = None      # "viper" or "bytecode": the kernels of the last model built (tinyrnn.kernels)


def _unload(name):
    # drop a module that ran once (a check at construction, a file's validation) so a board's
    # heap does not keep its code: sys.modules and this package forget it, the collector frees it
    import sys
    sys.modules.pop("tinyrnn." + name, None)
    g = globals()
    if name in g:
        del g[name]
