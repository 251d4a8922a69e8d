"""Real sensor data end to end (slow tier, `-m slow`; `make test-slow` runs it, `make test` not):
JapaneseVowels and BasicMotions trained on the host and classified on the virtual board over
their whole test sets, every board output equal to the NumPy mirror's; BasicMotions trained
from scratch on the unix port with the viper kernels under a hard heap cap, replayed bit for
bit by the mirror trainer. The examples' own code runs here (examples/*.py recipes)."""
import importlib.util

import numpy as np
import pytest

import readme_figures as rf

from tinyrnn_host import paths
from tinyrnn_host.interop import weights_io
from tinyrnn_host.reports import board_training, classify_example

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


def recipe(name):
    spec = importlib.util.spec_from_file_location(name, paths.examples() / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.RECIPE


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


@pytest.fixture(scope="module")
def jv(tmp_path_factory, figures):
    return classify_example.run(recipe("japanese_vowels"), build=tmp_path_factory.mktemp("jv"), figures=figures,
                                progress=False)


@pytest.fixture(scope="module")
def bm(tmp_path_factory, figures):
    return classify_example.run(recipe("basic_motions"), build=tmp_path_factory.mktemp("bm"), figures=figures,
                                progress=False)


@pytest.fixture(scope="module")
def on_board(tmp_path_factory, figures):
    return board_training.run(build=tmp_path_factory.mktemp("motions"), figures=figures, progress=False,
                              echo=False)


def check_board_equals_mirror(r):
    assert r["board_equals_mirror"] == r["n_test"]
    assert [list(o) for o in r["board_outputs"]] == r["mirror_outputs"].tolist()    # every value of every one
    assert r["board_pred"].tolist() == r["mirror_outputs"].argmax(axis=1).tolist()


def readme_host_row_is_this_run(r):
    """examples/real_data.py prints the README's row from this run (board seconds: a wall time, not compared)."""
    row = [x for x in rf.table("board == mirror") if x["dataset"] == r["dataset"] and x["trained"] == "host, float64"]
    assert len(row) == 1, row
    row = row[0]
    assert (row["model"], int(row["test recordings"]), row["float64"], row["Q8.8 on the board"], row["board == mirror"]) == (
        r["model"], r["n_test"], "%.4f" % r["accuracy"]["float"], "%.4f" % r["accuracy"]["board"],
        "%d/%d" % (r["board_equals_mirror"], r["n_test"]))


def test_japanese_vowels_on_the_board(jv):
    assert jv["n_test"] == 370 and len(jv["board_pred"]) == 370
    check_board_equals_mirror(jv)
    acc = jv["accuracy"]
    assert acc["board"] >= 0.97, acc
    assert abs(acc["board"] - acc["float"]) <= 0.01, acc
    assert int(np.trace(jv["confusion"])) == int((jv["board_pred"] == jv["y"]).sum())
    readme_host_row_is_this_run(jv)


def test_basic_motions_host_trained_on_the_board(bm):
    assert bm["n_test"] == 40
    check_board_equals_mirror(bm)
    assert bm["accuracy"]["board"] >= 0.95, bm["accuracy"]
    readme_host_row_is_this_run(bm)


def test_the_deployed_files_carry_normalisation_and_labels(jv, bm):
    for r in (jv, bm):
        f = weights_io.read(r["weights"])
        assert f.version == 2 and f.labels == r["labels"] and f.norm == r["norm"]
    assert weights_io.read(bm["weights"]).labels == ("Standing", "Running", "Walking", "Badminton")


def test_basic_motions_trained_on_the_board(on_board):
    b = on_board["board"]
    assert b["kernels"] == "c"                                              # tinyrnn.KERNELS on the unix port
    assert on_board["heap"] == board_training.HEAP and max(b["heap_used"]) < on_board["heap"]
    assert b["board_ms"] > 0 and len(b["losses"]) == on_board["consts"]["EPOCHS"]
    assert on_board["accuracy"] >= 0.90, on_board["accuracy"]
    # the mirror replays the board's training: every epoch's loss, every weight, every prediction
    assert on_board["mirror_losses"] == b["losses"]
    assert on_board["same_params"]
    assert on_board["mirror_pred"].tolist() == on_board["board_pred"].tolist()
    f = on_board["file"]
    assert f.labels == ("Standing", "Running", "Walking", "Badminton") and f.norm is not None
    # it learned: the loss fell by far
    assert b["losses"][-1] * 10 < b["losses"][0]
    # the README's row is this run's (examples/real_data.py prints it from the same run; the board time
    # is a wall time, not compared)
    acc, epochs, live, cap = rf.find(r"BasicMotions \| GRU 6-12-4 \| on the board \(unix port, C kernels\) \| \d+ \| - \| ([\d.]+) \| [^|]* \| "
                                     r"(\d+) epochs in [\d.]+ s of board time; (\d+) bytes live \(after a collection\) "
                                     r"under a (\d+)-byte hard heap cap")
    assert (acc, int(epochs), int(live), int(cap)) == ("%.4f" % on_board["accuracy"], len(b["losses"]),
                                                       max(b["heap_used"]), on_board["heap"])


def test_progress_lines_heap_cap_and_board_time_are_printed(on_board):
    out = on_board["stdout"]
    assert "on c kernels (tinyrnn.KERNELS)" in out
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(lines) == on_board["consts"]["EPOCHS"] and all("board time" in line for line in lines)
    assert "board time" in [line for line in out.splitlines() if line.startswith("RESULT")][0]


def test_the_examples_write_their_pictures(jv, bm, on_board, figures):
    names = ["jv_training.png", "jv_confusion.png", "motions_host_training.png", "motions_host_confusion.png",
             "motions_board_training.png", "motions_board_confusion.png"]
    for name in names:
        assert (figures / name).read_bytes()[:8] == PNG, name
