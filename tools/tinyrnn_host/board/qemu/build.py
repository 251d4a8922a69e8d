"""MicroPython v1.28.0 firmware for QEMU, built from source and cached by content.

    from tinyrnn_host.board.qemu import firmware
    elf = firmware(65536)                                    # the Cortex-M3 board, 64 KB heap
    elf = firmware(65536, frozen=[pathlib.Path("lib/tinyrnn")],   # a folder frozen in
                   extra_cflags=["-DMY_OPTION=1"])

The source is MicroPython's tag v1.28.0 (commit e0e9fbb1), found or fetched by ../mpsource.py
($MICROPY_SRC, `<repo>/../shared/micropython-1.28.0`, build/micropython-1.28.0, else a clone). It is read-only: it is copied into build/qemu/src-<hash>/ (`make -C mpy-cross` there), then ports/qemu
is copied beside itself with this package's port/ files laid over it (its main.c replaces the port's: _boot.py, boot.py, main.py on each soft
reset, as the stm32/rp2 ports do; its modmachine.c makes machine.reset() a hard reset in place of
ending QEMU, and adds machine.RAMDisk, the C block device under littlefs), and `make -C ports/qemu-tinyrnn-<hash> BOARD=MPS2_AN385 FROZEN_MANIFEST=... MICROPY_HEAP_SIZE=... MICROPY_VFS_LFS2=1`
build into build/qemu/fw-<hash>/. The hash covers the source tree, port/, the manifest and every
file it freezes, the flags and the toolchain's version, so a change to any of them rebuilds and
nothing else does (a build is about a minute on 2 cores).

Every firmware freezes port/_boot.py (mounts littlefs2 on a RAM disk at /, a ROMFS image at /rom
when one was loaded at ROMFS_ADDR) plus `frozen`: each item a folder (frozen with its
sub-folders, as `freeze(dir)`), a .py file, or a str taken as a manifest line as it is (its
quoted paths that exist are hashed too; name others in `depends`).
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

from ... import paths
from .. import mpsource

RELEASE = "v1.28.0"
TAG_COMMIT = mpsource.TAG_COMMIT
SRC_ENV = mpsource.SRC_ENV
BOARD = "MPS2_AN385"            # Cortex-M3, sys.implementation._mpy 6918 (6.3, arch armv7m)
DEFAULT_HEAP = 65536
# The one other heap built: for what cannot fit 64 KB (a GRU 8-32-1 trainer, whose Adam buffers
# alone take about 68 KB: the speed figures, the bit-exact suites' batched cases).
LARGE_HEAP = 262144
PORT_DIR = pathlib.Path(__file__).resolve().with_name("port")
RECIPE = 7                             # bump when how a firmware is built here changes
OVERLAY = ("main.c", "modmachine.c")    # port/ files laid over ports/qemu
TOOLCHAIN = {"arm": ("arm-none-eabi-gcc", "qemu-system-arm")}
APT_PACKAGES = ("gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm")


class FirmwareError(RuntimeError):
    """The firmware could not be built; the message says why (and what to install)."""


def apt_line():
    return "apt-get install -y " + " ".join(APT_PACKAGES)


def missing_tools():
    """What of the toolchain is missing: commands not on PATH (arm-none-eabi-gcc, qemu-system-arm),
    and newlib (the C headers and libc the firmware compiles against)."""
    missing = [t for tools in TOOLCHAIN.values() for t in tools if shutil.which(t) is None]
    if "arm-none-eabi-gcc" not in missing:
        libc = subprocess.run(["arm-none-eabi-gcc", "-print-file-name=libc.a"], capture_output=True, text=True)
        if libc.stdout.strip() in ("", "libc.a"):
            missing.append("newlib (libnewlib-arm-none-eabi)")
    return missing


def source_dir(announce=None):
    """The MicroPython v1.28.0 tree, found or fetched by board/mpsource.py ($MICROPY_SRC,
    ../shared/micropython-1.28.0, build/micropython-1.28.0, else a clone of the tag)."""
    try:
        return mpsource.root(announce=announce)
    except mpsource.SourceError as e:
        raise FirmwareError(str(e))


def _hash_tree(h, root, skip=()):
    root = pathlib.Path(root)
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_dir() or any(part in skip for part in rel.parts) or p.name.endswith(".pyc"):
            continue
        h.update(str(rel).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _tool_version(cmd):
    try:
        return subprocess.run([cmd, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "missing"


def _manifest(frozen):
    """(manifest text, the files whose content it depends on)."""
    lines = ["freeze(%r, '_boot.py')" % str(PORT_DIR)]
    deps = [PORT_DIR / "_boot.py"]
    for item in frozen:
        if isinstance(item, pathlib.Path):
            item = item.resolve()
            if item.is_dir():
                lines.append("freeze(%r)" % str(item))
                deps.append(item)
            elif item.is_file() and item.suffix == ".py":
                lines.append("freeze(%r, %r)" % (str(item.parent), item.name))
                deps.append(item)
            else:
                raise FirmwareError("frozen: %s is neither a folder nor a .py file" % item)
        elif isinstance(item, str):
            lines.append(item)
            for quoted in item.replace('"', "'").split("'")[1::2]:
                if quoted.startswith("/") and pathlib.Path(quoted).exists():
                    deps.append(pathlib.Path(quoted))
        else:
            raise FirmwareError("frozen: give folders, .py files (pathlib.Path) or manifest lines (str), "
                                "not %r" % (item,))
    return "\n".join(lines) + "\n", deps


def _digest(parts, deps):
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode() + b"\0")
    for d in deps:
        d = pathlib.Path(d)
        h.update(str(d).encode() + b"\0")
        if d.is_dir():
            _hash_tree(h, d, skip=("__pycache__",))
        elif d.is_file():
            h.update(hashlib.sha256(d.read_bytes()).digest())
    return h.hexdigest()[:16]


def _run(cmd, log, env=None):
    with open(log, "a") as f:
        f.write("$ %s\n" % " ".join(map(str, cmd)))
        f.flush()
        code = subprocess.run(list(map(str, cmd)), env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = pathlib.Path(log).read_text(errors="replace").splitlines()[-25:]
        raise FirmwareError("`%s` failed (exit %d); the end of %s:\n%s"
                            % (" ".join(map(str, cmd[:4])), code, paths.shown(log), "\n".join(tail)))


def _jobs():
    return str(max(1, min(2, os.cpu_count() or 1)))


def source_copy(announce=None):
    """build/qemu/src-<hash>: the source tree (as it is), with mpy-cross built."""
    src = source_dir(announce)
    h = hashlib.sha256()
    _hash_tree(h, src, skip=("build", "build-MPS2_AN385", "__pycache__", ".git"))
    dest = paths.build_dir() / "qemu" / ("src-" + h.hexdigest()[:16])
    stamp = dest / ".tinyrnn-ready"
    if stamp.is_file():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if announce:
        announce("qemu: copying MicroPython %s from %s to %s" % (RELEASE, src, paths.shown(dest)))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    for p in tmp.rglob("*"):                   # the shared copy may be read-only
        if not p.is_symlink():
            os.chmod(p, (p.stat().st_mode | 0o200) & 0o7777)
    tmp.rename(dest)
    log = dest / "mpy-cross.log"
    if announce:
        announce("qemu: building mpy-cross (log: %s)" % paths.shown(log))
    _run(["make", "-C", dest / "mpy-cross", "-j", _jobs()], log)
    stamp.write_text("%s %s\n" % (RELEASE, src))
    return dest


def port_copy(src):
    """src/ports/qemu-tinyrnn-<hash>: ports/qemu with port/'s main.c and modmachine.c laid over it
    (a sibling of ports/qemu, so its Makefile finds the tree the same way)."""
    h = hashlib.sha256(b"recipe %d" % RECIPE)
    _hash_tree(h, PORT_DIR, skip=("__pycache__",))
    dest = src / "ports" / ("qemu-tinyrnn-" + h.hexdigest()[:12])
    if (dest / "Makefile").is_file():
        return dest
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src / "ports" / "qemu", tmp, symlinks=True, ignore=shutil.ignore_patterns("build*"))
    for name in OVERLAY:
        shutil.copy2(PORT_DIR / name, tmp / name)
    # mpconfigport.h names the machine module's port file by its path from the tree's top;
    # mphalport.c: the console on semihosting, not the UART (see board.py: QEMU feeds the
    # CMSDK UART one byte per main-loop turn, ~600 bytes/s; semihosting reads from a FIFO).
    # (and adds machine.RAMDisk, the C block device that modmachine.c defines, to the machine module);
    for name, old, new in (("mpconfigport.h", '"ports/qemu/modmachine.c"', '"ports/%s/modmachine.c"\n'
                            "#define MICROPY_PY_MACHINE_EXTRA_GLOBALS "
                            "{ MP_ROM_QSTR(MP_QSTR_RAMDisk), MP_ROM_PTR(&tinyrnn_ramdisk_type) }," % dest.name),
                           ("mphalport.c", "#define USE_UART (1)", "#define USE_UART (0)"),
                           ("mphalport.c", "#define USE_SEMIHOSTING (0)", "#define USE_SEMIHOSTING (1)"),
                           ("mphalport.c", "int ret = mp_semihosting_rx_chars(str, 1);",
                            "str[0] = tinyrnn_console_rx(); int ret = 0;"),
                           ("mphalport.c", "mp_semihosting_tx_strn(str, len);", "tinyrnn_console_tx(str, len);"),
                           ("mphalport.c", "uintptr_t ticks_us(void);",
                            "uintptr_t ticks_us(void);\nvoid tinyrnn_console_tx(const char *str, size_t len);\n"
                            "int tinyrnn_console_rx(void);")):
        f = tmp / name
        text = f.read_text()
        if old not in text:
            raise FirmwareError("%s no longer has %r: the overlay needs updating" % (f, old))
        f.write_text(text.replace(old, new))
    tmp.rename(dest)
    return dest


def firmware(heap_bytes=DEFAULT_HEAP, frozen=(), depends=(), extra_cflags=(), board=BOARD, announce=None):
    """The path of a firmware.elf for QEMU's mps2-an385 with a `heap_bytes` MicroPython heap,
    `frozen` (folders, .py files, manifest lines) frozen in beside _boot.py, built if not cached.
    announce(line), when given, hears what is being built."""
    if not isinstance(heap_bytes, int) or isinstance(heap_bytes, bool) or not 16384 <= heap_bytes <= 2 << 20:
        raise FirmwareError("heap_bytes must be an int from 16384 to %d, not %r" % (2 << 20, heap_bytes))
    if board != BOARD:
        raise FirmwareError("board %r: only %s (Cortex-M3) is built here" % (board, BOARD))
    extra_cflags = [str(f) for f in extra_cflags]
    missing = missing_tools()
    if missing:
        raise FirmwareError("%s not found: install them with `%s`" % (", ".join(missing), apt_line()))
    manifest, deps = _manifest(list(frozen))
    deps += [pathlib.Path(d) for d in depends]
    src = source_copy(announce)
    port = port_copy(src)
    gcc = _tool_version(TOOLCHAIN["arm"][0])
    key = _digest([RECIPE, RELEASE, src.name, port.name, board, heap_bytes, manifest, extra_cflags, gcc], deps)
    cflags = ["-DMICROPY_VFS_LFS2=1"] + extra_cflags
    return make_firmware(src, port, board, heap_bytes, key, manifest,
                         ["MICROPY_VFS_LFS2=1", "CFLAGS_EXTRA=" + " ".join(cflags)], announce)


def make_firmware(src, port, board, heap_bytes, key, manifest, make_args, announce=None):
    """build/qemu/fw-<board>-<heap>k-<key>/firmware.elf: `make -C port` with `manifest` (text)
    frozen and `make_args`, unless that folder already holds it (key: a digest of every input)."""
    out = paths.build_dir() / "qemu" / ("fw-%s-%dk-%s" % (board, heap_bytes // 1024, key))
    elf = out / "firmware.elf"
    if elf.is_file():
        return elf
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "manifest.py").write_text(manifest)
    log = out / "build.log"
    if announce:
        announce("qemu: building the %s firmware, heap %d bytes (about a minute; log: %s)"
                 % (board, heap_bytes, paths.shown(log)))
    # The build insists on micropython-lib (absent from the subset); the manifests here need none of it.
    mpylib = out / "no-micropython-lib"
    mpylib.mkdir()
    (mpylib / "README.md").write_text("empty: tinyrnn's firmware manifests require nothing from micropython-lib\n")
    # The version string comes from the source, not from the git repository build/ sits in (git
    # stops at build/qemu), and the build date from the source's, so a build is reproducible.
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(src.parent),
               SOURCE_DATE_EPOCH=str(int((src / "py" / "mpconfig.h").stat().st_mtime)))
    _run(["make", "-C", port, "-j", _jobs(), "BOARD=" + board, "BUILD=" + str(out / "build"),
          "FROZEN_MANIFEST=" + str(out / "manifest.py"), "MICROPY_HEAP_SIZE=%d" % heap_bytes,
          "MPY_LIB_DIR=" + str(mpylib), *make_args], log, env)
    shutil.copy2(out / "build" / "firmware.elf", out / "firmware.tmp")
    os.replace(out / "firmware.tmp", elf)
    return elf


def mpy_cross():
    """The mpy-cross built from the same source (the one a frozen build uses)."""
    return source_copy() / "mpy-cross" / "build" / "mpy-cross"


def main(argv=None):
    """python -m tinyrnn_host.board.qemu [--heap BYTES]: build (or find) and print the .elf."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tinyrnn_host.board.qemu")
    ap.add_argument("--heap", type=int, default=DEFAULT_HEAP)
    ap.add_argument("--check", action="store_true", help="only check the toolchain and the source")
    a = ap.parse_args(argv)
    try:
        if a.check:
            missing = missing_tools()
            if missing:
                print("qemu: missing %s; install: %s" % (", ".join(missing), apt_line()))
                return 1
            print("qemu: toolchain ok (%s), source %s" % (_tool_version("arm-none-eabi-gcc"), source_dir()))
            return 0
        print(firmware(a.heap, announce=lambda s: print(s, file=sys.stderr, flush=True)))
    except FirmwareError as e:
        print("qemu: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
