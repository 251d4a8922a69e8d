# An LSTM learns to predict the next sample of a sine wave, trained on the board.
#   on a board:  mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/lstm_sine.py
#   on the VM:   tinyrnn examples lstm_sine --heap 65536
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import fixed_str, to_str
from tinyrnn.train import Trainer

# 0.8 * sin(2 pi i / 20) in Q8.8, one period (no float needed on the board)
WAVE = [0, 63, 120, 166, 195, 205, 195, 166, 120, 63, 0, -63, -120, -166, -195, -205, -195, -166, -120, -63]
STEPS = 10        # sequence length
EPOCHS = 30


def wave(i):
    return WAVE[i % len(WAVE)]


def run():
    """Yields once per epoch (the VM runner lets the GC run in between)."""
    # 20 training windows: input wave[s .. s+9], target the sample after each.
    # Every window shares the same 20 one-value lists: RAM is short on a board.
    vec = [[v] for v in WAVE]
    P = len(WAVE)
    train = [([vec[(s + t) % P] for t in range(STEPS)], [vec[(s + t + 1) % P] for t in range(STEPS)])
             for s in range(20)]
    model = Model({"input": 1, "layers": [{"kind": "lstm", "hidden": 6}],
                   "head": {"out": 1, "act": "identity"}}, seed=1)
    trainer = Trainer(model, loss="mse", optimizer=Adam(lr="0.03"), max_steps=STEPS)
    print("LSTM 1-6-1 predicts the next sine sample: %d parameters" % model.n_params)
    yield                       # set-up garbage can go now
    t0 = time.ticks_ms()
    for epoch, loss, _ in trainer.epochs(train, EPOCHS, batch_size=8, verbose=False):
        if epoch % 5 == 0:
            print("epoch %d loss %s" % (epoch + 1, to_str(loss)))
        yield
    ms = time.ticks_diff(time.ticks_ms(), t0)
    # held out: 100 steps from a fresh state at a phase not used as a window start;
    # the first 5 steps warm the state up, the other 95 are scored
    model.reset()
    se = 0
    n = 0
    for i in range(100):
        y = model.step(vec[(57 + i) % P])[0]
        if i >= 5:
            e = y - wave(58 + i)
            se += e * e
            n += 1
    mse_q16 = (2 * se + n) // (2 * n)       # mean of (Q8.8 error)^2, a Q.16 value
    print("RESULT lstm_sine epochs=%d updates=%d ms=%d held_out_mse=%s mse_q16=%d"
          % (EPOCHS, EPOCHS * 3, ms, fixed_str(mse_q16, 16, 5), mse_q16))


if __name__ == "__main__":
    for _ in run():
        pass
