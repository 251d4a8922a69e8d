# An LSTM learns, on the board, to predict the next sample of a sine wave from the
# samples so far (one sample does not tell rising from falling: it needs its state).
# It trains on waves of amplitude 0.5 and 0.9 and is tested on a wave it never saw:
# amplitude 0.7, 100 steps from a fresh state.
#   on a board:    mpremote connect PORT cp -r lib/tinyrnn :lib/ + run examples/lstm_sine.py
#   unix port/VM:  tinyrnn examples lstm_sine
import time

from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.q88 import fixed_str, to_str
from tinyrnn.train import Trainer

# sin(2 pi i / 20) in Q8.8, one period (no float needed on the board)
SINE = [0, 79, 150, 207, 243, 256, 243, 207, 150, 79, 0, -79, -150, -207, -243, -256, -243, -207, -150, -79]
P = len(SINE)
STEPS = 10             # sequence length
EPOCHS = 40


def wave(amp):
    """One period of amp * sine (amp in Q8.8), as one-value lists shared by every window."""
    return [[(amp * s + 128) >> 8] for s in SINE]


def windows(w):
    """The P windows of a periodic wave: inputs w[s .. s+9], targets the sample after each."""
    return [([w[(s + t) % P] for t in range(STEPS)], [w[(s + t + 1) % P] for t in range(STEPS)])
            for s in range(P)]


def progress(epoch, loss, vloss):
    if epoch % 5 == 0:
        print("epoch %d loss %s" % (epoch + 1, to_str(loss)))


train = windows(wave(128)) + windows(wave(230))          # amplitudes 0.5 and 0.9
test = wave(179)                                          # amplitude 0.7: never trained on
model = Model({"input": 1, "layers": [{"kind": "lstm", "hidden": 6}],
               "head": {"out": 1, "act": "identity"}}, seed=1)
trainer = Trainer(model, loss="mse", optimizer=Adam(lr="0.03"), max_steps=STEPS)
print("LSTM 1-6-1 predicts the next sine sample: %d parameters, %d training windows"
      % (model.n_params, len(train)))
t0 = time.ticks_ms()
trainer.fit(train, EPOCHS, batch_size=8, callback=progress, verbose=False)
ms = time.ticks_diff(time.ticks_ms(), t0)
# the unseen wave: 100 steps from a fresh state; the first 5 warm the state up, 95 are scored
model.reset()
se = 0
for i in range(100):
    y = model.step(test[i % P])[0]
    if i >= 5:
        e = y - test[(i + 1) % P][0]
        se += e * e
mse_q16 = (2 * se + 95) // (2 * 95)       # mean of (Q8.8 error)^2: a Q.16 value
print("RESULT lstm_sine epochs=%d updates=%d ms=%d test_mse=%s mse_q16=%d"
      % (EPOCHS, EPOCHS * len(train) // 8, ms, fixed_str(mse_q16, 16, 5), mse_q16))
