# The demo's board side (make demo): train a GRU on the board, save its weights
# there, and print its outputs on a test sequence for the host to check. The host
# replays the same training in the NumPy mirror from the constants below and
# compares the weights file byte for byte.
#   mpremote connect PORT run examples/demo_train.py
import time

from tinyrnn import weights
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import to_str
from tinyrnn.rng import Rng
from tinyrnn.train import Trainer

PAIRS = [[0, 0], [0, 256], [256, 0], [256, 256]]
XOR = [[0], [256], [256], [0]]
TEST = [3, 0, 1, 2, 2, 1, 0, 3, 1, 2]          # a fixed test sequence (indices into PAIRS)
DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 1, "act": "sigmoid"}}
SEED = 2                   # the initial weights
DATA_SEED = 3              # the training and validation sequences
N_TRAIN = 32
N_VAL = 8
STEPS = 4
LR = "0.05"                # Adam
EPOCHS = 60
BATCH = 4
PATIENCE = 15


class Sequences:
    """`n` random sequences of `steps` XOR pairs as a dataset (len() and [i] -> (xs, ys), what
    Trainer.fit takes): the pair indices in one bytearray, each sequence made when asked into
    lists made once. On a 64 KB board a list of lists per sequence would cost 3.5 KB and split
    the free heap into pieces too small for the trainer's buffers."""

    def __init__(self, rng, n, steps):
        self.n = n
        self.steps = steps
        self.k = bytearray(rng.randbelow(4) for _ in range(n * steps))
        self.xs = [None] * steps
        self.ys = [None] * steps
        self.pair = (self.xs, self.ys)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        for t in range(self.steps):
            k = self.k[i * self.steps + t]
            self.xs[t] = PAIRS[k]
            self.ys[t] = XOR[k]
        return self.pair


rng = Rng(DATA_SEED)
train, val = Sequences(rng, N_TRAIN, STEPS), Sequences(rng, N_VAL, STEPS)
model = Model(DESC, seed=SEED)
trainer = Trainer(model, loss="mse", optimizer=Adam(lr=LR), max_steps=STEPS)
print("board: training a GRU 2-8-1 (%d parameters) on XOR, integer BPTT + Adam" % model.n_params)


def progress(epoch, loss, vloss):
    print("board: epoch %2d  loss %s  val %s" % (epoch + 1, to_str(loss), to_str(vloss)))


t0 = time.ticks_ms()
trainer.fit(train, EPOCHS, batch_size=BATCH, val=val, patience=PATIENCE, restore_best=True, callback=progress,
            verbose=False)
print("board: trained in %d ms" % time.ticks_diff(time.ticks_ms(), t0))
crc = weights.save(model, "demo.bin")
print("board: saved demo.bin, CRC32 0x%08x" % crc)
model.reset()
outputs = [model.step(PAIRS[i])[0] for i in TEST]
good = sum(1 for i, y in zip(TEST, outputs) if (y >= 128) == (XOR[i][0] >= 128))
print("board: test sequence %d/%d correct" % (good, len(TEST)))
print("OUTPUTS", outputs)
