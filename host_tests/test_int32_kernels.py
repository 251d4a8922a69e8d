"""The viper kernels in 32-bit arithmetic: the stand-in for a 32-bit board.

Each viper kernel's own source runs under CPython with every int wrapping to
int32 (host_tests/int32_viper.py), fed extreme values (weights, inputs and
targets at the rails, rows of the longest supported length), and must equal the
exact result: the bytecode library under CPython (arbitrary-precision ints),
itself equal to the NumPy mirror in the other bit-exact suites. A mutant whose
row sum is a single unsplit sum must fail the same check.
"""
import random
from array import array

import pytest

import int32_viper
from tinyrnn import optim
from tinyrnn._cell import zeros
from tinyrnn.model import Model
from tinyrnn.train import Trainer

INF = int32_viper.load("_viper")
TRAIN = int32_viper.load("_viper_train")


def emulated(model, k=INF):
    """The model with every layer's step kernel replaced by its emulated viper twin."""
    model.kernels = "viper"          # (weights_changed() then leaves the bytecode flags alone)
    model._x = zeros("h", model.n_inputs)      # viper kernels read the input from a buffer
    for L in model.layers:
        L.kern = getattr(k, type(L).KERNEL)
        L.flags &= ~1                 # viper kernels ignore bit 0; clear it to be sure
    return model


def rails(rng, n):
    return [rng.choice((-32768, 32767)) for _ in range(n)]


def twin_models(desc, rng, extreme=True):
    ref = Model(desc, 1, kernels="bytecode")
    if extreme:
        ref.params[:] = array("h", rails(rng, ref.n_params))
        ref.weights_changed()
    emu = Model(desc, 1, kernels="bytecode")
    emu.params[:] = array("h", ref.params)
    return ref, emulated(emu)


CELLS = ["elman", "lstm", "gru"]


@pytest.mark.parametrize("kind", CELLS)
def test_inference_longest_rows_at_the_rails(kind):
    # 255 terms per row (_cell.MAX_ROW), every weight and input at +-128.0
    rng = random.Random(kind)
    I = 100
    desc = {"input": I, "layers": [{"kind": kind, "hidden": 255 - I}], "head": {"out": 4, "act": "softmax"}}
    ref, emu = twin_models(desc, rng)
    for _ in range(2):
        x = rails(rng, I)
        assert list(emu.step(x)) == list(ref.step(x))
        assert list(emu.state) == list(ref.state) and list(emu.work) == list(ref.work)
    assert int32_viper.Counter.mul_wraps == 0


@pytest.mark.parametrize("kind", CELLS)
def test_inference_random_models(kind):
    rng = random.Random(7 + len(kind))
    for trial in range(20):
        desc = {"input": rng.randint(1, 12),
                "layers": [{"kind": kind, "hidden": rng.randint(1, 16)},
                           {"kind": "dense", "out": rng.randint(1, 6), "act": rng.choice(["identity", "tanh"])}],
                "head": {"out": rng.randint(1, 5), "act": rng.choice(["identity", "sigmoid", "tanh", "softmax"])}}
        ref, emu = twin_models(desc, rng, extreme=trial % 2 == 0)
        for t in range(6):
            x = rails(rng, desc["input"]) if t % 2 else [rng.randint(-600, 600) for _ in range(desc["input"])]
            assert list(emu.step(x)) == list(ref.step(x)), (desc, t)
            assert list(emu.state) == list(ref.state)


MUTANTS = {   # each kernel's safe sum replaced by a single unsplit one
    "gru rows": ("_viper", "plain = int(I * int(_maxabs(x, I)) + H * int(_maxabs(h, H)) <= 64512)", "plain = 1", "gru"),
    "lstm rows": ("_viper", "plain = int(I * int(_maxabs(x, I)) + H * int(_maxabs(hc, H)) <= 64512)", "plain = 1", "lstm"),
    "dense rows": ("_viper", "plain = int(I * int(_maxabs(x, I)) <= 64512)", "plain = 1", "dense"),
    "backward matvec": ("_viper_train", "    plain = 0\n", "    plain = 1\n", "train"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_an_unsplit_sum_is_caught(name):
    module, old, new, case = MUTANTS[name]
    src = (int32_viper.LIB / (module + ".py")).read_text()
    assert src.count(old) >= 1
    k = int32_viper.load_source(src.replace(old, new), module)
    rng = random.Random(3)
    if case == "train":
        global TRAIN
        real, TRAIN = TRAIN, k
        try:
            ref, emu, (tr, te), _ = train_both(WIDE, "sgd", {}, "mse", rng, T=2, seqs=1, batch=1)
        finally:
            TRAIN = real
        assert list(te.master) != list(tr.master), "an unsplit backward sum must wrap at the rails"
        return
    if case == "dense":
        desc = {"input": 255, "head": {"out": 3, "act": "identity"}}
    else:
        desc = {"input": 100, "layers": [{"kind": case, "hidden": 155 if case == "gru" else 155}]}
    ref, emu = twin_models(desc, rng)
    emulated(emu, k)
    x = rails(rng, desc["input"])
    assert list(emu.step(x)) != list(ref.step(x)), "a single unsplit sum must wrap at the rails"


OPTS = {"sgd": ("SGD", {"lr": "1.0"}), "momentum": ("Momentum", {"lr": "1.0", "momentum": "0.99"}),
        "rmsprop": ("RMSprop", {"lr": "1.0", "alpha": "0.5"}), "adam": ("Adam", {"lr": "1.0", "beta1": "0.5"})}
OPTIONS = [{}, {"clip_value": "0.5"}, {"clip_norm": "2.0", "weight_decay": "1.0"}]


def train_both(desc, opt, options, loss, rng, T=4, seqs=4, batch=2, window=None):
    ref, emu = twin_models(desc, rng)
    emu.kernels = "bytecode"           # build the trainer as bytecode, then swap its kernels in
    trainers = []
    for m in (ref, emu):
        name, args = OPTS[opt]
        trainers.append(Trainer(m, loss=loss, optimizer=getattr(optim, name)(**args), max_steps=T,
                                window=window, **options))
    emu.kernels = "viper"
    te = trainers[1]
    te.k = TRAIN
    te.opt.k = TRAIN
    for i in range(len(te._bfast)):
        te._bfast[i] = 0
    O = desc["head"]["out"]
    data = []
    for _ in range(seqs):
        xs = [rails(rng, desc["input"]) for _ in range(T)]
        ys = [rng.randrange(O) for _ in range(T)] if loss == "ce" else \
            [[rng.choice((-25600, 25600)) for _ in range(O)] for _ in range(T)]
        data.append((xs, ys))
    before = list(ref.params)
    hist = [t.fit(data, 2, batch_size=batch, shuffle=False, verbose=False) for t in trainers]
    assert list(ref.params) != before, "training must move the weights"
    return ref, emu, trainers, hist


@pytest.mark.parametrize("kind", CELLS + ["stack"])
@pytest.mark.parametrize("opt", list(OPTS))
def test_training_at_the_rails(kind, opt):
    rng = random.Random(kind + opt)
    if kind == "stack":
        layers = [{"kind": "gru", "hidden": 5}, {"kind": "dense", "out": 4, "act": "identity"},
                  {"kind": "lstm", "hidden": 3}]
    else:
        layers = [{"kind": kind, "hidden": 6}]
    for i, options in enumerate(OPTIONS):
        loss = "ce" if i == 1 else "mse"
        desc = {"input": 5, "layers": layers, "head": {"out": 3, "act": "softmax" if loss == "ce" else "identity"}}
        ref, emu, (tr, te), hist = train_both(desc, opt, options, loss, rng, window=2 if i == 2 else None)
        assert list(emu.params) == list(ref.params), (opt, options)
        assert list(te.master) == list(tr.master)
        assert hist[0] == hist[1]
    assert int32_viper.Counter.mul_wraps == 0


# identity layers keep the deltas at +-D (saturating activations would zero them), so the
# head's backward matvec sums 255 rows of |w d| ~ 2^29: the longest, largest columns
WIDE = {"input": 3, "layers": [{"kind": "dense", "out": 200, "act": "identity"}], "head": {"out": 255, "act": "identity"}}


@pytest.mark.parametrize("cell", [None] + CELLS)
def test_training_longest_columns(cell):
    rng = random.Random(11)
    desc = WIDE if cell is None else {"input": 3, "layers": [{"kind": cell, "hidden": 60}, {"kind": "dense", "out": 190, "act": "identity"}],
                                      "head": {"out": 255, "act": "identity"}}
    ref, emu, (tr, te), hist = train_both(desc, "sgd", {}, "mse", rng, T=2, seqs=1, batch=1)
    assert list(emu.params) == list(ref.params)
    assert list(te.master) == list(tr.master)
