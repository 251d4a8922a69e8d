"""Every real-data example in one run, with their figures and the accuracy table the README shows.

    python examples/real_data.py [--figures docs/img] [--port a0]      (make examples runs it)

JapaneseVowels, BasicMotions and the 8x8 digits read row by row trained on the host and evaluated
on the (virtual) board over their whole test sets (examples/japanese_vowels.py,
examples/basic_motions.py, examples/digits_rows.py), and BasicMotions and the digits trained from
scratch on the board, the unix port with the viper kernels (examples/motions_on_board.py,
examples/digits_on_board.py); city names learned and sampled on the board (examples/city_names.py);
leave one subject out on seglearn's smartwatch recordings, fine-tuned on the board
(examples/loso_finetune.py).
Exit code 1 if the board and the NumPy mirror disagree anywhere.
"""
import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import basic_motions  # noqa: E402
import digits_rows  # noqa: E402
import japanese_vowels  # noqa: E402
from tinyrnn_host.reports import board_training, classify_example, loso, names_example  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", metavar="DIR", help="write the PNG figures here")
    ap.add_argument("-p", "--port", help="evaluate the host-trained models on this board (default: virtual)")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    progress = not a.no_progress
    rows, ok = [], True
    for recipe in (japanese_vowels.RECIPE, basic_motions.RECIPE, digits_rows.RECIPE):
        r = classify_example.run(recipe, port=a.port, figures=a.figures, progress=progress)
        acc = r["accuracy"]
        ok &= r["board_equals_mirror"] == r["n_test"]
        rows.append((r["dataset"], r["model"], "host, float64", r["n_test"], "%.4f" % acc["float"],
                     "%.4f" % acc["board"], "%d/%d" % (r["board_equals_mirror"], r["n_test"]),
                     "%.0f s on the virtual board" % r["board_seconds"] if not a.port else "on %s" % a.port))
    for task in (board_training.MOTIONS, board_training.DIGITS):
        b = board_training.run(task, figures=a.figures, progress=progress)
        same = b["same_params"] and b["mirror_losses"] == b["board"]["losses"]
        ok &= same and (b["mirror_pred"] == b["board_pred"]).all() and b["board"]["kernels"] == "c"
        f = b["file"]
        rows.append((task.dataset, "GRU %d-%d-%d" % (f.desc["input"], b["consts"]["HIDDEN"], f.desc["head"]["out"]),
                     "on the board (unix port, %s)" % b["board"]["kernels"], len(b["y"]), "-", "%.4f" % b["accuracy"],
                     "%d/%d, training too" % (int((b["mirror_pred"] == b["board_pred"]).sum()), len(b["y"])),
                     "%d epochs in %.1f s of board time; %d bytes live (after a collection) under a %d-byte hard "
                     "heap cap" % (len(b["board"]["losses"]), b["board"]["board_ms"] / 1000,
                                   max(b["board"]["heap_used"]), b["heap"])))
    head = ("dataset", "model", "trained", "test recordings", "float64", "Q8.8 on the board", "board == mirror",
            "board")
    n = names_example.run(figures=a.figures, progress=progress)
    ce = n["cross_entropy"]
    ok &= (n["same_params"] and n["mirror_losses"] == n["board"]["losses"] and n["mirror_names"] == n["board_names"]
           and ce["test"] < ce["unigram"])
    f = n["file"]
    name_row = ("city names (IANA tz)", "GRU %d-%d-%d" % (f.desc["input"], n["consts"]["HIDDEN"], f.desc["head"]["out"]),
                "on the board (unix port, %s)" % n["board"]["kernels"], len(n["test"]), "%.3f" % ce["test"],
                "%.3f" % ce["unigram"], "training and %d sampled names" % len(n["board_names"]),
                "%d epochs and sampling in %.1f s of board time; %d bytes live under a %d-byte hard heap cap"
                % (len(n["board"]["losses"]), n["board"]["board_ms"] / 1000, max(n["board"]["heap_used"]), n["heap"]))
    table(head, rows)
    table(("data", "model", "trained", "test names", "test cross-entropy (nats/char)", "unigram baseline",
           "board == mirror", "board"), [name_row])
    print()
    print("Sampled on the board at temperature %s, seed %d (the mirror's, character for character): %s"
          % (n["consts"]["TEMPERATURE"], n["consts"]["SAMPLE_SEED"], ", ".join('"%s"' % v for v in n["board_names"])))
    t = loso.run(figures=a.figures, progress=progress)
    ok &= all(loso.agrees(r) and r["kernels"] == "c" for r in t["rows"])
    print()
    for line in loso.table_lines(t):
        print(line)
    return 0 if ok else 1


def table(head, rows):
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    sys.exit(main())
