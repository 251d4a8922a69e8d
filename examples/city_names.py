"""The host side of examples/names_train.py: city names from the IANA time-zone database,
learned character by character and sampled on the board.

Writes the training names (a fifth held out), runs names_train.py on the MicroPython unix port
under a hard heap cap with the viper kernels, pulls the weights back, replays the training and
the sampling in the NumPy mirror (the same names for the same seed, character for character)
and reports the test cross-entropy per character against a unigram baseline.

    python examples/city_names.py [--heap 163840] [--figures DIR]
"""
import sys

from tinyrnn_host.reports.names_example import main

if __name__ == "__main__":
    sys.exit(main())
