"""The host side of examples/motions_train.py: BasicMotions trained from scratch on the board.

Writes the 40 training and 40 test recordings as raw int16 sensor counts (.rec files, the
board's flash), runs motions_train.py on the MicroPython unix port under a hard heap cap with
the viper kernels (its per-epoch lines stream here), pulls the weights file back and replays
the whole training in the NumPy mirror: losses, weights and test predictions bit for bit.

    python examples/motions_on_board.py [--heap 163840] [--figures DIR]
"""
import sys

from tinyrnn_host.reports.board_training import main

if __name__ == "__main__":
    sys.exit(main())
