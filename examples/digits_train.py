# The 8x8 handwritten digits learned from scratch ON THE BOARD, read row by row: one row of
# 8 pixels per step, 8 steps, the class at the last step (scikit-learn's 1,797 digits; the
# held-out fifth of every class is the test set). The board reads its images from flash one
# at a time (tinyrnn.recordings .rec files of raw pixel values 0..16), scales them with a fixed normalisation,
# trains a GRU 8-16-10 by integer BPTT with a line per epoch, tests itself on the held-out
# images and saves the weights with the normalisation and the digit names. The training loop
# is examples/motions_train.py's (copy both files to the board).
#   host side:   python examples/digits_on_board.py   (writes the data files, runs this on
#                the unix port under a heap cap, replays the training in the NumPy mirror)
#   on a board:  mpremote cp build/digits_board/digits_*.rec examples/motions_train.py : + run examples/digits_train.py
from motions_train import main
from tinyrnn.norm import Norm

HIDDEN = 16
EPOCHS = 8
BATCH = 8
LR = "0.02"
SEED = 1
TRAIN = "digits_train.rec"
TEST = "digits_test.rec"
OUT = "digits.bin"
PIXELS = Norm([8] * 8, [32] * 8, [0] * 8)     # (pixel - 8) * 32: 0..16 onto Q8.8 -1..1

main(TRAIN, TEST, OUT, HIDDEN, EPOCHS, BATCH, LR, SEED, norm=PIXELS)
