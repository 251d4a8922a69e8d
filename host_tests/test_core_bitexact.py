"""Bit-exactness three ways: lib under MicroPython (VM) == lib under CPython == NumPy mirror.

100,000 random operand pairs per operation (a third of them at the ends of the
range, where saturation happens) plus every pair of edge values; 100,000 dot
products up to 64 long, some all-extreme so the exact sum leaves the 2**30
small-int range (and 32 bits); every one of the 65,536 inputs of each table
lookup and of to_str; 100,000 PRNG draws per stream.
"""
import numpy as np
import pytest

from tinyrnn_host.board import mpvm
from tinyrnn_host.mirror import act as m_act
from tinyrnn_host.mirror import q88 as m_q88
from tinyrnn_host.mirror.rng import Rng as MRng
from tinyrnn import act as l_act
from tinyrnn import q88 as l_q88
from tinyrnn.rng import Rng as LRng

N = 100_000
EDGES = [-32768, -32767, -257, -256, -255, -129, -128, -127, -2, -1, 0, 1, 2,
         127, 128, 129, 255, 256, 257, 32766, 32767]
SEEDS = [1, 7, 2024, 0, 0xFFFFFFFF]
ALL_Q = np.arange(-32768, 32768, dtype=np.int64)


def operands(rng, n):
    a = rng.integers(-32768, 32768, n)
    ends = rng.random(n) < 1 / 3
    a[ends] = rng.choice([-32768, -32767, -32000, 32000, 32766, 32767], ends.sum())
    return a


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(12345)
    ea, eb = np.meshgrid(EDGES, EDGES)
    a = np.concatenate([ea.ravel(), operands(rng, N)])
    b = np.concatenate([eb.ravel(), operands(rng, N)])
    bd = np.where(b == 0, 1, b)                     # div by zero is tested on its own
    lens = rng.integers(1, 33, N)
    lens[rng.random(N) < 0.1] = 64
    total = int(lens.sum())
    ws, xs = operands(rng, total), operands(rng, total)
    extreme = np.repeat(rng.random(N) < 0.05, lens)  # whole vectors at +-32768: sums of 2**30s
    ws[extreme] = rng.choice([-32768, 32767], extreme.sum())
    xs[extreme] = -32768
    bias = operands(rng, N)
    strs = decimal_strings(rng)
    return dict(a=a, b=b, bd=bd, lens=lens, ws=ws, xs=xs, bias=bias, strs=strs)


def decimal_strings(rng):
    """Decimal texts in many shapes, some out of range, some not numbers at all."""
    out = []
    for v in rng.uniform(-140, 140, N // 2):
        out.append("%.*f" % (int(rng.integers(0, 11)), v))
    for q in rng.integers(-32768, 32768, N // 4):
        out.append(l_q88.to_str(int(q), int(rng.integers(0, 9))))
    for i in range(N // 4):
        out.append(["+.5", "-.25 ", "12", "-0", "1.2.3", "", "abc", "-", "1e3", "+-1"][i % 10])
    return out


VM_SCRIPT = r"""
from array import array
import os
from tinyrnn import q88, act
from tinyrnn.rng import Rng

def load(name, typ):
    a = array(typ, bytes(os.stat(name)[6]))      # a bytes initializer fills from its buffer
    with open(name, 'rb') as f:
        f.readinto(a)
    return a

def save(name, arr):
    with open(name, 'wb') as f:
        f.write(arr)

a, b, bd = load('a.bin', 'h'), load('b.bin', 'h'), load('bd.bin', 'h')
n = len(a)
for op, y in (('add', b), ('sub', b), ('mul', b), ('div', bd)):
    fn = getattr(q88, op)
    save(op + '.out', array('h', [fn(a[i], y[i]) for i in range(n)]))

lens, ws, xs, bias = load('lens.bin', 'h'), load('ws.bin', 'h'), load('xs.bin', 'h'), load('bias.bin', 'h')
out = array('h', bytes(2 * len(lens)))
at = 0
for i in range(len(lens)):
    k = lens[i]
    out[i] = q88.dot(ws[at:at + k], xs[at:at + k], bias[i])
    at += k
save('dot.out', out)

for name in ('sigmoid', 'tanh', 'exp'):
    fn = getattr(act, name)
    save(name + '.out', array('h', [fn(q) for q in range(-32768, 32768)]))

with open('to_str.out', 'w') as f:
    for d in (0, 4, 8):
        for q in range(-32768, 32768):
            f.write(q88.to_str(q, d))
            f.write('\n')

res = array('l')
with open('strs.txt') as f:
    for line in f:
        try:
            res.append(q88.from_str(line[:-1]))
        except ValueError:
            res.append(-99999)
save('from_str.out', res)

for s in SEEDS:
    r = Rng(s)
    save('rng%d.out' % s, array('H', [r.next16() for _ in range(N)]))
r = Rng(5)
save('randbelow.out', array('l', [r.randbelow(3 + (i % 1000) * 997) for i in range(N)]))
"""

OUTPUTS = (["add.out", "sub.out", "mul.out", "div.out", "dot.out", "sigmoid.out", "tanh.out",
            "exp.out", "to_str.out", "from_str.out", "randbelow.out"] + ["rng%d.out" % s for s in SEEDS])


@pytest.fixture(scope="module")
def vm(data):
    h16 = lambda v: np.asarray(v, dtype="<i2").tobytes()  # noqa: E731
    files = {"a.bin": h16(data["a"]), "b.bin": h16(data["b"]), "bd.bin": h16(data["bd"]),
             "lens.bin": h16(data["lens"]), "ws.bin": h16(data["ws"]), "xs.bin": h16(data["xs"]),
             "bias.bin": h16(data["bias"]),
             "strs.txt": ("\n".join(data["strs"]) + "\n").encode()}
    script = "SEEDS = %r\nN = %d\n" % (SEEDS, N) + VM_SCRIPT
    res = mpvm.run_vm(script, heap_bytes=64 << 20, files=files, collect=OUTPUTS, allow_growth=True)
    out = {}
    for name in OUTPUTS:
        raw = res.files[name]
        assert raw is not None, name + " not written by the VM"
        if name == "to_str.out":
            out[name] = raw.decode().split("\n")[:-1]
        elif name in ("from_str.out", "randbelow.out"):
            out[name] = np.frombuffer(raw, dtype="<i4").astype(np.int64)
        elif name.startswith("rng"):
            out[name] = np.frombuffer(raw, dtype="<u2").astype(np.int64)
        else:
            out[name] = np.frombuffer(raw, dtype="<i2").astype(np.int64)
    return out


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_ops_three_ways(op, data, vm):
    y = data["bd"] if op == "div" else data["b"]
    mirror = getattr(m_q88, op)(data["a"], y)
    fn = getattr(l_q88, op)
    cpython = np.array([fn(int(p), int(q)) for p, q in zip(data["a"], y)])
    assert len(mirror) >= N
    assert np.array_equal(vm[op + ".out"], mirror)
    assert np.array_equal(cpython, mirror)
    assert mirror.min() == -32768 and mirror.max() == 32767      # saturation was hit, both ways
    exact = {"add": data["a"] + y, "sub": data["a"] - y}.get(op)
    if exact is not None:              # add/sub: the exact result, clamped; past the rails both ways
        assert (exact > 32767).any() and (exact < -32768).any()
        assert np.array_equal(mirror, np.clip(exact, -32768, 32767))


def test_dot_three_ways(data, vm):
    lens, ws, xs, bias = data["lens"], data["ws"], data["xs"], data["bias"]
    width = int(lens.max())
    W = np.zeros((len(lens), width), np.int64)
    X = np.zeros((len(lens), width), np.int64)
    mask = np.arange(width) < lens[:, None]
    W[mask], X[mask] = ws, xs
    mirror = m_q88.dot(W, X, bias)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    cpython = np.array([l_q88.dot(ws[s:s + k].tolist(), xs[s:s + k].tolist(), int(c))
                        for s, k, c in zip(starts, lens, bias)])
    exact = (W * X).sum(axis=1) + (bias << 8)
    assert np.abs(exact).max() > 2**31, "some sums must leave 32 bits"
    assert (np.abs(exact) > 2**30 - 1).sum() > 1000
    assert np.array_equal(vm["dot.out"], mirror)
    assert np.array_equal(cpython, mirror)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp"])
def test_activation_exhaustive_three_ways(name, vm):
    mirror = getattr(m_act, name)(ALL_Q)
    fn = getattr(l_act, name)
    cpython = np.array([fn(int(q)) for q in ALL_Q])
    assert len(mirror) == 65536
    assert np.array_equal(vm[name + ".out"], mirror)
    assert np.array_equal(cpython, mirror)


def test_to_str_exhaustive_three_ways(vm):
    mirror = m_q88.to_str(ALL_Q, 0) + m_q88.to_str(ALL_Q, 4) + m_q88.to_str(ALL_Q, 8)
    cpython = [l_q88.to_str(int(q), d) for d in (0, 4, 8) for q in ALL_Q]
    assert vm["to_str.out"] == mirror
    assert cpython == mirror
    # digits=8 is exact: parse back with float math to check the mirror itself
    assert all(abs(float(s) * 256 - q) < 1e-9 for s, q in zip(mirror[2 * 65536:], ALL_Q))


def test_from_str_three_ways(data, vm):
    def parse(fn, s):
        try:
            return fn(s)
        except ValueError:
            return -99999
    mirror = np.array([parse(m_q88.from_str, s) for s in data["strs"]])
    cpython = np.array([parse(l_q88.from_str, s) for s in data["strs"]])
    assert np.array_equal(vm["from_str.out"], mirror)
    assert np.array_equal(cpython, mirror)
    assert (mirror == -99999).sum() > N // 10            # errors were exercised
    ok = mirror != -99999
    floats = np.array([float(s) for s, k in zip(data["strs"], ok) if k])
    assert np.abs(floats * 256 - mirror[ok]).max() <= 0.5   # nearest Q8.8


@pytest.mark.parametrize("seed", SEEDS)
def test_rng_streams_three_ways(seed, vm):
    m, lr = MRng(seed), LRng(seed)
    mirror = m.stream16(N)
    cpython = np.array([lr.next16() for _ in range(N)])
    assert np.array_equal(vm["rng%d.out" % seed], mirror)
    assert np.array_equal(cpython, mirror)


def test_randbelow_three_ways(vm):
    m, lr = MRng(5), LRng(5)
    mirror = np.array([m.randbelow(3 + (i % 1000) * 997) for i in range(N)])
    cpython = np.array([lr.randbelow(3 + (i % 1000) * 997) for i in range(N)])
    assert np.array_equal(vm["randbelow.out"], mirror)
    assert np.array_equal(cpython, mirror)
