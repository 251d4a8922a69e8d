# Elman, LSTM and GRU each memorise, on the board, the 10 digit sequences in
# SEQUENCES below (a classic recurrent-network memorisation exercise; the sequences
# are all there is): given only the first digit, reproduce the other ten (each output is fed back as the next input). A memorisation task:
# the ten sequences are both what is trained and what is checked.
#   on a board:    mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/digits.py
#   unix port/VM:  tinyrnn examples digits
import gc
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import to_str
from tinyrnn.train import Trainer

SEQUENCES = ["10123456781", "20123456782", "30123456783", "40123456784", "50123456785",
             "60124446786", "70124446787", "80124446788", "90124446789", "00124446780"]
HIDDEN = 16
MAX_EPOCHS = 400
CHECK_EVERY = 10
ONEHOT = [[256 if k == d else 0 for k in range(10)] for d in range(10)]   # shared, not rebuilt


def generate(model, first):
    """Feed the first digit, then each output's argmax back in; return the 11 digits."""
    model.reset()
    d = first
    out = str(first)
    for _ in range(10):
        y = model.step(ONEHOT[d])
        d = 0
        for k in range(1, 10):
            if y[k] > y[d]:
                d = k
        out += str(d)
    return out


def reproduced(model):
    return sum(1 for s in SEQUENCES if generate(model, int(s[0])) == s)


data = [([ONEHOT[int(c)] for c in s[:-1]], [int(c) for c in s[1:]]) for s in SEQUENCES]
for kind in ("elman", "lstm", "gru"):
    model = Model({"input": 10, "layers": [{"kind": kind, "hidden": HIDDEN}],
                   "head": {"out": 10, "act": "softmax"}}, seed=1)
    trainer = Trainer(model, loss="ce", optimizer=Adam(lr="0.02"), max_steps=10)
    print("%s 10-%d-10: %d parameters" % (kind, HIDDEN, model.n_params))
    good = [0]

    def check(epoch, loss, vloss):
        """Every CHECK_EVERY epochs: how many sequences come back exactly; stop at 10."""
        if (epoch + 1) % CHECK_EVERY:
            return False
        good[0] = reproduced(model)
        print("  epoch %d loss %s reproduced %d/10" % (epoch + 1, to_str(loss), good[0]))
        return good[0] == 10
    t0 = time.ticks_ms()
    epochs = len(trainer.fit(data, MAX_EPOCHS, batch_size=10, callback=check, verbose=False))
    ms = time.ticks_diff(time.ticks_ms(), t0)
    print("RESULT digits kind=%s epochs=%d updates=%d ms=%d reproduced=%d/10" % (kind, epochs, epochs, ms, good[0]))
    for s in SEQUENCES:
        print("  %s -> %s" % (s, generate(model, int(s[0]))))
    model = trainer = None
    gc.collect()              # the next model gets the room back
