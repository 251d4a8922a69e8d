"""MicroPython v1.28.0 firmware for QEMU, built from source and cached by content.

    from tinyrnn_host.board.qemu import firmware
    elf = firmware(65536)                                    # the Cortex-M3 board, 64 KB heap
    elf = firmware(65536, board="m0")                        # the Cortex-M0 (MICROBIT), or "m7" (MPS2_AN500)
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


class Spec:
    """One ARM board of ports/qemu as tinyrnn builds and runs it.

    name      the port's BOARD (boards/<name>/mpconfigboard.mk)
    runtime   its name on the command line (`--runtime qemu`, `qemu-m0`, `qemu-m7`)
    cpu       "Cortex-M3" ... (the firmware's banner says the same)
    machine   QEMU's -machine; qemu_args: more of QEMU's arguments (the port's QEMU_ARGS)
    mpy       sys.implementation._mpy (6.3 and the arch: what a deploy compiles for)
    ram_disk  (address, 512-byte blocks) of the littlefs RAM disk outside the heap, or None: the
              top of the board's SRAM, above a linker script's RAM region cut to the heap (ram)
    romfs     (address, max bytes) where QEMU loads a ROMFS image (_boot.py mounts it at /rom)
    cflags    CFLAGS_EXTRA beyond tinyrnn's own; make_args: more `make` arguments
    ram       (origin, bytes, reserve) for a board whose SRAM holds heap, stack and RAM disk:
              the firmware's RAM region is heap + reserve (its other data and the C stack),
              the RAM disk the rest, at least min_disk bytes
    """

    def __init__(self, name, runtime, cpu, machine, mpy, romfs, ram_disk=None, qemu_args=(), cflags=(),
                 make_args=(), ram=None, min_disk=0, soc=""):
        self.name, self.runtime, self.cpu, self.machine, self.mpy = name, runtime, cpu, machine, mpy
        self.romfs, self.ram_disk, self.qemu_args = romfs, ram_disk, tuple(qemu_args)
        self.cflags, self.make_args, self.ram, self.min_disk, self.soc = tuple(cflags), tuple(make_args), ram, min_disk, soc

    @property
    def arch(self):
        """The native arch its _mpy names (armv6m, armv7em, armv7emdp): what a deploy compiles for."""
        from ..mpycompile import decode_mpy
        return decode_mpy(self.mpy).arch_name

    def max_heap(self):
        if self.ram is None:
            return 2 << 20
        origin, size, reserve = self.ram
        return (size - reserve - self.min_disk) & ~4095

    def layout(self, heap_bytes):
        """(RAM region bytes or None, RAM disk address, blocks) for a firmware with this heap."""
        if self.ram is None:
            return (None,) + self.ram_disk
        origin, size, reserve = self.ram
        region = (heap_bytes + reserve + 4095) & ~4095
        return region, origin + region, (size - region) // 512

    def __repr__(self):
        return "Spec(%s: %s, %s)" % (self.name, self.cpu, self.machine)


BOARDS = {
    # The one the project started with: 4 MB SSRAM1 holds the firmware, heap and stack; the RAM disk
    # is 1 MB of SSRAM2/3, the ROMFS image in the PSRAM.
    "MPS2_AN385": Spec("MPS2_AN385", "qemu", "Cortex-M3", "mps2-an385", 6918, romfs=(0x21000000, 0x400000),
                       ram_disk=(0x20000000, 2048), soc="STM32F1/F2-class"),
    # Cortex-M7 with a double-precision FPU (hard float, the firmware's floats are doubles): the
    # AN385's memory map, but the PSRAM sits at 0x60000000 on QEMU's AN500.
    "MPS2_AN500": Spec("MPS2_AN500", "qemu-m7", "Cortex-M7", "mps2-an500", 8966, romfs=(0x60000000, 0x400000),
                       ram_disk=(0x20000000, 2048), soc="STM32F7/H7, i.MX RT"),
    # nRF51 Cortex-M0 (armv6m: RP2040's instruction set), given 256 KB SRAM and 1 MB flash as the
    # port's QEMU_ARGS do. mpconfigport.h leaves the native emitter off for QEMU_SOC_NRF51: on here
    # (Thumb-1 only, so viper and armv6m .mpy load). The nRF51's clock is 16 MHz, and QEMU's SysTick
    # runs at that rate, not the 25 MHz ticks.c assumes (one ticks_us would be 1,562.5 instructions
    # under -icount shift=0): CPU_FREQ_HZ says 16 MHz, so one ticks_us is 1,000 as on the MPS2 boards.
    # Its SRAM holds the firmware's data, the heap, the C stack and, above them, the RAM disk: a
    # linker script cuts the RAM region to heap + 24 KB (under 1 KB of other data, the C stack: check_layout
    # wants 16 KB of it). The ROMFS image goes in flash at 512 KB.
    "MICROBIT": Spec("MICROBIT", "qemu-m0", "Cortex-M0", "microbit", 4870, romfs=(0x80000, 0x80000),
                     qemu_args=("-global", "nrf51-soc.flash-size=1048576", "-global", "nrf51-soc.sram-size=262144"),
                     cflags=("-DMICROPY_EMIT_THUMB=1", "-DMICROPY_EMIT_THUMB_ARMV7M=0",
                             "-DMICROPY_EMIT_INLINE_THUMB=1", "-DCPU_FREQ_HZ=16000000"),
                     make_args=("MPY_CROSS_FLAGS=-march=armv6m",),
                     ram=(0x20000000, 262144, 24576), min_disk=131072, soc="RP2040, nRF51, SAMD21"),
}
RUNTIMES = tuple(s.runtime for s in BOARDS.values())      # qemu (the Cortex-M3), qemu-m7, qemu-m0
NAMES = {"m0": "MICROBIT", "m3": "MPS2_AN385", "m7": "MPS2_AN500", "qemu-m3": "MPS2_AN385"}
NAMES.update({s.runtime: s.name for s in BOARDS.values()})
NAMES.update({s.name.lower(): s.name for s in BOARDS.values()})
NAMES.update({s.cpu.lower(): s.name for s in BOARDS.values()})


def spec(board=BOARD):
    """The Spec of `board`: a BOARD name (MICROBIT), a runtime name (qemu-m0), m0/m3/m7, or a Spec."""
    if isinstance(board, Spec):
        return board
    name = NAMES.get(str(board).lower(), board)
    if name not in BOARDS:
        raise FirmwareError("board %r: the boards here are %s (or m0, m3, m7)"
                            % (board, ", ".join("%s (%s, %s)" % (s.name, s.cpu, s.runtime) for s in BOARDS.values())))
    return BOARDS[name]


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


def _manifest(frozen, boot=PORT_DIR / "_boot.py"):
    """(manifest text, the files whose content it depends on)."""
    lines = ["freeze(%r, '_boot.py')" % str(boot.parent)]
    deps = [boot]
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
    with _locked(dest):              # another process (a second pytest worker) may be making it
        if stamp.is_file():
            return dest
        return _make_source_copy(src, dest, stamp, announce)


def _locked(path):
    """An exclusive lock on path + '.lock', held for a `with` block: one build per output at a time."""
    import contextlib
    import fcntl

    @contextlib.contextmanager
    def hold():
        lock = pathlib.Path(str(path) + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    return hold()


def _make_source_copy(src, dest, stamp, announce):
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
    with _locked(dest):
        if (dest / "Makefile").is_file():
            return dest
        return _make_port_copy(src, dest)


def _make_port_copy(src, dest):
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


BOOT_LINES = ("machine.RAMDisk(0x20000000, 512, 2048)   # 1 MB;", "0x21000000", "0x400000")


def boot_file(s):
    """The _boot.py a board's firmware freezes: port/_boot.py itself on the Cortex-M3, else a copy
    (build/qemu/boot-<board>-<hash>/) with that board's RAM disk (for its heap) and ROMFS address."""
    s = spec(s)
    src = PORT_DIR / "_boot.py"
    if s.name == BOARD:
        return lambda heap_bytes: src

    def make(heap_bytes):
        text = src.read_text()
        for old in BOOT_LINES:
            if old not in text:
                raise FirmwareError("%s no longer has %r: boot_file() needs updating" % (src, old))
        _, addr, blocks = s.layout(heap_bytes)
        text = (text.replace(BOOT_LINES[0], "machine.RAMDisk(0x%08x, 512, %d)   # %d KB;" % (addr, blocks, blocks // 2))
                .replace(BOOT_LINES[1], "0x%08x" % s.romfs[0]).replace(BOOT_LINES[2], "0x%x" % s.romfs[1]))
        text = text.replace("# Frozen into tinyrnn's QEMU firmware;",
                            "# Frozen into tinyrnn's QEMU firmware (%s, %s, made from port/_boot.py);" % (s.name, s.cpu))
        out = paths.build_dir() / "qemu" / ("boot-%s-%s" % (s.name, hashlib.sha256(text.encode()).hexdigest()[:12]))
        if not (out / "_boot.py").is_file():
            out.mkdir(parents=True, exist_ok=True)
            tmp = out / ("_boot.%d.tmp" % os.getpid())        # (another pytest worker may write it too)
            tmp.write_text(text)
            os.replace(tmp, out / "_boot.py")
        return out / "_boot.py"
    return make


def linker_script(src, s, heap_bytes):
    """build/qemu/ld/<board>-<K>k.ld: the port's linker script with its RAM region cut to the heap
    plus the reserve (the RAM disk lives above it, where neither .bss nor the stack reaches)."""
    region, addr, blocks = s.layout(heap_bytes)
    ld = src / "ports" / "qemu" / "mcu" / "arm" / "nrf51.ld"
    text = ld.read_text()
    old = "RAM : ORIGIN = 0x%08x, LENGTH = %dK" % (s.ram[0], s.ram[1] // 1024)
    if old not in text:
        raise FirmwareError("%s no longer has %r: linker_script() needs updating" % (ld, old))
    text = text.replace(old, "RAM : ORIGIN = 0x%08x, LENGTH = %dK   /* tinyrnn: the RAM disk is above, "
                        "%d blocks of 512 at 0x%08x */" % (s.ram[0], region // 1024, blocks, addr))
    # libgcc's 64-bit division (littlefs calls it) brings .ARM.exidx, which nrf51.ld does not place:
    # in flash after .text (as mps2.ld does), .data's load image after it
    old, exidx = "        _sidata = _etext;\n    } > ROM\n", ("    } > ROM\n\n    .ARM.exidx : {\n        . = ALIGN(4);\n"
                                                        "        *(.ARM.exidx*)\n        . = ALIGN(4);\n"
                                                        "        _sidata = .;\n    } > ROM\n")
    if old not in text:
        raise FirmwareError("%s no longer has %r: linker_script() needs updating" % (ld, old))
    text = text.replace(old, exidx)
    out = paths.build_dir() / "qemu" / "ld" / ("%s-%dk-%s.ld" % (s.name, region // 1024,
                                                                  hashlib.sha256(text.encode()).hexdigest()[:12]))
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".%d.tmp" % os.getpid())
        tmp.write_text(text)
        os.replace(tmp, out)
    return out


def firmware(heap_bytes=DEFAULT_HEAP, frozen=(), depends=(), extra_cflags=(), board=BOARD, announce=None):
    """The path of a firmware.elf for `board` (BOARDS: MPS2_AN385, the Cortex-M3, by default;
    MICROBIT or "m0", the Cortex-M0; MPS2_AN500 or "m7", the Cortex-M7) with a `heap_bytes`
    MicroPython heap, `frozen` (folders, .py files, manifest lines) frozen in beside _boot.py,
    built if not cached. announce(line), when given, hears what is being built."""
    s = spec(board)
    top = s.max_heap()
    if not isinstance(heap_bytes, int) or isinstance(heap_bytes, bool) or not 16384 <= heap_bytes <= top:
        raise FirmwareError("heap_bytes must be an int from 16384 to %d on %s (%s), not %r"
                            % (top, s.name, s.cpu, heap_bytes))
    extra_cflags = [str(f) for f in extra_cflags]
    missing = missing_tools()
    if missing:
        raise FirmwareError("%s not found: install them with `%s`" % (", ".join(missing), apt_line()))
    manifest, deps = _manifest(list(frozen), boot_file(s)(heap_bytes))
    deps += [pathlib.Path(d) for d in depends]
    src = source_copy(announce)
    port = port_copy(src)
    gcc = _tool_version(TOOLCHAIN["arm"][0])
    cflags = ["-DMICROPY_VFS_LFS2=1"] + list(s.cflags) + extra_cflags
    make_args = list(s.make_args)
    parts = [RECIPE, RELEASE, src.name, port.name, s.name, heap_bytes, manifest, extra_cflags, gcc]
    if s.name != BOARD:                         # (the Cortex-M3's key as it was: its cached builds stay)
        parts += [s.cflags, s.make_args]
    if s.ram is not None:
        ld = linker_script(src, s, heap_bytes)
        make_args.append("LDSCRIPT=" + str(ld))
        deps.append(ld)
    key = _digest(parts, deps)
    elf = make_firmware(src, port, s.name, heap_bytes, key, manifest,
                        ["MICROPY_VFS_LFS2=1", "CFLAGS_EXTRA=" + " ".join(cflags)] + make_args, announce)
    if s.ram is not None:
        check_layout(elf, s, heap_bytes)
    return elf


STACK_MIN = 16384       # bytes between the end of .bss and the top of the RAM region: the C stack


def check_layout(elf, s, heap_bytes):
    """FirmwareError unless the RAM region left the C stack STACK_MIN bytes (the linker already
    refuses data that overflows the region; the stack is not in it) and the flash image ends
    below the ROMFS image's address."""
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True).stdout
    syms = {parts[2]: int(parts[0], 16) for parts in (ln.split() for ln in nm.splitlines()) if len(parts) == 3}
    region, addr, blocks = s.layout(heap_bytes)
    flash_end = syms["_sidata"] + syms["_edata"] - syms["_sdata"]
    if flash_end > s.romfs[0]:
        raise FirmwareError("%s: the firmware's flash image ends at 0x%x, past the ROMFS address 0x%x"
                            % (elf, flash_end, s.romfs[0]))
    if syms.get("_estack") != addr:
        raise FirmwareError("%s: _estack is 0x%x, not the RAM disk's start 0x%x" % (elf, syms.get("_estack", 0), addr))
    if addr - syms["_ebss"] < STACK_MIN:
        raise FirmwareError("%s: only %d bytes of C stack above .bss (heap %d, RAM region %d): raise the %s's "
                            "reserve" % (elf, addr - syms["_ebss"], heap_bytes, region, s.name))


def make_firmware(src, port, board, heap_bytes, key, manifest, make_args, announce=None):
    """build/qemu/fw-<board>-<heap>k-<key>/firmware.elf: `make -C port` with `manifest` (text)
    frozen and `make_args`, unless that folder already holds it (key: a digest of every input)."""
    out = paths.build_dir() / "qemu" / ("fw-%s-%dk-%s" % (board, heap_bytes // 1024, key))
    elf = out / "firmware.elf"
    if elf.is_file():
        return elf
    with _locked(out):
        if elf.is_file():
            return elf
        return _build_firmware(src, port, board, heap_bytes, manifest, make_args, announce, out, elf)


# The object files of one (source, port, board, make arguments) serve every heap size and every
# frozen set: the heap size is used by main.c alone (MICROPY_HEAP_SIZE; the linker script too,
# for the boards given one) and the frozen modules by frozen_content.c, so a build removes those
# objects, the frozen modules' compiled cache and the link, and make recompiles them and links;
# the rest is reused (a firmware build took a minute or two on 2 cores; this one, seconds). A
# build that did not finish leaves no .complete file: the next one starts from an empty folder.
FRESH = ("main.o", "main.d", "main.P", "frozen_content.c", "frozen_content.o", "frozen_content.d",
         "frozen_content.P", "frozen_mpy", "firmware.elf", "firmware.bin", "firmware.map")


def _objects(src, port, board, make_args):
    key = hashlib.sha256(repr([RECIPE, RELEASE, src.name, port.name, board, sorted(
        a for a in make_args if not a.startswith("LDSCRIPT="))]).encode()).hexdigest()[:16]
    return paths.build_dir() / "qemu" / ("obj-%s-%s" % (board, key))


def _build_firmware(src, port, board, heap_bytes, manifest, make_args, announce, out, elf):
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "manifest.py").write_text(manifest)
    log = out / "build.log"
    objs = _objects(src, port, board, make_args)
    with _locked(objs):
        done = objs / ".complete"
        if not done.is_file():
            shutil.rmtree(objs, ignore_errors=True)
        else:
            done.unlink()
            for name in FRESH:
                for f in [objs / name] + list(objs.glob("**/" + name)):
                    if f.is_dir():
                        shutil.rmtree(f)
                    elif f.exists():
                        f.unlink()
        _make_firmware(src, port, board, heap_bytes, make_args, announce, out, log, objs)
        shutil.copy2(objs / "firmware.elf", out / "firmware.tmp")
        done.write_text("")
    os.replace(out / "firmware.tmp", elf)
    return elf


def _make_firmware(src, port, board, heap_bytes, make_args, announce, out, log, objs):
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
    _run(["make", "-C", port, "-j", _jobs(), "BOARD=" + board, "BUILD=" + str(objs),
          "FROZEN_MANIFEST=" + str(out / "manifest.py"), "MICROPY_HEAP_SIZE=%d" % heap_bytes,
          "MPY_LIB_DIR=" + str(mpylib), *make_args], log, env)


def mpy_cross():
    """The mpy-cross built from the same source (the one a frozen build uses)."""
    return source_copy() / "mpy-cross" / "build" / "mpy-cross"


def main(argv=None):
    """python -m tinyrnn_host.board.qemu [--heap BYTES] [--board m0|m3|m7]: build (or find) and print the .elf."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tinyrnn_host.board.qemu")
    ap.add_argument("--heap", type=int, default=DEFAULT_HEAP)
    ap.add_argument("--board", default=BOARD, help="MPS2_AN385 (m3, the default), MICROBIT (m0) or MPS2_AN500 (m7)")
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
        print(firmware(a.heap, board=a.board, announce=lambda s: print(s, file=sys.stderr, flush=True)))
    except FirmwareError as e:
        print("qemu: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
