# tinyrnn: Q8.8 recurrent networks that run and train on MicroPython (README.md).
KERNELS = None      # "viper" or "bytecode": the kernels of the last model built (tinyrnn.kernels)
