"""The RV32 board (ESP32-C3/C6's arch): MicroPython v1.28.0 ports/qemu BOARD=VIRT_RV32 under
qemu-system-riscv32, with lib/tinyrnn frozen in, the viper modules as rv32imc native code.

    elf = firmware_rv32()                          # built once, cached by content under build/qemu/
    with Rv32Board() as b:                         # QEMU on pipes, the raw REPL (Ctrl-A) on its UART
        out = b.run("import tinyrnn\\nprint(tinyrnn.KERNELS)")
    out = run_rv32(script_text, timeout=120)       # one script, one QEMU
    b.mount_files({"tinyrnn/_viper.mpy": b"..."})  # files in RAM, a VFS at /dep ahead of the frozen ones

The build, as Debian's gcc-riscv64-unknown-elf (GCC 12) + picolibc-riscv64-unknown-elf need it:
    make -C ports/qemu BOARD=VIRT_RV32 RV32_ARCH=rv32imac AFLAGS="-mabi=ilp32 -march=rv32imac_zicsr"
        MPY_CROSS_FLAGS=-march=rv32imc FROZEN_MANIFEST=<tinyrnn's manifest.py>
GCC 12's multilib lookup does not know `_zicsr`: with the port's default RV32_ARCH=rv32imac_zicsr
it links the default (rv64imac/lp64) libgcc and libc ("ELFCLASS64 incompatible"); rv32imac picks
the rv32imac/ilp32 multilib, and AFLAGS on the command line (it replaces the Makefile's `+=`;
CFLAGS takes AFLAGS) gives the compiler and the .s files the zicsr they need.
MPY_CROSS_FLAGS=-march=rv32imc replaces the board's `-march=rv32imc -march-flags=zba`: ESP32-C3/C6
have no Zba, and Zba code (sh2add) raises an illegal instruction on a CPU without it, so the frozen
code is what mpy-cross gives a deploy to an ESP32-C3, and QEMU runs a CPU without Zba/Zbb/Zbc/Zbs
(CPU below) to prove it.
"""
import pathlib
import shutil
import subprocess
import threading
import time

from ... import paths
from . import build

BOARD = "VIRT_RV32"
MPY = 6 | (3 << 8) | (11 << 10) | (1 << 16)   # 77574: mpy 6.3, rv32imc, arch flags Zba (what the port can emit)
HEAP = 1 << 20                                 # of the virt machine's 2 MB RAM: room for a deployed library in RAM (mount_files)
RECIPE = 2                                     # bump when how this firmware is built changes
TOOLS = ("riscv64-unknown-elf-gcc", "qemu-system-riscv32")
APT_PACKAGES = ("gcc-riscv64-unknown-elf", "picolibc-riscv64-unknown-elf", "qemu-system-misc")
MAKE_ARGS = ("RV32_ARCH=rv32imac", "AFLAGS=-mabi=ilp32 -march=rv32imac_zicsr", "MPY_CROSS_FLAGS=-march=rv32imc",
             # littlefs for put_files' RAM disk; its mtime code calls mp_hal_time_ns, which ports/qemu
             # lacks on RV32: the symbol is pointed at mp_hal_ticks_ms so it links, and the disk is
             # made with mtime=False so it is never called
             "MICROPY_VFS_LFS2=1", "CFLAGS_EXTRA=-DMICROPY_VFS_LFS2=1",
             "LIBS=-Wl,--defsym=mp_hal_time_ns=mp_hal_ticks_ms")
ESP32C3_MPY = 6 | (3 << 8) | (11 << 10)      # 12038: what an ESP32-C3's firmware reports (no Zba flag)
CPU = "rv32,zba=false,zbb=false,zbc=false,zbs=false"   # rv32gc-ish without the bit-manipulation extensions


class Rv32Error(RuntimeError):
    """The RV32 firmware did not build, or the board did not answer as the raw REPL does."""


def apt_line():
    return "apt-get install -y " + " ".join(APT_PACKAGES)


def missing_tools():
    """Commands not on PATH, and picolibc for rv32imac/ilp32 (the multilib the firmware links)."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if TOOLS[0] not in missing:
        spec = subprocess.run([TOOLS[0], "-print-file-name=picolibc.specs"], capture_output=True, text=True)
        spec = pathlib.Path(spec.stdout.strip())
        multi = subprocess.run([TOOLS[0], "-march=rv32imac", "-mabi=ilp32", "-print-multi-directory"],
                               capture_output=True, text=True).stdout.strip()
        libc = pathlib.Path("/usr/lib/picolibc/riscv64-unknown-elf/lib/release") / multi / "libc.a"
        if not spec.is_absolute() or not spec.is_file() or multi != "rv32imac/ilp32" or not libc.is_file():
            missing.append("picolibc for rv32imac/ilp32 (picolibc-riscv64-unknown-elf)")
    return missing


def firmware_rv32(heap_bytes=HEAP, announce=None):
    """build/qemu/fw-VIRT_RV32-<heap>k-<hash>/firmware.elf, built if not cached: the hash covers the
    source copy, the library (manifest.py and lib/tinyrnn), the make arguments and the toolchain."""
    missing = missing_tools()
    if missing:
        raise Rv32Error("%s not found: install them with `%s`" % (", ".join(missing), apt_line()))
    root = paths.checkout()
    lib_manifest = root / "manifest.py"
    manifest = "include(%r)\n" % str(lib_manifest)
    src = build.source_copy(announce)
    gcc = build._tool_version(TOOLS[0])
    key = build._digest([RECIPE, build.RELEASE, src.name, BOARD, heap_bytes, manifest, MAKE_ARGS, gcc],
                        [lib_manifest, root / "lib" / "tinyrnn"])
    try:
        return build.make_firmware(src, src / "ports" / "qemu", BOARD, heap_bytes, key, manifest, MAKE_ARGS, announce)
    except build.FirmwareError as e:
        raise Rv32Error(str(e))


def qemu_command(elf, cpu=CPU):
    return ["qemu-system-riscv32", "-bios", "none", "-machine", "virt", "-cpu", cpu, "-nographic",
            "-monitor", "null", "-semihosting", "-serial", "stdio", "-kernel", str(elf)]


class Result:
    def __init__(self, stdout, stderr):
        self.stdout = stdout        # what the script printed (\r\n turned into \n)
        self.stderr = stderr        # its traceback, if it raised


class Rv32Board:
    """qemu-system-riscv32 on pipes, driven through MicroPython's raw REPL (pyexec.c): Ctrl-A,
    the script, Ctrl-D; the board answers "OK", the output, \\x04, the exception, \\x04, ">"."""

    def __init__(self, elf=None, cpu=CPU, timeout=300):
        self.elf = elf or firmware_rv32()
        self.cpu = cpu
        self.timeout = timeout
        self.proc = None
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False

    def __enter__(self):
        self.proc = subprocess.Popen(qemu_command(self.elf, self.cpu), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._reader, daemon=True).start()
        self._expect(b">>> ", 30)
        self._send(b"\r\x03\x03\x01")
        self._expect(b"raw REPL; CTRL-B to exit\r\n>", 30)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def _reader(self):
        while True:
            b = self.proc.stdout.read1(65536)
            with self._cond:
                if not b:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._buf += b
                self._cond.notify_all()

    def _send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _expect(self, marker, timeout):
        """Everything up to and including `marker` (taken off the buffer)."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                i = self._buf.find(marker)
                if i >= 0:
                    got = bytes(self._buf[:i + len(marker)])
                    del self._buf[:i + len(marker)]
                    return got
                left = end - time.monotonic()
                if left <= 0 or self._eof:
                    raise Rv32Error("no %r from the RV32 board in %ds (QEMU %s); it printed: %r"
                                    % (marker, timeout, "ended" if self._eof else "running",
                                       bytes(self._buf[-600:])))
                self._cond.wait(min(left, 1.0))

    def run(self, script, timeout=None):
        """Run `script` (text) in the raw REPL; Result(stdout, stderr)."""
        timeout = timeout or self.timeout
        self._send(script.replace("\r\n", "\n").encode() + b"\x04")
        self._expect(b"OK", 60)
        out = self._expect(b"\x04", timeout)[:-1]
        err = self._expect(b"\x04", 30)[:-1]
        self._expect(b">", 30)
        return Result(out.decode(errors="replace").replace("\r\n", "\n"),
                      err.decode(errors="replace").replace("\r\n", "\n"))

    def mount_files(self, files, at="/dep", chunk=6000):
        """files {path: bytes} into the board's RAM, in a read-only VFS (a Python class) mounted at
        `at` and put first on sys.path, so `import` finds them before the frozen modules (as a
        deploy's /lib on a board's flash)."""
        self.run(MOUNT_SCRIPT)
        for path, data in sorted(files.items()):
            for i in range(0, max(len(data), 1), chunk):
                res = self.run("_dep_put(%r, %r)\n" % (path, bytes(data[i:i + chunk])))
                if res.stderr:
                    raise Rv32Error("storing %s on the board: %s" % (path, res.stderr))
        res = self.run("_dep_mount(%r)\n" % at)
        if res.stderr:
            raise Rv32Error("mounting %s: %s" % (at, res.stderr))

    def put_files(self, files, blocks=768, chunk=6000):
        """files {path: bytes} into littlefs on a RAM block device (a Python class, `blocks` x 512
        bytes of the heap) mounted at /, the working folder, with /lib first on sys.path: as a
        board's flash after a deploy, writable by the scripts (ahead of the frozen library)."""
        res = self.run(PUT_SCRIPT + "_put_mount(%d)\n" % blocks)
        if res.stderr:
            raise Rv32Error("making the RAM disk: %s" % res.stderr)
        for path, data in sorted(files.items()):
            for i in range(0, max(len(data), 1), chunk):
                res = self.run("_put(%r, %r)\n" % (path, bytes(data[i:i + chunk])))
                if res.stderr:
                    raise Rv32Error("storing %s on the board: %s" % (path, res.stderr))
        self.run("del _put, _put_mount\nimport gc\ngc.collect()\n")


PUT_SCRIPT = r"""
import os, sys, vfs
class _RAMBlocks:
    def __init__(self, n):
        self.data = bytearray(n * 512)
        self.mv = memoryview(self.data)
    def readblocks(self, n, buf, off=0):
        a = n * 512 + off
        buf[:] = self.mv[a:a + len(buf)]
    def writeblocks(self, n, buf, off=0):
        a = n * 512 + (off or 0)
        self.mv[a:a + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // 512
        if op == 5:
            return 512
        return 0
def _put_mount(n):
    bd = _RAMBlocks(n)
    vfs.VfsLfs2.mkfs(bd)
    vfs.mount(vfs.VfsLfs2(bd, mtime=False), '/')
    os.chdir('/')
    sys.path.insert(0, '/lib')
def _put(path, data):
    d = ''
    for part in path.split('/')[:-1]:
        d += '/' + part
        try:
            os.mkdir(d)
        except OSError:
            pass
    with open('/' + path, 'ab') as f:
        f.write(data)
"""


MOUNT_SCRIPT = r"""
import io, sys, vfs
_DEP = {}
def _dep_put(path, data):
    _DEP[path] = _DEP.get(path, b'') + data
class _DepFile(io.IOBase):
    def __init__(self, data):
        self.data = data
        self.at = 0
    def ioctl(self, req, arg):
        return 0
    def readinto(self, buf):
        n = min(len(buf), len(self.data) - self.at)
        buf[:n] = self.data[self.at:self.at + n]
        self.at += n
        return n
class _DepFS:
    def mount(self, readonly, mkfs):
        pass
    def umount(self):
        pass
    def chdir(self, path):
        pass
    def stat(self, path):
        path = path.strip('/')
        if path in _DEP:
            return (0x8000, 0, 0, 0, 0, 0, len(_DEP[path]), 0, 0, 0)
        if path == '' or any(p.startswith(path + '/') for p in _DEP):
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        raise OSError(2)
    def open(self, path, mode):
        path = path.strip('/')
        if path not in _DEP or 'w' in mode:
            raise OSError(2)
        return _DepFile(_DEP[path])
def _dep_mount(at):
    vfs.mount(_DepFS(), at)
    sys.path.insert(0, at)
"""


def run_rv32(script, timeout=300, elf=None, cpu=CPU):
    """One script on a fresh RV32 board (QEMU is killed after)."""
    with Rv32Board(elf, cpu, timeout) as b:
        return b.run(script, timeout)
