"""A budget before the failure: Trainer(...) sums what its buffers will take and, where
the free heap after a collection cannot hold it, raises MemoryError with the figure
before it allocates anything; the host's estimate (`tinyrnn sizes --model ...`) is
within its stated margin of the heap a Trainer really takes on a board.

Measured on the unix port (64-bit words, a hard heap cap, a real GC); the same checks
run on the Cortex-M3 firmware (32-bit words) where the QEMU board is built."""
import json
import re
import subprocess
import sys

import pytest

from tinyrnn_host.board import mpunix
from tinyrnn_host.reports import budget

import needs

GRU = lambda i, h, o, kind="gru": {"input": i, "layers": [{"kind": kind, "hidden": h}],  # noqa: E731
                                   "head": {"out": o, "act": "identity"}}
CASES = [(GRU(2, 8, 1), "adam", 4), (GRU(2, 8, 1), "sgd", 4), (GRU(8, 32, 4), "adam", 4), (GRU(8, 32, 4), "sgd", 20),
         (GRU(2, 3, 2), "momentum", 4), (GRU(3, 16, 2, "lstm"), "adam", 16), (GRU(4, 12, 1, "elman"), "rmsprop", 8)]
NAMES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}

MEASURE = """
import gc, json
from tinyrnn.model import Model
from tinyrnn import optim
from tinyrnn.train import Trainer
cases = json.loads(open('cases.json').read())
t = Trainer(Model(cases[0][0], 1), optimizer=optim.SGD(), max_steps=1)   # the kernels imported first
t = None
for desc, opt, steps in cases:
    m = Model(desc, 1)
    o = getattr(optim, opt)()
    gc.collect()
    a = gc.mem_alloc()
    t = Trainer(m, optimizer=o, max_steps=steps)
    gc.collect()
    print('MEASURED', gc.mem_alloc() - a)
    t = m = o = None
"""

SMALL = """
import gc
from binascii import crc32
from tinyrnn.model import Model
from tinyrnn.optim import Adam
from tinyrnn.train import Trainer
m = Model(%s, 1)
opt = Adam()
crc = crc32(m.params)
gc.collect()
print('FREE', gc.mem_free())
try:
    Trainer(m, optimizer=opt, max_steps=8)
    print('BUILT')
except MemoryError as e:
    print('ERROR', e)
print('UNCHANGED', crc32(m.params) == crc, opt.m is None and opt.v is None)
"""


def measured(run, cases):
    res = run(MEASURE, {"cases.json": json.dumps([(d, NAMES[o], s) for d, o, s in cases]).encode()})
    got = [int(v) for v in re.findall(r"^MEASURED (\d+)", res.stdout, re.M)]
    assert len(got) == len(cases), res.stdout
    return got


def check_margin(got, cases, word):
    report = []
    for (desc, opt, steps), m in zip(cases, got):
        est = budget.estimate(desc, opt, steps, word=word)[0]
        report.append("%s %s %d steps: estimate %d, measured %d" % (json.dumps(desc["layers"]), opt, steps, est, m))
        assert budget.within_margin(est, m), "\n".join(report)
    return report


def unix_run(script, files, heap=1 << 20):
    return mpunix.run_unix(script, heap_bytes=heap, files=files)


def test_host_estimate_within_its_margin_of_the_unix_ports_measured_heap():
    needs.unix_port()
    report = check_margin(measured(unix_run, CASES), CASES, 8)
    print("\n".join(report))


def test_a_trainer_that_cannot_fit_raises_the_budget_before_allocating_on_a_small_heap():
    # GRU 8-32-4 (4,164 parameters): the model fits 72 KB, its Adam trainer (about 69 KB) does not; the
    # free heap cannot even hold the master weights and gradients (34 KB), so a buffer allocated before
    # the check would fail with the port's own "memory allocation failed, allocating N bytes" (in 80 KB
    # it could, since the trainer's import keeps its once-run code out of the heap: 36.6 KB free there)
    needs.unix_port()
    desc = GRU(8, 32, 4)
    res = mpunix.run_unix(SMALL % json.dumps(desc), heap_bytes=72 * 1024, check=False)
    out = res.stdout
    err = re.search(r"^ERROR (.*)$", out, re.M)
    assert err, out + (res.error or "")
    msg = err.group(1)
    total, parts = budget.estimate(desc, "adam", 8, word=8)
    assert msg.startswith("Trainer needs {:,} bytes (".format(total)), msg
    assert "Adam state for 4,164 parameters" in msg and "master weights and gradients for 4,164 parameters" in msg
    free = int(re.search(r"\), ([\d,]+) free$", msg).group(1).replace(",", ""))
    assert free < parts[0][1] < total
    assert "UNCHANGED True True" in out


def test_a_trainer_that_fits_is_not_refused():
    needs.unix_port()
    res = mpunix.run_unix(SMALL % json.dumps(GRU(2, 8, 1)), heap_bytes=72 * 1024)
    assert "BUILT" in res.stdout and "UNCHANGED True False" in res.stdout, res.stdout


def test_sizes_command_prints_the_estimate():
    desc = json.dumps(GRU(2, 8, 1))
    out = subprocess.run([sys.executable, "-m", "tinyrnn_host", "sizes", "--model", desc, "--optimizer", "sgd",
                          "--max-steps", "4"], capture_output=True, text=True, check=True).stdout
    t4 = budget.estimate(desc, "sgd", 4, word=4)[0]
    t8 = budget.estimate(desc, "sgd", 4, word=8)[0]
    assert "| **total** | **{:,}** | **{:,}** |".format(t4, t8) in out, out
    bad = subprocess.run([sys.executable, "-m", "tinyrnn_host", "sizes", "--model", '{"input": 2}'],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "--model" in bad.stderr and "layer" in bad.stderr, bad.stderr


@pytest.mark.parametrize("bad, words", [({"word": 3}, "word"), ({"optimizer": "lbfgs"}, "optimizer")])
def test_estimate_bad_arguments_name_themselves(bad, words):
    with pytest.raises(ValueError, match=words):
        budget.estimate(GRU(2, 8, 1), **bad)
