# A GRU learns XOR on the board (the C++ anchor's gru_xor example, trained in
# integer arithmetic). Each step shows two bits; the target is their XOR.
#   on a board:  mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/gru_xor.py
#   on the VM:   tinyrnn examples gru_xor --heap 65536
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import to_str
from tinyrnn.rng import Rng
from tinyrnn.train import Trainer

SEED = 2          # the model's initial weights
EPOCHS = 300


PAIRS = [[0, 0], [0, 256], [256, 0], [256, 256]]      # the 4 inputs (0 or 1.0), shared
XOR = [[0], [256], [256], [0]]


def sequences(rng, n, steps):
    """n sequences of `steps` random bit pairs, target XOR."""
    out = []
    for _ in range(n):
        k = [rng.randbelow(4) for _ in range(steps)]
        out.append(([PAIRS[i] for i in k], [XOR[i] for i in k]))
    return out


def accuracy(model, data):
    good = total = 0
    for xs, ys in data:
        model.reset()
        for x, y in zip(xs, ys):
            good += (model.step(x)[0] >= 128) == (y[0] >= 128)
            total += 1
    return good, total


def run():
    """Yields once per epoch (the VM runner lets the GC run in between)."""
    rng = Rng(3)
    # training, validation (early stopping) and test sequences: the test set is never trained on or used to stop
    train, val, test = sequences(rng, 32, 4), sequences(rng, 8, 4), sequences(rng, 16, 4)
    model = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 8}],
                   "head": {"out": 1, "act": "sigmoid"}}, seed=SEED)
    trainer = Trainer(model, loss="mse", optimizer=Adam(lr="0.05"), max_steps=4)
    print("GRU 2-8-1 learns XOR: %d parameters, %d training sequences" % (model.n_params, len(train)))
    yield                       # set-up garbage can go now
    t0 = time.ticks_ms()
    epochs = 0
    for epoch, loss, vloss in trainer.epochs(train, EPOCHS, batch_size=4, val=val, patience=30,
                                             restore_best=True, verbose=False):
        epochs = epoch + 1
        if epoch % 10 == 0:
            print("epoch %d loss %s val %s" % (epochs, to_str(loss), to_str(vloss)))
        yield
    ms = time.ticks_diff(time.ticks_ms(), t0)
    good, total = accuracy(model, test)
    print("RESULT gru_xor epochs=%d updates=%d ms=%d test_correct=%d/%d"
          % (epochs, epochs * len(train) // 4, ms, good, total))


if __name__ == "__main__":
    for _ in run():
        pass
