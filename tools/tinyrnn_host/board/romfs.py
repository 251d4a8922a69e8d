"""ROMFS images of the library: the same .mpy set a deploy uploads, as a read-only
filesystem a board runs in place (MicroPython >= 1.25: `vfs.VfsRom`), so its bytecode
never enters the heap.

    image = build_image(board_mpy)            # bytes: tinyrnn/*.mpy at the image's root
    tinyrnn deploy --romfs [--port PORT]      # builds it; `mpremote romfs deploy` writes it

The image is built by mpremote's own writer (mpremote.romfs, what `mpremote romfs build`
runs) from a staging folder holding tinyrnn/ compiled for the board (deploy.compile_lib).
A board mounts it at /rom with /rom and /rom/lib on sys.path. Writing it needs a port with
`vfs.rom_ioctl` (`mpremote romfs deploy`); the QEMU Cortex-M3 board has no ROMFS partition
to write, so QEMU loads the image at 0x21000000 at start (qemu.QemuBoard(romfs=...)).
"""
import contextlib
import io
import pathlib
import shutil
import tempfile

from .. import paths
from . import deploy, mpycompile
from .probe import PACKAGE


def build_image(board_mpy, lib_dir=None, build_dir=None, out=deploy.say):
    """The ROMFS image (bytes) of lib/tinyrnn compiled for a board at board_mpy (an int or BoardMpy)."""
    from mpremote.romfs import make_romfs
    bm = mpycompile.decode_mpy(board_mpy) if isinstance(board_mpy, int) else board_mpy
    compiler = mpycompile.pick_compiler(bm, mpycompile.installed_compilers())
    out_dir, _ = deploy.compile_lib(pathlib.Path(lib_dir or paths.board_lib() / PACKAGE), compiler, bm,
                                    build_dir or paths.build_dir() / "mpy", out=out)
    with tempfile.TemporaryDirectory(prefix="romfs-") as tmp:
        stage = pathlib.Path(tmp) / "rom"
        shutil.copytree(out_dir, stage / PACKAGE)
        with contextlib.redirect_stdout(io.StringIO()):      # its tree listing
            image = make_romfs(str(stage), mpy_cross=False)
    out("romfs: %d bytes (%d modules of %s, mpy %s)" % (len(image), len(list(out_dir.glob("*.mpy"))),
                                                       PACKAGE, bm))
    return image


def write_image(board_mpy, path, **kw):
    image = build_image(board_mpy, **kw)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image)
    return path
