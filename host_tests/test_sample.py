"""Temperature sampling (lib/tinyrnn/sample.py) against its mirror twin (mirror/sample.py), on
MicroPython (the unix port, viper and bytecode kernels): for the same model, inputs, temperature
and seed, the same classes, draw for draw; the draws follow softmax(z / T) (a frequency check
against the float formula); bad temperatures and heads are refused naming the argument."""
import json

import numpy as np
import pytest

from tinyrnn_host.board import mpunix
from tinyrnn_host.mirror import sample as m_sample
from tinyrnn_host.mirror.model import Model
from tinyrnn_host.mirror.rng import Rng

DESC = {"input": 3, "layers": [{"kind": "gru", "hidden": 6}], "head": {"out": 5, "act": "softmax"}}

BOARD = r"""
import json
from tinyrnn.model import Model
from tinyrnn.sample import Sampler
import tinyrnn
m = Model(DESC, seed=4, kernels=KERNELS)
out = []
for temp, seed in RUNS:
    s = Sampler(m, temp, seed)
    m.reset()
    ks = []
    for x in XS:
        ks.append(s.step(x))
    out.append(ks)
print(json.dumps(out))
"""


def xs(n=60):
    rng = np.random.default_rng(5)
    return rng.integers(-600, 600, (n, 3)).tolist()


RUNS = [("1.0", 1), ("0.5", 9), ("2", 123456789), ("0.05", 3), ("127.99", 77)]


def mirror(runs, inputs):
    params = Model(DESC, seed=4).params           # the mirror's init == the lib's (test_core_bitexact)
    out = []
    for temp, seed in runs:
        s = m_sample.Sampler(DESC, params, temp, seed)
        out.append([s.step(x) for x in inputs])
    return out


@pytest.mark.parametrize("kernels", ["viper", "bytecode"])
def test_the_board_draws_what_the_mirror_draws(kernels):
    inputs = xs()
    script = "DESC = %r\nRUNS = %r\nXS = %r\nKERNELS = %r\n" % (DESC, RUNS, inputs, kernels) + BOARD
    res = mpunix.run_unix(script, heap_bytes=262144)
    board = json.loads(res.stdout.strip().splitlines()[-1])
    want = mirror(RUNS, inputs)
    assert board == want
    assert len({tuple(k) for k in want}) == len(RUNS)                # the runs differ from each other
    assert len(set(want[2])) >= 3 and len(set(want[3])) <= 2         # hot spreads, cold concentrates


def test_draws_follow_softmax_at_the_temperature():
    z = np.array([300, 0, -200, 150, -1000], np.int64)           # Q8.8 logits
    for temp, t in (("1.0", 1.0), ("0.5", 0.5), ("2.5", 2.5)):
        rng = Rng(11)
        tq = m_sample.temperature_q88(temp)
        n = 6000
        counts = np.bincount([m_sample.draw(z, tq, rng) for _ in range(n)], minlength=5)
        p = np.exp(z / 256 / t)
        p /= p.sum()
        assert np.abs(counts / n - p).max() < 0.03, (temp, counts / n, p)


def test_draw_is_the_first_class_whose_running_sum_passes_r():
    class Fixed:
        def __init__(self, r):
            self.r = r

        def randbelow(self, n):
            assert n == 256 + 256 + 94            # exp(0) twice, exp(-1.0) from the table
            return self.r
    z = [0, -256, 0]
    assert [m_sample.draw(z, 256, Fixed(r)) for r in (0, 255, 256, 349, 350, 605)] == [0, 0, 1, 1, 2, 2]


def test_bad_temperatures_and_heads_are_refused_on_the_board():
    script = r"""
from tinyrnn.model import Model
from tinyrnn.sample import Sampler
m = Model(%r, seed=1)
for t in ("0", "-1", "x", 0.5, "128", "0.001"):
    try:
        Sampler(m, t, 1)
        print("ACCEPTED", t)
    except (ValueError, TypeError) as e:
        print("REFUSED", str(e))
try:
    Sampler(Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": {"out": 2, "act": "identity"}}), "1", 1)
except ValueError as e:
    print("REFUSED", str(e))
""" % DESC
    lines = mpunix.run_unix(script, heap_bytes=262144).stdout.strip().splitlines()
    assert len(lines) == 7 and all(line.startswith("REFUSED") for line in lines), lines
    assert all("temperature" in line for line in lines[:6])
    assert "softmax head" in lines[6]
    for bad in ("0", "-1", "128", "0.001"):
        with pytest.raises(ValueError, match="temperature"):
            m_sample.temperature_q88(bad)
