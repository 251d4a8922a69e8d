"""The host mirror's throughput against torch.nn.GRU / LSTM in float32 on one thread.

    tinyrnn bench --runtime mirror

Same batch, same run: B sequences of T steps through a one-layer model (GRU 8-32-1,
LSTM 8-32-1: the recurrent layer and a dense head) with the NumPy mirror (integer
Q8.8, bit-exact with the board: Model.run, and Model.step once per step) and with
PyTorch (torch.nn.GRU / LSTM + nn.Linear, float32, torch.set_num_threads(1)); then a
training replay (the mirror's Trainer over the same batch, forward and BPTT and one
Adam update) against PyTorch's forward, backward and Adam step. Sequences per second,
the best of REPS repeats, the contenders taking turns (a shared machine's noise then
falls on both alike).
"""
import os
import subprocess
import sys
import time

import numpy as np

from ..mirror.model import Model
from ..mirror.optim import Adam
from ..mirror.train import Trainer

B, T, I, H = 1000, 20, 8, 32
REPS = 9


def best(*fns):
    """The best time of each function over REPS rounds, the functions taking turns."""
    b = [None] * len(fns)
    for _ in range(REPS):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            d = time.perf_counter() - t
            b[i] = d if b[i] is None or d < b[i] else b[i]
    return b


def data(seed=1):
    rng = np.random.default_rng(seed)
    xs = rng.integers(-256, 257, (B, T, I))
    ys = rng.integers(-128, 129, (B, T, 1))
    return xs, ys


def rates(kind, xs, ys):
    """Sequences per second: (mirror run, mirror step by step, torch) inference, then
    (mirror, torch) training."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(1)
    desc = {"input": I, "layers": [{"kind": kind, "hidden": H}], "head": {"out": 1}}
    m = Model(desc, 1, batch=B)

    def run():
        m.reset(B)
        m.run(xs)

    def steps():
        m.reset(B)
        for s in range(T):
            m.step(xs[:, s])

    t = Trainer(Model(desc, 1), optimizer=Adam(lr="0.01"))

    def train():
        t.accumulate(xs, ys)
        t.update()

    rnn = (torch.nn.GRU if kind == "gru" else torch.nn.LSTM)(I, H, batch_first=True)
    head = torch.nn.Linear(H, 1)
    x = torch.tensor(xs / 256.0, dtype=torch.float32)
    y = torch.tensor(ys / 256.0, dtype=torch.float32)
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.01)

    def torch_infer():
        with torch.no_grad():
            head(rnn(x)[0])

    def torch_train():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(head(rnn(x)[0]), y)
        loss.backward()
        opt.step()

    infer = [B / d for d in best(run, steps, torch_infer)]
    return infer, [B / d for d in best(train, torch_train)]


def main():
    """Run in a child whose BLAS has one thread (OpenBLAS reads its variable at import), as torch gets."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", __name__], env=env).returncode


def measure():
    xs, ys = data()
    print("host mirror (NumPy, int Q8.8, bit-exact) vs PyTorch float32 on one thread: %d sequences x %d steps,"
          " %s-%d-1 (sequences per second; same batch, same run)" % (B, T, "model %d" % I, H))
    print("%-12s %12s %12s %12s %8s %12s %12s %8s" % ("model", "mirror run", "mirror step", "torch",
                                                      "ratio", "mirror train", "torch train", "ratio"))
    for kind in ("gru", "lstm"):
        (mr, ms, ti), (mt, tt) = rates(kind, xs, ys)
        print("%-12s %12.0f %12.0f %12.0f %7.2fx %12.0f %12.0f %7.2fx" % (
            "%s %d-%d-1" % (kind.upper(), I, H), mr, ms, ti, mr / ti, mt, tt, mt / tt))
    print()
    return 0


if __name__ == "__main__":
    sys.exit(measure())
