"""Natural board programs on a stock 64 KB board: `tinyrnn programs`.

Three programs as a user writes them, each run with `mpremote run` on the Cortex-M3 board (QEMU
mps2-an385, MicroPython v1.28.0) with the library as `tinyrnn deploy` leaves it (.mpy files in
/lib, no ROMFS, nothing frozen), once per kernel set (c, viper, bytecode: the modules a board
running a smaller set lacks removed, as the device tests do):

- examples/readme_train.py: the README's training example, byte for byte (host_tests check it);
- examples/dataset_train.py: GRU 2-8-1 Adam training on a dataset object, 3 epochs of 32
  sequences x 4 steps, batches of 4;
- examples/classify_train.py: everything imported at the top, a GRU 2-6-3 softmax trained from a
  recordings file of 48 sequences x 12 steps (shapes(), written here), its weights saved.

Each runs in the firmware's 64 KB heap and again in a firmware whose heap is 8 KB smaller (56 KB):
a program that runs there has at least 8 KB to spare at its peak on a 64 KB board. QEMU's
figures do not move between machines.
"""
import pathlib
import re
import tempfile

from .. import paths
from ..board import device, sync
from ..board.run_device_tests import WITHOUT, in_set, install_on_board
from ..interop import recordings

HEAP = 65536
SPARE = 8192                 # what each program must leave free at its peak (issue 25)
KINDS = ("c", "viper", "bytecode")
PROGRAMS = ("readme_train.py", "dataset_train.py", "classify_train.py")
NAMES = {"readme_train.py": "the README's training example (GRU 1-4-1, Adam)",
         "dataset_train.py": "GRU 2-8-1 Adam on a dataset object",
         "classify_train.py": "GRU 2-6-3 softmax from a recordings file, weights saved"}


def shapes(n=48, T=12, seed=4):
    """examples/classify_train.py's data: `n` recordings of `T` steps of 2 raw int16 channels,
    classes rise / fall / wave in turn (a level drifting up, down, or a square wave, plus noise)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    ys = np.arange(n) % 3
    t = np.arange(T)
    xs = np.zeros((n, T, 2), np.int64)
    for i, k in enumerate(ys):
        base = int(rng.integers(-200, 200))
        a = base + 60 * t if k == 0 else (base - 60 * t if k == 1 else base + 300 * ((t // 2) % 2) - 150)
        xs[i, :, 0] = a + rng.integers(-40, 41, T) + 1000
        xs[i, :, 1] = 500 - a // 2 + rng.integers(-40, 41, T)
    return recordings.encode(xs, ys, "class", labels=["rise", "fall", "wave"])


FILES = {"classify_train.py": {"shapes.rec": shapes}}


def outcome(text, code, kind):
    """'runs' (with the kernels that ran where they are not the board's set: a model whose set
    found no heap block takes the next), or the error a failed run ended with (its last line,
    and for a bare MemoryError where it was raised)."""
    ran = re.findall(r"^KERNELS (\w+)$", text, re.M)
    if code == 0 and "Traceback" not in text:
        return "runs" if ran == [kind] else "runs (on %s kernels)" % (ran[-1] if ran else "no")
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    if not lines:
        return "exit %d" % code
    where = [l for l in lines if l.startswith("File ")]
    if lines[-1].startswith("MemoryError: memory allocation failed") and where:
        return "%s (%s)" % (lines[-1], where[-1].replace('"', "").replace("File ", ""))
    return lines[-1]


def run(heap, kinds=KINDS, programs=PROGRAMS, out=print):
    """{(program, kind): outcome} on a Cortex-M3 board with a `heap`-byte heap."""
    from ..board import qemu
    got = {}
    with qemu.QemuBoard(heap, time_limit=3600) as port, tempfile.TemporaryDirectory(prefix="programs-") as tmp:
        deployed = install_on_board(port)
        board = device.Board(port, timeout=900)
        for name, make in {f: m for p in programs for f, m in FILES.get(p, {}).items()}.items():
            p = pathlib.Path(tmp) / name
            p.write_bytes(make())
            board.cp(str(p), ":" + name)
        for kind in sorted(kinds, key=lambda k: len(WITHOUT[k])):
            gone = [p for p in deployed if not in_set(p, kind)]
            if gone:
                board.exec(sync.remove_code(gone), timeout=60)
            for prog in programs:
                copy = pathlib.Path(tmp) / prog          # the program, then the kernels that ran
                copy.write_text((paths.examples() / prog).read_text() +
                                "\nimport tinyrnn\nprint('KERNELS', tinyrnn.KERNELS)\n")
                text, code = _run(board, copy)
                got[prog, kind] = outcome(text, code, kind)
                out("%s, %s kernels, %d-byte heap: %s" % (prog, kind, heap, got[prog, kind]))
    return got


def _run(board, path):
    try:
        return board.run(path)
    except device.DeviceError as e:
        return str(e), 1


def main(kinds=KINDS, out=print):
    """The table of `tinyrnn programs`: each program and kernel set at 64 KB and at 56 KB."""
    full = run(HEAP, kinds, out=lambda s: None)
    less = run(HEAP - SPARE, kinds, out=lambda s: None)
    out("Cortex-M3 board (QEMU mps2-an385, MicroPython v1.28.0), library as .mpy in /lib (tinyrnn deploy): "
        "each program with `mpremote run`, in the 64 KB heap and in a heap 8 KB smaller")
    out("| program | kernels | 64 KB heap | 56 KB heap (8 KB to spare) |")
    out("|---|---|---|---|")
    for prog in PROGRAMS:
        for kind in kinds:
            out("| `examples/%s`: %s | %s | %s | %s |" % (prog, NAMES[prog], kind, full[prog, kind], less[prog, kind]))
    return full, less
