# Elman, LSTM and GRU each memorise the 10 digit sequences of the recurrent-network
# article in shared/seeds: given only the first digit, reproduce the other ten
# (each output is fed back as the next input). Trained on the board.
#   on a board:  mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/digits.py
#   on the VM:   tinyrnn examples digits --heap 131072
import gc
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import to_str
from tinyrnn.train import Trainer

SEQUENCES = ["10123456781", "20123456782", "30123456783", "40123456784", "50123456785",
             "60124446786", "70124446787", "80124446788", "90124446789", "00124446780"]
KINDS = ("elman", "lstm", "gru")
HIDDEN = 16
MAX_EPOCHS = 400
CHECK_EVERY = 10


ONEHOT = [[256 if k == d else 0 for k in range(10)] for d in range(10)]   # shared, not rebuilt


def onehot(d):
    return ONEHOT[d]


def generate(model, first):
    """Feed the first digit, then each output's argmax back in; return the 11 digits."""
    model.reset()
    d = first
    out = str(first)
    for _ in range(10):
        y = model.step(onehot(d))
        d = 0
        for k in range(1, 10):
            if y[k] > y[d]:
                d = k
        out += str(d)
    return out


def reproduced(model):
    return sum(1 for s in SEQUENCES if generate(model, int(s[0])) == s)


def run():
    """Yields once per epoch (the VM runner lets the GC run in between)."""
    data = [([onehot(int(c)) for c in s[:-1]], [int(c) for c in s[1:]]) for s in SEQUENCES]
    results = []
    for kind in KINDS:
        gc.collect()
        model = Model({"input": 10, "layers": [{"kind": kind, "hidden": HIDDEN}],
                       "head": {"out": 10, "act": "softmax"}}, seed=1)
        trainer = Trainer(model, loss="ce", optimizer=Adam(lr="0.02"), max_steps=10)
        print("%s 10-%d-10: %d parameters" % (kind, HIDDEN, model.n_params))
        yield                       # set-up garbage can go now
        t0 = time.ticks_ms()
        epochs = 0
        good = 0
        for epoch, loss, _ in trainer.epochs(data, MAX_EPOCHS, batch_size=10, verbose=False):
            epochs = epoch + 1
            if epochs % CHECK_EVERY == 0:
                good = reproduced(model)
                print("  epoch %d loss %s reproduced %d/10" % (epochs, to_str(loss), good))
                if good == 10:
                    break
            yield
        ms = time.ticks_diff(time.ticks_ms(), t0)
        print("RESULT digits kind=%s epochs=%d updates=%d ms=%d reproduced=%d/10"
              % (kind, epochs, epochs, ms, good))
        for s in SEQUENCES:
            print("  %s -> %s" % (s, generate(model, int(s[0]))))
        results.append(good)
        model = trainer = None
        yield


if __name__ == "__main__":
    for _ in run():
        pass
