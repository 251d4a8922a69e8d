"""JapaneseVowels (UEA archive): nine male speakers say the vowel /ae/; each recording is
7 to 29 frames of 12 LPC cepstrum coefficients. Which speaker was it? (published: 1-NN DTW
about 0.95, deep multivariate models about 0.99)

Host-trained, board-evaluated: a GRU 12-32-9 is trained on the host in float64 on the 270
training recordings, quantised to Q8.8 and written with its input normalisation and the
speakers' names (weights format version 2); `tinyrnn deploy`'s code path puts it on the
(virtual) board with examples/classify_app.py, and all 370 test recordings are streamed to
the board, which normalises, runs the model and names the speaker. The NumPy mirror
reproduces every board output bit for bit.

    python examples/japanese_vowels.py [--port a0] [--figures DIR]

The data: aeon 1.6.0's shipped .ts files (tinyrnn_host.interop.uea), never copied here.
"""
import sys

from tinyrnn_host.reports.classify_example import Recipe, main

RECIPE = Recipe(
    dataset="JapaneseVowels",
    per_unit=4096,          # the board's raw int16 input: each coefficient in Q3.12 from its feature extractor
    hidden=32,
    stages=((30, 5e-3), (10, 1e-3), (10, 2.5e-4)),      # (epochs, Adam learning rate): a stepped decay
    weight_decay=2e-3,      # L2, as torch.optim.Adam's weight_decay
    weights="jv.bin",
    short="jv",
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
