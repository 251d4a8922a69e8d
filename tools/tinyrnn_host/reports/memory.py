"""Programs on the Cortex-M3 board with the library three ways: as .mpy files in the board's
/lib (what a deploy uploads), in a ROMFS image (the same .mpy set, run in place), and frozen
into the firmware (manifest.py). The heap figures of `make sizes` and of the memory tests.

    with Session(heap_bytes=65536, mode="romfs") as s:     # one QEMU board, reused
        out = s.run(script_text, files={"tiny.rec": data})
"""
import pathlib
import tempfile

from .. import paths
from ..board import deploy, device, qemu, romfs
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


IMPORT = ("import gc\ngc.collect()\na = gc.mem_alloc()\nfrom tinyrnn.train import Trainer\n"
          "gc.collect()\nprint('IMPORT', gc.mem_alloc() - a)\n")
RUNS = [("mpy", 65536), ("romfs", 65536), ("romfs", 32768), ("frozen", 32768)]


def report(runs=RUNS, out=print):
    """The table of `tinyrnn sizes --board`: per way of holding the library and heap, what
    `from tinyrnn.train import Trainer` costs and whether examples/gru_tiny_train.py runs."""
    import re
    rows = []
    for mode, heap in runs:
        with Session(heap, mode) as s:
            imp = re.search(r"^IMPORT (\d+)", s.run(IMPORT)[0], re.M)
            text, code = s.run(tiny_program(), files={"tiny.rec": tiny_data()})
        used = [int(v) for v in re.findall(r"^HEAP \w+ (\d+) used", text, re.M)]
        err = re.search(r"^MemoryError: (.*)$", text, re.M)
        res = re.search(r"loss (\d+) -> (\d+)", text)
        rows.append((mode, heap, int(imp.group(1)) if imp else None, max(used) if used else None,
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
