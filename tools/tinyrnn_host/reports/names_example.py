"""City names trained and sampled ON THE BOARD (examples/names_train.py), replayed in the mirror.

    result = run()          # python examples/city_names.py

1. the names of the IANA time-zone database (interop.names): a fifth held out, the rest written
   as a text file, the board's "flash";
2. examples/names_train.py runs on the MicroPython unix port (hard heap cap, viper kernels): a GRU
   learns to predict each next character by integer BPTT, saves its weights, and samples new
   names at a temperature with the library's PRNG (tinyrnn.sample);
3. the weights come back; the NumPy mirror replays the training (every epoch's loss, every weight)
   and the sampling (mirror.sample, the same seed and temperature): the same names, character for
   character;
4. the test cross-entropy per character of the board's model on the held-out names (float64
   log-softmax of its Q8.8 logits, the mirror's), against the unigram baseline (the training
   names' character frequencies);
5. figure: the training curves of the board and the mirror.
"""
import pathlib
import re
import time

import numpy as np

from .. import paths
from ..interop import names, weights_io
from . import board_training

APP = "names_train.py"
HEAP = 196608               # the unix port's hard heap cap (-X heapsize): 192 KB; the Trainer of 4,685 parameters takes 86 KB


def say(text):
    print(text, flush=True)


def generate(desc, params, consts):
    """The board's generate() loop on the mirror sampler: consts SAMPLES names."""
    from ..mirror.sample import Sampler
    s = Sampler(desc, params, consts["TEMPERATURE"], consts["SAMPLE_SEED"])
    onehot = np.eye(len(names.ALPHABET), dtype=np.int64) * 256
    out = []
    for _ in range(consts["SAMPLES"]):
        s.reset()
        k, name = names.END, ""
        for _ in range(consts["MAX_LEN"]):
            k = s.step(onehot[k])
            if k == names.END:
                break
            name += names.ALPHABET[k]
        out.append(name)
    return out


def cross_entropy(desc, params, test):
    """Nats per character (END included) of the Q8.8 model on `test`: log-softmax of its logits."""
    from ..mirror.sample import Sampler
    total, n = 0.0, 0
    s = Sampler(desc, params, "1")                              # its model: the identity-head twin
    for name in test:
        xs, ys = names.encode(name)
        s.reset()
        z = np.stack([s.logits(x) for x in xs]) / 256.0         # (T, A)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= logp[np.arange(len(ys)), ys].sum()
        n += len(ys)
    return total / n


def run(heap=HEAP, build=None, figures=None, progress=True, echo=True):
    t0 = time.time()
    consts = board_training.app_constants(paths.examples() / APP)
    assert consts["ALPHABET"] == names.ALPHABET, "examples/%s and interop.names disagree on the alphabet" % APP
    build = pathlib.Path(build or paths.build_dir() / "names")
    build.mkdir(parents=True, exist_ok=True)
    train, test = names.city_names()
    blob = ("\n".join(train) + "\n").encode("ascii")
    (build / consts["TRAIN"]).write_bytes(blob)
    say("[1/3] %d city names from the IANA time-zone database (%s): %d to train on (%s, %d bytes), %d held out; "
        "training ON THE BOARD: MicroPython unix port, hard heap cap %d bytes"
        % (len(train) + len(test), names.PACKAGE, len(train), consts["TRAIN"], len(blob), len(test), heap))
    res, board = board_training.train_on_board({consts["TRAIN"]: blob}, consts, heap, echo=echo, app=APP)
    board_names = re.findall(r"^NAME (.*)$", res.stdout, re.M)
    if consts["OUT"] not in res.files or res.files[consts["OUT"]] is None:
        raise RuntimeError("%s on the unix port under %d bytes wrote no %s: %s"
                           % (APP, heap, consts["OUT"], (res.stdout + (res.error or ""))[-800:]))
    out = build / consts["OUT"]
    out.write_bytes(res.files[consts["OUT"]])
    f = weights_io.read(out)
    say("[2/3] pulled %s back (%d bytes, CRC32 0x%08x); replaying the training and the sampling in the NumPy mirror"
        % (consts["OUT"], out.stat().st_size, f.crc))
    data = [names.encode(n) for n in train]
    losses, params = board_training.mirror_fit(f.desc, consts, data, "all", progress)
    same_params = all(np.array_equal(params[k], f.params[k]) for k in f.params)
    mirror_names = generate(f.desc, f.params, consts)
    ce = {"test": cross_entropy(f.desc, f.params, test), "train": cross_entropy(f.desc, f.params, train),
          "unigram": names.unigram_cross_entropy(train, test)}
    novel = [n for n in board_names if n not in set(train)]
    say("[3/3] board: %d epochs in %d ms of board time on %s kernels; test cross-entropy %.3f nats per character "
        "(train %.3f), unigram baseline %.3f; mirror: losses %s, weights %s, names %s"
        % (len(board["losses"]), board["board_ms"], board["kernels"], ce["test"], ce["train"], ce["unigram"],
           "equal" if losses == board["losses"] else "DIFFER", "equal bit for bit" if same_params else "DIFFER",
           "equal" if mirror_names == board_names else "DIFFER"))
    say("    sampled on the board at temperature %s, seed %d: %s (%d of %d not among the training names)"
        % (consts["TEMPERATURE"], consts["SAMPLE_SEED"], ", ".join(board_names), len(novel), len(board_names)))
    written = []
    if figures is not None:
        from . import plots
        written.append(plots.training_curves(
            pathlib.Path(figures) / "names_board_training.png", "City names trained on the board (unix port, C kernels)",
            {"board (integer BPTT)": [v / 256 for v in board["losses"]],
             "NumPy mirror replay": [v / 256 for v in losses]}, ylabel="cross-entropy per character (Q8.8 loss)"))
        for w in written:
            say("    wrote %s" % paths.shown(w))
    return {"board": board, "mirror_losses": losses, "same_params": same_params, "board_names": board_names,
            "mirror_names": mirror_names, "novel": novel, "cross_entropy": ce, "train": train, "test": test,
            "heap": heap, "file": f, "consts": consts, "figures": written, "stdout": res.stdout,
            "seconds": time.time() - t0}


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="City names trained and sampled on the board, replayed in the mirror")
    ap.add_argument("--heap", type=int, default=HEAP, help="the unix port's hard heap cap in bytes (default %(default)s)")
    ap.add_argument("--figures", metavar="DIR", help="write the PNG figure here")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    r = run(heap=a.heap, figures=a.figures, progress=not a.no_progress)
    ce = r["cross_entropy"]
    ok = (r["same_params"] and r["mirror_losses"] == r["board"]["losses"] and r["mirror_names"] == r["board_names"]
          and ce["test"] < ce["unigram"])
    print("RESULT city names trained and sampled on the board: test cross-entropy %.3f nats/char, unigram %.3f, "
          "names %s, mirror replay %s" % (ce["test"], ce["unigram"], ", ".join(r["board_names"]),
                                         "bit for bit" if ok else "DIFFERS"))
    return 0 if ok else 1
