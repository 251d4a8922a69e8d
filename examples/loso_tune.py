# A pretrained model personalised ON THE BOARD: a GRU trained on the host on nine people's
# shoulder exercises (a smartwatch's accelerometer and gyroscope, 7 exercises) is fine-tuned
# with a few labelled recordings of the tenth, the person wearing the board. It reads its
# raw int16 sensor recordings from flash (tinyrnn.recordings), normalises them with the
# normalisation the weights file brought, and measures its accuracy on that person's other
# recordings before; then, each from the same file, it fine-tunes the head only (train="head")
# and the recurrent layer only (train=[0], the head frozen: the deltas pass through it),
# measures again and saves each result (a version-2 weights file, norm and labels kept).
# Frozen parameters take no master weights, gradients or optimizer state.
#   host side:   python examples/loso_finetune.py   (pretrains for each held-out subject, runs
#                this on the unix port under a heap cap, replays the fine-tuning in the mirror)
#   on a board:  mpremote cp build/loso/s3/pretrained.bin build/loso/s3/*.rec examples/motions_train.py : \
#                + run examples/loso_tune.py
import gc
import time

import tinyrnn
from tinyrnn import weights
from tinyrnn.optim import Adam
from tinyrnn.recordings import Recordings
from tinyrnn.train import Trainer

from motions_train import predict

EPOCHS = 10
BATCH = 4
LR = "0.01"
SEED = 1
MODEL = "pretrained.bin"
MINE = "mine.rec"               # the wearer's few labelled recordings: what fine-tuning learns from
TEST = "test.rec"               # the wearer's other recordings: what the accuracy is measured on
RUNS = (("head", "head"), ("layer", [0]))     # (name, Trainer's train=): each from MODEL, saved as <name>.bin


def test(model, data, tag):
    good = 0
    for i in range(len(data)):
        xs, y = data[i]
        k = predict(model, xs)
        good += k == y
        print("%s %d %d %d" % (tag, i, y, k))
    return good


def main():
    model = weights.load(MODEL)
    mine = Recordings(MINE)
    data = Recordings(TEST, like=mine)
    mine.norm = data.norm = model.norm
    good = test(model, data, "BEFORE")
    print("BEFORE fine-tuning: %d/%d correct on %s kernels (tinyrnn.KERNELS)" % (good, len(data), tinyrnn.KERNELS))
    for name, train in RUNS:
        weights.load_into(model, MODEL)
        gc.collect()
        base = gc.mem_alloc()
        t0 = time.ticks_ms()
        trainer = Trainer(model, loss="ce", optimizer=Adam(lr=LR), targets="last", max_steps=mine.steps,
                          seed=SEED, train=train)
        gc.collect()
        print("RUN %s train=%r: the trainer takes %d bytes; %d recordings of %d steps, Adam lr %s, batches of %d"
              % (name, train, gc.mem_alloc() - base, len(mine), mine.steps, LR, BATCH))
        for epoch, loss, _ in trainer.epochs(mine, EPOCHS, batch_size=BATCH, verbose=False):
            gc.collect()
            print("epoch %d/%d loss Q8.8 %d, heap %d bytes used" % (epoch + 1, EPOCHS, loss, gc.mem_alloc()))
        ms = time.ticks_diff(time.ticks_ms(), t0)
        trainer = None
        good = test(model, data, name.upper())
        crc = weights.save(model, name + ".bin")
        print("RESULT %s: %d/%d correct after %d epochs in %d ms of board time, %s.bin CRC 0x%08x"
              % (name, good, len(data), EPOCHS, ms, name, crc))


if __name__ == "__main__":
    main()
