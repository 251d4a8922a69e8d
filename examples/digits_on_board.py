"""The host side of examples/digits_train.py: the 8x8 digits, read row by row, trained from
scratch on the board.

Writes the training and test images as raw pixel values (.rec files, the board's flash), runs
digits_train.py on the MicroPython unix port under a hard heap cap with the viper kernels (its
per-epoch lines stream here), pulls the weights file back and replays the whole training in the
NumPy mirror: losses, weights and test predictions bit for bit.

    python examples/digits_on_board.py [--heap 163840] [--figures DIR]
"""
import sys

from tinyrnn_host.reports.board_training import DIGITS, main

if __name__ == "__main__":
    sys.exit(main(task=DIGITS))
