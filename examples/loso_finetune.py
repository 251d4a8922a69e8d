"""The host side of examples/loso_tune.py: leave one subject out, fine-tuned on the board.

For each of the ten subjects of the smartwatch recordings seglearn ships (7 shoulder exercises):
a GRU pretrained on the host on the other nine, its accuracy on the held-out subject measured
on the board (the MicroPython unix port under a hard heap cap), then the head and, separately,
the recurrent layer fine-tuned there on the subject's first 6 s of each recording and measured
on the rest; the NumPy mirror replays both fine-tunings bit for bit. Prints the README's table.

    python examples/loso_finetune.py [--subjects 3] [--figures DIR] [--echo]
"""
import sys

from tinyrnn_host.reports.loso import main

if __name__ == "__main__":
    sys.exit(main())
