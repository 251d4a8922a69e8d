"""Programs on the Cortex-M3 board with the library three ways: as .mpy files in the board's
/lib (what a deploy uploads), in a ROMFS image (the same .mpy set, run in place), and frozen
into the firmware (manifest.py). The heap figures of `make sizes` and of the memory tests.

    with Session(heap_bytes=65536, mode="romfs") as s:     # one QEMU board, reused
        out = s.run(script_text, files={"tiny.rec": data})
"""
import json
import pathlib
import re
import tempfile

from .. import paths
from ..board import deploy, device, mpunix, qemu, romfs
from ..interop import recordings

MODES = ("mpy", "romfs", "frozen")
CORTEX_M3_MPY = 6918            # sys.implementation._mpy of the firmware: mpy 6.3, arch armv7m


def manifest():
    return paths.board_lib().parent / "manifest.py"


def firmware(heap_bytes, mode):
    """The firmware.elf for a heap and a mode: frozen builds include the repository's manifest.py."""
    if mode not in MODES:
        raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if mode != "frozen":
        return qemu.firmware(heap_bytes)
    return qemu.firmware(heap_bytes, frozen=["include(%r)" % str(manifest().resolve())],
                         depends=[(paths.board_lib() / "tinyrnn").resolve()])


def romfs_image():
    path = paths.build_dir() / "memory" / "tinyrnn-armv7m.romfs"
    return romfs.write_image(CORTEX_M3_MPY, path, out=lambda *a: None)


class Session:
    """A QEMU Cortex-M3 board with the library installed one way; run() runs scripts on it
    (mpremote run: a soft reset before each, so each starts from a fresh heap)."""

    def __init__(self, heap_bytes=qemu.DEFAULT_HEAP, mode="mpy", timeout=900):
        self.heap_bytes = heap_bytes
        self.mode = mode
        self.timeout = timeout
        self.qb = qemu.QemuBoard(elf=firmware(heap_bytes, mode), romfs=romfs_image() if mode == "romfs" else None,
                                 time_limit=3600)
        self.board = None
        self._tmp = None

    def __enter__(self):
        port = self.qb.start()
        try:
            self.board = device.Board(port, timeout=self.timeout)
            if self.mode == "mpy":
                deploy.deploy_lib(deploy.Board(port), deploy.Report(), out=lambda *a: None)
        except BaseException:
            self.qb.stop()
            raise
        self._tmp = tempfile.TemporaryDirectory(prefix="memory-")
        return self

    def __exit__(self, *exc):
        self.qb.stop()
        self._tmp.cleanup()

    def put(self, name, data):
        p = pathlib.Path(self._tmp.name) / name
        p.write_bytes(data)
        self.board.cp(p, ":" + name)

    def run(self, script, files=None):
        """(output, exit code) of a script (source text) on the board."""
        for name, data in (files or {}).items():
            self.put(name, data)
        p = pathlib.Path(self._tmp.name) / "prog.py"
        p.write_text(script)
        return self.board.run(p)


def tiny_data(n=32, T=4, seed=1):
    """The recordings of examples/gru_tiny_train.py: y[t] = the mean of the inputs at t - 1."""
    import numpy as np
    rng = np.random.default_rng(seed)
    xs = rng.integers(-256, 257, (n, T, 2))
    ys = np.zeros((n, T, 1), np.int64)
    ys[:, 1:, 0] = (xs[:, :-1, 0] + xs[:, :-1, 1]) // 2
    return recordings.encode(xs, ys, "steps")


def tiny_program():
    return (paths.examples() / "gru_tiny_train.py").read_text()


RUNS = [("mpy", 65536), ("romfs", 65536), ("romfs", 32768), ("frozen", 32768)]


def report(runs=RUNS, out=print):
    """The table of `tinyrnn sizes --board`: per way of holding the library and heap, what
    `from tinyrnn.train import Trainer` costs and whether examples/gru_tiny_train.py runs."""
    rows = []
    for mode, heap in runs:
        with Session(heap, mode) as s:
            imp = import_cost(s, "trainer")
            text, code = s.run(tiny_program(), files={"tiny.rec": tiny_data()})
        used = [int(v) for v in re.findall(r"^HEAP \w+ (\d+) used", text, re.M)]
        err = re.search(r"^MemoryError: (.*)$", text, re.M)
        res = re.search(r"loss (\d+) -> (\d+)", text)
        rows.append((mode, heap, imp, max(used) if used else None,
                     "runs, loss %s -> %s" % res.groups() if code == 0 and res else
                     "MemoryError (%s)" % (err.group(1) if err else "exit %d" % code)))
    out("Cortex-M3 firmware (MicroPython v1.28.0, QEMU mps2-an385, 32-bit), bytecode kernels; "
        "examples/gru_tiny_train.py: GRU 2-8-1, Adam, 3 epochs of 32 sequences x 4 steps from a .rec file")
    out("| library | heap | `from tinyrnn.train import Trainer` | peak heap in use | GRU 2-8-1 Adam training |")
    out("|---|---:|---:|---:|---|")
    for mode, heap, imp, used, res in rows:
        out("| %s | %d KB | %s | %s | %s |" % ({"mpy": ".mpy files in /lib", "romfs": "ROMFS image",
                                              "frozen": "frozen (manifest.py)"}[mode], heap // 1024,
                                             "-" if imp is None else "{:,} bytes".format(imp),
                                             "-" if used is None else "{:,} bytes".format(used), res))
    return rows


# ---- the figures of issue-style questions, per way of holding the library ------------------
# Each program prints "PEAK n" (the most heap in use after a collection at each stage, bytes,
# as gc.mem_alloc() reads it: the REPL's own objects included) and "OK", or "MEM <message>"
# where it raised MemoryError (a Trainer's budget error included). Bytecode kernels, as in
# examples/gru_tiny_train.py.
PRELUDE = """import gc
from tinyrnn import kernels
kernels.use("bytecode")
PEAK = 0
def mark():
    global PEAK
    gc.collect()
    PEAK = max(PEAK, gc.mem_alloc())
mark()
try:
"""
EPILOGUE = """    mark()
    print("PEAK", PEAK)
    print("OK")
except MemoryError as e:
    print("MEM", e)
"""
IMPORTS = {"model": "from tinyrnn.model import Model", "trainer": "from tinyrnn.train import Trainer",
           # what a training program imports (issue 25's figure: at most 11,000 bytes as .mpy)
           "training": "from tinyrnn.model import Model\nfrom tinyrnn.optim import Adam\nfrom tinyrnn.train import Trainer"}
INFERENCE = """    from tinyrnn.model import Model
    mark()
    m = Model(%s, seed=1)
    mark()
    x = [100] * 8
    for _ in range(200):
        m.step(x)
"""
TRAINING = """    from tinyrnn.model import Model
    from tinyrnn.optim import %(opt)s
    from tinyrnn.recordings import Recordings
    from tinyrnn.train import Trainer
    data = Recordings(%(file)r)
    mark()
    m = Model(%(desc)s, seed=1)
    mark()
    t = Trainer(m, optimizer=%(opt)s(lr="0.01"), max_steps=data.steps)
    mark()
    t.fit(data, 1, batch_size=4, verbose=False)
"""


def _desc(kind, I, H, O):
    return json.dumps({"input": I, "layers": [{"kind": kind, "hidden": H}], "head": {"out": O, "act": "identity"}})


def _data(I, O, n=8, T=8, seed=2):
    import numpy as np
    rng = np.random.default_rng(seed)
    return recordings.encode(rng.integers(-256, 257, (n, T, I)), rng.integers(-128, 129, (n, T, O)), "steps")


def _outcome(text):
    """('runs', peak) or ('MemoryError', message) of a PRELUDE/EPILOGUE program's output."""
    mem = re.search(r"^MEM (.*)$", text, re.M)
    if mem:
        return "MemoryError", mem.group(1)
    peak = re.search(r"^PEAK (\d+)$", text, re.M)
    if not peak or not re.search(r"^OK$", text, re.M):
        raise RuntimeError("memory: the board program failed:\n" + text)
    return "runs", int(peak.group(1))


def _program(body):
    return PRELUDE + body + EPILOGUE


def import_cost(s, what):
    """Heap in use after `import` minus before (collections on both sides), bytes."""
    out = s.run("import gc\ngc.collect()\na = gc.mem_alloc()\n%s\ngc.collect()\nprint('IMPORT', gc.mem_alloc() - a)\n"
                % IMPORTS[what])[0]
    return int(re.search(r"^IMPORT (\d+)", out, re.M).group(1))


def training(s, kind, I, H, O, opt):
    files = {"fig.rec": _data(I, O)}
    return _outcome(s.run(_program(TRAINING % {"opt": opt, "file": "fig.rec", "desc": _desc(kind, I, H, O)}),
                          files=files)[0])


def trains(s, kind, h):
    """Whether Adam training of a `kind` 8-h-1 (1 epoch of 8 sequences x 8 steps) runs."""
    return training(s, kind, 8, h, 1, "Adam")[0] == "runs"


def largest(s, kind, lo=4, hi=96):
    """The largest hidden size H of a `kind` 8-H-1 whose Adam training runs (trains()), by
    bisection, confirmed by H running and H + 1 and H + 2 not (a fragmented heap need not be
    monotonic in the model's size); None where H = lo does not run."""
    if not trains(s, kind, lo):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if trains(s, kind, mid):
            lo = mid
        else:
            hi = mid
    if trains(s, kind, lo + 1) or trains(s, kind, lo + 2):
        raise RuntimeError("memory: %s 8-H-1 training is not monotonic around H=%d" % (kind, lo))
    return lo


FIG_TRAINING = [("GRU 2-8-1", ("gru", 2, 8, 1)), ("GRU 8-32-4", ("gru", 8, 32, 4))]
FIG_ROWS = ["import Model", "import Trainer", "import training", "GRU 8-32-1 inference"] + \
    ["%s %s" % (n, o) for n, _ in FIG_TRAINING for o in ("Adam", "SGD")] + ["largest GRU", "largest LSTM"]
FIG_LABELS = {"import Model": "`from tinyrnn.model import Model`", "import Trainer": "`from tinyrnn.train import Trainer`",
              "import training": "`Trainer` with `Model` and `Adam`",
              "largest GRU": "largest GRU 8-H-1 that trains (H)", "largest LSTM": "largest LSTM 8-H-1 that trains (H)"}


def label(row):
    """The README's first cell of a figures() row."""
    return FIG_LABELS.get(row, row if row == "GRU 8-32-1 inference" else row + " training")


def column(s, rows=FIG_ROWS):
    """{row: value} on one board (a Session, or Unix): an int (bytes, or H), None (no H trains),
    ("runs", peak bytes) or ("MemoryError", message)."""
    c = {}
    for r in rows:
        if r.startswith("import "):
            c[r] = import_cost(s, r.split()[1].lower())
        elif r == "GRU 8-32-1 inference":
            c[r] = _outcome(s.run(_program(INFERENCE % _desc("gru", 8, 32, 1)))[0])
        elif r.startswith("largest "):
            c[r] = largest(s, r.split()[1].lower())
        else:
            name, opt = r.rsplit(" ", 1)
            kind, I, H, O = dict(FIG_TRAINING)[name]
            c[r] = training(s, kind, I, H, O, opt)
    return c


def cell(v):
    """A figures() value as the README's table shows it."""
    if isinstance(v, int):
        return "{:,}".format(v)
    if v is None:
        return "none"
    if v[0] == "runs":
        return "{:,}".format(v[1])
    return "no: " + (v[1].split(" (")[0] if v[1].startswith("Trainer needs") else v[1])


class Unix:
    """The unix port as a board for figures(): each run a fresh interpreter under a hard
    `-X heapsize` cap, the library as .mpy (64-bit objects: more heap than a 32-bit board)."""

    def __init__(self, heap_bytes, mode="mpy"):
        self.heap_bytes = heap_bytes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def run(self, script, files=None):
        res = mpunix.run_unix(script, heap_bytes=self.heap_bytes, files=files, check=False, timeout=600)
        return res.stdout, 0 if res.error is None else 1


FIG_MODES = [("mpy", 65536), ("romfs", 65536), ("frozen", 65536), ("unix", 65536)]
MODE_NAMES = {"mpy": ".mpy files in /lib", "romfs": "ROMFS image", "frozen": "frozen (manifest.py)",
              "unix": "unix port, .mpy"}


def figures(modes=FIG_MODES, out=print):
    """The second table of `tinyrnn sizes --board`: per way of holding the library on the
    Cortex-M3 firmware, and on the unix port, in a 64 KB heap, bytecode kernels: import costs,
    GRU 8-32-1 inference, GRU 2-8-1 and 8-32-4 training with Adam and with SGD, the largest GRU
    and LSTM 8-H-1 that train with Adam. {mode: column()}."""
    cols = {}
    for mode, heap in modes:
        with (Unix if mode == "unix" else Session)(heap, mode) as s:
            cols[mode] = column(s)
    out("Cortex-M3 firmware (32-bit) three ways, and the unix port (64-bit objects), 64 KB heap (a hard cap), "
        "bytecode kernels: bytes of heap (imports: their cost; programs: the most in use after a collection "
        "at each stage); training: 1 epoch of 8 sequences x 8 steps from a .rec file; largest: 8-H-1 "
        "with Adam, the largest H")
    out("| program | %s |" % " | ".join(MODE_NAMES[m] for m, _ in modes))
    out("|---|%s" % ("---:|" * len(modes)))
    for r in FIG_ROWS:
        out("| %s | %s |" % (label(r), " | ".join(cell(cols[m][r]) for m, _ in modes)))
    return cols
