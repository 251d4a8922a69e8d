"""Training, four ways: after 50 updates, every weight (Q8.8 and the Q8.16 master)
and every epoch's (loss, val loss) of lib on MicroPython (the VM with bytecode
kernels, the unix port with its default C kernels) == lib under CPython == NumPy mirror,
for every cell and optimizer on random models, and for the loss/target/window/
clipping/decay/schedule/batch options, state carried across sequences,
validation with patience, restore_best and a callback, batches of mixed-length
sequences, and dense layers in the middle of a stack.

Every option demonstrably acts: the mirror counts what each clip, decay and
schedule did (test_*_act), and a run without the option ends elsewhere."""
import json

import numpy as np
import pytest

from tinyrnn_host.board import mpunix, mpvm
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer
from tinyrnn import optim as l_optim
from tinyrnn.model import Model as LibModel
from tinyrnn.train import Trainer as LibTrainer

OPTS = {"sgd": ("SGD", {"lr": "0.1"}), "momentum": ("Momentum", {"lr": "0.05", "momentum": "0.9"}),
        "rmsprop": ("RMSprop", {"lr": "0.01"}), "adam": ("Adam", {"lr": "0.02"})}
N_SEQ, BATCH, EPOCHS = 10, 2, 10          # 5 updates per epoch: 50 updates


def make_case(i, kind, opt, loss="mse", targets="all", window=None, options=None, schedule=None,
              fit=None, mixed=False, layers=None):
    rng = np.random.default_rng(1000 + i)
    n_layers = int(rng.integers(1, 3))
    desc = {"input": int(rng.integers(1, 5)),
            "layers": layers or [{"kind": kind, "hidden": int(rng.integers(1, 7))} for _ in range(n_layers)]}
    O = int(rng.integers(2, 5))
    act = "softmax" if loss == "ce" else ["identity", "sigmoid", "tanh"][i % 3]
    desc["head"] = {"out": O, "act": act}
    T = int(rng.integers(3, 9))

    def sequences(n):
        out = []
        for _ in range(n):
            t = int(rng.integers(2, T + 1)) if mixed else T
            xs = rng.integers(-384, 385, (t, desc["input"])).tolist()
            if loss == "ce":
                ys = rng.integers(0, O, t).tolist() if targets == "all" else int(rng.integers(0, O))
            else:
                shape = (t, O) if targets == "all" else (O,)
                ys = rng.integers(-200 if act != "sigmoid" else 0, 200, shape).tolist()
            out.append([xs, ys])
        return out
    data = sequences(N_SEQ)
    fit = dict(fit or {})
    if fit.pop("val", False):
        fit["val"] = sequences(4)
    return {"name": "%s-%s-%s-%s-%s-%d" % (kind, opt, loss, targets, window, i), "desc": desc,
            "seed": int(rng.integers(1, 2**31)), "opt": OPTS[opt], "loss": loss, "targets": targets,
            "window": window, "T": T, "options": options or {}, "schedule": schedule, "fit": fit, "data": data}


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
    out.append(make_case(i, "gru", "sgd", options={"clip_value": "0.005", "weight_decay": "0.05"})); i += 1
    out.append(make_case(i, "lstm", "rmsprop", options={"clip_norm": "0.02"}, schedule=("step", 3, "0.5"))); i += 1
    out.append(make_case(i, "gru", "adam", loss="ce", window=3, schedule=("exp", 1, "0.9"))); i += 1
    out.append(make_case(i, "gru", "momentum", options={"stateful": True})); i += 1
    out.append(make_case(i, "lstm", "adam", options={"stateful": True}, window=2)); i += 1
    out.append(make_case(i, "gru", "adam", fit={"val": True, "patience": 2, "restore_best": True})); i += 1
    out.append(make_case(i, "elman", "sgd", fit={"val": True, "patience": 3, "restore_best": True,
                                                 "stop_at": 6})); i += 1
    out.append(make_case(i, "lstm", "momentum", fit={"patience": 2, "restore_best": True})); i += 1
    out.append(make_case(i, "gru", "rmsprop", fit={"val": True, "stop_at": 4})); i += 1
    out.append(make_case(i, "gru", "adam", mixed=True)); i += 1
    out.append(make_case(i, "lstm", "sgd", loss="ce", targets="last", mixed=True)); i += 1
    out.append(make_case(i, "mixed", "adam", layers=[{"kind": "lstm", "hidden": 4},
                                                     {"kind": "dense", "out": 3, "act": "tanh"},
                                                     {"kind": "gru", "hidden": 3}])); i += 1
    out.append(make_case(i, "mixed", "sgd", window=2, layers=[
        {"kind": "dense", "out": 5, "act": "sigmoid"}, {"kind": "elman", "hidden": 4},
        {"kind": "dense", "out": 3, "act": "identity"}])); i += 1
    return out


CASES = cases()

VM_SCRIPT = r"""
import json
from tinyrnn.model import Model
from tinyrnn.train import Trainer
from tinyrnn import optim

def run(c):
    m = Model(c['desc'], c['seed'])
    opt = getattr(optim, c['opt'][0])(**c['opt'][1])
    t = Trainer(m, loss=c['loss'], optimizer=opt, targets=c['targets'], window=c['window'],
                max_steps=c['T'], **c['options'])
    sch = None
    if c['schedule']:
        kind, every, gamma = c['schedule']
        sch = optim.StepDecay(every, gamma) if kind == 'step' else optim.ExpDecay(gamma)
    fit = dict(c['fit'])
    calls = []
    stop_at = fit.pop('stop_at', None)
    def cb(epoch, loss, vloss):
        calls.append([epoch, loss, vloss])
        return epoch == stop_at
    hist = t.fit(c['data'], %d, batch_size=%d, schedule=sch, verbose=False, callback=cb, **fit)
    return [list(m.params), list(t.master), [list(h) for h in hist], calls, opt.lr]

out = {}
for c in json.load(open('cases.json')):
    out[c['name']] = run(c)
with open('out.json', 'w') as f:
    json.dump(out, f)
""" % (EPOCHS, BATCH)


def schedule_of(c, optim_mod):
    if not c["schedule"]:
        return None
    kind, every, gamma = c["schedule"]
    return optim_mod.StepDecay(every, gamma) if kind == "step" else optim_mod.ExpDecay(gamma)


def fit_args(c):
    """The case's fit() keywords and a callback that logs each call and stops at stop_at."""
    fit = dict(c["fit"])
    stop_at = fit.pop("stop_at", None)
    calls = []

    def cb(epoch, loss, vloss):
        calls.append([epoch, loss, vloss])
        return epoch == stop_at
    return dict(fit, callback=cb), calls


def run_lib(c):
    m = LibModel(c["desc"], c["seed"])
    opt = getattr(l_optim, c["opt"][0])(**c["opt"][1])
    t = LibTrainer(m, loss=c["loss"], optimizer=opt,
                   targets=c["targets"], window=c["window"], max_steps=c["T"], **c["options"])
    fit, calls = fit_args(c)
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH, schedule=schedule_of(c, l_optim), verbose=False, **fit)
    return [list(m.params), list(t.master), [list(h) for h in hist], calls, opt.lr]


class Recorder(MirrorTrainer):
    """The mirror trainer, counting what each option did in every update."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.acted = {"clip_norm": 0, "clip_value": 0, "weight_decay": 0, "lrs": []}

    def update(self):
        if self.n_targets:
            self.acted["lrs"].append(self.opt.lr)
            N = self.n_targets
            g = np.concatenate([self.grad[n].ravel() for n in self.names])
            g = (g + 8 * N) // (16 * N)
            if self.clip_value is not None:
                self.acted["clip_value"] += int((np.abs(g) > self.clip_value).sum())
            if self.weight_decay:
                w = np.concatenate([self.master[n].ravel() for n in self.names])
                self.acted["weight_decay"] += int((m_optim.r16(self.weight_decay * w) != 0).sum())
        self.clipped = False
        super().update()
        self.acted["clip_norm"] += int(self.clipped)


def run_mirror(c, options=None, schedule=True, record=None):
    m = MirrorModel(c["desc"], c["seed"])
    opt = getattr(m_optim, c["opt"][0])(**c["opt"][1])
    t = Recorder(m, loss=c["loss"], optimizer=opt, targets=c["targets"], window=c["window"],
                 **(c["options"] if options is None else options))
    fit, calls = fit_args(c)
    hist = t.fit(c["data"], EPOCHS, batch_size=BATCH, schedule=schedule_of(c, m_optim) if schedule else None,
                 **fit)
    if record is not None:
        record.update(t.acted)
    master = np.concatenate([t.master[n].ravel() for n in t.names])
    return [m.flat_params().tolist(), master.tolist(), [list(h) for h in hist], calls, opt.lr]


@pytest.fixture(scope="module")
def vm_results():
    res = mpvm.run_vm(VM_SCRIPT, heap_bytes=8 << 20, allow_growth=True, mpy=True,
                      files={"cases.json": json.dumps(CASES).encode()}, collect=["out.json"])
    return json.loads(res.files["out.json"])


@pytest.fixture(scope="module")
def unix_results():
    res = mpunix.run_unix(VM_SCRIPT, heap_bytes=8 << 20, files={"cases.json": json.dumps(CASES).encode()},
                          collect=["out.json"])
    return json.loads(res.files["out.json"])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_training_three_ways(case, vm_results, unix_results):
    mirror = run_mirror(case)
    lib = run_lib(case)
    assert lib == mirror, "CPython lib != mirror"
    assert vm_results[case["name"]] == mirror, "VM (bytecode kernels) != mirror"
    assert unix_results[case["name"]] == mirror, "unix port (C kernels, its default) != mirror"
    params0 = LibModel(case["desc"], case["seed"]).params
    assert list(params0) != mirror[0], "the weights must have moved"
    assert mirror[4] == OPT_LR[case["opt"][0]], "the optimizer's own lr is back after fit"
    fit = case["fit"]
    hist, calls = mirror[2], mirror[3]
    assert [c[1:] for c in calls] == hist and [c[0] for c in calls] == list(range(len(hist))), \
        "the callback saw every epoch and its (loss, val loss)"
    if "stop_at" in fit:
        assert len(hist) <= fit["stop_at"] + 1
    if "val" in fit:
        assert all(v is not None for _, v in hist)
    if not fit and not case["schedule"]:
        assert hist[-1][0] < hist[0][0], "the loss went down"


OPT_LR = {name: m_optim.parse_q16(kw["lr"]) for name, kw in OPTS.values()}


def case_named(prefix):
    return next(c for c in CASES if c["name"].startswith(prefix))


def by_options(c):
    acted = {}
    run_mirror(c, record=acted)
    return acted


def test_clip_value_and_weight_decay_act():
    c = next(c for c in CASES if "clip_value" in c["options"])
    acted = by_options(c)
    assert acted["clip_value"] > 0, "no gradient was ever clipped by value"
    assert acted["weight_decay"] > 0, "weight decay never changed a gradient"
    full = run_mirror(c)
    assert run_mirror(c, options={"weight_decay": c["options"]["weight_decay"]})[1] != full[1]
    assert run_mirror(c, options={"clip_value": c["options"]["clip_value"]})[1] != full[1]


def test_clip_norm_acts():
    c = next(c for c in CASES if "clip_norm" in c["options"])
    acted = by_options(c)
    assert 0 < acted["clip_norm"], "the gradient norm never passed clip_norm"
    assert run_mirror(c, options={})[1] != run_mirror(c)[1]


@pytest.mark.parametrize("kind", ["step", "exp"])
def test_schedules_act(kind):
    c = next(c for c in CASES if c["schedule"] and c["schedule"][0] == kind)
    acted = by_options(c)
    lr0 = OPT_LR[c["opt"][0]]
    lrs = acted["lrs"]
    assert lrs[0] == lr0 and min(lrs) < lr0 // 2, "the schedule lowered the lr"
    assert run_mirror(c, schedule=False)[1] != run_mirror(c)[1]


def test_restore_best_and_patience_act():
    """The runs with patience stop early or restore: their weights differ from the last epoch's."""
    stopped = [c for c in CASES if c["fit"].get("patience")]
    assert any(len(run_mirror(c)[2]) < EPOCHS for c in stopped), "patience never stopped a run"
    restored = 0
    for c in stopped:
        hist = run_mirror(c)[2]
        scores = [v if v is not None else l for l, v in hist]
        if scores.index(min(scores)) < len(hist) - 1:       # the best epoch was not the last
            plain = run_mirror(dict(c, fit=dict(c["fit"], restore_best=False)))
            assert run_mirror(c)[1] != plain[1], "restore_best changed nothing"
            restored += 1
    assert restored, "no case went back to earlier weights"
