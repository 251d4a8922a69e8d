# A GRU 2-8-1 trained ON THE BOARD with Adam from a dataset object: a class with __len__ and
# __getitem__ that makes each sequence when the trainer asks for it, so the data never sits in
# the heap (a sensor's ring buffer, a generator of cases). 3 epochs of 32 sequences of 4 steps,
# batches of 4; each target is the mean of the two inputs one step earlier (memory needed).
#   on a board:  mpremote run examples/dataset_train.py
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer

EPOCHS = 3


class MeanOfLast:
    """`n` sequences of `steps` steps of 2 inputs in [-1, 1] (Q8.8 ints); the target at step t is
    the mean of the inputs at t - 1 (0 at the first step). Sequence i is the same whenever it is
    asked for (a small integer hash of i), into buffers made once: copy what must outlive the next
    one (tinyrnn.recordings does the same)."""

    def __init__(self, n, steps):
        self.n = n
        self.xs = [[0, 0] for _ in range(steps)]
        self.ys = [[0] for _ in range(steps)]
        self.pair = (self.xs, self.ys)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        s = i * 2654435 + 12345
        last = 0
        for x, y in zip(self.xs, self.ys):
            y[0] = last
            for c in range(2):
                s = (s * 1103515245 + 12345) & 0x7FFFFFFF
                x[c] = (s >> 8) % 513 - 256
            last = (x[0] + x[1]) // 2
        return self.pair


data = MeanOfLast(32, 4)
model = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 1, "act": "identity"}}, seed=1)
trainer = Trainer(model, optimizer=Adam(lr="0.02"), max_steps=4)
history = trainer.fit(data, EPOCHS, batch_size=4, verbose=False)
print("LOSSES", " ".join(str(loss) for loss, _ in history))
print("RESULT GRU 2-8-1 trained on the board from a dataset object: %d epochs, loss %d -> %d (Q8.8)"
      % (EPOCHS, history[0][0], history[-1][0]))
