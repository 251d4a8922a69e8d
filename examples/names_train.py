# City names learned character by character ON THE BOARD, then new names sampled there: the
# recurrent-network article's name generator, on the places of the IANA time-zone database
# ("lisbon", "los angeles", ...; the host holds a fifth of them out). The board reads the
# training names from a text file (one per line), trains a GRU to predict each next character
# (a one-hot input, a softmax over the alphabet; "." ends a name) by integer BPTT with a line
# per epoch, saves the weights with the alphabet as class names, and samples names one
# character at a time: softmax at a temperature (a decimal string), drawn with the library's
# own PRNG (tinyrnn.sample), so that the NumPy mirror draws the same names for the same seed.
#   host side:   python examples/city_names.py   (writes the names, runs this on the unix port
#                under a heap cap, replays the training and the sampling in the NumPy mirror)
#   on a board:  mpremote cp build/names/names_train.txt : + run examples/names_train.py
import gc
import time
from array import array

import tinyrnn
from tinyrnn._fixed import fixed_str
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer

ALPHABET = ".abcdefghijklmnopqrstuvwxyz -"      # "." ends a name, and is the first input
HIDDEN = 24
EPOCHS = 6
BATCH = 8
LR = "0.02"
SEED = 1
MAX_LEN = 16                                    # characters sampled at most (the longest name + 1)
TRAIN = "names_train.txt"
OUT = "names.bin"
SAMPLES = 12
TEMPERATURE = "0.8"
SAMPLE_SEED = 7

A = len(ALPHABET)
ONEHOT = [array("h", [256 if k == j else 0 for k in range(A)]) for j in range(A)]    # shared rows


class Names:
    """names[i] -> (inputs, targets): the one-hot rows of "." + name, the classes of name + ".".
    The file's bytes are kept as they are, one name per line: no string object per name."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.text = f.read()
        t = self.text
        n = t.count(b"\n")
        self.starts = array("H", bytes(2 * n))
        self.ends = array("H", bytes(2 * n))
        k = 0
        for i in range(len(t)):
            if t[i] == 10:
                self.ends[k] = i
                k += 1
                if k < n:
                    self.starts[k] = i + 1

    def __len__(self):
        return len(self.ends)

    def __getitem__(self, i):
        if i < 0 or i >= len(self.ends):
            raise IndexError(i)
        t = self.text
        ys = [ALPHABET.find(chr(t[j])) for j in range(self.starts[i], self.ends[i])] + [0]
        return [ONEHOT[0]] + [ONEHOT[k] for k in ys[:-1]], ys


def generate(model, sampler):
    """One new name: feed "." then each drawn character back in, until "." or MAX_LEN."""
    model.reset()
    out = ""
    k = 0
    for _ in range(MAX_LEN):
        k = sampler.step(ONEHOT[k])
        if k == 0:
            break
        out += ALPHABET[k]
    return out


def main():
    t0 = time.ticks_ms()
    model = Model({"input": A, "layers": [{"kind": "gru", "hidden": HIDDEN}], "head": {"out": A, "act": "softmax"}},
                  seed=SEED)
    model.labels = tuple(ALPHABET)
    trainer = Trainer(model, loss="ce", optimizer=Adam(lr=LR), max_steps=MAX_LEN, seed=SEED)
    data = Names(TRAIN)         # after the trainer's large buffers: reading lines leaves small gaps
    gc.collect()
    print("GRU %d-%d-%d on %s kernels (tinyrnn.KERNELS): %d parameters, %d names, Adam lr %s, batches of %d; "
          "heap: %d bytes used, %d free" % (A, HIDDEN, A, tinyrnn.KERNELS, model.n_params, len(data), LR, BATCH,
                                            gc.mem_alloc(), gc.mem_free()))
    for epoch, loss, _ in trainer.epochs(data, EPOCHS, batch_size=BATCH, verbose=False):
        gc.collect()
        print("epoch %d/%d loss %s (Q8.8 %d), board time %d ms, heap %d bytes used"
              % (epoch + 1, EPOCHS, fixed_str(loss, 8), loss, time.ticks_diff(time.ticks_ms(), t0), gc.mem_alloc()))
    trainer = data = None
    gc.collect()                # the trainer's buffers back before the modules training did not need
    from tinyrnn import weights
    from tinyrnn.sample import Sampler
    crc = weights.save(model, OUT)
    sampler = Sampler(model, TEMPERATURE, SAMPLE_SEED)
    for _ in range(SAMPLES):
        print("NAME %s" % generate(model, sampler))
    ms = time.ticks_diff(time.ticks_ms(), t0)
    print("RESULT names trained and sampled on the board: temperature %s, seed %d, board time %d ms, %s CRC 0x%08x"
          % (TEMPERATURE, SAMPLE_SEED, ms, OUT, crc))


main()
