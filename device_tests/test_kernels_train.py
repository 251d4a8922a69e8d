# Training with the port's default kernels (viper where it has native code): the
# weights after a few epochs equal the NumPy mirror's. With the heap locked:
# test_train_locked.py (a file each, for the unix port's 64 KB cap). Both bodies
# against the mirror at the rails: host_tests/test_extremes_32bit.py and
# test_bitexact_unix.py.
# unix-heap: c 73728, viper 73728, bytecode 86016   (unix port only: `tinyrnn device-test --min-heap` gives
# what it needs there, up to 66.5 KB with C or viper and 75 KB with bytecode kernels)
# qemu-heap: viper 81920   (the viper training module is 16.7 KB of native code in the heap of a board
# that loads .mpy files: with it this file fails in 64 KB on the Cortex-M3 and runs in 80 KB; C and bytecode run in 64 KB)
from binascii import crc32

import harness
import tinyrnn
from harness import eq
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer

# a small model: the unix port's 64-bit objects and a 64 KB cap leave room for little else
GRU = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}
TRAIN_GOLDEN = 688713694   # crc32 of the trained params and master weights (host_tests/test_device_kernels.py)


def trained_crc():
    m = Model(GRU, 4)                 # the port's default kernels: viper where it has them
    t = Trainer(m, optimizer=Adam(lr="0.05"), max_steps=5, clip_norm="0.5")
    data = [([[(s * 31 + j * 7 + n * 3) % 600 - 300 for j in range(2)] for s in range(5)],
             [[(s * 50 + n * 20) % 256 - 128, 100] for s in range(5)]) for n in range(6)]
    t.fit(data, 3, batch_size=2, shuffle=False, verbose=False)
    return crc32(t.master, crc32(m.params))


def test_training_equals_the_mirror():
    # the NumPy mirror computes the golden; on the unix port this is the viper training kernels
    eq(trained_crc(), TRAIN_GOLDEN, "crc32 of the weights after 3 epochs (%s kernels)" % tinyrnn.KERNELS)


if __name__ == "__main__":
    harness.run_all(globals())
