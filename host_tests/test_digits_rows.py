"""The 8x8 digits read row by row, end to end (slow tier): host-trained in float64, quantised and
classified on the virtual board over every held-out image, every board output equal to the
NumPy mirror's; a smaller GRU trained from scratch on the unix port (viper, hard heap cap),
replayed bit for bit by the mirror trainer. The examples' own recipes run here."""
import importlib.util

import numpy as np
import pytest

from tinyrnn_host import paths
from tinyrnn_host.interop import images, weights_io
from tinyrnn_host.reports import board_training, classify_example

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


@pytest.fixture(scope="module")
def host(tmp_path_factory, figures):
    spec = importlib.util.spec_from_file_location("digits_rows", paths.examples() / "digits_rows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return classify_example.run(mod.RECIPE, build=tmp_path_factory.mktemp("digits_host"), figures=figures,
                                progress=False)


@pytest.fixture(scope="module")
def on_board(tmp_path_factory, figures):
    return board_training.run(board_training.DIGITS, build=tmp_path_factory.mktemp("digits_board"),
                              figures=figures, progress=False, echo=False)


def test_host_trained_gru_classifies_the_held_out_digits_on_the_board(host):
    test = images.digits("test")
    assert host["n_test"] == len(test) == 359 and host["y"].tolist() == test.y.tolist()
    assert host["board_equals_mirror"] == 359
    assert [list(o) for o in host["board_outputs"]] == host["mirror_outputs"].tolist()   # every value
    assert host["accuracy"]["board"] >= 0.95, host["accuracy"]
    assert int(np.trace(host["confusion"])) == int((host["board_pred"] == test.y).sum())
    f = weights_io.read(host["weights"])
    assert f.desc["input"] == 8 and f.labels == tuple("0123456789")
    assert f.norm.offset.tolist() == [8] * 8 and f.norm.mul.tolist() == [32] * 8     # the pixel scaling


def test_smaller_gru_trained_on_the_board_is_replayed_by_the_mirror(on_board):
    b = on_board["board"]
    assert b["kernels"] == "c" and max(b["heap_used"]) < on_board["heap"] == board_training.HEAP
    assert len(b["losses"]) == on_board["consts"]["EPOCHS"] and b["losses"][-1] * 5 < b["losses"][0]
    assert on_board["accuracy"] >= 0.90, on_board["accuracy"]
    assert on_board["mirror_losses"] == b["losses"]
    assert on_board["same_params"]
    assert on_board["mirror_pred"].tolist() == on_board["board_pred"].tolist()
    assert on_board["y"].tolist() == images.digits("test").y.tolist()
    assert on_board["file"].desc["layers"] == [{"kind": "gru", "hidden": on_board["consts"]["HIDDEN"]}]
    assert on_board["consts"]["HIDDEN"] < 32                          # smaller than the host-trained one


def test_the_digit_examples_write_their_confusion_matrices(host, on_board, figures):
    for name in ("digits_host_confusion.png", "digits_host_training.png", "digits_board_confusion.png",
                 "digits_board_training.png"):
        assert (figures / name).read_bytes()[:8] == PNG, name
