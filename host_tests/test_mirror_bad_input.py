"""The board's bad-input cases (device_tests/bad_input.py) run against the NumPy mirror,
wherever the mirror has the same concept: each call must raise the board's exception
with the board's words (the mirror's arrays carry a batch index more: the board's
`step: x[1]` is the mirror's `step: x[0][1]` for row 0), and leave the model's
parameters and state, the trainer's master weights, gradients, loss sums and PRNG and
the optimizer's state exactly as they were. Then the cases the issue found (a
description typo, a float or out-of-range input, a kind typo) and the mirror's own
(shapes, dtypes, batch sizes, normalisation)."""
import sys

import numpy as np
import pytest

from tinyrnn_host import paths
from tinyrnn_host.interop import weights_io
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror import q88 as m_q88
from tinyrnn_host.mirror.model import Model
from tinyrnn_host.mirror.norm import Norm
from tinyrnn_host.mirror.train import Trainer

sys.path.insert(0, str(paths.device_tests()))
import bad_input as B  # noqa: E402

SEQ = (list, tuple)


class World:
    """The board suite's World on the mirror: a model, its Adam trainer with state everywhere."""

    def __init__(self):
        self.m = Model(B.DESC, seed=3)
        self.opt = m_optim.Adam(lr="0.05")
        self.t = Trainer(self.m, optimizer=self.opt, max_steps=4)
        self.t.train_sequence(B.XS, B.YS)
        self.t.train_sequence(B.XS, B.YS)
        self.t.accumulate([B.XS], [B.YS])
        self.m.step([[128, -128]])

    def snapshot(self):
        m, t, o = self.m, self.t, self.opt
        arrays = list(m.params.values()) + m.h + [c for c in m.c if c is not None]
        arrays += list(t.master.values()) + list(t.grad.values()) + [o.m, o.v]
        return ([a.tobytes() for a in arrays] + [a.shape for a in arrays]
                + [o.lr, o.b1t, o.b2t, t.rng.state, t.n_targets, t.loss_num, t.loss_den, m.desc == B.DESC])


def batched(words, name):
    """The board's words for one sequence, as the mirror says them for row 0 of a batch."""
    return words.replace(name, name + "[0]", 1)


def cases():
    out = []
    for exc, words, desc in B.bad_descs():
        out.append(("desc", exc, words, lambda w, d=desc: Model(d)))
    for exc, words, kw in B.bad_model_args():
        if "kernels" not in kw:                      # the mirror has one kind of kernel
            out.append(("model-args", exc, words, lambda w, kw=kw: Model(B.DESC, **kw)))
    for exc, words, x in B.bad_steps():
        if isinstance(x, SEQ) or type(x).__name__ == "array":   # a row: the mirror gets a batch of one
            out.append(("step", exc, batched(words, "step: x"), lambda w, x=x: w.m.step([x])))
        else:
            out.append(("step", exc, words, lambda w, x=x: w.m.step(x)))
    for exc, words, xs in B.bad_runs():
        if isinstance(xs, SEQ) and xs:
            out.append(("run", exc, batched(words, "run: xs"), lambda w, xs=xs: w.m.run([xs])))
        elif isinstance(xs, SEQ):
            out.append(("run", exc, words, lambda w: w.m.run([[]])))
        else:
            out.append(("run", exc, words, lambda w, xs=xs: w.m.run(xs)))
    for exc, words, kw in B.bad_trainer_args():
        if kw == {"max_steps": None}:                # the mirror's default: sequences of any length
            continue
        out.append(("trainer", exc, words, lambda w, kw=kw: Trainer(w.m, **kw)))
    for exc, words, m in B.bad_trainer_models():
        out.append(("trainer", exc, words, lambda w, m=m: Trainer(Model(m) if isinstance(m, dict) else m)))
    for exc, words, xs, ys in B.bad_pairs():
        out.append(("sequence", exc, words, lambda w, xs=xs, ys=ys: w.t.train_sequence(xs, ys)))
    for exc, words, f, a in B.bad_trainer_calls():
        if f == "accumulate":                        # the mirror's takes a batch
            wrap = [[v] if isinstance(v, SEQ) else v for v in a]
            if isinstance(a[0], SEQ):
                words = batched(batched(words, "xs"), "ys")
            out.append(("sequence", exc, words, lambda w, a=wrap: w.t.accumulate(*a)))
        else:
            out.append(("sequence", exc, words, lambda w, f=f, a=a: getattr(w.t, f)(*a)))
    for exc, words, f, a, kw in B.bad_fits():
        if f == "fit":                               # the mirror has no epochs() generator
            if "schedule" in kw and kw["schedule"] is B.StepDecay:
                kw = dict(kw, schedule=m_optim.StepDecay)
            out.append(("fit", exc, words, lambda w, a=a, kw=kw: w.t.fit(*a, **kw)))
    for exc, words, cls, a, kw in B.bad_optim_args():
        mirror_cls = getattr(m_optim, cls.__name__)
        out.append(("optim", exc, words, lambda w, c=mirror_cls, a=a, kw=kw: c(*a, **kw)))
    out.append(("optim", TypeError, "lr0 must be an int, got str", lambda w: m_optim.StepDecay(2).lr("0.1", 1)))
    out.append(("optim", ValueError, "epoch=-1 is out of range", lambda w: m_optim.ExpDecay().lr(655, -1)))
    return out


class NotInMirror(Exception):
    """A board function the host side does not have (or, as q88.sat, means otherwise)."""


class HostModule:
    """A host module standing where the board suite's cases look up a board module: the
    names in `same` are the host's (the same concept); any other raises NotInMirror."""

    def __init__(self, module, same):
        self._module, self._same = module, same

    def __getattr__(self, name):
        if name in self._same:
            return getattr(self._module, name)

        def missing(*a, **kw):
            raise NotInMirror(name)
        return missing


def host_cases(group, board_name, host):
    """The board suite's cases of `group`, with its module `board_name` replaced by `host`
    while they are made and run; those that reach a board-only function are left out."""
    def swapped(fn):
        keep = getattr(B, board_name)
        setattr(B, board_name, host)
        try:
            return fn()
        finally:
            setattr(B, board_name, keep)
    out, world = [], World()
    for exc, words, call in swapped(getattr(B, group + "_cases")):
        def on_host(w, call=call):
            return swapped(lambda: call(w))
        try:
            on_host(world)
        except NotInMirror:
            continue
        except Exception:
            pass
        out.append((group, exc, words, on_host))
    return out


# q88.sat clamps any int in the mirror (it works on wide intermediates): not the board's sat
MIRROR_Q88 = HostModule(m_q88, ("add", "sub", "mul", "div", "dot", "to_str", "from_str"))
# the host saves (desc, params) and has no load_into: load, file_crc and the error are the concept
HOST_WEIGHTS = HostModule(weights_io, ("load", "file_crc", "WeightsError"))


CASES = cases() + host_cases("q88", "q88", MIRROR_Q88) + host_cases("weights", "weights", HOST_WEIGHTS)


def test_most_of_the_board_cases_run_here():
    assert len(CASES) >= 230, len(CASES)
    assert len([c for c in CASES if c[0] == "q88"]) >= 60
    assert len([c for c in CASES if c[0] == "weights"]) >= 8


@pytest.fixture(scope="module", autouse=True)
def files(bad_input_files):
    """The weights cases read the board suite's files (conftest.bad_input_files)."""


def check(exc, words, call):
    w = World()
    before = w.snapshot()
    with pytest.raises(exc) as e:
        call(w)
    msg = str(e.value)
    if exc is KeyError:
        msg = msg.strip("'\"")
    assert words in msg, "message %r does not contain %r" % (msg, words)
    assert w.snapshot() == before, "state changed"


@pytest.mark.parametrize("group, exc, words, call", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_board_case_on_the_mirror(group, exc, words, call):
    check(exc, words, call)


# ---- the cases the issue found, and the mirror's own --------------------------------
GRU = [{"kind": "gru", "hidden": 3}]
OWN = [
    (ValueError, "unknown key 'layer'", lambda w: Model({"input": 2, "layer": GRU, "head": {"out": 1}})),
    (ValueError, "layer 0: kind 'gur' is not one of elman, lstm, gru, dense",
     lambda w: Model({"input": 2, "layers": [{"kind": "gur", "hidden": 3}]})),
    (ValueError, "layer 0: unknown key 'dropout'",
     lambda w: Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3, "dropout": 1}]})),
    (TypeError, "step: x[0][0] must be a Q8.8 int, got float", lambda w: w.m.step([[0.5, 0]])),
    (TypeError, "step: x[0][0] must be a Q8.8 int, got float64", lambda w: w.m.step(np.array([[0.5, 0]]))),
    (TypeError, "step: x[0][0] must be a Q8.8 int, got bool", lambda w: w.m.step(np.array([[True, False]]))),
    (ValueError, "step: x[0][0]=40000 is outside Q8.8 range", lambda w: w.m.step([[40000, 0]])),
    (ValueError, "step: x[0][1]=-40000 is outside Q8.8 range", lambda w: w.m.step(np.array([[0, -40000]]))),
    (ValueError, "step: x must be a (B, 2) array, got shape (2,)", lambda w: w.m.step([256, 0])),
    (ValueError, "step: x holds 3 sequences, the state 1: call reset(batch=3)", lambda w: w.m.step([[0, 0]] * 3)),
    (ValueError, "run: xs must be a (B, T, 2) array, got shape (3, 2)", lambda w: w.m.run(B.XS)),
    (ValueError, "run: xs[1] has 2 values, expected 3", lambda w: w.m.run([B.XS, B.XS[:2]])),
    (ValueError, "batch=0 is out of range", lambda w: w.m.reset(batch=0)),
    (TypeError, "batch must be an int, got float", lambda w: w.m.reset(batch=2.0)),
    (KeyError, "params: 'head.bias' is missing",
     lambda w: Model(B.DESC, params={k: v for k, v in w.m.params.items() if k != "head.bias"})),
    (ValueError, "params['head.bias'] has 2 values, expected 1",
     lambda w: Model(B.DESC, params=dict(w.m.params, **{"head.bias": [1, 2]}))),
    (ValueError, "params['head.bias'][0]=70000 is outside",
     lambda w: Model(B.DESC, params=dict(w.m.params, **{"head.bias": [70000]}))),
    (ValueError, "xs[0][2][0]=40000 is outside", lambda w: w.t.accumulate([[[0, 0], [0, 0], [40000, 0]]], [B.YS])),
    (ValueError, "ys[0] has 2 values, expected 3", lambda w: w.t.accumulate([B.XS], [B.YS[:2]])),
    (TypeError, "dataset must be a list", lambda w: w.t.fit("xy", 1)),
    (TypeError, "optimizer must be SGD, Momentum, RMSprop or Adam", lambda w: Trainer(w.m, optimizer=B.Adam())),
    (TypeError, "norm: raw values must be ints, got float64", lambda w: NORM.apply(np.array([[0.5, 1.0]]))),
    (ValueError, "norm: raw values have (3,) channels, the model takes 2", lambda w: NORM.apply([[1, 2, 3]])),
    (ValueError, "norm: raw values outside [-32768, 32767]", lambda w: NORM.apply([[1, 40000]])),
    (ValueError, "norm: mul[1]=20000 is outside 0..16383", lambda w: Norm([0, 0], [1, 20000], [0, 0])),
]
NORM = Norm([0, 0], [256, 256], [0, 0])


@pytest.mark.parametrize("exc, words, call", OWN, ids=[c[1][:40] for c in OWN])
def test_mirror_refuses(exc, words, call):
    check(exc, words, call)


def test_class_targets_are_checked():
    soft = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 3, "act": "softmax"}}
    t = Trainer(Model(soft, seed=2), loss="ce")
    with pytest.raises(ValueError, match=r"ys\[1\]=3: a class target must be an int in 0..2"):
        t.train_sequence(B.XS, [0, 3, 1])
    with pytest.raises(TypeError, match=r"ys\[0\]=0.5: a class target"):
        t.train_sequence(B.XS, [0.5, 1, 1])
    assert t.train_sequence(B.XS, [0, 2, 1]) > 0


@pytest.mark.parametrize("args, exc, words", [
    (([0.5, 0], [1, 1], [0, 0]), TypeError, "norm: offset[0] must be an int, got float"),
    (([0, 0], [1, 1], [0, 17]), ValueError, "norm: shift[1]=17 is outside 0..16"),
    (([0, 0], [1], [0, 0]), ValueError, "norm: offset, mul and shift need one value per channel, got 2, 1, 2"),
    (([0, 40000], [1, 1], [0, 0]), ValueError, "norm: offset[1]=40000 is outside -32768..32767"),
])
def test_norm_refuses_what_the_board_refuses(args, exc, words):
    board_norm = paths.import_board("tinyrnn.norm")
    for make in (Norm, board_norm.Norm):
        with pytest.raises(exc) as e:
            make(*args)
        assert words in str(e.value), (make, str(e.value))
