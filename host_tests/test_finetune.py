"""Fine-tuning a deployed model (lib/tinyrnn/finetune.py): a weights file made on the host is
loaded on the board, its head trained on the board's own data, saved back atomically with
its normalisation and labels; a run that makes the validation loss worse leaves the file as
it was and the model equal to it.

On the unix port (viper kernels) and under CPython: the two saved files are the same bytes
(training bit-exact, host_tests/test_train_subsets.py checks lib == mirror for train=)."""
import json

import numpy as np

from tinyrnn_host.board import mpunix
from tinyrnn import weights
from tinyrnn.finetune import finetune
from tinyrnn.model import Model
from tinyrnn.norm import Norm
from tinyrnn.optim import Adam

DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 2, "act": "softmax"}}
NORM = ([3, -5], [256, 300], [8, 8])
LABELS = ("still", "moving")


def data(n, seed, flip=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        y = int(rng.integers(0, 2))
        xs = (rng.integers(-100, 100, (4, 2)) + (200 if y else -200)).tolist()
        out.append([xs, (1 - y) if flip else y])
    return out


CASES = {"good": (data(8, 1), data(6, 2)), "bad": (data(8, 1, flip=True), data(6, 2))}
OPTS = {"loss": "ce", "targets": "last", "max_steps": 4}

SCRIPT = """
import json, os
from tinyrnn.finetune import finetune
from tinyrnn.optim import Adam
from tinyrnn import weights
out = {}
for name, (mine, val) in json.load(open('cases.json')).items():
    got = finetune(name + '.bin', mine, val, 4, train='head', optimizer=Adam(lr='0.05'), loss='ce',
                   targets='last', max_steps=4)
    out[name] = [list(got), name + '.bin.tmp' in os.listdir('.')]
json.dump(out, open('out.json', 'w'))
"""


def deployed(path):
    m = Model(DESC, seed=7)
    m.norm = Norm(*NORM)
    m.labels = LABELS
    weights.save(m, str(path))
    return path.read_bytes()


def test_finetune_on_the_board_keeps_norm_labels_and_falls_back(tmp_path):
    original = deployed(tmp_path / "orig.bin")
    files = {"cases.json": json.dumps(CASES).encode(), "good.bin": original, "bad.bin": original}
    res = mpunix.run_unix(SCRIPT, heap_bytes=1 << 20, files=files, collect=["out.json", "good.bin", "bad.bin"])
    out = json.loads(res.files["out.json"])
    host = {}
    for name, (mine, val) in CASES.items():          # the same under CPython
        p = tmp_path / (name + ".bin")
        p.write_bytes(original)
        host[name] = list(finetune(str(p), mine, val, 4, train="head", optimizer=Adam(lr="0.05"), **OPTS))
        assert not (tmp_path / (name + ".bin.tmp")).exists()
        assert res.files[name + ".bin"] == p.read_bytes(), "board and CPython saved different files"
    assert {k: v[0] for k, v in out.items()} == host and not any(v[1] for v in out.values())

    kept, before, after = host["good"]
    assert kept and after < before, "fine-tuning on the user's data lowered the validation loss"
    tuned = weights.load(str(tmp_path / "good.bin"))
    start = weights.load(str(tmp_path / "orig.bin"))
    assert tuned.labels == LABELS and (tuned.norm.offset, tuned.norm.mul, tuned.norm.shift) == \
        (start.norm.offset, start.norm.mul, start.norm.shift), "norm and labels kept"
    gru = len(tuned.layers[0].p)
    assert bytes(tuned.params)[:2 * gru] == bytes(start.params)[:2 * gru], "the frozen GRU changed"
    assert bytes(tuned.params)[2 * gru:] != bytes(start.params)[2 * gru:], "the head did not move"

    kept, before, after = host["bad"]
    assert not kept and after > before, "the run on flipped labels made the validation loss worse"
    assert res.files["bad.bin"] == original, "a worse run left the file as it was"


def test_fallback_model_equals_the_file(tmp_path):
    p = tmp_path / "m.bin"
    original = deployed(p)
    m = Model(DESC, seed=1)
    mine, val = CASES["bad"]
    kept, _, _ = finetune(str(p), mine, val, 4, model=m, optimizer=Adam(lr="0.05"), **OPTS)
    assert not kept and bytes(m.params) == bytes(weights.load(str(p)).params) and p.read_bytes() == original
    assert m.labels == LABELS


def test_bad_arguments_change_nothing(tmp_path):
    p = tmp_path / "m.bin"
    original = deployed(p)
    mine, val = CASES["good"]
    for kw, err in (({"train": "heads"}, ValueError), ({"epochs": 0}, ValueError), ({"val": []}, ValueError)):
        args = dict(dict(epochs=4, val=val), **kw)
        try:
            finetune(str(p), mine, args.pop("val"), args.pop("epochs"), optimizer=Adam(), **dict(OPTS, **args))
        except err as e:
            assert any(w in str(e) for w in ("train", "epochs", "val")), e
        else:
            raise AssertionError("accepted %r" % kw)
        assert p.read_bytes() == original
