"""Extreme values on real MicroPython with the heap locked: nothing allocates, and lib == mirror.

Every cell (and a stack with a dense layer in the middle), every optimizer, and
each option (clip by value, clip by norm, weight decay, softmax cross-entropy,
truncated windows with mini-batches), with every weight and input at the Q8.8
rails and targets near +-100: inference steps and training updates run inside
`micropython.heap_lock()`. On the 32-bit WebAssembly VM an intermediate beyond
2^30 would be a long int: an allocation, so a MemoryError here. The unix port
runs the same with its C and viper kernels (and forced bytecode ones). The trained
weights, master weights and losses must equal the NumPy mirror's bit for bit.
A canary forces the plain (unsplit) loops on weights at the rails and must hit
the MemoryError: the check can fail.
"""
import itertools
import json

import numpy as np
import pytest

from tinyrnn_host.board import mpunix, mpvm
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.model import param_shapes
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer

KINDS = ["elman", "lstm", "gru", "stack"]
OPTS = {"sgd": ("SGD", {"lr": "0.5"}), "momentum": ("Momentum", {"lr": "0.5", "momentum": "0.9"}),
        "rmsprop": ("RMSprop", {"lr": "0.5"}), "adam": ("Adam", {"lr": "0.5"})}
VARIANTS = ["mse", "clip_value", "clip_norm", "weight_decay", "ce", "window_batch"]
I, O, T, SEQS = 6, 3, 5, 6


def make_case(kind, opt, variant, i):
    rng = np.random.default_rng(i)
    if kind == "stack":
        layers = [{"kind": "gru", "hidden": 5}, {"kind": "dense", "out": 4, "act": "identity"},
                  {"kind": "lstm", "hidden": 3}]
    else:
        layers = [{"kind": kind, "hidden": 7}]
    desc = {"input": I, "layers": layers, "head": {"out": O, "act": "softmax" if variant == "ce" else "identity"}}
    options = {"clip_value": {"clip_value": "0.5"}, "clip_norm": {"clip_norm": "1.0"},
               "weight_decay": {"weight_decay": "0.5"}}.get(variant, {})
    data = []
    for _ in range(SEQS):
        xs = rng.choice([-32768, 32767], (T, I)).tolist()
        ys = rng.integers(0, O, T).tolist() if variant == "ce" else rng.choice([-25600, 25600], (T, O)).tolist()
        data.append([xs, ys])
    n = sum(int(np.prod(s)) for _, s in param_shapes(desc))
    return {"name": "%s-%s-%s" % (kind, opt, variant), "desc": desc, "opt": OPTS[opt], "options": options,
            "loss": "ce" if variant == "ce" else "mse", "window": 2 if variant == "window_batch" else None,
            "batch": 3 if variant == "window_batch" else 1, "data": data,
            "params": rng.choice([-32768, 32767], n).tolist()}


CASES = [make_case(k, o, v, i) for i, (k, o, v) in enumerate(itertools.product(KINDS, OPTS, VARIANTS))]
CASES.append({   # issue 8's reproduction: a gradient sum passing 2^30 used to raise OverflowError on the board
    "name": "repro-overflow", "desc": {"input": 1, "head": {"out": 1, "act": "identity"}},
    "opt": ("SGD", {"lr": "0.0001"}), "options": {}, "loss": "mse", "window": None, "batch": 3,
    "data": [[[[15000]], [[-1250]]], [[[15000]], [[-1250]]], [[[-12500]], [[-1250]]]], "params": [0, 0]})

BOARD = r"""
import json, micropython, tinyrnn
from tinyrnn.model import Model
from tinyrnn.train import Trainer
from tinyrnn import optim

def locked(m, t, data, batch):
    # steady state: a first step and update happened outside; now nothing may allocate
    err = None
    micropython.heap_lock()
    try:
        x0 = data[0][0][0]
        for _ in range(3):
            m.step(x0)
        m.reset()
        k = 0
        for xs, ys in data:
            t.accumulate(xs, ys, False)
            k += 1
            if k % batch == 0:
                t.update()
        t.update()
    except Exception as e:
        err = e
    micropython.heap_unlock()
    return err

def run(c, kernels, plain=False):
    m = Model(c['desc'], None, kernels)
    for i in range(len(c['params'])):
        m.params[i] = c['params'][i]
    m.weights_changed()
    t = Trainer(m, loss=c['loss'], optimizer=getattr(optim, c['opt'][0])(**c['opt'][1]),
                window=c['window'], max_steps=5, **c['options'])
    data = c['data']
    for xs, ys in data:
        t.check(xs, ys)
    # warm up outside the lock: the first update allocates nothing either, but binds state
    m.step(data[0][0][0])
    m.reset()
    if plain:                      # the canary: plain loops on weights that need the split ones
        for L in m.layers:
            L.flags |= 1
    err = locked(m, t, data, c['batch'])
    if err is not None:
        return [repr(err)]
    return [list(m.params), list(t.master), t.take_loss()]

out = {'kernels': [], 'cases': {}}
for kernels in KERNELS:
    out['kernels'].append(tinyrnn.KERNELS if Model({'input': 1, 'head': {'out': 1}}, 1, kernels) else None)
    for c in json.load(open('cases.json')):
        out['cases'][kernels + ' ' + c['name']] = run(c, kernels)
out['canary'] = run(json.load(open('cases.json'))[2], 'bytecode', plain=True)
with open('out.json', 'w') as f:
    json.dump(out, f)
"""


def mirror(c):
    m = MirrorModel(c["desc"], 1)
    at = 0
    for name, shape in param_shapes(c["desc"]):
        n = int(np.prod(shape))
        m.params[name] = np.array(c["params"][at:at + n], np.int64).reshape(shape)
        at += n
    t = MirrorTrainer(m, loss=c["loss"], optimizer=getattr(m_optim, c["opt"][0])(**c["opt"][1]),
                      window=c["window"], **c["options"])
    x0 = np.array([c["data"][0][0][0]])
    m.reset(1)
    for _ in range(4):
        m.step(x0)
    k = 0
    for xs, ys in c["data"]:
        t.accumulate([xs], [ys])
        k += 1
        if k % c["batch"] == 0:
            t.update()
    t.update()
    master = np.concatenate([t.master[n].ravel() for n in t.names])
    return [m.flat_params().tolist(), master.tolist(), t.take_loss()]


@pytest.fixture(scope="module")
def mirror_results():
    return {c["name"]: mirror(c) for c in CASES}


def script(kernels):
    return "KERNELS = %r\n" % (kernels,) + BOARD


def check(out, kernels, mirror_results, cases=CASES):
    bad = []
    for c in cases:
        got = out["cases"]["%s %s" % (kernels, c["name"])]
        if len(got) == 1:
            bad.append("%s: %s" % (c["name"], got[0]))
        elif got != mirror_results[c["name"]]:
            bad.append("%s: differs from the mirror" % c["name"])
    assert not bad, "%d of %d cases: %s" % (len(bad), len(cases), "; ".join(bad[:8]))


def test_wasm_vm_32bit_heap_locked(mirror_results):
    res = mpvm.run_vm(script(["bytecode"]), heap_bytes=4 << 20, allow_growth=True, mpy=True,
                      files={"cases.json": json.dumps(CASES).encode()}, collect=["out.json"], timeout=600)
    out = json.loads(res.files["out.json"])
    assert out["kernels"] == ["bytecode"]
    check(out, "bytecode", mirror_results)
    assert "MemoryError" in out["canary"][0], "plain loops at the rails must make long ints on a 32-bit port"


def test_unix_port_heap_locked_every_kernel(mirror_results):
    res = mpunix.run_unix(script(["c", "viper", "bytecode"]), heap_bytes=8 << 20,
                          files={"cases.json": json.dumps(CASES).encode()}, collect=["out.json"], timeout=600)
    out = json.loads(res.files["out.json"])
    assert out["kernels"] == ["c", "viper", "bytecode"]
    check(out, "c", mirror_results)
    check(out, "viper", mirror_results)
    check(out, "bytecode", mirror_results)
    # 64-bit small ints: the canary's long sums fit there, so it runs clean and equals the mirror
    assert out["canary"] == mirror_results[CASES[2]["name"]]
