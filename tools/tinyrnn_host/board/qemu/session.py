"""Batch work on the Cortex-M3 board (or another of build.BOARDS: board="m0", "m7") for the host
tests, bench and sizes: one board, many cases per `mpremote run`, every step a real mpremote call.

    with Session(heap_bytes=qemu.LARGE_HEAP) as s:
        s.install_lib()                        # as `tinyrnn deploy` gives it (arch from _mpy)
        s.install_lib(as_mpy=RP2040_MPY)       # or as a deploy gives an RP2040 (armv6m)
        out = s.run(script, files={"cases.json": b"..."}, collect=["out.bin"])
        out.stdout, out.files["out.bin"]
"""
import pathlib
import tempfile

from ... import paths
from .. import deploy, device, mpycompile
from . import build
from .board import QemuBoard

RP2040_MPY = 6 | (3 << 8) | (4 << 10)       # mpy 6.3, arch armv6m: what an RP2040's firmware reports
                                            # (and the Cortex-M0 board, build.BOARDS["MICROBIT"])


class Result:
    def __init__(self, stdout, files):
        self.stdout = stdout
        self.files = files


class Session:
    """A QemuBoard plus the library on it; run() sends files, runs a script, fetches files."""

    def __init__(self, heap_bytes=build.DEFAULT_HEAP, elf=None, timeout=1200, board=build.BOARD):
        self.board = QemuBoard(heap_bytes, elf=elf, time_limit=3 * timeout, board=board)
        self.spec = self.board.spec
        self.timeout = timeout
        self.port = None
        self.dev = None
        self._tmp = None

    def __enter__(self):
        self.port = self.board.start()
        self.dev = device.Board(self.port, timeout=self.timeout)
        self._tmp = tempfile.TemporaryDirectory(prefix="qemu-session-")
        return self

    def __exit__(self, *exc):
        self.board.stop()
        self._tmp.cleanup()
        return False

    def install_lib(self, as_mpy=None, out=lambda s: None):
        """lib/tinyrnn as .mpy in the board's /lib/tinyrnn: as a deploy compiles it for this board
        (as_mpy None: from its _mpy), or for a board reporting `as_mpy` (e.g. RP2040_MPY: the
        armv6m code a deploy gives an RP2040), which an ARM firmware of a later arch loads.
        Returns the arch name of the native modules."""
        if as_mpy is None:
            info = deploy.deploy_lib(self.dev, deploy.Report(), out=out)
            return mpycompile.decode_mpy(info.mpy).arch_name
        bm = mpycompile.decode_mpy(as_mpy)
        compiler = mpycompile.pick_compiler(bm, mpycompile.installed_compilers())
        out_dir, _ = deploy.compile_lib(paths.board_lib() / deploy.PACKAGE, compiler, bm,
                                        paths.build_dir() / "mpy", out=out)
        files = sorted(out_dir.glob("*.mpy"))
        self.dev.mpremote("exec", "import os\nfor d in ('/lib', '/lib/tinyrnn'):\n    try:\n        os.mkdir(d)\n"
                          "    except OSError:\n        pass\nfor f in os.listdir('/lib/tinyrnn'):\n"
                          "    os.remove('/lib/tinyrnn/' + f)",
                          "+", "cp", "-f", *map(str, files), ":/lib/tinyrnn/", timeout=300)
        return bm.arch_name

    def run(self, script, files=None, collect=()):
        """Copy `files` ({name: bytes}) to the board's /, `mpremote run` the script, copy `collect`
        back; Result(stdout, {name: bytes}). DeviceError if the script failed."""
        tmp = pathlib.Path(self._tmp.name)
        for name, data in (files or {}).items():
            (tmp / name).write_bytes(data)
        if files:
            self.dev.mpremote("cp", "-f", *[str(tmp / n) for n in files], ":/", timeout=self.timeout)
        (tmp / "_script.py").write_text(script)
        stdout, code = self.dev.run(tmp / "_script.py")
        if code != 0:
            raise device.DeviceError("the script failed on the %s board (exit %d):\n%s"
                                     % (self.spec.cpu, code, stdout[-3000:]))
        got = {}
        for name in collect:
            local = tmp / ("got_" + name)
            self.dev.mpremote("cp", ":" + name, str(local), timeout=self.timeout)
            got[name] = local.read_bytes()
        return Result(stdout, got)
