"""City names from the IANA time-zone database: learned character by character and sampled ON THE
BOARD (the unix port, viper, a hard heap cap), the training and the sampling replayed by the
mirror (the same names for the same seed, character for character); the held-out names'
cross-entropy per character below the unigram baseline. The data helpers (fast)."""
import numpy as np
import pytest

from tinyrnn_host.interop import names
from tinyrnn_host.reports import names_example


def test_the_names_come_from_tzdata_and_the_test_names_are_unseen():
    train, test = names.city_names()
    assert "lisbon" in train + test and "los angeles" in train + test and "buenos aires" in train + test
    assert 400 <= len(train) + len(test) <= 600 and len(test) == int(np.floor((len(train) + len(test)) * 0.2 + 0.5))
    assert not set(train) & set(test) and len(set(train)) == len(train)
    assert all(set(n) <= set(names.ALPHABET[1:]) for n in train + test)
    assert names.city_names() == (train, test)                       # the same split on every machine


def test_encode_shifts_the_name_by_one_character():
    xs, ys = names.encode("ab c")
    assert ys.tolist() == [1, 2, 27, 3, 0]
    assert xs.argmax(axis=1).tolist() == [0, 1, 2, 27, 3] and (xs.sum(axis=1) == 256).all()


def test_the_unigram_baseline_is_the_frequency_cross_entropy():
    # train "aab": counts a 2, b 1, END 1, +1 each over 29 symbols -> 33 in all; test "ba"
    ce = names.unigram_cross_entropy(["aab"], ["ba"])
    want = -(np.log(2 / 33) + np.log(3 / 33) + np.log(2 / 33)) / 3
    assert ce == pytest.approx(want, rel=1e-12)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return names_example.run(build=tmp_path_factory.mktemp("names"), figures=tmp_path_factory.mktemp("fig"),
                             progress=False, echo=False)


@pytest.mark.slow
def test_names_trained_and_sampled_on_the_board_equal_the_mirrors(run):
    b = run["board"]
    c = run["consts"]
    assert b["kernels"] == "c" and max(b["heap_used"]) < run["heap"]
    assert len(b["losses"]) == c["EPOCHS"] and b["losses"][-1] < b["losses"][0]
    assert run["mirror_losses"] == b["losses"] and run["same_params"]
    assert len(run["board_names"]) == c["SAMPLES"]
    assert run["mirror_names"] == run["board_names"]                 # character for character
    assert sum(len(n) for n in run["board_names"]) > 2 * c["SAMPLES"]  # names, not empty strings
    assert all(set(n) <= set(names.ALPHABET[1:]) for n in run["board_names"])
    ce = run["cross_entropy"]
    assert ce["test"] < ce["unigram"] - 0.2, ce
    assert run["file"].labels == tuple(names.ALPHABET)
    assert run["figures"][0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
