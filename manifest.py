# For users who build their own MicroPython firmware with tinyrnn frozen in (its bytecode
# then runs from flash, not the heap):
#     make -C ports/<port> BOARD=<board> FROZEN_MANIFEST=/path/to/tinyrnn/manifest.py
# or, from a board's own manifest:  include("/path/to/tinyrnn/manifest.py")
# The viper modules (_viper*.py) freeze as native code for the port's arch (mpy-cross
# -march from the port's MPY_CROSS_FLAGS); on a port without native code, drop them:
# the library falls back to its bytecode kernels.
metadata(description="Q8.8 fixed-point RNN, LSTM and GRU: inference and training on the board", version="0.1.0")
package("tinyrnn", base_path="lib")
