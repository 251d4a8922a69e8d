# BasicMotions learned from scratch ON THE BOARD: a smartwatch's 3-axis accelerometer
# and 3-axis gyroscope, 100 steps at 10 Hz, four activities (UEA archive, 40 recordings
# to train on, 40 to test). The board reads its raw int16 sensor recordings from flash
# one at a time, fits its own input normalisation in integers, trains a GRU 6-12-4 by
# BPTT (integer Adam, softmax cross-entropy on the last step), prints a line per epoch,
# tests itself on the held-out recordings and saves the weights with the normalisation
# and the class names (a version-2 weights file).
#   host side:   python examples/motions_on_board.py   (writes the data files, runs this on
#                the unix port under a heap cap, replays the training in the NumPy mirror)
#   on a board:  mpremote cp build/motions/motions_*.seq : + run examples/motions_train.py
import gc
import struct
import time
from array import array

import tinyrnn
from tinyrnn import weights
from tinyrnn._fixed import fixed_str, isqrt
from tinyrnn.model import Model
from tinyrnn.norm import Norm
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer

HIDDEN = 12
EPOCHS = 40
BATCH = 4
LR = "0.02"
SEED = 1
TRAIN = "motions_train.seq"
TEST = "motions_test.seq"
OUT = "motions.bin"


class Recordings:
    """A .seq file of equal-length recordings (magic TSEQ, u16 count, steps, channels,
    classes, then each class name as u8 length + ASCII, then per recording u16 class +
    steps x channels int16 raw values), read one recording at a time into one buffer.
    r[i] -> (xs, class): xs is steps rows of normalised Q8.8 inputs (views, reused)."""

    def __init__(self, path, like=None):
        f = open(path, "rb")
        magic, self.n, self.steps, self.channels, k = struct.unpack("<4sHHHH", f.read(12))
        if magic != b"TSEQ":
            raise ValueError("%s is not a .seq file" % path)
        self.labels = tuple(f.read(f.read(1)[0]).decode() for _ in range(k))
        self.f = f
        self.start = f.tell()
        T, C = self.steps, self.channels
        if like is not None and (like.steps, like.channels) == (T, C):
            # the same buffers as another file's (the two are never read at the same time)
            self.raw, self.x, self.raw_rows, self.rows = like.raw, like.x, like.raw_rows, like.rows
        else:
            self.raw = array("h", bytes(2 * T * C))
            self.x = array("h", bytes(2 * T * C))
            rv, xv = memoryview(self.raw), memoryview(self.x)
            self.raw_rows = [rv[t * C:(t + 1) * C] for t in range(T)]
            self.rows = [xv[t * C:(t + 1) * C] for t in range(T)]
        self.head = bytearray(2)
        self.norm = None

    def __len__(self):
        return self.n

    def read_raw(self, i):
        """Recording i's raw values into self.raw; returns its class."""
        self.f.seek(self.start + i * (2 + 2 * self.steps * self.channels))
        self.f.readinto(self.head)
        self.f.readinto(self.raw)
        return self.head[0] | self.head[1] << 8

    def __getitem__(self, i):
        if i < 0 or i >= self.n:
            raise IndexError(i)
        y = self.read_raw(i)
        x = self.x
        C = self.channels
        for t in range(self.steps):
            q = self.norm.apply(self.raw_rows[t])
            for c in range(C):
                x[t * C + c] = q[c]
        return self.rows, y

    def __iter__(self):
        for i in range(self.n):
            yield self[i]


def fit_norm(data):
    """Per channel: offset = mean, mul / 2^shift = 256 / std (largest shift with mul <= 16383),
    from integer sums over every training step (docs/weights-format.md)."""
    C = data.channels
    s1 = [0] * C
    s2 = [0] * C
    for i in range(len(data)):
        data.read_raw(i)
        for r in data.raw_rows:
            for c in range(C):
                v = r[c]
                s1[c] += v
                s2[c] += v * v
    n = len(data) * data.steps
    offset, mul, shift = [], [], []
    for c in range(C):
        offset.append((2 * s1[c] + n) // (2 * n))              # the mean, rounded half up
        std8 = isqrt(((n * s2[c] - s1[c] * s1[c]) << 16) // (n * n))   # 256 * std, floor
        m, s = 0, 0
        if std8:
            for s in range(16, -1, -1):
                m = ((65536 << s) + std8 // 2) // std8          # 256 / std * 2^s, rounded
                if m <= 16383:
                    break
            m = min(m, 16383)
        mul.append(m)
        shift.append(s)
    return Norm(offset, mul, shift)


def predict(model, xs):
    model.reset()
    for x in xs:
        y = model.step(x)
    best = 0
    for k in range(1, len(y)):
        if y[k] > y[best]:
            best = k
    return best


def main(train_path=TRAIN, test_path=TEST, out=OUT, hidden=HIDDEN, epochs=EPOCHS, batch=BATCH, lr=LR, seed=SEED,
         norm=None):
    """Train on train_path, test on test_path, save to out; norm: a fixed Norm, else fitted here.
    (examples/digits_train.py calls it with its own files and constants.)"""
    t0 = time.ticks_ms()
    train = Recordings(train_path)
    test = Recordings(test_path, like=train)
    norm = norm if norm is not None else fit_norm(train)
    train.norm = test.norm = norm
    print("norm offset %s mul %s shift %s" % (list(norm.offset), list(norm.mul), list(norm.shift)))
    model = Model({"input": train.channels, "layers": [{"kind": "gru", "hidden": hidden}],
                   "head": {"out": len(train.labels), "act": "softmax"}}, seed=seed)
    model.norm = norm
    model.labels = train.labels
    trainer = Trainer(model, loss="ce", optimizer=Adam(lr=lr), targets="last", max_steps=train.steps, seed=seed)
    gc.collect()
    print("GRU %d-%d-%d on %s kernels (tinyrnn.KERNELS): %d parameters, %d recordings of %d steps, "
          "Adam lr %s, batches of %d; heap: %d bytes used, %d free"
          % (train.channels, hidden, len(train.labels), tinyrnn.KERNELS, model.n_params, len(train), train.steps,
             lr, batch, gc.mem_alloc(), gc.mem_free()))
    for epoch, loss, _ in trainer.epochs(train, epochs, batch_size=batch, verbose=False):
        gc.collect()            # (the collector also runs whenever the capped heap fills)
        print("epoch %d/%d loss %s (Q8.8 %d), board time %d ms, heap %d bytes used"
              % (epoch + 1, epochs, fixed_str(loss, 8), loss, time.ticks_diff(time.ticks_ms(), t0), gc.mem_alloc()))
    good = 0
    for i in range(len(test)):
        xs, y = test[i]
        k = predict(model, xs)
        good += k == y
        print("TEST %d %d %d" % (i, y, k))
    crc = weights.save(model, out)
    ms = time.ticks_diff(time.ticks_ms(), t0)
    print("RESULT trained on the board: test %d/%d correct, board time %d ms, %s CRC 0x%08x"
          % (good, len(test), ms, out, crc))


if __name__ == "__main__":
    main()
