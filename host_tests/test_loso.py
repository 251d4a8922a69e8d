"""Leave one subject out on the smartwatch recordings (examples/loso_finetune.py, reports/loso.py):
pretrained on the host on nine subjects, the head and, separately, the recurrent layer fine-tuned
ON THE BOARD (the unix port, C kernels, a hard heap cap) on the held-out subject's first 6 s of
each recording, measured on the rest.

Fast tier: one held-out subject end to end: the board's predictions before and after, its
per-epoch losses and its weights equal the mirror's replay; every frozen parameter is the
pretrained file's byte for byte (and the trained ones moved); the accuracies are the README row.
Slow tier: all ten subjects, the whole README table and its summary sentence."""
import numpy as np
import pytest

import needs
import readme_figures as rf

from tinyrnn_host.reports import loso

FAST_SUBJECT = 4
HEADER = "held-out subject"


def readme_row(r):
    a = r["accuracy"]
    return {HEADER: str(r["subject"]), "fine-tuned on": str(r["n_mine"]), "tested on": str(r["n_test"]),
            "before": "%.3f" % a["before"], "head fine-tuned": "%.3f" % a["head"],
            "recurrent layer fine-tuned": "%.3f" % a["layer"], "board == mirror": "yes" if loso.agrees(r) else "NO"}


@pytest.fixture(scope="module")
def one(tmp_path_factory):
    needs.unix_port()
    return loso.subject(FAST_SUBJECT, build=tmp_path_factory.mktemp("loso"))


def test_board_equals_mirror_bit_for_bit(one):
    assert one["kernels"] == "c"
    assert one["same_before"]
    for name, run in one["runs"].items():
        assert len(run["losses"]) == loso.board_training.app_constants(
            loso.paths.examples() / loso.APP)["EPOCHS"], name
        assert run["mirror_losses"] == run["losses"], name
        for k, v in run["board_params"].items():
            assert v.tolist() == run["mirror_params"][k].tolist(), (name, k)
        assert run["same_params"] and run["same_pred"], name
    assert len(one["board_pred"]["before"]) == len(one["y"]) == one["n_test"]


def test_frozen_parameters_are_the_pretrained_files_byte_for_byte(one):
    pre = one["pretrained"]
    head = {k for k in pre if k.startswith("head.")}
    want = {"head": head, "layer": set(pre) - head}         # what train="head" and train=[0] may change
    for name, run in one["runs"].items():
        for k, v in run["board_params"].items():
            if k not in want[name]:
                assert v.astype("<i2").tobytes() == pre[k].astype("<i2").tobytes(), (name, k)
        assert set(run["changed"]) <= want[name] and run["changed"], (name, run["changed"])


def test_board_time_and_memory_are_reported(one):
    for name, run in one["runs"].items():
        assert run["board_ms"] is not None and run["board_ms"] > 0
        assert 0 < max(run["heap_used"]) < one["heap"]
    # frozen parameters cost nothing: the head-only trainer is far smaller than the layer's
    assert one["runs"]["head"]["trainer_bytes"] < one["runs"]["layer"]["trainer_bytes"] / 2


def readme_memory():
    """The README's trainer bytes and live bytes for the head and the recurrent layer, and the cap."""
    got = rf.find(r"the head's 10 epochs took \d+-\d+ ms of board time, its trainer (\d+) bytes, at most (\d+) "
                  r"bytes live .*? the recurrent layer's took \d+-\d+ ms, its trainer (\d+) bytes, at most (\d+) "
                  r"bytes live; both under the (\d+)-byte hard cap")
    head_trainer, head_live, layer_trainer, layer_live, cap = (int(v) for v in got)
    return {"head": (head_trainer, head_live), "layer": (layer_trainer, layer_live)}, cap


def test_the_readme_row_is_this_run(one):
    assert rf.row(HEADER, str(FAST_SUBJECT)) == readme_row(one)
    memory, cap = readme_memory()
    assert cap == one["heap"]
    for name, run in one["runs"].items():               # the same model for every subject: the same trainer
        assert run["trainer_bytes"] == memory[name][0], name
        assert max(run["heap_used"]) <= memory[name][1], name


@pytest.mark.slow
def test_every_subject_and_the_readme_table(one, monkeypatch):
    needs.unix_port()
    # FAST_SUBJECT's run is the fixture's (loso.subject with the same arguments run() gives it: the
    # same data, pretraining, board run and replay), not a second identical run
    plain = loso.subject
    monkeypatch.setattr(loso, "subject", lambda s, *a, **k: one if s == FAST_SUBJECT else plain(s, *a, **k))
    t = loso.run(progress=False)
    rows = t["rows"]
    assert [r["subject"] for r in rows] == list(range(1, 11))
    assert all(loso.agrees(r) and r["kernels"] == "c" for r in rows)
    assert rf.table(HEADER) == [readme_row(r) for r in rows] + [
        {HEADER: "mean", "fine-tuned on": "", "tested on": "", "before": "%.3f" % t["means"]["before"],
         "head fine-tuned": "%.3f" % t["means"]["head"],
         "recurrent layer fine-tuned": "%.3f" % t["means"]["layer"], "board == mirror": ""}]
    memory, _ = readme_memory()
    for name in ("head", "layer"):
        assert max(max(r["runs"][name]["heap_used"]) for r in rows) == memory[name][1], name
    improved = loso.table_lines(t)[-2]
    assert improved.startswith("Improved: ") and improved in rf.text()
    for c in ("head", "layer"):                             # the bar: some improve, the mean not worse
        assert any(r["accuracy"][c] > r["accuracy"]["before"] for r in rows), c
        assert t["means"][c] >= t["means"]["before"], c
