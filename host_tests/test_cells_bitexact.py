"""Cells and models, three ways: lib under MicroPython (VM) == lib under CPython == NumPy mirror.

200 random models per cell type: 1..3 stacked layers of random sizes 1..32, an
optional dense head with a random activation, random seeds, random sequences
of 1..50 steps; a fifth of the models have their weights scaled up (saturated
to Q8.8) and a third of the sequences use full-range or extreme inputs, so
pre-activations and states saturate. Every output and every state value of
every step is compared with ==.
"""
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tinyrnn_host.board import mpvm
from tinyrnn_host.mirror import cells as mirror_cells
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn.model import Model as LibModel

KINDS = ["elman", "lstm", "gru"]
N_MODELS = 200
ACTS = ["identity", "sigmoid", "tanh", "softmax"]


def make_cases(kind, n, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        n_layers = int(rng.integers(1, 4))
        desc = {"input": int(rng.integers(1, 33)),
                "layers": [{"kind": kind, "hidden": int(rng.integers(1, 33))} for _ in range(n_layers)],
                "head": None}
        if rng.random() < 0.6:
            desc["head"] = {"out": int(rng.integers(1, 9)), "act": ACTS[int(rng.integers(0, 4))]}
        T = int(rng.integers(1, 51))
        style = rng.random()
        if style < 0.67:
            xs = rng.integers(-512, 513, (T, desc["input"]))          # +-2.0
        elif style < 0.9:
            xs = rng.integers(-32768, 32768, (T, desc["input"]))      # full range
        else:
            xs = rng.choice([-32768, 32767], (T, desc["input"]))      # extremes
        scale = int(rng.integers(2, 9)) if rng.random() < 0.2 else 1
        if i == 0:   # always one saturating model and a 50-step sequence
            scale, T = 8, 50
            xs = rng.choice([-32768, 32767], (T, desc["input"]))
        cases.append({"desc": desc, "seed": int(rng.integers(0, 2**32)), "scale": scale, "xs": xs})
    return cases


def cut_cases(n_per_kind, seed0, t_max):
    """{kind: make_cases(kind, n_per_kind, seed0 + i)}, each sequence cut to its first t_max steps
    (for the emulated boards, where time is the cost)."""
    out = {kind: make_cases(kind, n_per_kind, seed0 + i) for i, kind in enumerate(KINDS)}
    for cs in out.values():
        for c in cs:
            c["xs"] = c["xs"][:t_max]
    return out


def features(case):
    """What make_cases varies, as a set: the number of layers, the head's activation (None: no head),
    weights scaled up (saturating), and the inputs (within +-2.0, full range, only the rails)."""
    d, xs = case["desc"], case["xs"]
    inputs = "rails" if np.isin(xs, (-32768, 32767)).all() else ("full" if np.abs(xs).max() > 512 else "small")
    return {("layers", len(d["layers"])), ("head", d["head"] and d["head"]["act"]),
            ("scaled", case["scale"] > 1), ("inputs", inputs)}


def covering(cases, n):
    """The first n cases (the first always the saturating 50-step model at the rails), then the first
    case with each feature() the first n lack: every variant of the whole list, in fewer models."""
    out = list(cases[:n])
    have = set().union(*map(features, out))
    for c in cases[n:]:
        if not features(c) <= have:
            out.append(c)
            have |= features(c)
    assert have == set().union(*map(features, cases))
    return out


def scaled(params, k):
    return np.clip(params * k, -32768, 32767)


VM_SCRIPT = r"""
import json
from array import array
from tinyrnn.model import Model

cases = json.load(open('cases.json'))
xs_all = array('h', bytes(2 * sum(c['T'] * c['desc']['input'] for c in cases)))
with open('xs.bin', 'rb') as f:
    f.readinto(xs_all)
out = open('out.bin', 'wb')
at = 0
for c in cases:
    m = None        # (the last model dropped first: two alive at once split a small heap)
    m = Model(c['desc'], c['seed'])
    k = c['scale']
    if k != 1:
        p = m.params
        for i in range(len(p)):
            v = p[i] * k
            p[i] = -32768 if v < -32768 else (32767 if v > 32767 else v)
    n = c['desc']['input']
    x = array('h', bytes(2 * n))
    for t in range(c['T']):
        for j in range(n):
            x[j] = xs_all[at + j]
        at += n
        out.write(m.step(x))
        out.write(m.state)
out.close()
"""


def run_vm_cases(cases):
    meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cases]
    xs = np.concatenate([c["xs"].ravel() for c in cases]).astype("<i2").tobytes()
    res = mpvm.run_vm(VM_SCRIPT, heap_bytes=16 << 20, allow_growth=True, mpy=True,
                      files={"cases.json": json.dumps(meta).encode(), "xs.bin": xs}, collect=["out.bin"])
    return np.frombuffer(res.files["out.bin"], dtype="<i2").astype(np.int64)


def run_mirror(case):
    """[(T, O+S) array]: output then state, every step, as the VM writes them."""
    m = MirrorModel(case["desc"], case["seed"])
    if case["scale"] != 1:
        m.params = {k: scaled(v, case["scale"]) for k, v in m.params.items()}
    ref = MirrorModel(case["desc"], params=m.params)     # (its own seeded init would be replaced: not drawn)
    ys, states = m.run(case["xs"][None])            # the fast path (mirror/fast.py) ...
    ref_ys, ref_states = ref._run_steps(case["xs"][None])     # ... == cells.py step by step,
    assert (ys == ref_ys).all() and (states == ref_states).all()   # whose roundings are counted
    return np.concatenate([ys[0], states[0]], axis=1)


def mirror_once(case):
    """run_mirror(case), computed once per case and kept in it: the suites that run one set of
    cases on several boards or kernel sets compare every run with the same mirror result (the
    mirror does not depend on the board; recomputing it was most of those suites' host time)."""
    if "mirror" not in case:
        case["mirror"] = run_mirror(case)
    return case["mirror"]


def run_cpython(case):
    m = LibModel(case["desc"], case["seed"])
    if case["scale"] != 1:
        m.params[:] = type(m.params)("h", scaled(np.array(m.params), case["scale"]).tolist())
    rows = []
    for x in case["xs"]:
        rows.append(list(m.step([int(v) for v in x])) + list(m.state))
    return np.array(rows, dtype=np.int64)


@pytest.fixture(scope="module")
def cases():
    return {kind: make_cases(kind, N_MODELS, 100 + i) for i, kind in enumerate(KINDS)}


@pytest.fixture(scope="module")
def vm_out(cases):
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(KINDS, pool.map(lambda k: run_vm_cases(cases[k]), KINDS)))
    return results


@pytest.mark.parametrize("kind", KINDS)
def test_models_three_ways(kind, cases, vm_out, monkeypatch):
    clipped = []
    plain_rnd = mirror_cells.rnd

    def counting_rnd(acc):      # count the roundings that saturated, to prove the cases reach saturation
        clipped.append(int(np.any(np.abs((acc + 128) >> 8) > 32767)))
        return plain_rnd(acc)
    monkeypatch.setattr(mirror_cells, "rnd", counting_rnd)
    flat = vm_out[kind]
    at = 0
    saturated = 0
    for i, case in enumerate(cases[kind]):
        del clipped[:]
        mirror = run_mirror(case)
        n = mirror.size
        vm = flat[at:at + n].reshape(mirror.shape)
        at += n
        cpython = run_cpython(case)
        assert np.array_equal(vm, mirror), "VM != mirror, %s model %d %r" % (kind, i, case["desc"])
        assert np.array_equal(cpython, mirror), "CPython lib != mirror, %s model %d" % (kind, i)
        saturated += int(any(clipped))
    assert at == flat.size
    assert len(cases[kind]) >= 200
    assert saturated >= 20, "saturating cases must really saturate (%d did)" % saturated
