# A GRU 2-8-1 trained ON THE BOARD with Adam from a recordings file in flash: 3 epochs
# of 32 sequences of 4 steps, each target the mean of the two inputs one step earlier
# (memory needed). The library reads one recording at a time (tinyrnn.recordings), so
# the data never sits in the heap; the program prints its heap at each stage.
#   host side:  tinyrnn sizes writes build/memory/tiny.rec (or interop.recordings.write)
#   on a board: mpremote cp tiny.rec : + run examples/gru_tiny_train.py
import gc

from tinyrnn import kernels
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.recordings import Recordings
from tinyrnn.train import Trainer

DATA = "tiny.rec"
EPOCHS = 3
# On a 64 KB board with the library as .mpy files the bytecode kernels take less heap than
# viper's native code (which a .mpy loads into RAM); frozen or in ROMFS, either fits 32 KB.
KERNELS = "bytecode"
kernels.use(KERNELS)


def heap(what):
    gc.collect()
    print("HEAP %s %d used %d free" % (what, gc.mem_alloc(), gc.mem_free()))


heap("start")
data = Recordings(DATA)
model = Model({"input": data.channels, "layers": [{"kind": "gru", "hidden": 8}],
               "head": {"out": data.outputs, "act": "identity"}}, seed=1)
heap("model")
trainer = Trainer(model, optimizer=Adam(lr="0.02"), max_steps=data.steps)
heap("trainer")
history = trainer.fit(data, EPOCHS, batch_size=4, verbose=False)
heap("trained")
print("LOSSES", " ".join(str(loss) for loss, _ in history))
print("RESULT GRU 2-8-1 trained on the board: %d epochs, loss %d -> %d (Q8.8)"
      % (EPOCHS, history[0][0], history[-1][0]))
