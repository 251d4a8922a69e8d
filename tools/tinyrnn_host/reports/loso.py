"""Leave one subject out: a model pretrained on the host on nine people, fine-tuned ON THE BOARD
with a few recordings of the tenth (examples/loso_tune.py), replayed in the mirror.

    r = subject(3)          # one held-out subject: a dict (see the end of subject())
    t = run()               # all ten: {"rows": [subject(s) for each], "means": ...}
    python examples/loso_finetune.py [--subjects 3,4] [--figures DIR]   (prints the README table)

Data: the smartwatch recordings seglearn ships (interop.watch: 10 subjects, 7 shoulder
exercises, each recorded once per arm; cut into sequences of 3 s at 10 Hz). For the held-out
subject S:
1. the other nine subjects' sequences, as raw int16 counts, fit the normalisation and train a
   GRU on the host in float64 (interop.classify), quantised to Q8.8: pretrained.bin (norm, labels);
2. S's sequences are split by time within each of S's 14 recordings: the first TUNE_PARTS
   sequences (the first 6 s) are the wearer's labelled recordings (mine.rec), all later ones the
   test (test.rec); the split is the same for every subject;
3. on the board (the MicroPython unix port with the C kernels, a hard heap cap) loso_tune.py
   measures the test accuracy before, then from the same file fine-tunes the head only and,
   separately, the recurrent layer only, and measures after each (head.bin, layer.bin come back);
4. the NumPy mirror trainer replays both fine-tunings from pretrained.bin: per-epoch losses,
   final weights and every test prediction must equal the board's; the frozen parameters must
   be pretrained.bin's byte for byte.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from .. import paths
from ..interop import classify, normalise, recordings, watch, weights_io
from . import board_training

APP = "loso_tune.py"
PER_UNIT = 512          # raw int16 counts per g (accelerometer) and per rad/s (gyroscope)
HIDDEN = 16
STAGES = ((20, 1e-2), (6, 2e-3))        # host pretraining: (epochs, Adam learning rate)
WEIGHT_DECAY = 1e-3
TUNE_PARTS = 2          # the first 2 sequences (6 s) of each of the subject's recordings are fine-tuned on
HEAP = board_training.HEAP    # the unix port's hard heap cap (-X heapsize, 64-bit objects): as motions_train.py's
COLUMNS = ("before", "head", "layer")


def say(text):
    print(text, flush=True)


def split(w, s):
    """Boolean masks over w's sequences: (pretraining: not s; mine: s's first TUNE_PARTS per
    recording; test: s's later ones)."""
    me = w.subject == s
    return ~me, me & (w.part < TUNE_PARTS), me & (w.part >= TUNE_PARTS)


# Float64 training gives the same weights only from the same floating-point code, and both
# OpenBLAS (its kernels per CPU) and NumPy (its SIMD loops: AVX-512 where the CPU has it) pick
# theirs at import by the CPU: on an AVX-512 machine the pretrained weights, hence the README
# table, came out different. So the pretraining runs in a child process with both pinned to
# their AVX2 code (OpenBLAS's Haswell kernels, NumPy without its X86_V4 group), one thread:
# the same weights on every x86-64 with AVX2.
PINNED_FLOAT = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                "NPY_DISABLE_CPU_FEATURES": "X86_V4"}


def _desc(w, raw):
    return {"input": raw.shape[2], "layers": [{"kind": "gru", "hidden": HIDDEN}],
            "head": {"out": len(w.classes), "act": "softmax"}}


def pretrain(w, raw, mask, progress=False):
    """(desc, norm, Q8.8 params, saturated) of a GRU trained in float64 on raw[mask], in a child
    process with PINNED_FLOAT's floating-point code (its progress bar on stderr)."""
    desc = _desc(w, raw)
    with tempfile.TemporaryDirectory(prefix="loso-pretrain-") as tmp:
        src, dst = pathlib.Path(tmp) / "in.npz", pathlib.Path(tmp) / "out.npz"
        np.savez(src, raw=raw[mask], y=w.y[mask], n_classes=len(w.classes), progress=progress)
        subprocess.run([sys.executable, "-m", "tinyrnn_host.reports.loso", str(src), str(dst)],
                       env=dict(os.environ, **PINNED_FLOAT), check=True)
        got = np.load(dst)
        norm = normalise.Norm(got["offset"], got["mul"].tolist(), got["shift"].tolist())
        params_q = {k[2:]: got[k] for k in got.files if k.startswith("p.")}
        return desc, norm, params_q, int(got["saturated"])


def _pretrain_here(src, dst):
    # the child: normalisation fitted, float64 training, quantised; results to dst
    d = np.load(src)
    raw, y = d["raw"], d["y"]
    w = type("W", (), {"classes": [None] * int(d["n_classes"])})
    norm = normalise.fit(raw)
    params, _ = classify.train(_desc(w, raw), list(norm.apply(raw)), y, STAGES, WEIGHT_DECAY, 16, 0,
                               progress=bool(d["progress"]))
    params_q, saturated = classify.quantise(params)
    np.savez(dst, offset=np.asarray(norm.offset), mul=np.asarray(norm.mul), shift=np.asarray(norm.shift),
             saturated=saturated, **{"p." + k: v for k, v in params_q.items()})


def parse(stdout):
    """loso_tune.py's output: its predictions per tag (BEFORE, HEAD, LAYER: lowercased), its kernels,
    and per run its per-epoch losses, board time, trainer bytes and live heap."""
    pred = {}
    for tag, y, k in re.findall(r"^([A-Z]+) \d+ (\d+) (\d+)$", stdout, re.M):
        pred.setdefault(tag.lower(), []).append(int(k))
    out = {"pred": {k: np.array(v) for k, v in pred.items()}, "runs": {}}
    kernels = re.search(r"on (\w+) kernels \(tinyrnn\.KERNELS\)", stdout)
    out["kernels"] = kernels and kernels.group(1)
    for block in re.split(r"^(?=RUN )", stdout, flags=re.M)[1:]:
        name = block.split()[1]
        res = re.search(r"^RESULT \S+ .* in (\d+) ms of board time", block, re.M)
        out["runs"][name] = {
            "losses": [int(v) for v in re.findall(r"^epoch \d+/\d+ loss Q8\.8 (-?\d+)", block, re.M)],
            "heap_used": [int(v) for v in re.findall(r"heap (\d+) bytes used", block)],
            "trainer_bytes": int(re.search(r"the trainer takes (\d+) bytes", block).group(1)),
            "board_ms": int(res.group(1)) if res else None}
    return out


def subject(s, w=None, raw=None, consts=None, heap=HEAP, build=None, progress=False, echo=False):
    """The whole run for held-out subject s; a dict (keys at the end)."""
    t0 = time.time()
    w = w if w is not None else watch.load()
    raw = raw if raw is not None else normalise.to_raw(w.x, PER_UNIT)
    consts = consts or board_training.app_constants(paths.examples() / APP)
    build = pathlib.Path(build or paths.build_dir() / "loso" / ("s%d" % s))
    build.mkdir(parents=True, exist_ok=True)
    pre, mine, test = split(w, s)
    desc, norm, params_q, saturated = pretrain(w, raw, pre, progress)
    path = build / consts["MODEL"]
    weights_io.save(desc, params_q, path, norm=norm, labels=w.classes)
    files = {consts["MODEL"]: path.read_bytes(),
             consts["MINE"]: recordings.encode(raw[mine], w.y[mine], "class", w.classes),
             consts["TEST"]: recordings.encode(raw[test], w.y[test], "class", w.classes)}
    for name, blob in files.items():
        (build / name).write_bytes(blob)
    res, _ = board_training.train_on_board(files, consts, heap, echo=echo, app=APP,
                                           collect=[name + ".bin" for name, _ in consts["RUNS"]])
    f0 = weights_io.read(path)
    xs_mine = f0.norm.apply(raw[mine])
    xs_test = list(f0.norm.apply(raw[test]))
    y = w.y[test]
    board = parse(res.stdout)
    mirror_before = classify.argmax(classify.predict_q88(desc, f0.params, xs_test))
    out = {"subject": s, "n_pretrain": int(pre.sum()), "n_mine": int(mine.sum()), "n_test": int(test.sum()),
           "saturated": saturated, "kernels": board["kernels"], "heap": heap, "runs": {},
           "accuracy": {"before": float((board["pred"]["before"] == y).mean())},
           "same_before": bool(np.array_equal(mirror_before, board["pred"]["before"]))}
    for name, train in consts["RUNS"]:
        (build / (name + ".bin")).write_bytes(res.files[name + ".bin"])
        f = weights_io.read(build / (name + ".bin"))
        losses, params = board_training.mirror_fit(desc, consts, [(xs_mine[i], int(v)) for i, v in
                                                                  enumerate(w.y[mine])], "last", False, train,
                                                   f0.params)
        pred = classify.argmax(classify.predict_q88(desc, params, xs_test))
        b = board["runs"][name]
        trained = [k for k in f.params if not np.array_equal(f.params[k], f0.params[k])]
        out["accuracy"][name] = float((board["pred"][name] == y).mean())
        out["runs"][name] = dict(b, train=train, mirror_losses=losses, changed=trained,
                                 same_losses=losses == b["losses"],
                                 same_params=all(np.array_equal(params[k], f.params[k]) for k in f.params),
                                 same_pred=bool(np.array_equal(pred, board["pred"][name])),
                                 board_params=f.params, mirror_params=params)
    out.update(pretrained=f0.params, desc=desc, y=y, board_pred=board["pred"], stdout=res.stdout,
               seconds=time.time() - t0)
    return out


def agrees(r):
    """Board == mirror everywhere for one subject's run."""
    return r["same_before"] and all(v["same_losses"] and v["same_params"] and v["same_pred"]
                                    for v in r["runs"].values())


def run(subjects=None, heap=HEAP, figures=None, progress=True, echo=False):
    """Every held-out subject (default all ten) and the means; with figures, the bar chart."""
    w = watch.load()
    raw = normalise.to_raw(w.x, PER_UNIT)
    consts = board_training.app_constants(paths.examples() / APP)
    subjects = subjects or w.subjects()
    rows = []
    for s in subjects:
        r = subject(s, w, raw, consts, heap, progress=progress, echo=echo)
        acc = r["accuracy"]
        say("subject %2d: %d pretraining sequences, fine-tuned on %d, tested on %d: before %.3f, head %.3f, "
            "layer %.3f; board == mirror %s (%.0f s)" % (s, r["n_pretrain"], r["n_mine"], r["n_test"],
                                                         acc["before"], acc["head"], acc["layer"],
                                                         "yes" if agrees(r) else "NO", r["seconds"]))
        rows.append(r)
    means = {c: float(np.mean([r["accuracy"][c] for r in rows])) for c in COLUMNS}
    written = []
    if figures is not None:
        from . import plots
        written.append(plots.bars(
            pathlib.Path(figures) / "loso.png",
            "Leave one subject out: accuracy on the held-out subject's later sequences, Q8.8 on the board",
            [str(r["subject"]) for r in rows] + ["mean"],
            {"pretrained on the other 9": [r["accuracy"]["before"] for r in rows] + [means["before"]],
             "head fine-tuned on the board": [r["accuracy"]["head"] for r in rows] + [means["head"]],
             "recurrent layer fine-tuned on the board": [r["accuracy"]["layer"] for r in rows] + [means["layer"]]},
            xlabel="held-out subject", ylim=(0.5, 1.0)))
        for p in written:
            say("    wrote %s" % paths.shown(p))
    return {"rows": rows, "means": means, "consts": consts, "figures": written}


def table_lines(t):
    """The README's table (markdown lines) and the summary sentence, from run()'s result."""
    rows, means = t["rows"], t["means"]
    lines = ["| held-out subject | fine-tuned on | tested on | before | head fine-tuned | recurrent layer fine-tuned "
             "| board == mirror |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        a = r["accuracy"]
        lines.append("| %d | %d | %d | %.3f | %.3f | %.3f | %s |"
                     % (r["subject"], r["n_mine"], r["n_test"], a["before"], a["head"], a["layer"],
                        "yes" if agrees(r) else "NO"))
    lines.append("| mean | | | %.3f | %.3f | %.3f | |" % (means["before"], means["head"], means["layer"]))
    better = {c: sum(r["accuracy"][c] > r["accuracy"]["before"] for r in rows) for c in ("head", "layer")}
    worse = {c: sum(r["accuracy"][c] < r["accuracy"]["before"] for r in rows) for c in ("head", "layer")}
    lines.append("")
    lines.append("Improved: head %d of %d subjects (%d worse), recurrent layer %d of %d (%d worse)."
                 % (better["head"], len(rows), worse["head"], better["layer"], len(rows), worse["layer"]))
    run0 = rows[0]["runs"]
    lines.append("On the board, per subject: %s." % "; ".join(
        "%s %d epochs in %d-%d ms, the trainer %d bytes, at most %d bytes live under a %d-byte hard heap cap"
        % (n, t["consts"]["EPOCHS"], min(r["runs"][n]["board_ms"] for r in rows),
           max(r["runs"][n]["board_ms"] for r in rows), run0[n]["trainer_bytes"],
           max(max(r["runs"][n]["heap_used"]) for r in rows), rows[0]["heap"]) for n in run0))
    return lines


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="Leave one subject out: pretrained on the host, fine-tuned on the board")
    ap.add_argument("--subjects", help="comma-separated held-out subjects (default: all ten)")
    ap.add_argument("--heap", type=int, default=HEAP, help="the unix port's hard heap cap (default %(default)s)")
    ap.add_argument("--figures", metavar="DIR", help="write loso.png here")
    ap.add_argument("--echo", action="store_true", help="stream the board's output")
    a = ap.parse_args(argv)
    subjects = [int(v) for v in a.subjects.split(",")] if a.subjects else None
    t = run(subjects, heap=a.heap, figures=a.figures, echo=a.echo)
    print()
    for line in table_lines(t):
        print(line)
    ok = all(agrees(r) and r["kernels"] == "c" for r in t["rows"])
    return 0 if ok else 1


if __name__ == "__main__":
    _pretrain_here(*sys.argv[1:3])
