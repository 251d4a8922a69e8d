"""What a Trainer will take on a board, before it runs there: the host's estimate.

    tinyrnn sizes --model '{"input": 2, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 1}}' \\
                  --optimizer adam --max-steps 4 [--window K] [--word 4]

The same sum the board's Trainer checks against gc.mem_free() before it allocates
(lib/tinyrnn/_budget.py needs(), run here under CPython for a port's word size): every
buffer rounded up to the collector's 4-word blocks, plus the objects' headers. It matches
the gc.mem_alloc() difference measured around Trainer(...) on the board within MARGIN
(host_tests/test_budget.py: the unix port, and the Cortex-M3 firmware where it is built).
"""
import json

from .. import paths

optim = paths.import_board("tinyrnn.optim")
Model = paths.import_board("tinyrnn.model").Model
needs = paths.import_board("tinyrnn._budget").needs
trained_layers = paths.import_board("tinyrnn._subset").trained_layers

OPTIMIZERS = {"sgd": optim.SGD, "momentum": optim.Momentum, "rmsprop": optim.RMSprop, "adam": optim.Adam}
MARGIN = (0.10, 256)         # |estimate - measured| <= max(10 % of measured, 256 bytes)


def within_margin(estimate, measured):
    return abs(estimate - measured) <= max(MARGIN[0] * measured, MARGIN[1])


def estimate(desc, optimizer="adam", max_steps=32, window=None, word=4, train="all"):
    """(total bytes, [(what, bytes)]) for a model description (dict or JSON text), training
    what `train` names (Trainer's train=: "all", "head", consecutive layer indices)."""
    if isinstance(desc, str):
        try:
            desc = json.loads(desc)
        except json.JSONDecodeError as e:
            raise ValueError("not JSON: %s" % e)
    if optimizer not in OPTIMIZERS:
        raise ValueError("optimizer must be one of %s, got %r" % (", ".join(OPTIMIZERS), optimizer))
    if word not in (4, 8):
        raise ValueError("word must be 4 (32-bit boards) or 8 (the unix port), got %r" % (word,))
    model = Model(desc, 1, kernels="bytecode")
    steps = window if window is not None else max_steps
    lo, hi = trained_layers(train, len(model.layers))
    total, parts = needs(model, OPTIMIZERS[optimizer](), steps, word, lo, hi)
    n = "{:,}".format(sum(len(L.p) for L in model.layers[lo:hi]))
    names = ("master weights and gradients for %s parameters" % n,
             "%s state for %s parameters" % (OPTIMIZERS[optimizer].__name__, n),
             "BPTT cache for %d steps" % steps, "the rest: deltas, plan, the trainer itself")
    return total, list(zip(names, parts))


def report(desc, optimizer="adam", max_steps=32, window=None, words=(4, 8)):
    if isinstance(desc, str):
        try:
            desc = json.loads(desc)
        except json.JSONDecodeError as e:
            raise ValueError("not JSON: %s" % e)
    rows = [(w, estimate(desc, optimizer, max_steps, window, w)) for w in words]
    steps = window if window is not None else max_steps
    print("Trainer heap estimate: %s, %s, a cache of %d steps (margin vs the board's measured figure: "
          "max(%d %%, %d bytes))" % (json.dumps(desc), optimizer, steps, MARGIN[0] * 100, MARGIN[1]))
    names = [what for what, _ in rows[0][1][1]]
    head = "| part | " + " | ".join("%d-bit board" % (8 * w) for w, _ in rows) + " |"
    print(head)
    print("|---|" + "---:|" * len(rows))
    for i, name in enumerate(names):
        print("| %s | %s |" % (name, " | ".join("{:,}".format(r[1][1][i][1]) for r in rows)))
    print("| **total** | %s |" % " | ".join("**{:,}**".format(r[1][0]) for r in rows))
    return rows
