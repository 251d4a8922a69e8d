# A classifier trained ON THE BOARD, written the obvious way: everything imported at the top, the
# training data read from a recordings file in flash (48 recordings of 12 steps of 2 sensor
# channels, 3 classes: tinyrnn.recordings reads one at a time), the input normalisation fitted in
# integers, a GRU 2-6-3 with a softmax head trained by BPTT (Adam, cross-entropy on the last
# step), then its weights saved with the normalisation and the class names.
#   host side:   tinyrnn programs writes build/programs/shapes.rec (three shapes of signal)
#   on a board:  mpremote cp shapes.rec : + run examples/classify_train.py
from tinyrnn import weights
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.recordings import Recordings, fit_norm
from tinyrnn.train import Trainer

DATA = "shapes.rec"
OUT = "shapes.bin"
EPOCHS = 4

data = Recordings(DATA)
data.norm = fit_norm(data)
model = Model({"input": data.channels, "layers": [{"kind": "gru", "hidden": 6}],
               "head": {"out": len(data.labels), "act": "softmax"}}, seed=1)
model.norm = data.norm
model.labels = data.labels
trainer = Trainer(model, loss="ce", optimizer=Adam(lr="0.02"), targets="last", max_steps=data.steps)
history = trainer.fit(data, EPOCHS, batch_size=4, verbose=False)
good = 0
for i in range(len(data)):
    xs, label = data[i]
    model.reset()
    for x in xs:
        y = model.step(x)
    good += max(range(len(y)), key=lambda k: y[k]) == label
crc = weights.save(model, OUT)
print("LOSSES", " ".join(str(loss) for loss, _ in history))
print("RESULT GRU %d-6-%d trained on the board: loss %d -> %d (Q8.8), %d/%d right, %s CRC 0x%08x"
      % (data.channels, len(data.labels), history[0][0], history[-1][0], good, len(data), OUT, crc))
