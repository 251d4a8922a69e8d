"""Train a model on the host in float64, quantise it to Q8.8, write a weights file, and measure
what quantisation costs on held-out data (float model vs the integer mirror running the file).

    tinyrnn train                          # task sine, GRU 32, writes host_sine.bin
    tinyrnn train --task tones --kind lstm --hidden 32,16 --epochs 20 --out tones.bin

    result = train("sine", kind="gru", hidden=(32,), seed=0, out="sine.bin")
    result["float"], result["q88"], result["gap"]

Tasks (generated from the seed, nothing to download):
  sine   next-sample prediction of a sum of two sines (random frequencies, amplitudes, phases);
         MSE over the steps after an 8-step warm-up; head identity.
  tones  which of 4 tones (frequencies 0.05, 0.09, 0.14, 0.2 cycles/step) is in a noisy signal
         of random amplitude and phase, at every step after an 8-step warm-up; softmax head,
         cross-entropy; metric: accuracy.
The float model is tinyrnn_host.reference (NumPy float64, batched BPTT, Adam); the Q8.8 model is the
NumPy mirror (== lib/tinyrnn on the board, bit for bit) running the written file on the same
held-out inputs rounded to Q8.8.
"""
import time

import numpy as np

from ..mirror import q88
from ..mirror.model import Model
from ..reference import model as ref
from ..reference import optim
from ..reference.train import fit
from . import weights_io

# S = sequences, T = time steps, I = input size, O = output size

WARMUP = 8          # sine: the first steps have too little history to predict from
TONES = (0.05, 0.09, 0.14, 0.2)


def make_sine(rng, n, steps=64):
    """xs (S,T,1) = x[0..T-1], ys (S,T,1) = x[1..T], mask (S,T): a sum of two sines, |x| < 1."""
    t = np.arange(steps + 1)[None, :, None]
    freq = rng.uniform(0.02, 0.12, (n, 1, 2))
    amp = rng.uniform(0.2, 0.45, (n, 1, 2))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 2))
    x = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(axis=2, keepdims=True)   # (S,T+1,1)
    mask = np.zeros((n, steps), dtype=bool)
    mask[:, WARMUP:] = True
    return x[:, :-1], x[:, 1:], mask


def make_tones(rng, n, steps=32):
    """xs (S,T,1) = a * sin(2 pi f_k t + phase) + noise, ys (S,T) class k, mask (S,T): steps after the warm-up."""
    k = rng.integers(0, len(TONES), n)
    t = np.arange(steps)[None, :]
    amp = rng.uniform(0.3, 1.0, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    x = amp * np.sin(2 * np.pi * np.array(TONES)[k][:, None] * t + phase) + rng.normal(0, 0.15, (n, steps))
    mask = np.zeros((n, steps), dtype=bool)
    mask[:, WARMUP:] = True
    return x[:, :, None], np.repeat(k[:, None], steps, axis=1), mask


def mse(y, target, mask):
    """Mean squared error over the masked steps: y, target (S,T,O), mask (S,T)."""
    return float(((y - target) ** 2)[mask].mean())


def accuracy(y, classes, mask):
    """Fraction of masked steps whose argmax output is the class: y (S,T,O), classes (S,T)."""
    return float((y.argmax(axis=-1) == classes)[mask].mean())


TASKS = {
    # make, loss, head, output size, metric, n train / test, default epochs, lr
    "sine": dict(make=make_sine, loss="mse", act="identity", out=1, metric=("MSE", mse),
                 n_train=512, n_test=128, epochs=20, lr=1e-2),
    "tones": dict(make=make_tones, loss="ce", act="softmax", out=len(TONES), metric=("accuracy", accuracy),
                  n_train=512, n_test=256, epochs=15, lr=1e-2),
}


def describe(desc):
    return "-".join([str(desc["input"])] + ["%s%d" % (d["kind"], d["hidden"]) for d in desc["layers"]] +
                    ["%d%s" % (desc["head"]["out"], "" if desc["head"]["act"] == "identity"
                               else " " + desc["head"]["act"])])


def data(task, seed):
    """The task's (train, test) sets, each (xs, ys, mask); train from seed, test from seed + 1000."""
    spec = TASKS[task]
    return (spec["make"](np.random.default_rng(seed), spec["n_train"]),
            spec["make"](np.random.default_rng(seed + 1000), spec["n_test"]))


def evaluate_q88(desc, params_q, xs):
    """The Q8.8 model on float inputs xs (S,T,I): inputs rounded to Q8.8, outputs as floats (S,T,O)."""
    xq = q88.from_float(xs)                                                   # (S,T,I) Q8.8
    yq, _ = Model(desc, params=params_q, batch=len(xs)).run(xq)              # (S,T,O) Q8.8
    return yq / 256.0


def train(task="sine", kind="gru", hidden=(32,), epochs=None, seed=0, out=None, lr=None, batch_size=32,
          log=None, progress=False):
    """Train, quantise, write `out` (if given); return a dict with the figures and the model.

    keys: task, desc, model, n_params, metric, float, q88, gap (q88 - float), saturated,
    float_q (the float model on the quantised weights and Q8.8-rounded inputs),
    dy_rms, dy_max (|Q8.8 output - float output| over the scored test steps, in LSB),
    params (float), params_q (Q8.8 ints), history, seconds, test (xs, ys, mask)."""
    if task not in TASKS:
        raise ValueError("task %r is not one of %s" % (task, ", ".join(TASKS)))
    spec = TASKS[task]
    desc = {"input": 1, "layers": [{"kind": kind, "hidden": int(h)} for h in hidden],
            "head": {"out": spec["out"], "act": spec["act"]}}
    ref.check_desc(desc)
    (xs, ys, mask), test = data(task, seed)
    t0 = time.time()
    params = ref.init_params(desc, np.random.default_rng(seed))
    n_epochs = spec["epochs"] if epochs is None else epochs
    bar = None
    if progress:                     # a tqdm bar on the terminal (tinyrnn train)
        from tqdm import tqdm
        bar = tqdm(total=n_epochs, desc="training %s on %s (float64)" % (describe(desc), task), unit="epoch")

    def tick(epoch, loss):
        if bar is not None:
            bar.set_postfix(loss="%.4g" % loss)
            bar.update(1)

    params, history = fit(desc, params, xs, ys, spec["loss"], optim.Adam(lr=lr or spec["lr"], clip_norm=1.0),
                          epochs=n_epochs, batch_size=batch_size, mask=mask, seed=seed, callback=tick)
    if bar is not None:
        bar.close()
    if log:
        log("trained %s on %s: %d epochs, train loss %.4g -> %.4g, %.1f s" % (
            describe(desc), task, len(history["train"]), history["train"][0], history["train"][-1],
            time.time() - t0))
    raw = {name: np.floor(p * 256 + 0.5) for name, p in params.items()}
    saturated = int(sum(((r < -32768) | (r > 32767)).sum() for r in raw.values()))
    params_q = {name: q88.from_float(p) for name, p in params.items()}      # round half up, saturate
    if out is not None:
        weights_io.save(desc, params_q, out)
        _, params_q = weights_io.load(out)          # the figures below are the file's
    name, metric = spec["metric"]
    txs, tys, tmask = test
    y_float, _ = ref.forward(desc, params, txs)                              # (S,T,O)
    m_float = metric(y_float, tys, tmask)
    # the float model on the quantised weights and Q8.8-rounded inputs: what is left is Q8.8 arithmetic
    y_fq, _ = ref.forward(desc, {k: v / 256.0 for k, v in params_q.items()}, q88.from_float(txs) / 256.0)
    y_q88 = evaluate_q88(desc, params_q, txs)                                # (S,T,O)
    m_q88 = metric(y_q88, tys, tmask)
    dy = np.abs(y_q88 - y_float)[tmask] * 256                                # output difference in LSB
    return {"task": task, "desc": desc, "model": describe(desc),
            "n_params": sum(int(p.size) for p in params.values()), "metric": name,
            "float": m_float, "float_q": metric(y_fq, tys, tmask), "q88": m_q88, "gap": m_q88 - m_float,
            "saturated": saturated,
            "dy_rms": float(np.sqrt((dy ** 2).mean())), "dy_max": float(dy.max()),
            "params": params, "params_q": params_q, "history": history, "seconds": time.time() - t0,
            "test": test}


def table(results):
    """The summary table, one row per result."""
    lines = ["%-6s %-24s %7s %-9s %9s %9s %17s %9s %13s" % (
        "task", "model", "params", "metric", "float", "Q8.8", "gap (Q8.8-float)", "float(q)", "dy rms/max")]
    for r in results:
        fmt = "%9.2e" if r["metric"] == "MSE" else "%9.4f"
        lines.append("%-6s %-24s %7d %-9s " % (r["task"], r["model"], r["n_params"], r["metric"]) +
                     fmt % r["float"] + " " + fmt % r["q88"] + " %+17.2e " % r["gap"] + fmt % r["float_q"] +
                     " %6.2f/%.1f" % (r["dy_rms"], r["dy_max"]))
    lines.append("float(q): the float model on the Q8.8 weights and Q8.8-rounded inputs (the rest of the gap is "
                 "Q8.8 arithmetic)")
    lines.append("dy: |Q8.8 output - float output| on the scored test steps, in LSB (1/256)")
    return "\n".join(lines)


def plot_forecast(r, path, seq=0):
    """The sine task's held-out sequence `seq`: truth, the float model's and the Q8.8 model's forecasts."""
    from ..reports import plots
    xs, ys, _ = r["test"]
    y_float, _ = ref.forward(r["desc"], r["params"], xs[seq:seq + 1])
    y_q88 = evaluate_q88(r["desc"], r["params_q"], xs[seq:seq + 1])
    return plots.forecast(path, "sine, next-sample forecast: %s (held-out sequence %d)" % (r["model"], seq),
                          ys[seq, :, 0], {"float64": y_float[0, :, 0], "Q8.8 (the board, bit for bit)": y_q88[0, :, 0]},
                          warmup=WARMUP)


def main(tasks=("sine",), kind="gru", hidden=(32,), epochs=None, seed=0, out=None, lr=None, plot=None):
    """`tinyrnn train`: train each task, write its file (out, or host_<task>.bin), print the table;
    plot: the sine task's forecast-vs-truth figure (PNG) there."""
    results = []
    for task in tasks:
        path = out if out and len(tasks) == 1 else "host_%s.bin" % task
        r = train(task, kind, hidden, epochs, seed, path, lr, log=print, progress=True)
        if r["saturated"]:
            print("warning: %d weight(s) saturated to Q8.8's [-128, 127.996]" % r["saturated"])
        print("wrote %s (CRC32 0x%08x)" % (path, weights_io.file_crc(path)))
        if plot and task == "sine":
            print("wrote %s" % plot_forecast(r, plot))
        results.append(r)
    print(table(results))
    return 0
