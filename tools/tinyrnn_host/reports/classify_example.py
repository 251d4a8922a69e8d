"""Host-trained, board-evaluated sequence classifiers on UEA data (examples/japanese_vowels.py,
examples/basic_motions.py give the recipes).

    result = run(RECIPE)                 # the virtual board; run(RECIPE, port="a0") for a real one

1. the recordings as the board would get them: raw int16 counts (interop.uea, normalise.to_raw);
2. the input normalisation fitted on the training recordings (normalise.fit), applied as the board does;
3. a GRU trained on the host in float64 (interop.classify, a tqdm bar per epoch), quantised to Q8.8;
4. a version-2 weights file with the normalisation and the class names (interop.weights_io);
5. `tinyrnn deploy`'s code path puts the library (.mpy), the weights and examples/classify_app.py on the board;
6. every test recording is streamed to the board (board.stream, a tqdm bar); the board normalises,
   runs the model and answers with its class and its Q8.8 outputs;
7. the NumPy mirror runs the same file on the same recordings: its outputs must equal the board's,
   every value of every recording; the float model gives the reference accuracy;
8. figures: the training curve and the board's confusion matrix (reports.plots).
"""
import pathlib
import time

import numpy as np

from .. import paths
from ..interop import classify, normalise, uea, weights_io

APP = "classify_app.py"


class Recipe:
    """What a classification example chooses; the rest is run()'s."""

    def __init__(self, dataset, per_unit, hidden, stages, weight_decay, weights, kind="gru", batch_size=16,
                 seed=0, short=None, load=None, norm="std"):
        self.dataset = dataset          # a UEA dataset aeon ships, unless load says otherwise
        self.load = load or (lambda split: uea.load(dataset, split))    # split -> a uea.Dataset
        self.norm = norm                # normalise.fit's mode ("std", "range") or a fixed mirror Norm
        self.per_unit = per_unit        # raw int16 counts per unit of the data (the "sensor driver")
        self.kind, self.hidden = kind, hidden
        self.stages = stages            # ((epochs, learning rate), ...)
        self.weight_decay, self.batch_size, self.seed = weight_decay, batch_size, seed
        self.weights = weights          # the file's name, here and on the board
        self.short = short or dataset   # for figure file names


def say(text):
    print(text, flush=True)


def prepare(recipe):
    """(train, test) Datasets, their raw int16 recordings, the fitted Norm, the Q8.8 inputs."""
    train, test = recipe.load("train"), recipe.load("test")
    raw_tr = [normalise.to_raw(s, recipe.per_unit) for s in train.series]
    raw_te = [normalise.to_raw(s, recipe.per_unit) for s in test.series]
    norm = normalise.fit(raw_tr, mode=recipe.norm) if isinstance(recipe.norm, str) else recipe.norm
    return train, test, raw_tr, raw_te, norm


def board_outputs(port, weights_path, raw_te, build, progress):
    """Deploy (library, weights, app) and classify every test recording on the board at `port`
    (None: a virtual board on build/board-fs, started for the run)."""
    from ..board import deploy, stream, vboard

    def on(p):
        deploy.deploy(p, weights=weights_path, app=paths.examples() / APP, app_name=APP,
                      out=lambda *a: say("    " + " ".join(str(x) for x in a)))
        return stream.classify(p, weights_path.name, raw_te, progress=progress,
                               desc="board: %s" % weights_path.name)

    if port:
        return on(port)
    with vboard.VirtualBoard(fs_dir=build / "board-fs", time_limit=3600) as p:
        say("    virtual board on %s (flash %s)" % (p, paths.shown(build / "board-fs")))
        return on(p)


def run(recipe, port=None, build=None, figures=None, progress=True):
    """The whole example; a dict of figures (see the keys at the end)."""
    t0 = time.time()
    build = pathlib.Path(build or paths.build_dir() / recipe.short.lower())
    build.mkdir(parents=True, exist_ok=True)
    train, test, raw_tr, raw_te, norm = prepare(recipe)
    say("[1/4] %s: %d training and %d test recordings, %d channels, %d-%d steps, classes %s"
        % (recipe.dataset, len(train), len(test), train.channels, test.lengths().min(), test.lengths().max(),
           ", ".join(train.classes)))
    xs_tr = [norm.apply(r) for r in raw_tr]
    xs_te = [norm.apply(r) for r in raw_te]
    desc = {"input": train.channels, "layers": [{"kind": recipe.kind, "hidden": recipe.hidden}],
            "head": {"out": len(train.classes), "act": "softmax"}}
    params, history = classify.train(desc, xs_tr, train.y, recipe.stages, recipe.weight_decay,
                                     recipe.batch_size, recipe.seed, progress=progress)
    params_q, saturated = classify.quantise(params)
    path = build / recipe.weights
    weights_io.save(desc, params_q, path, norm=norm, labels=train.classes)
    f = weights_io.read(path)
    n_params = sum(v.size for v in f.params.values())
    say("[2/4] trained a %s %d-%d-%d on the host (float64, %d epochs), wrote %s: %d parameters, %d bytes, "
        "CRC32 0x%08x, %d saturated" % (recipe.kind.upper(), desc["input"], recipe.hidden, len(train.classes),
                                       len(history), paths.shown(path), n_params, path.stat().st_size, f.crc,
                                       saturated))
    p_float = classify.argmax(classify.predict_float(desc, params, xs_te))
    mirror = classify.predict_q88(desc, f.params, xs_te)
    say("[3/4] deploying to %s and classifying all %d test recordings on the board"
        % (port or "the virtual board", len(test)))
    t1 = time.time()
    board = board_outputs(port, path, raw_te, build, progress)
    board_secs = time.time() - t1
    board_pred = np.array([k for k, _ in board])
    same = sum(out == mirror[i].tolist() for i, (_, out) in enumerate(board))
    acc = {"float": float((p_float == test.y).mean()), "mirror": float((classify.argmax(mirror) == test.y).mean()),
           "board": float((board_pred == test.y).mean())}
    conf = classify.confusion(test.y, board_pred, len(test.classes))
    say("[4/4] test accuracy: float64 %.4f, Q8.8 mirror %.4f, Q8.8 on the board %.4f (%d/%d); "
        "board == mirror on %d/%d recordings (every output value); %.0f s on the board"
        % (acc["float"], acc["mirror"], acc["board"], int((board_pred == test.y).sum()), len(test), same,
           len(test), board_secs))
    written = []
    if figures is not None:
        from . import plots
        figures = pathlib.Path(figures)
        written.append(plots.training_curves(figures / ("%s_training.png" % recipe.short.lower()),
                                             "%s: host training (float64)" % recipe.dataset,
                                             {"float64 training loss": history}, ylabel="cross-entropy"))
        written.append(plots.confusion(figures / ("%s_confusion.png" % recipe.short.lower()),
                                       "%s: Q8.8 on the board, %d/%d correct"
                                       % (recipe.dataset, int(np.trace(conf)), len(test)), conf, test.classes))
        for w in written:
            say("    wrote %s" % paths.shown(w))
    return {"dataset": recipe.dataset, "model": "%s %d-%d-%d" % (recipe.kind.upper(), desc["input"], recipe.hidden,
                                                                 len(train.classes)),
            "n_test": len(test), "accuracy": acc, "board_equals_mirror": same, "confusion": conf,
            "weights": path, "norm": norm, "labels": train.classes, "history": history,
            "board_pred": board_pred, "board_outputs": [o for _, o in board], "mirror_outputs": mirror,
            "float_pred": p_float, "y": test.y, "figures": written, "seconds": time.time() - t0,
            "board_seconds": board_secs, "n_params": n_params}


def main(recipe, argv=None):
    """A classification example's command line: --port, --figures, --no-progress; exit code."""
    import argparse
    ap = argparse.ArgumentParser(description="%s: host-trained, evaluated on the board" % recipe.dataset)
    ap.add_argument("-p", "--port", help="a board as mpremote names it (default: the virtual board)")
    ap.add_argument("--figures", metavar="DIR", help="write the PNG figures here")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    a = ap.parse_args(argv)
    r = run(recipe, port=a.port, figures=a.figures, progress=not a.no_progress)
    ok = r["board_equals_mirror"] == r["n_test"]
    print("RESULT %s %s: board accuracy %.4f, float %.4f, board == mirror %d/%d"
          % (r["dataset"], r["model"], r["accuracy"]["board"], r["accuracy"]["float"], r["board_equals_mirror"],
             r["n_test"]))
    return 0 if ok else 1
