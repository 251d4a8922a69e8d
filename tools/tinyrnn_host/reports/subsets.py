"""Trainable subsets: the heap a Trainer takes on the board when only part of the model
learns (Trainer(..., train=...)), against the full model, measured (printed by make sizes).

On the unix port (64-bit objects, lib as .mpy), the gc.mem_alloc() difference around
Trainer(...) with a collection after it, the kernels imported beforehand, each trainer
built from a fresh model; beside it the budget the Trainer checks (lib/tinyrnn/_budget.py,
which counts only what is allocated) for the same port and for a 32-bit board.
"""
import json
import re

from ..board import mpunix
from . import budget

GRU_8_32_4 = {"input": 8, "layers": [{"kind": "gru", "hidden": 32}], "head": {"out": 4, "act": "identity"}}
# what learns: everything, the head only, the GRU layer only (the head frozen above it)
SUBSETS = [("all", "everything"), ("head", "the head only"), ([-2], "the GRU layer only")]
STEPS = 4

MEASURE = """
import gc, json
from tinyrnn.model import Model
from tinyrnn import optim
from tinyrnn.train import Trainer
desc, steps, subsets = json.loads(open('cases.json').read())
t = Trainer(Model(desc, 1), optimizer=optim.Adam(), max_steps=1, train='head')   # the kernels imported first
t = None
for train in subsets:
    m = Model(desc, 1)
    o = optim.Adam()
    gc.collect()
    a = gc.mem_alloc()
    t = Trainer(m, optimizer=o, max_steps=steps, train=train)
    gc.collect()
    print('MEASURED', gc.mem_alloc() - a)
    t = m = o = None
"""


def measure(desc=GRU_8_32_4, subsets=SUBSETS, steps=STEPS):
    """[(train, what, measured bytes on the unix port, budget 64-bit, budget 32-bit)] for Adam."""
    res = mpunix.run_unix(MEASURE, heap_bytes=4 << 20,
                          files={"cases.json": json.dumps([desc, steps, [t for t, _ in subsets]]).encode()})
    got = [int(v) for v in re.findall(r"^MEASURED (\d+)", res.stdout, re.M)]
    if len(got) != len(subsets):
        raise RuntimeError("the unix port printed %d figures for %d subsets:\n%s%s"
                           % (len(got), len(subsets), res.stdout, res.stderr))
    return [(t, what, m, budget.estimate(desc, "adam", steps, word=8, train=t)[0],
             budget.estimate(desc, "adam", steps, word=4, train=t)[0]) for (t, what), m in zip(subsets, got)]


def report(rows=None):
    rows = rows or measure()
    full = rows[0][2]
    print("Trainer heap with Adam on a GRU 8-32-4, a cache of %d steps, by what learns (train=): measured on the"
          " unix port (lib .mpy), and the budget Trainer checks" % STEPS)
    print("| train= | what learns | measured, unix port | vs full model | budget, 64-bit | budget, 32-bit |")
    print("|---|---|---:|---:|---:|---:|")
    for t, what, m, b8, b4 in rows:
        print("| `%s` | %s | %s | %.1f %% | %s | %s |" % (json.dumps(t), what, "{:,}".format(m), 100 * m / full,
                                                         "{:,}".format(b8), "{:,}".format(b4)))
    return rows
