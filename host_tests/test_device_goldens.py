"""The golden CRC32s inside device_tests/ are the NumPy mirror's, recomputed here.

A board checks itself against these constants (mpremote run device_tests/...);
this test makes sure each constant really is what the mirror computes.
"""
import ast
import binascii
import pathlib

import numpy as np

from tinyrnn_host.mirror import act, q88
from tinyrnn_host.mirror.rng import Rng

DEVICE = pathlib.Path(__file__).resolve().parent.parent / "device_tests"


def constant(filename, name):
    tree = ast.parse((DEVICE / filename).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def digest(values):
    """binascii.crc32 of the values as little-endian int32: measure.Crc on the board."""
    return binascii.crc32(np.asarray(values, dtype=np.int64).ravel().astype("<i4").tobytes())


def operand(r):
    c = r.randbelow(3)
    if c == 0:
        return r.randint(-32768, -32000) if r.randbelow(2) else r.randint(32000, 32767)
    return r.getrandbits(16) - 32768


def q88_digests(n_ops):
    """Replays test_q88.op_digest's draws with the mirror's Rng, then computes vectorised."""
    out = {}
    for name in ("add", "sub", "mul", "div", "dot"):
        r = Rng(2024)
        a, b, ws, xs = [], [], [], []
        for _ in range(n_ops):
            x, y = operand(r), operand(r)
            if name == "div" and y == 0:
                y = 1
            a.append(x)
            b.append(y)
            if name == "dot":
                n = 1 + r.randbelow(8)
                w, v = [], []
                for _ in range(n):
                    w.append(r.randint(-4096, 4096))
                    v.append(r.randint(-4096, 4096))
                ws.append(w + [0] * (8 - n))
                xs.append(v + [0] * (8 - n))
        if name == "dot":
            out[name] = digest(q88.dot(np.array(ws), np.array(xs), np.array(a)))
        else:
            out[name] = digest(getattr(q88, name)(np.array(a), np.array(b)))
    return out


def test_q88_goldens_are_the_mirrors():
    want = q88_digests(constant("test_q88.py", "N_OPS"))
    assert constant("test_q88.py", "GOLDEN") == want


def test_act_goldens_are_the_mirrors():
    q = np.arange(-32768, 32768)
    want = {name: digest(getattr(act, name)(q)) for name in ("sigmoid", "tanh", "exp")}
    assert constant("test_act.py", "GOLDEN") == want


def test_rng_goldens_are_the_mirrors():
    r = Rng(constant("test_rng.py", "SEED"))
    first = [r.next16() for _ in range(8)]
    assert constant("test_rng.py", "FIRST16") == first
    r = Rng(constant("test_rng.py", "SEED"))
    stream = [r.randbelow(1000) for _ in range(constant("test_rng.py", "N_DRAWS"))]
    assert constant("test_rng.py", "GOLDEN_RANDBELOW") == digest(stream)


def test_model_goldens_are_the_mirrors():
    from tinyrnn_host.mirror.model import Model
    cases = constant("test_model.py", "CASES")
    want = {}
    for name, desc in cases.items():
        m = Model(desc, seed=11)
        r = Rng(5)
        vals = []
        for _ in range(constant("test_model.py", "STEPS")):
            x = np.array([[r.randint(-768, 768) for _ in range(desc["input"])]])
            vals += m.step(x)[0].tolist() + m.state()[0].tolist()
        want[name] = digest(vals)
    assert constant("test_model.py", "GOLDEN") == want


def test_train_goldens_are_the_mirrors():
    from tinyrnn_host.mirror import optim
    from tinyrnn_host.mirror.model import Model
    from tinyrnn_host.mirror.train import Trainer
    make = {"sgd": lambda: optim.SGD(lr="0.1"), "momentum": lambda: optim.Momentum(lr="0.05"),
            "rmsprop": lambda: optim.RMSprop(lr="0.01"), "adam": lambda: optim.Adam(lr="0.02")}
    xs, ys = constant("test_train.py", "XS"), constant("test_train.py", "YS")
    want = {}
    for name, opt in make.items():
        m = Model(constant("test_train.py", "GRU_231"), seed=4)
        t = Trainer(m, optimizer=opt())
        for _ in range(10):
            t.train_sequence(xs, ys)
        master = np.concatenate([t.master[n].ravel() for n in t.names])
        want[name] = digest(np.concatenate([m.flat_params(), master]))
    assert constant("test_train.py", "GOLDEN") == want
