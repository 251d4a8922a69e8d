"""Handwritten digits read row by row: the recurrent-network article's MNIST classifier (a GRU
reading one row of pixels per step) on scikit-learn's bundled 8x8 digits (1,797 images, pixels
0..16): 8 steps of 8 pixels, the held-out fifth of every class as the test images.

Host-trained, board-evaluated: a GRU 8-32-10 trained on the host in float64, quantised to Q8.8
with the pixel scaling and the digit names in the weights file, deployed to the (virtual)
board with examples/classify_app.py; each test image is streamed to the board as its raw
pixel values (one row per step) and classified there; the NumPy mirror reproduces every board
output bit for bit. (examples/digits_on_board.py trains a smaller GRU on the board.)
MNIST itself: tinyrnn_host.interop.images.mnist(images, labels) reads the IDX files you
downloaded (28 steps of 28 pixels).

    python examples/digits_rows.py [--port a0] [--figures DIR]
"""
import sys

from tinyrnn_host.interop import images
from tinyrnn_host.mirror.norm import Norm
from tinyrnn_host.reports.classify_example import Recipe, main

PIXELS = Norm([8] * 8, [32] * 8, [0] * 8)     # (pixel - 8) * 32: 0..16 onto Q8.8 -1..1, as digits_train.py

RECIPE = Recipe(
    dataset="digits (8x8, row by row)",
    load=images.digits,
    per_unit=1,             # the raw values are the pixels themselves
    norm=PIXELS,
    hidden=32,
    stages=((10, 2e-2), (4, 4e-3)),         # (epochs, Adam learning rate)
    weight_decay=0.0,
    batch_size=64,
    weights="digits_host.bin",
    short="digits_host",
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
