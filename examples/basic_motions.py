"""BasicMotions (UEA archive): a smartwatch's 3-axis accelerometer and 3-axis gyroscope,
100 steps at 10 Hz, four activities (standing, running, walking, badminton); 40 recordings
to train on, 40 to test.

Host-trained, board-evaluated: a GRU 6-16-4 trained on the host in float64, quantised to
Q8.8 with its input normalisation and the activity names in the weights file, deployed to
the (virtual) board with examples/classify_app.py; the 40 test recordings are streamed to the
board as raw int16 sensor counts and classified there; the NumPy mirror reproduces every
board output bit for bit. (examples/motions_train.py trains the same task on the board.)

    python examples/basic_motions.py [--port a0] [--figures DIR]
"""
import sys

from tinyrnn_host.reports.classify_example import Recipe, main

RECIPE = Recipe(
    dataset="BasicMotions",
    per_unit=512,           # the board's raw int16 input: 512 counts per unit of the recordings
    hidden=16,
    stages=((60, 1e-2), (20, 2e-3), (20, 5e-4)),      # (epochs, Adam learning rate): a stepped decay
    weight_decay=1e-3,
    weights="motions_host.bin",
    short="motions_host",
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
