"""The unix port as the fourth party: C kernels == viper kernels == bytecode kernels == NumPy mirror.

The bit-exact suites of test_cells_bitexact.py (random models per cell, with
saturating weights and extreme inputs) and test_train_bitexact.py (training with
every optimizer and option) run their board scripts on the MicroPython unix port
too, once with the C kernels (the x64 native module _c.mpy), once with the viper
kernels (native x64 code) and once forced to the bytecode ones, and every output, state, weight and loss must equal the mirror's.
"""
import json

import numpy as np
import pytest

import test_cells_bitexact as cells
import test_train_bitexact as train
from tinyrnn_host.board import mpunix

KERNELS = ["c", "viper", "bytecode"]


def forced(script, kernels):
    """The board script with the kernels forced, and a check that they were used."""
    return ("import tinyrnn\nfrom tinyrnn import kernels as _k\n_k.use(%r)\n" % kernels + script
            + "\nassert tinyrnn.KERNELS == %r, tinyrnn.KERNELS\n" % kernels)


@pytest.fixture(scope="module")
def cell_cases():
    return {kind: cells.make_cases(kind, 60, 500 + i) for i, kind in enumerate(cells.KINDS)}


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("kind", cells.KINDS)
def test_models_on_the_unix_port(kind, kernels, cell_cases):
    cases = cell_cases[kind]
    meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cases]
    xs = np.concatenate([c["xs"].ravel() for c in cases]).astype("<i2").tobytes()
    res = mpunix.run_unix(forced(cells.VM_SCRIPT, kernels), heap_bytes=16 << 20,
                          files={"cases.json": json.dumps(meta).encode(), "xs.bin": xs}, collect=["out.bin"])
    flat = np.frombuffer(res.files["out.bin"], dtype="<i2").astype(np.int64)
    at = 0
    for i, case in enumerate(cases):
        want = cells.mirror_once(case)
        got = flat[at:at + want.size].reshape(want.shape)
        at += want.size
        assert np.array_equal(got, want), "unix port (%s) != mirror, %s model %d %r" % (kernels, kind, i, case["desc"])
    assert at == flat.size


@pytest.fixture(scope="module")
def train_runs():
    out = {}
    for kernels in KERNELS:
        res = mpunix.run_unix(forced(train.VM_SCRIPT, kernels), heap_bytes=16 << 20,
                              files={"cases.json": json.dumps(train.CASES).encode()}, collect=["out.json"])
        out[kernels] = json.loads(res.files["out.json"])
    return out


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("case", train.CASES, ids=[c["name"] for c in train.CASES])
def test_training_on_the_unix_port(case, kernels, train_runs):
    assert train_runs[kernels][case["name"]] == train.run_mirror(case), "unix port (%s) != mirror" % kernels
