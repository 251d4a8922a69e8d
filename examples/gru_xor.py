# A GRU learns, on the board, the XOR of each bit with the bit before it: a task
# that needs memory (the target depends on the previous input, not only the
# current one). Training, validation and test sequences are all different: the
# test sequences are never trained on, nor used to stop.
#   on a board:    mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/gru_xor.py
#   unix port/VM:  tinyrnn examples gru_xor
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import to_str
from tinyrnn.rng import Rng
from tinyrnn.train import Trainer

STEPS = 8              # bits per sequence: 256 different sequences exist
EPOCHS = 300
BIT = [[0], [256]]     # inputs and targets as Q8.8 (0 or 1.0), shared by every sequence

rng = Rng(3)
drawn = set()          # every sequence drawn so far, as an 8-bit number: no repeats


def sequences(n):
    """n new sequences: input bit b[t], target b[t] XOR b[t-1] (b[-1] = 0)."""
    out = []
    while len(out) < n:
        key = rng.getrandbits(STEPS)
        if key in drawn:
            continue
        drawn.add(key)
        xs = []
        ys = []
        prev = 0
        for t in range(STEPS):
            b = (key >> t) & 1
            xs.append(BIT[b])
            ys.append(BIT[b ^ prev])
            prev = b
        out.append((xs, ys))
    return out


def correct(model, data):
    """Test steps whose output is on the right side of 0.5."""
    good = 0
    for xs, ys in data:
        model.reset()
        for t in range(len(xs)):
            good += (model.step(xs[t])[0] >= 128) == (ys[t][0] >= 128)
    return good


def progress(epoch, loss, vloss):
    if epoch % 10 == 0:
        print("epoch %d loss %s val %s" % (epoch + 1, to_str(loss), to_str(vloss)))


train = sequences(48)
val = sequences(16)
test = sequences(48)
model = Model({"input": 1, "layers": [{"kind": "gru", "hidden": 8}],
               "head": {"out": 1, "act": "sigmoid"}}, seed=2)
trainer = Trainer(model, loss="mse", optimizer=Adam(lr="0.05"), max_steps=STEPS)
print("GRU 1-8-1 learns b[t] XOR b[t-1]: %d parameters, %d/%d/%d train/val/test sequences"
      % (model.n_params, len(train), len(val), len(test)))
t0 = time.ticks_ms()
history = trainer.fit(train, EPOCHS, batch_size=4, val=val, patience=30, restore_best=True,
                      callback=progress, verbose=False)
ms = time.ticks_diff(time.ticks_ms(), t0)
print("RESULT gru_xor epochs=%d updates=%d ms=%d test_correct=%d/%d"
      % (len(history), len(history) * len(train) // 4, ms, correct(model, test), STEPS * len(test)))
