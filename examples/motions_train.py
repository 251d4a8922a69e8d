# BasicMotions learned from scratch ON THE BOARD: a smartwatch's 3-axis accelerometer
# and 3-axis gyroscope, 100 steps at 10 Hz, four activities (UEA archive, 40 recordings
# to train on, 40 to test). The board reads its raw int16 sensor recordings from flash
# one at a time (tinyrnn.recordings: a .rec file, docs/recordings-format.md), fits its
# own input normalisation in integers, trains a GRU 6-12-4 by
# BPTT (integer Adam, softmax cross-entropy on the last step), prints a line per epoch,
# tests itself on the held-out recordings and saves the weights with the normalisation
# and the class names (a version-2 weights file).
#   host side:   python examples/motions_on_board.py   (writes the data files, runs this on
#                the unix port under a heap cap, replays the training in the NumPy mirror)
#   on a board:  mpremote cp build/motions/motions_*.rec : + run examples/motions_train.py
import gc
import time

import tinyrnn
from tinyrnn import weights
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import fixed_str
from tinyrnn.recordings import Recordings, fit_norm
from tinyrnn.train import Trainer

HIDDEN = 12
EPOCHS = 40
BATCH = 4
LR = "0.02"
SEED = 1
TRAIN = "motions_train.rec"
TEST = "motions_test.rec"
OUT = "motions.bin"


def predict(model, xs):
    model.reset()
    for x in xs:
        y = model.step(x)
    best = 0
    for k in range(1, len(y)):
        if y[k] > y[best]:
            best = k
    return best


def main(train_path=TRAIN, test_path=TEST, out=OUT, hidden=HIDDEN, epochs=EPOCHS, batch=BATCH, lr=LR, seed=SEED,
         norm=None):
    """Train on train_path, test on test_path, save to out; norm: a fixed Norm, else fitted here.
    (examples/digits_train.py calls it with its own files and constants.)"""
    t0 = time.ticks_ms()
    train = Recordings(train_path)
    test = Recordings(test_path, like=train)
    norm = norm if norm is not None else fit_norm(train)
    train.norm = test.norm = norm
    print("norm offset %s mul %s shift %s" % (list(norm.offset), list(norm.mul), list(norm.shift)))
    model = Model({"input": train.channels, "layers": [{"kind": "gru", "hidden": hidden}],
                   "head": {"out": len(train.labels), "act": "softmax"}}, seed=seed)
    model.norm = norm
    model.labels = train.labels
    trainer = Trainer(model, loss="ce", optimizer=Adam(lr=lr), targets="last", max_steps=train.steps, seed=seed)
    gc.collect()
    print("GRU %d-%d-%d on %s kernels (tinyrnn.KERNELS): %d parameters, %d recordings of %d steps, "
          "Adam lr %s, batches of %d; heap: %d bytes used, %d free"
          % (train.channels, hidden, len(train.labels), tinyrnn.KERNELS, model.n_params, len(train), train.steps,
             lr, batch, gc.mem_alloc(), gc.mem_free()))
    for epoch, loss, _ in trainer.epochs(train, epochs, batch_size=batch, verbose=False):
        gc.collect()            # (the collector also runs whenever the capped heap fills)
        print("epoch %d/%d loss %s (Q8.8 %d), board time %d ms, heap %d bytes used"
              % (epoch + 1, epochs, fixed_str(loss, 8), loss, time.ticks_diff(time.ticks_ms(), t0), gc.mem_alloc()))
    good = 0
    for i in range(len(test)):
        xs, y = test[i]
        k = predict(model, xs)
        good += k == y
        print("TEST %d %d %d" % (i, y, k))
    crc = weights.save(model, out)
    ms = time.ticks_diff(time.ticks_ms(), t0)
    print("RESULT trained on the board: test %d/%d correct, board time %d ms, %s CRC 0x%08x"
          % (good, len(test), ms, out, crc))


if __name__ == "__main__":
    main()
