"""Trainable subsets (Trainer(..., train=...)): only the named layers learn.

- bit-exact four ways: after 20 updates, every weight, every master weight and every epoch's
  loss of lib on the VM (bytecode kernels), on the unix port (viper kernels) and under CPython
  == the NumPy mirror given the same train=, for the head only, the last recurrent layer (the
  head frozen above it: deltas pass through), the last layer with the head, and a middle one;
- the frozen parameters are byte-identical after training, the trained ones moved;
- frozen parameters cost nothing: master weights, gradients and optimizer state hold the
  trained parameters only, the layers below the lowest trained one take no cache;
- a bad train= is refused naming the argument, the model unchanged;
- head-only Adam on a GRU 8-32-4 takes below 40 % of full-model Adam, measured on the unix
  port (the figure make sizes prints, reports/subsets.py)."""
import json

import numpy as np
import pytest

from tinyrnn_host.board import mpunix, mpvm
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer
from tinyrnn_host.reports import subsets
from tinyrnn import optim as l_optim
from tinyrnn.model import Model as LibModel
from tinyrnn.train import Trainer as LibTrainer

EPOCHS, BATCH, N_SEQ = 5, 2, 8            # 4 updates per epoch: 20 updates
TWO = [{"kind": "lstm", "hidden": 4}, {"kind": "gru", "hidden": 5}]


def case(i, name, layers, train, opt=("Adam", {"lr": "0.05"}), loss="mse", options=None):
    rng = np.random.default_rng(5000 + i)
    desc = {"input": 3, "layers": layers, "head": {"out": 3, "act": "softmax" if loss == "ce" else "tanh"}}
    T = 5
    data = []
    for _ in range(N_SEQ):
        xs = rng.integers(-384, 385, (T, 3)).tolist()
        ys = rng.integers(0, 3, T).tolist() if loss == "ce" else rng.integers(-200, 200, (T, 3)).tolist()
        data.append([xs, ys])
    return {"name": name, "desc": desc, "seed": int(rng.integers(1, 2**31)), "train": train, "opt": opt,
            "loss": loss, "T": T, "options": options or {}, "data": data}


CASES = [
    case(0, "gru-head", [{"kind": "gru", "hidden": 6}], "head"),
    case(1, "gru-layer-head-frozen", [{"kind": "gru", "hidden": 6}], [-2], loss="ce"),
    case(2, "two-last-layer+head", TWO, [-2, -1], opt=("Momentum", {"lr": "0.05", "momentum": "0.9"})),
    case(3, "two-last-layer", TWO, [1], options={"clip_norm": "0.01", "weight_decay": "0.05"}),
    case(4, "mixed-middle", [{"kind": "elman", "hidden": 4}, {"kind": "dense", "out": 4, "act": "sigmoid"},
                             {"kind": "lstm", "hidden": 3}], [1], opt=("RMSprop", {"lr": "0.02"}),
         options={"window": 2}),
    case(5, "two-head-sgd-ce", TWO, [2], opt=("SGD", {"lr": "0.5"}), loss="ce"),
]

SCRIPT = r"""
import json
from tinyrnn.model import Model
from tinyrnn.train import Trainer
from tinyrnn import optim

out = {}
for c in json.load(open('cases.json')):
    m = Model(c['desc'], c['seed'])
    opt = getattr(optim, c['opt'][0])(**c['opt'][1])
    t = Trainer(m, loss=c['loss'], optimizer=opt, max_steps=c['T'], train=c['train'], **c['options'])
    hist = t.fit(c['data'], %d, batch_size=%d, verbose=False)
    out[c['name']] = [list(m.params), list(t.master), [list(h) for h in hist]]
with open('out.json', 'w') as f:
    json.dump(out, f)
""" % (EPOCHS, BATCH)


def run_lib(c):
    m = LibModel(c["desc"], c["seed"])
    opt = getattr(l_optim, c["opt"][0])(**c["opt"][1])
    t = LibTrainer(m, loss=c["loss"], optimizer=opt, max_steps=c["T"], train=c["train"], **c["options"])
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH, verbose=False)
    return [list(m.params), list(t.master), [list(h) for h in hist]], t


def run_mirror(c):
    m = MirrorModel(c["desc"], c["seed"])
    opt = getattr(m_optim, c["opt"][0])(**c["opt"][1])
    t = MirrorTrainer(m, loss=c["loss"], optimizer=opt, train=c["train"], **c["options"])
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH)
    master = np.concatenate([t.master[n].ravel() for n in t.names]) if t.names else np.zeros(0, np.int64)
    return [m.flat_params().tolist(), master.tolist(), [list(h) for h in hist]]


@pytest.fixture(scope="module")
def vm_results():
    res = mpvm.run_vm(SCRIPT, heap_bytes=4 << 20, allow_growth=True, mpy=True,
                      files={"cases.json": json.dumps(CASES).encode()}, collect=["out.json"])
    return json.loads(res.files["out.json"])


@pytest.fixture(scope="module")
def unix_results():
    res = mpunix.run_unix(SCRIPT, heap_bytes=4 << 20, files={"cases.json": json.dumps(CASES).encode()},
                          collect=["out.json"])
    return json.loads(res.files["out.json"])


def trained_range(c):
    """[a, b): the trained parameters' indices in model.params, from the layer sizes."""
    m = LibModel(c["desc"], c["seed"])
    n = len(m.layers)
    idx = sorted(i % n for i in ([n - 1] if c["train"] == "head" else c["train"]))
    sizes = [len(L.p) for L in m.layers]
    return sum(sizes[:idx[0]]), sum(sizes[:idx[-1] + 1])


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_subset_training_four_ways(c, vm_results, unix_results):
    mirror = run_mirror(c)
    lib, t = run_lib(c)
    assert lib == mirror, "CPython lib != mirror"
    assert vm_results[c["name"]] == mirror, "VM (bytecode kernels) != mirror"
    assert unix_results[c["name"]] == mirror, "unix port (viper kernels) != mirror"
    before = LibModel(c["desc"], c["seed"]).params
    after = np.array(mirror[0], np.int16).tobytes()
    a, b = trained_range(c)
    raw = before.tobytes() if hasattr(before, "tobytes") else bytes(before)
    assert after[:2 * a] == raw[:2 * a] and after[2 * b:] == raw[2 * b:], "a frozen parameter changed"
    assert after[2 * a:2 * b] != raw[2 * a:2 * b], "the trained parameters did not move"
    assert len(t.master) == len(t.grad) == b - a, "master weights and gradients for the trained ones only"
    assert mirror[2][-1][0] < mirror[2][0][0], "the loss went down"


def test_frozen_cost_nothing():
    c = CASES[2]                                        # LSTM, GRU, head: the last layer and the head learn
    m = LibModel(c["desc"], c["seed"])
    full = LibTrainer(m, optimizer=l_optim.Adam(), max_steps=4)
    sub = LibTrainer(LibModel(c["desc"], c["seed"]), optimizer=l_optim.Adam(), max_steps=4, train=[-2, -1])
    a, b = trained_range(c)
    assert len(sub.opt.m) == len(sub.opt.v) == len(sub.master) == len(sub.grad) == b - a < m.n_params
    lstm = m.layers[0]
    per_step = lstm.n_in + 2 * len(lstm.h) + lstm.WORK * lstm.n_hid
    assert len(full.cache) - len(sub.cache) == 4 * per_step, "no cache for the frozen LSTM below"


@pytest.mark.parametrize("bad, err", [
    ("heads", ValueError), ("", ValueError), ([], ValueError), ([3], ValueError), ([-4], ValueError),
    ([0, 2], ValueError), ([1, 1], ValueError), (["1"], TypeError), ([1.0], TypeError), (1, TypeError),
    (None, TypeError), ({"layers": 1}, TypeError)])
def test_bad_train_refused(bad, err):
    c = CASES[2]
    m = LibModel(c["desc"], c["seed"])
    raw = bytes(m.params)
    opt = l_optim.Adam()
    with pytest.raises(err, match="train"):
        LibTrainer(m, optimizer=opt, max_steps=4, train=bad)
    assert bytes(m.params) == raw and opt.m is None, "nothing changed"


def test_head_only_adam_below_40_percent_measured():
    rows = subsets.measure(subsets.GRU_8_32_4, subsets.SUBSETS[:2])
    (_, _, full, b_full, _), (_, _, head, b_head, _) = rows
    assert head < 0.40 * full, "head-only Adam %d bytes vs full-model Adam %d" % (head, full)
    for m, b in ((full, b_full), (head, b_head)):         # the budget counts what is allocated
        assert abs(b - m) <= max(0.10 * m, 256), (m, b)
