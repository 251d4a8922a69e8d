"""Training, three ways: after 50 updates, every weight (Q8.8 and the Q8.16
master) and every epoch loss of lib under MicroPython (VM) == lib under
CPython == NumPy mirror, for every cell and optimizer on random models, and
for the loss/target/window/clipping/decay/schedule/batch options."""
import json

import numpy as np
import pytest

from tinyrnn_host.board import mpvm
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer
from tinyrnn import optim as l_optim
from tinyrnn.model import Model as LibModel
from tinyrnn.train import Trainer as LibTrainer

OPTS = {"sgd": ("SGD", {"lr": "0.1"}), "momentum": ("Momentum", {"lr": "0.05", "momentum": "0.9"}),
        "rmsprop": ("RMSprop", {"lr": "0.01"}), "adam": ("Adam", {"lr": "0.02"})}
N_SEQ, BATCH, EPOCHS = 10, 2, 10          # 5 updates per epoch: 50 updates


def make_case(i, kind, opt, loss="mse", targets="all", window=None, options=None, schedule=None):
    rng = np.random.default_rng(1000 + i)
    n_layers = int(rng.integers(1, 3))
    desc = {"input": int(rng.integers(1, 5)),
            "layers": [{"kind": kind, "hidden": int(rng.integers(1, 7))} for _ in range(n_layers)]}
    O = int(rng.integers(2, 5))
    act = "softmax" if loss == "ce" else ["identity", "sigmoid", "tanh"][i % 3]
    desc["head"] = {"out": O, "act": act}
    T = int(rng.integers(3, 9))
    data = []
    for _ in range(N_SEQ):
        xs = rng.integers(-384, 385, (T, desc["input"])).tolist()
        if loss == "ce":
            ys = rng.integers(0, O, T).tolist() if targets == "all" else int(rng.integers(0, O))
        else:
            shape = (T, O) if targets == "all" else (O,)
            ys = rng.integers(-200 if act != "sigmoid" else 0, 200, shape).tolist()
        data.append([xs, ys])
    return {"name": "%s-%s-%s-%s-%s-%d" % (kind, opt, loss, targets, window, i), "desc": desc,
            "seed": int(rng.integers(1, 2**31)), "opt": OPTS[opt], "loss": loss, "targets": targets,
            "window": window, "T": T, "options": options or {}, "schedule": schedule, "data": data}


def cases():
    out = []
    i = 0
    for kind in ("elman", "lstm", "gru"):
        for opt in OPTS:
            out.append(make_case(i, kind, opt))
            i += 1
    out.append(make_case(i, "gru", "adam", loss="ce")); i += 1
    out.append(make_case(i, "lstm", "adam", loss="ce", targets="last")); i += 1
    out.append(make_case(i, "elman", "momentum", window=2)); i += 1
    out.append(make_case(i, "gru", "sgd", options={"clip_value": "0.05", "weight_decay": "0.01"})); i += 1
    out.append(make_case(i, "lstm", "rmsprop", options={"clip_norm": "0.1"}, schedule=("step", 3, "0.5"))); i += 1
    out.append(make_case(i, "gru", "adam", loss="ce", window=3, schedule=("exp", 1, "0.9"))); i += 1
    return out


CASES = cases()

VM_SCRIPT = r"""
import json
from tinyrnn.model import Model
from tinyrnn.train import Trainer
from tinyrnn import optim

out = {}
for c in json.load(open('cases.json')):
    m = Model(c['desc'], c['seed'])
    opt = getattr(optim, c['opt'][0])(**c['opt'][1])
    t = Trainer(m, loss=c['loss'], optimizer=opt, targets=c['targets'], window=c['window'],
                max_steps=c['T'], **c['options'])
    sch = None
    if c['schedule']:
        kind, every, gamma = c['schedule']
        sch = optim.StepDecay(every, gamma) if kind == 'step' else optim.ExpDecay(gamma)
    hist = t.fit(c['data'], %d, batch_size=%d, schedule=sch, verbose=False)
    out[c['name']] = [list(m.params), list(t.master), [h[0] for h in hist]]
    m = t = None
with open('out.json', 'w') as f:
    json.dump(out, f)
""" % (EPOCHS, BATCH)


def schedule_of(c, optim_mod):
    if not c["schedule"]:
        return None
    kind, every, gamma = c["schedule"]
    return optim_mod.StepDecay(every, gamma) if kind == "step" else optim_mod.ExpDecay(gamma)


def run_lib(c):
    m = LibModel(c["desc"], c["seed"])
    t = LibTrainer(m, loss=c["loss"], optimizer=getattr(l_optim, c["opt"][0])(**c["opt"][1]),
                   targets=c["targets"], window=c["window"], max_steps=c["T"], **c["options"])
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH, schedule=schedule_of(c, l_optim), verbose=False)
    return [list(m.params), list(t.master), [h[0] for h in hist]]


def run_mirror(c):
    m = MirrorModel(c["desc"], c["seed"])
    t = MirrorTrainer(m, loss=c["loss"], optimizer=getattr(m_optim, c["opt"][0])(**c["opt"][1]),
                      targets=c["targets"], window=c["window"], **c["options"])
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH, schedule=schedule_of(c, m_optim))
    master = np.concatenate([t.master[n].ravel() for n in t.names])
    return [m.flat_params().tolist(), master.tolist(), [h[0] for h in hist]]


@pytest.fixture(scope="module")
def vm_results():
    res = mpvm.run_vm(VM_SCRIPT, heap_bytes=8 << 20, allow_growth=True, mpy=True,
                      files={"cases.json": json.dumps(CASES).encode()}, collect=["out.json"])
    return json.loads(res.files["out.json"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_training_three_ways(case, vm_results):
    mirror = run_mirror(case)
    lib = run_lib(case)
    vm = vm_results[case["name"]]
    assert lib == mirror, "CPython lib != mirror"
    assert vm == mirror, "VM != mirror"
    params0 = LibModel(case["desc"], case["seed"]).params
    assert list(params0) != mirror[0], "the weights must have moved"
    assert mirror[2][-1] < mirror[2][0] or case["schedule"], "the loss went down"
