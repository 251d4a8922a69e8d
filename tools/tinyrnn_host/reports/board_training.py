"""BasicMotions trained from scratch ON THE BOARD (examples/motions_train.py), replayed in the mirror;
the 8x8 digits read row by row the same way (examples/digits_train.py, the same training loop).

    result = run()          # python examples/motions_on_board.py
    result = run(DIGITS)    # python examples/digits_on_board.py

1. the recordings as raw int16 sensor counts in two .rec files (interop.recordings), the board's "flash";
2. examples/motions_train.py runs on the MicroPython unix port (board.mpunix.run_unix: a hard heap
   cap, a real garbage collector, the C kernels (native x64 modules); tinyrnn.KERNELS must say "c"), printing a
   line per epoch: it fits its normalisation in integers, trains a GRU by integer BPTT, tests itself
   on the held-out recordings and saves a version-2 weights file;
3. the weights file comes back; the NumPy mirror trainer (mirror/train.py) replays the whole
   training from the same seed on the same recordings, normalised by the file's normalisation: its
   per-epoch losses, final weights and test predictions must equal the board's, bit for bit;
4. figures: the training curves (board and mirror on one plot) and the board's confusion matrix.

The hyperparameters are read from the board program's own constants (HIDDEN, EPOCHS, ...), so
the replay cannot drift from what the board ran.
"""
import ast
import pathlib
import re
import time

import numpy as np

from .. import paths
from ..interop import classify, images, normalise, recordings, uea, weights_io

APP = "motions_train.py"
DATASET = "BasicMotions"
PER_UNIT = 512              # raw int16 counts per unit of the recordings, as in examples/basic_motions.py
HEAP = 163840               # the unix port's hard heap cap (-X heapsize): 160 KB of 64-bit objects


class Task:
    """What one board-training example is: its board program, its data, its names."""

    def __init__(self, dataset, app, load, per_unit, build, figures, heap=HEAP):
        self.dataset, self.app, self.heap = dataset, app, heap
        self.build, self.figures = build, figures           # build/<build>/, <figures>_training.png
        self.load, self.per_unit = load, per_unit           # split -> a uea.Dataset; raw counts per unit


MOTIONS = Task(DATASET, APP, lambda split: uea.load(DATASET, split), PER_UNIT, "motions", "motions_board")
DIGITS = Task("digits (8x8, row by row)", "digits_train.py", images.digits, 1, "digits_board", "digits_board")


def say(text):
    print(text, flush=True)


def app_constants(path=None):
    """The board program's top-level constants (HIDDEN, EPOCHS, BATCH, LR, SEED, TRAIN, TEST, OUT)."""
    tree = ast.parse(pathlib.Path(path or paths.examples() / APP).read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def data(task=MOTIONS):
    """{split: (raw (N, T, C) int64, y, classes)} as the board gets them."""
    out = {}
    for split in ("train", "test"):
        d = task.load(split)
        out[split] = (np.stack([normalise.to_raw(s, task.per_unit) for s in d.series]), d.y, d.classes)
    return out


def parse(stdout):
    """The board's per-epoch losses (Q8.8 ints), test lines (index, class, predicted) and RESULT."""
    losses = [int(m.group(1)) for m in re.finditer(r"^epoch \d+/\d+ loss \S+ \(Q8\.8 (-?\d+)\)", stdout, re.M)]
    tests = [tuple(int(v) for v in m.groups()) for m in re.finditer(r"^TEST (\d+) (\d+) (\d+)$", stdout, re.M)]
    result = re.search(r"^RESULT .*board time (\d+) ms.*$", stdout, re.M)
    kernels = re.search(r"on (\w+) kernels \(tinyrnn\.KERNELS\)", stdout)
    heap = [int(v) for v in re.findall(r"heap (\d+) bytes used", stdout)]
    return {"losses": losses, "tests": tests, "result": result.group(0) if result else None,
            "board_ms": int(result.group(1)) if result else None, "kernels": kernels and kernels.group(1),
            "heap_used": heap}


def train_on_board(files, consts, heap, echo=True, app=APP, collect=None):
    """Run the board program `app` on the unix port with `files` in its flash; (result, parse(stdout)).
    collect: the files it writes that come back (default: its OUT)."""
    from ..board import mpunix
    src = (paths.examples() / app).read_text()
    # examples/ on the path: a board program may import motions_train's loop, as a board would from its flash
    res = mpunix.run_unix(src, heap_bytes=heap, files=files, collect=collect or [consts["OUT"]], echo=echo,
                          timeout=1800, extra_dirs=[paths.examples()])
    return res, parse(res.stdout)


def replay(weights_file, raw, y, raw_te, consts, progress=True):
    """The board's training again in the mirror, from the file's normalisation:
    (per-epoch losses, final params {name: ints}, test predictions)."""
    f = weights_io.read(weights_file)
    xs = f.norm.apply(raw)                                          # (N, T, C) Q8.8, as the board computed
    losses, params = mirror_fit(f.desc, consts, [(xs[i], int(y[i])) for i in range(len(xs))], "last", progress)
    pred = classify.argmax(classify.predict_q88(f.desc, params, list(f.norm.apply(raw_te))))
    return losses, params, pred


def mirror_fit(desc, consts, dataset, targets, progress=True, train="all", params=None):
    """The board program's Trainer (cross-entropy, Adam at LR, SEED, EPOCHS, BATCH, train=) in the
    mirror, from the model Model(desc, seed=SEED) builds or from `params` (a weights file's):
    (per-epoch losses, final params)."""
    from ..mirror import optim as m_optim
    from ..mirror.model import Model
    from ..mirror.train import Trainer
    if params is None:
        model = Model(desc, seed=consts["SEED"])
    else:
        model = Model(desc, params={k: np.array(v, copy=True) for k, v in params.items()})
    trainer = Trainer(model, loss="ce", optimizer=m_optim.Adam(lr=consts["LR"]), targets=targets,
                      seed=consts["SEED"], train=train)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=consts["EPOCHS"], desc="mirror replay", unit="epoch")

    def tick(epoch, loss, vloss):
        if bar is not None:
            bar.set_postfix(loss=loss)
            bar.update(1)

    history = trainer.fit(dataset, consts["EPOCHS"], batch_size=consts["BATCH"], callback=tick)
    if bar is not None:
        bar.close()
    return [loss for loss, _ in history], model.params


def run(task=MOTIONS, heap=None, build=None, figures=None, progress=True, echo=True):
    t0 = time.time()
    heap = heap or task.heap
    consts = app_constants(paths.examples() / task.app)
    build = pathlib.Path(build or paths.build_dir() / task.build)
    build.mkdir(parents=True, exist_ok=True)
    d = data(task)
    files = {consts[k]: recordings.encode(d[split][0], d[split][1], "class", d[split][2])
             for k, split in (("TRAIN", "train"), ("TEST", "test"))}
    for name, blob in files.items():
        (build / name).write_bytes(blob)
    say("[1/3] %s as raw int16 sensor counts: %s (%d bytes), %s (%d bytes) in %s; training ON THE BOARD: "
        "MicroPython unix port, hard heap cap %d bytes" % (task.dataset, consts["TRAIN"], len(files[consts["TRAIN"]]),
                                                          consts["TEST"], len(files[consts["TEST"]]),
                                                          paths.shown(build), heap))
    res, board = train_on_board(files, consts, heap, echo=echo, app=task.app)
    out = build / consts["OUT"]
    out.write_bytes(res.files[consts["OUT"]])
    f = weights_io.read(out)
    say("[2/3] pulled %s back (%d bytes, CRC32 0x%08x, labels %s); replaying the training in the NumPy mirror"
        % (consts["OUT"], out.stat().st_size, f.crc, ", ".join(f.labels)))
    raw, y, classes = d["train"]
    raw_te, y_te, _ = d["test"]
    losses, params, pred = replay(out, raw, y, raw_te, consts, progress=progress)
    same_params = all(np.array_equal(params[k], f.params[k]) for k in f.params)
    board_pred = np.array([k for _, _, k in board["tests"]])
    acc = float((board_pred == y_te).mean())
    conf = classify.confusion(y_te, board_pred, len(classes))
    say("[3/3] board: %d epochs in %d ms of board time on %s kernels, test accuracy %.4f (%d/%d); mirror: "
        "losses %s, weights %s, test predictions %s"
        % (len(board["losses"]), board["board_ms"], board["kernels"], acc, int((board_pred == y_te).sum()),
           len(y_te), "equal" if losses == board["losses"] else "DIFFER",
           "equal bit for bit" if same_params else "DIFFER", "equal" if np.array_equal(pred, board_pred) else "DIFFER"))
    written = []
    if figures is not None:
        from . import plots
        figures = pathlib.Path(figures)
        written.append(plots.training_curves(
            figures / ("%s_training.png" % task.figures), "%s trained on the board (unix port, C kernels)" % task.dataset,
            {"board (integer BPTT)": [v / 256 for v in board["losses"]],
             "NumPy mirror replay": [v / 256 for v in losses]}, ylabel="cross-entropy (Q8.8 loss figure)"))
        written.append(plots.confusion(figures / ("%s_confusion.png" % task.figures),
                                       "%s trained on the board, %d/%d correct"
                                       % (task.dataset, int(np.trace(conf)), len(y_te)), conf, classes))
        for w in written:
            say("    wrote %s" % paths.shown(w))
    return {"board": board, "mirror_losses": losses, "same_params": same_params, "mirror_pred": pred,
            "board_pred": board_pred, "y": y_te, "accuracy": acc, "confusion": conf, "heap": heap,
            "weights": out, "file": f, "consts": consts, "figures": written, "seconds": time.time() - t0,
            "stdout": res.stdout}


def main(argv=None, task=MOTIONS):
    import argparse
    ap = argparse.ArgumentParser(description="%s trained on the board (unix port), replayed in the mirror" % task.dataset)
    ap.add_argument("--heap", type=int, default=task.heap,
                    help="the unix port's hard heap cap in bytes (default %(default)s)")
    ap.add_argument("--figures", metavar="DIR", help="write the PNG figures here")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    r = run(task, heap=a.heap, figures=a.figures, progress=not a.no_progress)
    ok = r["same_params"] and r["mirror_losses"] == r["board"]["losses"] and np.array_equal(r["mirror_pred"],
                                                                                         r["board_pred"])
    print("RESULT %s trained on the board: accuracy %.4f, heap cap %d bytes, board time %d ms, "
          "kernels %s, mirror replay %s" % (task.dataset, r["accuracy"], r["heap"], r["board"]["board_ms"], r["board"]["kernels"],
                                            "bit for bit" if ok else "DIFFERS"))
    return 0 if ok and r["board"]["kernels"] == "c" else 1
