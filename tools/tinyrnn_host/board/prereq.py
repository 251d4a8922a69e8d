"""`make setup`'s last step: what the tests need beyond the venv and node_modules, found or installed.

    python -m tinyrnn_host.board.prereq       # exit 0: all there; 1: one message saying what is missing

1. The Debian packages of the QEMU boards and the cross builds (gcc-arm-none-eabi,
   libnewlib-arm-none-eabi, qemu-system-arm, gcc-riscv64-unknown-elf,
   picolibc-riscv64-unknown-elf, qemu-system-misc): installed with apt-get when this runs
   as root (as CI does); otherwise the one `sudo apt-get install ...` line, and a stop.
2. The MicroPython v1.28.0 source (board/mpsource.py): $MICROPY_SRC, ../shared, build/, else
   a clone of the tag; where none works, a stop naming the ways to provide it.
Nothing else is left half set up: each check runs before the next, and the first that fails
ends setup with its message.
"""
import os
import shutil
import subprocess
import sys

from . import mpsource
from .qemu import build, rv32

APT_PACKAGES = build.APT_PACKAGES + rv32.APT_PACKAGES


def missing_tools():
    return build.missing_tools() + rv32.missing_tools()


def apt_line(sudo=True):
    return ("sudo " if sudo else "") + "apt-get install -y " + " ".join(APT_PACKAGES)


def install_packages(out=print):
    """Install the Debian packages when missing; a message (str) when that cannot be done, else None."""
    missing = missing_tools()
    if not missing:
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return ("setup: missing %s (the QEMU boards and the cross builds of the C kernels need them). "
                "Install them, then run make setup again:\n    %s" % (", ".join(missing), apt_line()))
    out("setup: installing the Debian packages the QEMU boards need (%s): apt-get update; %s"
        % (", ".join(missing), apt_line(False)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *APT_PACKAGES]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            return ("setup: `%s` failed (exit %d): %s" % (" ".join(cmd), proc.returncode,
                                                         (proc.stderr.strip().splitlines() or ["?"])[-1]))
    still = missing_tools()
    if still:
        return "setup: still missing after apt-get install: %s" % ", ".join(still)
    return None


def main(argv=None):
    out = lambda s: print(s, flush=True)   # noqa: E731
    problem = install_packages(out)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        src = mpsource.root(announce=out)
    except mpsource.SourceError as e:
        print("setup: %s" % e, file=sys.stderr)
        return 1
    out("setup: toolchains ok (%s; %s), MicroPython %s source %s"
        % (build._tool_version("arm-none-eabi-gcc"), build._tool_version("riscv64-unknown-elf-gcc"),
           mpsource.RELEASE, src))
    return 0


if __name__ == "__main__":
    sys.exit(main())
