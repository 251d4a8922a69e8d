"""What the host tests need that `make setup` installs (all pinned): missing is a
failure, never a skip (a skipped test proves nothing, and would hide a broken setup)."""
import os
import shutil

import pytest

from tinyrnn_host import paths


def fail(what):
    pytest.fail("%s is missing: `make setup` installs it (pinned; a missing pinned dependency fails, "
                "it does not skip)" % what, pytrace=False)


def node():
    """Node.js and the pinned MicroPython WebAssembly build (tools/node_modules)."""
    if shutil.which("node") is None and not os.environ.get("VBOARD_NODE"):
        fail("Node.js")
    if paths.node_modules() is None:
        fail("the MicroPython WebAssembly build (tools/node_modules)")


def mpremote_mip():
    try:
        import mpremote.mip as mip
    except ImportError:
        fail("mpremote (requirements-dev.txt)")
    return mip


def unix_port():
    """The MicroPython unix port (the `micropython` command of the pinned wheel)."""
    from tinyrnn_host.board import mpunix
    if not mpunix.available():
        fail("the MicroPython unix port (%s)" % mpunix.PACKAGE)


def qemu_toolchain():
    """arm-none-eabi-gcc + newlib and qemu-system-arm (`make setup` prints the apt-get line;
    .ci/run installs them) and the MicroPython v1.28.0 source (../shared or $MICROPY_SRC)."""
    from tinyrnn_host.board.qemu import build
    _toolchain(build)


def rv32_toolchain():
    """riscv64-unknown-elf-gcc + picolibc for rv32imac/ilp32 and qemu-system-riscv32 (`.ci/run`
    installs them: gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc) and the
    MicroPython v1.28.0 source (../shared or $MICROPY_SRC)."""
    from tinyrnn_host.board.qemu import rv32
    _toolchain(rv32)


def _toolchain(board):
    # board: a module with missing_tools() and apt_line()
    from tinyrnn_host.board.qemu import build
    missing = board.missing_tools()
    if missing:
        pytest.fail("%s missing: `%s` (a missing pinned dependency fails, it does not skip)"
                    % (", ".join(missing), board.apt_line()), pytrace=False)
    try:
        build.source_dir()
    except build.FirmwareError as e:
        pytest.fail(str(e), pytrace=False)
