"""The Cortex-M3 board: MicroPython v1.28.0 firmware (firmware.py) run by qemu-system-arm,
and its siblings, the Cortex-M0 (MICROBIT) and the Cortex-M7 (MPS2_AN500): build.BOARDS.

    tinyrnn vboard --runtime qemu [--heap BYTES] [--romfs IMG] [--time-limit SECONDS]
    tinyrnn vboard --runtime qemu-m0 | qemu-m7 ...

prints the firmware's banner and `PORT=/dev/pts/N`: a pty of QEMU's own (its chardev), which the
real `mpremote connect /dev/pts/N ...` drives exactly as it drives /dev/ttyACM0. The firmware's
console is QEMU's semihosting console on that chardev, not the board's CMSDK UART: QEMU feeds
that UART one byte per turn of its main loop (about 600 bytes/s, 30 s for a 20 KB `mpremote
cp`), while semihosting input comes from a FIFO (the same copy: under 5 s). The machine is
QEMU's mps2-an385 (Cortex-M3, `sys.implementation._mpy` 6918: mpy 6.3, arch armv7m); the
firmware's heap is MICROPY_HEAP_SIZE (a hard cap, as on a board). On every reset the frozen
_boot.py mounts littlefs2 at / on a 1 MB RAM disk outside the heap (machine.RAMDisk: a block
device in C, as a board's flash driver is, whose reads leave no garbage in the heap; so `mpremote cp`, `fs` and
`weights.save` work; the files survive soft resets and machine.reset(), and a new QEMU starts
blank, as a board with freshly erased flash), mounts a ROMFS image at /rom when `romfs` was
given (QEMU loads it at ROMFS_ADDR) and sets sys.path to ['', '.frozen', ('/rom', '/rom/lib',)
'/lib']; then boot.py, then main.py in the friendly REPL, as a board does.

`-icount shift=0`: the guest clock advances one nanosecond per instruction executed, so
time.ticks_us() differences on the board are instruction counts / 1000, the same on every run
and every host. Waiting for input the CPU halts in the semihosting call, but the 1 ms SysTick wakes it each
time: an idle board still takes about a third of a core. Stop every board (by its own PID:
stop() does) when done.

The other boards differ where build.BOARDS says: the Cortex-M7 (mps2-an500, `_mpy` 8966: armv7emdp,
hard double float) has the same RAM disk and its ROMFS at 0x60000000 (the AN500's PSRAM); the
Cortex-M0 (microbit: nRF51 with 256 KB SRAM and 1 MB flash, `_mpy` 4870: armv6m, the native
emitter turned on) keeps its RAM disk in the SRAM above heap and stack (168 KB with a 64 KB
heap) and its ROMFS in flash at 0x80000; its firmware counts SysTick at the nRF51's 16 MHz, so
one ticks_us is 1,000 instructions there too.

From Python:

    from tinyrnn_host.board.qemu import QemuBoard
    with QemuBoard(heap_bytes=65536) as port:               # builds the firmware once (cached)
        subprocess.run(["mpremote", "connect", port, "ls"])
    QemuBoard(elf=firmware.firmware(65536, frozen=[...]), romfs="build/romfs.img")
    QemuBoard(65536, board="m0")                            # the Cortex-M0 (or "m7", "MICROBIT", ...)
"""
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import threading
import time
import tty

from . import build as firmware
from .._process import ProcessBoard

MACHINE = "mps2-an385"          # the Cortex-M3's (build.BOARDS has the others')
ROMFS_ADDR = 0x21000000        # QEMU's mps2 PSRAM; _boot.py looks for a ROMFS header there
ROMFS_MAX = 0x400000
START_TIMEOUT = 30.0
PTY_LINE = re.compile(r"char device redirected to (/dev/pts/\d+)")


class QemuBoardError(RuntimeError):
    pass


def qemu_command(elf, romfs=None, icount=True, board=firmware.BOARD):
    """The qemu-system-arm argv running `elf` on `board` with its console on a new pty (printed by QEMU)."""
    s = firmware.spec(board)
    cmd = ["qemu-system-arm", "-machine", s.machine, *s.qemu_args, "-nographic", "-monitor", "null",
           "-serial", "null", "-chardev", "pty,id=console",
           "-semihosting-config", "enable=on,target=native,chardev=console"]
    if icount:
        cmd += ["-icount", "shift=0"]
    cmd += ["-kernel", str(elf)]
    if romfs:
        cmd += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (romfs, s.romfs[0])]
    return cmd


class QemuBoard(ProcessBoard):
    """A running Cortex-M3 board in QEMU (or another of build.BOARDS). Use as a context manager
    yielding the port path.

    heap_bytes  the firmware's MicroPython heap (a hard cap); ignored when elf is given
    board       build.BOARDS' name, runtime name or m0/m3/m7 (default: the Cortex-M3, MPS2_AN385)
    elf         a firmware.elf to run (default: firmware.firmware(heap_bytes), built if needed)
    romfs       a ROMFS image (e.g. from `mpremote romfs build`), mounted at /rom by _boot.py
    time_limit  seconds after which the board stops by itself (None: never)
    fs_dir      not supported (the filesystem is littlefs in the board's RAM): must be None
    """

    def __init__(self, heap_bytes=firmware.DEFAULT_HEAP, fs_dir=None, time_limit=None, stderr=None,
                 elf=None, romfs=None, icount=True, announce=None, board=firmware.BOARD):
        try:
            self.spec = firmware.spec(board)
        except firmware.FirmwareError as e:
            raise QemuBoardError(str(e))
        if fs_dir is not None:
            raise QemuBoardError("the QEMU board's filesystem is littlefs on its RAM disk, not a host folder: "
                                 "give no fs_dir (--fs); copy files with mpremote cp")
        if romfs is not None:
            romfs = pathlib.Path(romfs).resolve()
            if not romfs.is_file():
                raise QemuBoardError("romfs image %s not found" % romfs)
            if romfs.stat().st_size > self.spec.romfs[1]:
                raise QemuBoardError("romfs image %s is %d bytes, over the %d the board maps"
                                     % (romfs, romfs.stat().st_size, self.spec.romfs[1]))
        self.heap_bytes = int(heap_bytes)
        self.elf = pathlib.Path(elf) if elf else None
        self.romfs = romfs
        self.icount = icount
        self.time_limit = time_limit
        self.fs_dir = None
        self._stderr = stderr
        self._announce = announce
        self.proc = None
        self.port = None
        self.banner = None
        self._timer = None

    def start(self):
        """Start QEMU (building the firmware first if needed); return the pty path."""
        if self.proc is not None:
            raise QemuBoardError("already started")
        if self.elf is None:
            try:
                self.elf = firmware.firmware(self.heap_bytes, board=self.spec, announce=self._announce)
            except firmware.FirmwareError as e:
                raise QemuBoardError(str(e))
        if not self.elf.is_file():
            raise QemuBoardError("firmware %s not found" % self.elf)
        cmd = qemu_command(self.elf, self.romfs, self.icount, self.spec)
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            raise QemuBoardError("cannot run qemu-system-arm (%s): install it with `%s`" % (e, firmware.apt_line()))
        try:
            self.port = self._wait_pty()
            self.banner = self._wait_banner()
        except BaseException:
            self.stop()
            raise
        if self.time_limit:
            self._timer = threading.Timer(float(self.time_limit), self.stop)
            self._timer.daemon = True
            self._timer.start()
        return self.port

    def _wait_pty(self):
        deadline = time.monotonic() + START_TIMEOUT
        fd = self.proc.stdout.fileno()
        buf = b""
        while True:
            m = PTY_LINE.search(buf.decode(errors="replace"))
            if m:
                # QEMU says nothing more unless something goes wrong: drain it in the background.
                threading.Thread(target=self._drain, daemon=True).start()
                return m.group(1)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise QemuBoardError("qemu-system-arm did not open its serial pty: %r" % buf[-300:])
            chunk = os.read(fd, 4096)
            if not chunk:
                raise QemuBoardError("qemu-system-arm exited at start (code %s): %s"
                                     % (self.proc.wait(), buf.decode(errors="replace").strip()))
            buf += chunk

    def _drain(self):
        out = self._stderr
        for line in iter(self.proc.stdout.readline, b""):
            if out is not None and hasattr(out, "write"):
                out.write(line.decode(errors="replace"))

    def _wait_banner(self):
        """Ctrl-C, Ctrl-B on the pty: the friendly REPL prints its banner; read it up to '>>> '."""
        fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            os.write(fd, b"\r\x03\x02")
            buf, deadline = b"", time.monotonic() + START_TIMEOUT
            while not (b"MicroPython" in buf and buf.endswith(b">>> ")):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise QemuBoardError("the firmware did not answer on %s: %r" % (self.port, buf[-300:]))
                buf += os.read(fd, 4096)
        finally:
            os.close(fd)
        lines = [ln for ln in buf.decode(errors="replace").splitlines() if ln.startswith("MicroPython")]
        return lines[-1].strip()

    def stop(self):
        """Stop QEMU (idempotent): SIGTERM to its own PID, SIGKILL if it lingers."""
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout:
            try:
                proc.stdout.close()
            except OSError:
                pass


def serve(heap_bytes=firmware.DEFAULT_HEAP, romfs=None, time_limit=None, board=firmware.BOARD):
    """`tinyrnn vboard --runtime qemu` (qemu-m0, qemu-m7: `board`): run a board until Ctrl-C /
    SIGTERM / the time limit; exit code."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *a: stop.set())
    try:
        board = QemuBoard(heap_bytes, romfs=romfs, time_limit=time_limit or None,
                          announce=lambda s: print(s, file=sys.stderr, flush=True), board=board)
        port = board.start()
    except QemuBoardError as e:
        print("vboard: %s" % e, file=sys.stderr)
        return 1
    try:
        print(board.banner)
        print("PORT=%s" % port)
        print("FIRMWARE=%s" % board.elf)
        print("QEMU pid %d: %s" % (board.pid, " ".join(qemu_command(board.elf, board.romfs, board.icount,
                                                                     board.spec))))
        print("Use: mpremote connect %s ...   (Ctrl-C here stops the board)" % port, flush=True)
        while not stop.is_set() and board.alive():
            stop.wait(0.2)
        if stop.is_set() or time_limit:
            return 0
        print("vboard: QEMU stopped unexpectedly (code %s)" % board.proc.returncode, file=sys.stderr)
        return 1
    finally:
        board.stop()
