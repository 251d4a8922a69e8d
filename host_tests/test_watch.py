"""The smartwatch recordings seglearn ships (tinyrnn_host.interop.watch): read without importing
seglearn, SHA-256 checked before anything is unpickled, cut into short sequences per subject.
seglearn==1.2.5 is pinned (requirements-data.txt): missing, these tests fail (no skip)."""
import sys

import numpy as np
import pytest

from tinyrnn_host.interop import watch


@pytest.fixture(scope="module")
def w():
    return watch.load()


def test_the_file_is_the_pinned_one_and_seglearn_is_not_imported():
    d = watch.read()
    assert "seglearn" not in sys.modules
    assert len(d["X"]) == 140 and [str(v) for v in d["X_labels"]] == ["ax", "ay", "az", "wx", "wy", "wz"]
    assert sorted(np.unique(d["subject"]).tolist()) == list(range(1, 11))
    for s in range(1, 11):                          # each subject: every exercise, once per arm
        me = d["subject"] == s
        assert sorted(d["y"][me].tolist()) == sorted(list(range(7)) * 2)
        for k in range(7):
            assert sorted(d["side"][me & (d["y"] == k)].tolist()) == [0, 1]


def test_sequences_shapes_subjects_and_origins(w):
    assert w.x.shape == (1560, watch.STEPS, 6) and w.x.dtype == np.float64
    assert w.classes == ("PEN", "ABD", "FEL", "IR", "ER", "TRAP", "ROW")
    assert w.subjects() == list(range(1, 11))
    assert len(w.y) == len(w.subject) == len(w.recording) == len(w.part) == len(w)
    assert np.bincount(w.subject).tolist() == [0, 187, 180, 103, 99, 164, 160, 175, 161, 158, 173]
    d = watch.read()
    for i in (0, 500, 1559):                        # a sequence is its recording's 5-sample means, in place
        r = d["X"][w.recording[i]]
        start = w.part[i] * watch.STEPS * watch.DOWN
        want = r[start:start + watch.STEPS * watch.DOWN].reshape(watch.STEPS, watch.DOWN, 6).mean(axis=1)
        assert np.array_equal(w.x[i], want)
        assert w.subject[i] == d["subject"][w.recording[i]] and w.y[i] == d["y"][w.recording[i]]
    assert (w.part[:-1] + 1 == w.part[1:])[w.recording[:-1] == w.recording[1:]].all()
    assert set(np.unique(w.recording).tolist()) == set(range(140))   # every recording gives sequences


def test_a_damaged_copy_is_refused_before_it_is_read(tmp_path):
    blob = bytearray(watch.path().read_bytes())
    blob[len(blob) // 2] ^= 1
    bad = tmp_path / "watch_dataset.npy"
    bad.write_bytes(bytes(blob))
    with pytest.raises(watch.DataError, match=r"watch_dataset\.npy: SHA-256 [0-9a-f]{64}, expected %s" % watch.SHA256):
        watch.load(bad)


def test_without_seglearn_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setattr(watch.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(watch.DataError, match=r"pip install --no-deps seglearn==1\.2\.5"):
        watch.path()
