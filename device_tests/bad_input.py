# Bad input across the public API (q88, Model, Trainer, optimizers, schedules,
# weights): every call raises the stated exception, its message names the
# argument, and nothing changed: parameters, model state, master weights,
# gradients, optimizer state, the trainer's PRNG and loss counters are the same
# bytes after the call as before. The same cases run on MicroPython (the VM and
# the unix port, via device-test) and under CPython (host_tests/test_bad_input.py,
# one pytest item per case).
import os
from array import array

import harness
from tinyrnn import q88, weights
from tinyrnn.model import Model
from tinyrnn.optim import SGD, Adam, ExpDecay, Momentum, RMSprop, StepDecay
from tinyrnn.train import Trainer

DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "sigmoid"}}
XS = [[256, 0], [0, 256], [256, 256]]
YS = [[256], [0], [256]]
DATA = [(XS, YS), (XS, YS)]
DIR = "bad_input_dir"          # a directory where a weights file is expected
GOOD = "bad_input_good.bin"    # a valid weights file of DESC
OTHER = "bad_input_other.bin"  # a valid weights file of another architecture
JUNK = "bad_input_junk.bin"    # not a weights file
MISSING = "bad_input_missing.bin"
NO_DIR = "bad_input_no_such_dir/s.bin"   # in a folder that does not exist


def gen():
    yield [256, 0]


class World:
    """A model, its trainer and Adam with non-zero state everywhere: what every bad call must leave alone."""

    def __init__(self):
        self.m = Model(DESC, seed=3)
        self.opt = Adam(lr="0.05")
        self.t = Trainer(self.m, optimizer=self.opt, max_steps=4)
        self.t.train_sequence(XS, YS)
        self.t.train_sequence(XS, YS)       # non-zero optimizer state
        self.t.accumulate(XS, YS)           # gradients and loss sums pending for the next update
        self.m.step([128, -128])            # a non-zero hidden state

    def snapshot(self):
        m, o, t = self.m, self.opt, self.t
        bufs = (m.params, m.state, m.work, t.master, t.grad, o.m, o.v)
        out = [bytes(b) for b in bufs]
        return out + [o.lr, o.b1t, o.b2t, t.rng._hi, t.rng._lo, t.n_targets, t._loss[0], t._loss[1],
                      len(t.master), m.desc == DESC]


def files():
    """The files the weights cases read (made once, in the working folder)."""
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    weights.save(Model(DESC, seed=8), GOOD)
    weights.save(Model({"input": 2, "layers": [{"kind": "lstm", "hidden": 3}], "head": {"out": 1}}, seed=8), OTHER)
    with open(JUNK, "wb") as f:
        f.write(b"not a weights file at all, just some bytes")
    try:
        os.remove(MISSING)
    except OSError:
        pass


def cleanup():
    for name in (GOOD, OTHER, JUNK):
        try:
            os.remove(name)
        except OSError:
            pass
    try:
        os.rmdir(DIR)
    except OSError:
        pass


# Each case: (exception type, words the message must contain, call taking the World).
def q88_cases():
    out = []
    for name in ("add", "sub", "mul", "div"):
        fn = getattr(q88, name)
        for bad, exc, word in ((None, TypeError, " must be a Q8.8 int, got NoneType"),
                               (1.5, TypeError, " must be a Q8.8 int, got float"),
                               ("1", TypeError, " must be a Q8.8 int, got str"),
                               (True, TypeError, " must be a Q8.8 int, got bool"),
                               (40000, ValueError, "=40000 is outside Q8.8 range"),
                               (-32769, ValueError, "=-32769 is outside Q8.8 range")):
            out.append((exc, "a" + word, lambda w, fn=fn, bad=bad: fn(bad, 256)))
            out.append((exc, "b" + word, lambda w, fn=fn, bad=bad: fn(256, bad)))
    f = q88.fixed_str
    out += [
        (TypeError, "fixed_str: v must be an int", lambda w: f(0.5, 8)),
        (TypeError, "fixed_str: v must be an int", lambda w: f(None, 8)),
        (ValueError, "fixed_str: digits", lambda w: f(256, 8, -1)),
        (ValueError, "fixed_str: digits", lambda w: f(256, 8, 10)),
        (ValueError, "fixed_str: digits", lambda w: f(256, 8, "2")),
        (ValueError, "fixed_str: frac_bits", lambda w: f(256, "8")),
        (ValueError, "fixed_str: frac_bits", lambda w: f(256, -1)),
        (ValueError, "fixed_str: frac_bits", lambda w: f(256, 31)),
        (TypeError, "q must be a Q8.8 int", lambda w: q88.to_str(None)),
        (TypeError, "q must be a Q8.8 int", lambda w: q88.to_str(0.5)),
        (ValueError, "q=40000", lambda w: q88.to_str(40000)),
        (ValueError, "digits", lambda w: q88.to_str(256, 9)),
        (ValueError, "digits", lambda w: q88.to_str(256, "2")),
        (TypeError, "text must be a decimal string", lambda w: q88.from_str(None)),
        (TypeError, "text must be a decimal string", lambda w: q88.from_str(1.5)),
        (ValueError, "text='abc' is not a decimal", lambda w: q88.from_str("abc")),
        (ValueError, "text='1e3' is not a decimal", lambda w: q88.from_str("1e3")),
        (ValueError, "'128' is outside", lambda w: q88.from_str("128")),
        (TypeError, "n must be an int", lambda w: q88.from_int(1.0)),
        (ValueError, "from_int: 128", lambda w: q88.from_int(128)),
        (TypeError, "v must be an int", lambda w: q88.sat(None)),
        (TypeError, "v must be an int", lambda w: q88.sat(1.5)),
        (TypeError, "dot: ws and xs must be lists", lambda w: q88.dot(None, [1])),
        (TypeError, "dot: ws and xs must be lists", lambda w: q88.dot([1], 5)),
        (TypeError, "dot: ws and xs must be lists", lambda w: q88.dot(gen(), [1])),
        (ValueError, "2 weights but 1 inputs", lambda w: q88.dot([1, 2], [1])),
        (TypeError, "xs[0] must be a Q8.8 int", lambda w: q88.dot([1], [1.5])),
        (ValueError, "ws[1]=99999", lambda w: q88.dot([1, 99999], [1, 1])),
        (ValueError, "bias=40000", lambda w: q88.dot([1], [1], 40000)),
        (TypeError, "bias must be a Q8.8 int", lambda w: q88.dot([1], [1], None)),
        (ZeroDivisionError, "division by zero", lambda w: q88.div(256, 0)),
        (ValueError, "parse_fixed: frac_bits=8.5 is not an int", lambda w: q88.parse_fixed("1", 8.5)),
        (ValueError, "parse_fixed: frac_bits='8' is not an int", lambda w: q88.parse_fixed("1", "8")),
        (ValueError, "parse_fixed: frac_bits=-1 is not an int", lambda w: q88.parse_fixed("1", -1)),
        (TypeError, "text must be a decimal string", lambda w: q88.parse_fixed(1, 8)),
    ]
    return out


def _desc(**kw):
    d = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 1, "act": "identity"}}
    for k in kw:
        d[k] = kw[k]
    return d


def bad_descs():
    """(exception, words, description): Model(description) refuses it."""
    gru = [{"kind": "gru", "hidden": 3}]
    return [
        (TypeError, "model description must be a dict", None),
        (TypeError, "model description must be a dict", [2, 3, 1]),
        (ValueError, "needs at least one layer", {"input": 2}),
        (ValueError, "'input' must be a positive int", _desc(input=0)),
        (ValueError, "'input' must be a positive int", _desc(input=True)),
        (ValueError, "'input' must be a positive int", _desc(input="2")),
        (ValueError, "'layers' must be a list", _desc(layers="gru")),
        (ValueError, "layer 0: 'hidden'", _desc(layers=[{"kind": "gru"}])),
        (ValueError, "layer 0: 'hidden'", _desc(layers=[{"kind": "gru", "hidden": 2.0}])),
        (ValueError, "layer 1: 'hidden'", _desc(layers=gru + [{"kind": "lstm", "hidden": -1}])),
        (ValueError, "layer 0: kind 'rnn'", _desc(layers=[{"kind": "rnn", "hidden": 3}])),
        (ValueError, "layer 0: must be a dict", _desc(layers=[5])),
        (ValueError, "layer 1: 'out'", _desc(layers=gru + [{"kind": "dense"}])),
        (ValueError, "layer 1: act 'relu'", _desc(layers=gru + [{"kind": "dense", "out": 2, "act": "relu"}])),
        (ValueError, "layer 1: input size 5", _desc(layers=gru + [{"kind": "gru", "input": 5, "hidden": 2}])),
        (ValueError, "layer 0: rows of", _desc(layers=[{"kind": "gru", "hidden": 300}])),
        (ValueError, "head: must be a dict", _desc(head="x")),
        (ValueError, "head: 'out'", _desc(head={"out": 0})),
        (ValueError, "head: act 'relu'", _desc(head={"out": 1, "act": "relu"})),
        (ValueError, "head: input size 2", _desc(head={"input": 2, "out": 1})),
        (ValueError, "unknown key 'inputs'", {"inputs": 2, "layers": gru}),
        (ValueError, "unknown key 'layer'", {"input": 2, "layer": gru, "head": {"out": 1}}),
        (ValueError, "layer 0: unknown key 'dropout'", _desc(layers=[{"kind": "gru", "hidden": 3, "dropout": 1}])),
        (ValueError, "layer 0: unknown key 'act'", _desc(layers=[{"kind": "lstm", "hidden": 3, "act": "tanh"}])),
        (ValueError, "layer 1: unknown key 'hidden'", _desc(layers=gru + [{"kind": "dense", "out": 2, "hidden": 2}])),
        (ValueError, "head: unknown key 'activation'", _desc(head={"out": 1, "activation": "tanh"})),
        (ValueError, "layer 0: kind 'gur'", _desc(layers=[{"kind": "gur", "hidden": 3}])),
    ]


def bad_steps():
    """(exception, words, x): the world's model.step(x) refuses it."""
    return [
        (TypeError, "step: x must be a list", None),
        (TypeError, "step: x must be a list", 5),
        (TypeError, "step: x must be a list", gen()),
        (TypeError, "step: x must be a list", {0: 1, 1: 2}),
        (TypeError, "step: x must be a list", "ab"),
        (TypeError, "step: x must be a list", b"ab"),
        (ValueError, "step: x has 3 values, expected 2", [1, 2, 3]),
        (ValueError, "step: x has 1 values, expected 2", [1]),
        (ValueError, "step: x has 0 values", []),
        (ValueError, "step: x has 3 values", array("h", [1, 2, 3])),
        (TypeError, "step: x[0] must be a Q8.8 int, got float", [1.5, 0]),
        (TypeError, "step: x[1] must be a Q8.8 int, got str", [0, "2"]),
        (TypeError, "step: x[0] must be a Q8.8 int, got bool", [True, 0]),
        (TypeError, "step: x[1] must be a Q8.8 int, got NoneType", (0, None)),
        (ValueError, "step: x[0]=40000 is outside", [40000, 0]),
        (ValueError, "step: x[1]=-32769 is outside", [0, -32769]),
    ]


def bad_runs():
    """(exception, words, xs): the world's model.run(xs) refuses it."""
    return [
        (TypeError, "run: xs must be a list", None),
        (TypeError, "run: xs must be a list", 5),
        (TypeError, "run: xs must be a list", gen()),
        (TypeError, "run: xs[1][0] must be a Q8.8 int, got float", [[256, 0], [0.5, 0]]),
        (ValueError, "run: xs[1][0]=256000", [[256, 0], [256000, 0]]),
        (ValueError, "run: xs[1] has 3 values", [[256, 0], [256, 0, 0]]),
        (TypeError, "run: xs[1] must be a list", [[256, 0], None]),
        (TypeError, "run: xs[2] must be a list", [[256, 0], [0, 0], {0: 1, 1: 1}]),
        (ValueError, "run: xs[2][1]=99999", [[0, 0], [0, 0], [0, 99999]]),
        (ValueError, "run: xs is empty", []),
    ]


def bad_model_args():
    """(exception, words, keyword arguments): Model(DESC, **kw) refuses them."""
    return [
        (TypeError, "seed must be an int or None", {"seed": "1"}),
        (TypeError, "seed must be an int or None", {"seed": 1.0}),
        (ValueError, "kernels: 'fast'", {"kernels": "fast"}),
    ]


def desc_cases():
    return [(e, words, lambda w, d=d: Model(d)) for e, words, d in bad_descs()]


def model_cases():
    out = [(e, words, lambda w, x=x: w.m.step(x)) for e, words, x in bad_steps()]
    out += [(e, words, lambda w, xs=xs: w.m.run(xs)) for e, words, xs in bad_runs()]
    out += [(e, words, lambda w, kw=kw: Model(DESC, **kw)) for e, words, kw in bad_model_args()]
    return out + [
        (KeyError, "'nope'", lambda w: w.m.param("nope")),
        (KeyError, "None", lambda w: w.m.param(None)),
        (KeyError, "'weight_ih_l1'", lambda w: w.m.param_shape("weight_ih_l1")),
        (TypeError, "seed must be an int", lambda w: w.m.init("1")),
        (TypeError, "seed must be an int", lambda w: w.m.init(None)),
    ]


def bad_trainer_args():
    """(exception, words, keyword arguments): Trainer(the world's model, **kw) refuses them."""
    return [
        (ValueError, "loss must be 'mse' or 'ce', got 'mae'", {"loss": "mae"}),
        (ValueError, "loss must be 'mse' or 'ce', got None", {"loss": None}),
        (ValueError, "loss 'ce' (softmax cross-entropy) needs a softmax head", {"loss": "ce"}),
        (ValueError, "targets must be 'all' or 'last', got 'first'", {"targets": "first"}),
        (TypeError, "optimizer must be SGD, Momentum, RMSprop or Adam", {"optimizer": "adam"}),
        (TypeError, "optimizer must be SGD, Momentum, RMSprop or Adam", {"optimizer": Adam}),
        (TypeError, "optimizer must be SGD, Momentum, RMSprop or Adam", {"optimizer": 0.01}),
        (ValueError, "window=0 is out of range", {"window": 0}),
        (TypeError, "window must be an int, got str", {"window": "2"}),
        (ValueError, "max_steps=0 is out of range", {"max_steps": 0}),
        (TypeError, "max_steps must be an int, got NoneType", {"max_steps": None}),
        (TypeError, "stateful must be True or False, got str", {"stateful": "yes"}),
        (TypeError, "stateful must be True or False, got int", {"stateful": 1}),
        (ValueError, "clip_value='-1' is out of range", {"clip_value": "-1"}),
        (ValueError, "clip_value='x' is not a decimal", {"clip_value": "x"}),
        (TypeError, "clip_value must be a decimal string", {"clip_value": 0.5}),
        (ValueError, "clip_norm='0' is out of range", {"clip_norm": "0"}),
        (TypeError, "clip_norm must be a decimal string", {"clip_norm": [1]}),
        (ValueError, "weight_decay='2' is out of range", {"weight_decay": "2"}),
        (TypeError, "weight_decay must be a decimal string", {"weight_decay": 0.001}),
        (TypeError, "seed must be an int, got str", {"seed": "1"}),
        (TypeError, "seed must be an int, got NoneType", {"seed": None}),
    ]


def bad_trainer_models():
    """(exception, words, model): Trainer(model) refuses it; a dict stands for Model(dict)."""
    soft = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 3, "act": "softmax"}}
    mid_soft = {"input": 2, "layers": [{"kind": "dense", "out": 3, "act": "softmax"}], "head": {"out": 1}}
    return [
        (TypeError, "model must be a tinyrnn Model, got NoneType", None),
        (TypeError, "model must be a tinyrnn Model, got str", "model"),
        (ValueError, "loss 'mse' on a softmax head", soft),
        (ValueError, "softmax is only trainable as the output layer", mid_soft),
    ]


def trainer_cases():
    out = [(e, words, lambda w, kw=kw: Trainer(w.m, **kw)) for e, words, kw in bad_trainer_args()]
    return out + [(e, words, lambda w, m=m: Trainer(Model(m) if isinstance(m, dict) else m))
                  for e, words, m in bad_trainer_models()]


def bad_pairs():
    """(exception, words, xs, ys): the world's trainer.train_sequence(xs, ys) refuses them."""
    return [
        (TypeError, "xs must be a list", None, YS),
        (TypeError, "xs must be a list", 5, YS),
        (TypeError, "xs must be a list", gen(), YS),
        (TypeError, "ys must be a list", XS, None),
        (TypeError, "ys must be a list", XS, "abc"),
        (ValueError, "xs is empty", [], []),
        (ValueError, "sequence lengths differ: xs has 3 steps, ys has 2", XS, YS[:2]),
        (ValueError, "xs has 6 steps, the trainer's cache holds max_steps=4", XS * 2, YS * 2),
        (TypeError, "xs[1][0] must be a Q8.8 int, got float", [[256, 0], [0.5, 0], [0, 0]], YS),
        (ValueError, "xs[1] has 3 values, expected 2", [[256, 0], [0, 0, 0], [0, 0]], YS),
        (ValueError, "xs[1][0]=40000 is outside", [[256, 0], [40000, 0], [0, 0]], YS),
        (TypeError, "xs[2] must be a list", [[256, 0], [0, 0], 7], YS),
        (ValueError, "ys[1][0]=40000 is outside", XS, [[256], [40000], [0]]),
        (TypeError, "ys[1][0] must be a Q8.8 int, got float", XS, [[256], [0.5], [0]]),
        (TypeError, "ys[1] must be a list", XS, [[256], 256, [0]]),
        (ValueError, "ys[1] has 2 values, expected 1", XS, [[256], [0, 0], [0]]),
        (TypeError, "ys[2] must be a list", XS, [[256], [0], None]),
    ]


def bad_trainer_calls():
    """(exception, words, method, args): the world's trainer.method(*args) refuses them."""
    return [
        (TypeError, "xs must be a list", "accumulate", (None, YS)),
        (ValueError, "ys[0][0]=-40000", "accumulate", (XS, [[-40000], [0], [0]])),
        (TypeError, "xs[0][1] must be a Q8.8 int", "check", ([[0, None]], [[0]])),
        (TypeError, "dataset must be a list", "evaluate", (None,)),
        (ValueError, "dataset is empty", "evaluate", ([],)),
        (TypeError, "dataset[0] must be an (xs, ys) pair", "evaluate", ([(XS,)],)),
        (TypeError, "dataset[0] must be an (xs, ys) pair", "evaluate", ([(XS, YS, 1)],)),
        (TypeError, "dataset[0] must be an (xs, ys) pair", "evaluate", ([XS],)),
        (TypeError, "dataset[1]: ys[1][0] must be a Q8.8 int", "evaluate", ([(XS, YS), (XS, [[0], [0.5], [0]])],)),
    ]


def sequence_cases():
    out = [(e, words, lambda w, xs=xs, ys=ys: w.t.train_sequence(xs, ys)) for e, words, xs, ys in bad_pairs()]
    return out + [(e, words, lambda w, f=f, a=a: getattr(w.t, f)(*a)) for e, words, f, a in bad_trainer_calls()]


def bad_fits():
    """(exception, words, method, args, kw): the world's trainer.fit or .epochs(*args, **kw) refuses them."""
    bad_pair = [(XS, YS), ([[0.5, 0]], [[0]])]
    return [
        (TypeError, "callback must be callable", "fit", (DATA, 1), {"callback": "x"}),
        (TypeError, "callback must be callable", "fit", (DATA, 1), {"callback": 5}),
        (TypeError, "patience must be an int, got str", "fit", (DATA, 1), {"patience": "3"}),
        (ValueError, "patience=-1 is out of range", "fit", (DATA, 1), {"patience": -1}),
        (ValueError, "patience=0 is out of range", "fit", (DATA, 1), {"patience": 0}),
        (TypeError, "patience must be an int, got float", "fit", (DATA, 1), {"patience": 2.0}),
        (ValueError, "dataset is empty", "fit", ([],), {"epochs": 1}),
        (TypeError, "dataset must be a list", "fit", (None, 1), {}),
        (TypeError, "dataset must be a list", "fit", ({0: (XS, YS)}, 1), {}),
        (TypeError, "dataset must be a list", "fit", ((p for p in DATA), 1), {}),
        (TypeError, "dataset[1] must be an (xs, ys) pair", "fit", ([(XS, YS), 5], 1), {}),
        (TypeError, "dataset[1]: xs[0][0] must be a Q8.8 int", "fit", (bad_pair, 1), {}),
        (TypeError, "dataset[1]: ys must be a list", "fit", ([(XS, YS), (XS, None)], 1), {}),
        (ValueError, "dataset[0]: sequence lengths differ", "fit", ([(XS, YS[:1])], 1), {}),
        (ValueError, "epochs=0 is out of range", "fit", (DATA, 0), {}),
        (TypeError, "epochs must be an int, got str", "fit", (DATA, "1"), {}),
        (TypeError, "epochs must be an int, got float", "fit", (DATA, 1.0), {}),
        (TypeError, "epochs must be an int, got NoneType", "fit", (DATA, None), {}),
        (ValueError, "batch_size=0 is out of range", "fit", (DATA, 1), {"batch_size": 0}),
        (TypeError, "batch_size must be an int, got str", "fit", (DATA, 1), {"batch_size": "2"}),
        (TypeError, "shuffle must be True or False", "fit", (DATA, 1), {"shuffle": "yes"}),
        (TypeError, "shuffle must be True or False", "fit", (DATA, 1), {"shuffle": None}),
        (ValueError, "val is empty", "fit", (DATA, 1), {"val": []}),
        (TypeError, "val must be a list", "fit", (DATA, 1), {"val": "x"}),
        (ValueError, "val[0]: sequence lengths differ", "fit", (DATA, 1), {"val": [(XS, [[1]])]}),
        (ValueError, "restore_best needs patience", "fit", (DATA, 1), {"restore_best": True}),
        (TypeError, "restore_best must be True or False", "fit", (DATA, 1), {"patience": 2, "restore_best": "yes"}),
        (TypeError, "schedule must be StepDecay or ExpDecay", "fit", (DATA, 1), {"schedule": object()}),
        (TypeError, "schedule must be StepDecay or ExpDecay", "fit", (DATA, 1), {"schedule": "step"}),
        (TypeError, "schedule must be StepDecay or ExpDecay", "fit", (DATA, 1), {"schedule": StepDecay}),
        (TypeError, "verbose must be True or False", "fit", (DATA, 1), {"verbose": "no"}),
        (TypeError, "dataset must be a list", "epochs", (None, 1), {}),
        (ValueError, "epochs=-2 is out of range", "epochs", (DATA, -2), {}),
        (TypeError, "callback must be callable", "epochs", (DATA, 2), {"callback": "x"}),
        (ValueError, "patience=-1 is out of range", "epochs", (DATA, 2), {"patience": -1}),
        (TypeError, "schedule must be StepDecay or ExpDecay", "epochs", (DATA, 1), {"schedule": object()}),
    ]


def fit_cases():
    return [(e, words, lambda w, f=f, a=a, kw=kw: getattr(w.t, f)(*a, **kw)) for e, words, f, a, kw in bad_fits()]


def bad_optim_args():
    """(exception, words, class, args, kw): class(*args, **kw) refuses them (an optimizer or schedule)."""
    return [
        (ValueError, "lr='0' is out of range", SGD, (), {"lr": "0"}),
        (ValueError, "lr='2' is out of range", SGD, (), {"lr": "2"}),
        (ValueError, "lr='-0.1' is out of range", SGD, (), {"lr": "-0.1"}),
        (ValueError, "lr='abc' is not a decimal", SGD, (), {"lr": "abc"}),
        (TypeError, "lr must be a decimal string", SGD, (), {"lr": None}),
        (TypeError, "lr must be a decimal string", SGD, (), {"lr": 0.01}),
        (TypeError, "lr must be a decimal string", SGD, (), {"lr": True}),
        (ValueError, "lr=0 is out of range", SGD, (), {"lr": 0}),
        (ValueError, "momentum='1' is out of range", Momentum, (), {"momentum": "1"}),
        (TypeError, "momentum must be a decimal string", Momentum, (), {"momentum": 0.9}),
        (ValueError, "lr='0' is out of range", Momentum, (), {"lr": "0"}),
        (ValueError, "alpha='1.5' is out of range", RMSprop, (), {"alpha": "1.5"}),
        (ValueError, "eps='0' is out of range", RMSprop, (), {"eps": "0"}),
        (ValueError, "eps='2' is out of range", RMSprop, (), {"eps": "2"}),
        (TypeError, "lr must be a decimal string", RMSprop, (), {"lr": [1]}),
        (ValueError, "beta1='1' is out of range", Adam, (), {"beta1": "1"}),
        (ValueError, "beta2='-0.1' is out of range", Adam, (), {"beta2": "-0.1"}),
        (TypeError, "beta1 must be a decimal string", Adam, (), {"beta1": None}),
        (TypeError, "eps must be a decimal string", Adam, (), {"eps": 0.001}),
        (ValueError, "lr='0.0.1' is not a decimal", Adam, (), {"lr": "0.0.1"}),
        (ValueError, "every=0 is out of range", StepDecay, (0,), {}),
        (TypeError, "every must be an int, got str", StepDecay, ("3",), {}),
        (TypeError, "every must be an int, got NoneType", StepDecay, (None,), {}),
        (ValueError, "gamma='1.5' is out of range", StepDecay, (2,), {"gamma": "1.5"}),
        (TypeError, "gamma must be a decimal string", StepDecay, (2,), {"gamma": 0.5}),
        (ValueError, "gamma='-1' is out of range", ExpDecay, (), {"gamma": "-1"}),
        (TypeError, "gamma must be a decimal string", ExpDecay, (), {"gamma": None}),
        (ValueError, "gamma='x' is not a decimal", ExpDecay, ("x",), {}),
    ]


def optim_cases():
    out = [(e, words, lambda w, c=c, a=a, kw=kw: c(*a, **kw)) for e, words, c, a, kw in bad_optim_args()]
    return out + [
        (TypeError, "lr0 must be an int, got str", lambda w: StepDecay(2).lr("0.1", 1)),
        (ValueError, "epoch=-1 is out of range", lambda w: ExpDecay().lr(655, -1)),
    ]


def weights_cases():
    W = weights
    return [
        (TypeError, "load: path must be a str, got NoneType", lambda w: W.load(None)),
        (TypeError, "load: path must be a str, got int", lambda w: W.load(5)),
        (TypeError, "load: path must be a str, got bytes", lambda w: W.load(b"x.bin")),
        (W.WeightsError, "load: path 'bad_input_dir' is a directory", lambda w: W.load(DIR)),
        (W.WeightsError, "cannot open 'bad_input_missing.bin'", lambda w: W.load(MISSING)),
        (W.WeightsError, "bad magic", lambda w: W.load(JUNK)),
        (TypeError, "load_into: model must be a tinyrnn Model, got NoneType", lambda w: W.load_into(None, GOOD)),
        (TypeError, "load_into: model must be a tinyrnn Model, got str", lambda w: W.load_into("m", GOOD)),
        (TypeError, "load_into: path must be a str, got NoneType", lambda w: W.load_into(w.m, None)),
        (W.WeightsError, "load_into: path 'bad_input_dir' is a directory", lambda w: W.load_into(w.m, DIR)),
        (W.WeightsError, "cannot open 'bad_input_missing.bin'", lambda w: W.load_into(w.m, MISSING)),
        (W.WeightsError, "shape mismatch", lambda w: W.load_into(w.m, OTHER)),
        (W.WeightsError, "bad magic", lambda w: W.load_into(w.m, JUNK)),
        (TypeError, "save: model must be a tinyrnn Model, got NoneType", lambda w: W.save(None, MISSING)),
        (TypeError, "save: model must be a tinyrnn Model, got dict", lambda w: W.save(DESC, MISSING)),
        (TypeError, "save: path must be a str, got NoneType", lambda w: W.save(w.m, None)),
        (TypeError, "save: path must be a str, got int", lambda w: W.save(w.m, 5)),
        (W.WeightsError, "save: path 'bad_input_dir' is a directory", lambda w: W.save(w.m, DIR)),
        (OSError, "save: cannot write 'bad_input_no_such_dir/s.bin'", lambda w: W.save(w.m, NO_DIR)),
        (TypeError, "file_crc: path must be a str", lambda w: W.file_crc(None)),
        (W.WeightsError, "file_crc: path 'bad_input_dir' is a directory", lambda w: W.file_crc(DIR)),
    ]


GROUPS = {"q88": q88_cases, "desc": desc_cases, "model": model_cases, "trainer": trainer_cases, "sequence": sequence_cases,
          "fit": fit_cases, "optim": optim_cases, "weights": weights_cases}


def check_case(world, case):
    """Run one case: the exception and words, and nothing changed. Returns None or what went wrong."""
    exc, words, call = case
    before = world.snapshot()
    try:
        call(world)
    except exc as e:
        msg = str(e)
        if exc is KeyError and msg[:1] in "'\"" and words not in msg:
            msg = msg[1:-1]
        if words not in msg:
            return "message %r does not contain %r" % (msg, words)
    except Exception as e:
        return "raised %s(%r), expected %s" % (type(e).__name__, str(e), exc.__name__)
    else:
        return "no error, expected %s" % exc.__name__
    if world.snapshot() != before:
        return "state changed"
    if exists(MISSING):
        return "a file was written"
    return None


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def run_group(name):
    bad = []
    n = 0
    for case in GROUPS[name]():
        why = check_case(World(), case)        # a fresh world each: no case hides behind another
        n += 1
        if why:
            bad.append("%s case %d (%s): %s" % (name, n, case[1], why))
    if bad:
        raise AssertionError("\n".join(bad))
    return n


def test_q88_refuses_bad_input():
    run_group("q88")


def test_descriptions_refused():
    run_group("desc")


def test_model_refuses_bad_input():
    run_group("model")


def test_trainer_refuses_bad_input():
    run_group("trainer")


def test_sequences_refused_before_any_change():
    run_group("sequence")


def test_fit_refuses_before_training():
    run_group("fit")


def test_optimizers_and_schedules_refuse_bad_input():
    run_group("optim")


def test_weights_refuse_bad_input():
    files()
    try:
        run_group("weights")
    finally:
        cleanup()


def test_at_least_200_calls():
    n = 0
    for name in GROUPS:
        n += len(GROUPS[name]())
    assert n >= 200, "only %d bad-input calls" % n


def main():
    harness.run_all(globals())


if __name__ == "__main__":
    main()
