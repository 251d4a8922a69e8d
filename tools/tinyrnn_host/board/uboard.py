"""A virtual board on the MicroPython unix port: native code (arch x64), a real GC, a hard heap cap.

    tinyrnn vboard --runtime unix [--heap BYTES] [--fs DIR] [--time-limit SECONDS]

prints the MicroPython version line and `PORT=/dev/pts/N`, then serves until
Ctrl-C / SIGTERM / the time limit. `mpremote connect /dev/pts/N exec|cp|ls|run ...`
works as on a board: the port's own REPL (raw REPL with Ctrl-A, raw-paste mode)
answers on the pty, and its filesystem is rooted in the host folder DIR
(`vfs.VfsPosix(DIR)` mounted at /, sys.path ['', '/lib']), so `:lib/tinyrnn/gru.mpy`
is DIR/lib/tinyrnn/gru.mpy. `sys.implementation._mpy` says arch x64, so
`tinyrnn deploy` gives it the viper modules as native code. The folder is a board's
flash to mpremote (`ls` shows sizes, `df` a 2 MiB flash: vboard/board_flash.py), and
every mpremote verb works, `mount` included (host_tests/test_vboard_verbs.py).

The unix port leaves its REPL when a soft reset (Ctrl-D in the raw REPL) asks
it to, where a board restarts: the bridge here (one Python process between the
pty and the interpreter) then prints `MPY: soft reboot` as a board does, starts
a fresh interpreter on the same folder and puts it back into the raw REPL, so
each mpremote call starts from a fresh heap. Ctrl-C while code runs interrupts
it (SIGINT: the interpreter's terminal does not make one of the byte).

From Python (tests):

    with UnixBoard(heap_bytes=256 * 1024, fs_dir=tmp_path, time_limit=60) as port:
        subprocess.run(["mpremote", "connect", port, "ls"], timeout=20)
"""
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty

from . import mpunix, vboard

DEFAULT_HEAP = 256 * 1024       # the unix port's objects are 64-bit: a 32-bit board's 128 KB
START_TIMEOUT = 20.0
PROMPT, RAW_BANNER = b">>> ", b"raw REPL; CTRL-B to exit\r\n>"
FLASH_MODULE_DIR = pathlib.Path(vboard.__file__).resolve().parent   # board_flash.py
MOUNT_MARK = b"class RemoteFS"   # in the code `mpremote mount` sends (transport_serial.fs_hook_code)
MOUNT_STALL = 2.0               # seconds without a host byte that end a mount whose host is gone

BOOT = """\
import vfs, os, sys
sys.path.insert(0, %r)
import board_flash
sys.path.pop(0)

class Flash:
    # The host folder as a board's flash: sizes in listings, a board's statvfs (board_flash.py).
    # A wrapper, not a subclass: the import machinery does not look into a VfsPosix subclass.
    def __init__(self, root):
        self.v = v = vfs.VfsPosix(root)
        for name in ('mount', 'umount', 'chdir', 'getcwd', 'mkdir', 'remove', 'rename', 'rmdir',
                     'stat', 'open'):
            setattr(self, name, getattr(v, name))
        self.ilistdir = board_flash.sized(v.ilistdir, v.stat)

    def statvfs(self, path):
        return board_flash.statvfs(self.v.ilistdir, self.v.stat, '')

    def __repr__(self):
        return '<Flash>'

vfs.umount('/')
vfs.mount(Flash(%r), '/')
os.chdir('/')
sys.path[:] = ['', '/lib']
del vfs, os, sys, Flash
"""


class UnixBoardError(vboard.VirtualBoardError):
    pass


class _Interpreter:
    """One `micropython` process with its stdio on a pty of its own."""

    def __init__(self, command, heap_bytes, boot, fs_dir):
        self.fd, slave = os.openpty()
        tty.setraw(slave)              # no echo while boot runs; the REPL sets its own mode
        env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
        try:
            argv0, exe = command          # mpunix.command(): argv[0] independent of where the venv is
            self.proc = subprocess.Popen(argv0 + ["-X", "heapsize=%d" % heap_bytes, "-i", boot],
                                         executable=exe,
                                         stdin=slave, stdout=slave, stderr=slave, cwd=str(fs_dir),
                                         env=env, start_new_session=True)
        finally:
            os.close(slave)

    def read(self):
        """Bytes it printed (b"" once it is gone)."""
        try:
            return os.read(self.fd, 4096)
        except OSError:                # EIO: the process closed its end
            return b""

    def wait_prompt(self, timeout=10.0):
        """Swallow the start-up banner up to the first '>>> '; the banner's first line."""
        buf, deadline = b"", time.monotonic() + timeout
        while not buf.endswith(PROMPT):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise UnixBoardError("the unix port did not start: %r" % buf[-300:])
            chunk = self.read()
            if not chunk:
                raise UnixBoardError("the unix port exited at start: %r" % buf[-300:])
            buf += chunk
        return buf.decode(errors="replace").splitlines()[0] if buf else ""

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def bridge(heap_bytes=DEFAULT_HEAP, fs_dir=None, time_limit=None, announce=print, stop=None):
    """Serve a unix-port board on a new pty until `stop` (an Event) is set, the time limit
    passes, or (when announce is given) SIGTERM/SIGINT; announce(line) tells the port."""
    cmd = mpunix.command()
    fs_dir = pathlib.Path(fs_dir).resolve()
    fs_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    with tempfile.TemporaryDirectory(prefix="uboard-") as tmp:
        boot = pathlib.Path(tmp, "boot.py")
        boot.write_text(BOOT % (str(FLASH_MODULE_DIR), str(fs_dir)))
        host, slave = os.openpty()
        tty.setraw(slave)              # a serial line: no echo, no signals from Ctrl-C
        port = os.ttyname(slave)
        live = [_Interpreter(cmd, heap_bytes, str(boot), fs_dir)]     # the current interpreter
        try:
            banner = live[0].wait_prompt()
            announce("BANNER %s" % banner)
            announce("PORT=%s" % port)
            announce("FS=%s" % fs_dir)
            announce("READY")
            _serve(host, live, lambda: _Interpreter(cmd, heap_bytes, str(boot), fs_dir), stop,
                   time.monotonic() + time_limit if time_limit else None)
        finally:
            live[0].close()
            os.close(host)
            os.close(slave)


def _catches_sigint(pid):
    """Has the interpreter Ctrl-C enabled? The unix port catches SIGINT exactly while
    micropython.kbd_intr is 3 (mp_hal_set_interrupt_char); with it off (-1: `mpremote
    mount`'s binary protocol, or no code running) a 0x03 from the host is data, and
    SIGINT would kill the interpreter."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except (OSError, ValueError):
        pass
    return True                 # no /proc: as before


def _serve(host, live, respawn, stop, deadline):
    """Copy bytes both ways; restart the interpreter (live[0]) when it leaves.

    `mpremote mount` (its code seen going to the board, until the next interpreter): a
    host that sends nothing for MOUNT_STALL seconds while the interpreter waits in the
    protocol (a command running, Ctrl-C off, nothing printed) is gone (mpremote cut
    mid-command); the interpreter is restarted so that the next host finds a board that
    answers, not one that reads its bytes as protocol data."""
    child = live[0]
    raw = busy = mounted = False
    pending, tail, last_io = b"", b"", time.monotonic()
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        ready = select.select([host, child.fd], [], [], 0.2)[0]
        if not ready and mounted and busy and time.monotonic() - last_io > MOUNT_STALL \
                and child.proc.poll() is None and not _catches_sigint(child.proc.pid):
            print("vboard: mpremote mount: the host stopped answering; the board restarts", file=sys.stderr)
            child.proc.kill()      # then read() gives b"": the reboot below
            ready = [child.fd]
        if ready:
            last_io = time.monotonic()
        if host in ready:
            data = os.read(host, 4096)
            mounted = mounted or MOUNT_MARK in tail + data
            tail = data[-len(MOUNT_MARK):]
            for b in data:
                if b == 1:
                    raw = True
                elif b == 2:
                    raw = False
                elif b == 4 and raw:
                    busy = True        # the raw REPL runs what it got (or soft-resets)
                elif b == 3 and busy and child.proc.poll() is None and _catches_sigint(child.proc.pid):
                    os.kill(child.proc.pid, signal.SIGINT)
            pending += data
        if child.fd in ready:
            out = child.read()
            if out:
                os.write(host, out)
                if out.endswith(b"\x04>") or out.endswith(PROMPT):
                    busy = False
            else:
                # The interpreter left (a soft reset, sys.exit, a crash): a board reboots.
                child.close()
                os.write(host, b"MPY: soft reboot\r\n")
                child = live[0] = respawn()
                mounted = False
                banner = child.wait_prompt()
                if raw:
                    os.write(child.fd, b"\x01")
                else:               # a board's banner after its soft reboot
                    os.write(host, banner.encode() + b"\r\n" + PROMPT)
                busy = False
        if pending and child.proc.poll() is None:
            n = os.write(child.fd, pending)
            pending = pending[n:]


class UnixBoard(vboard.VirtualBoard):
    """A running unix-port board in its own process (python -m tinyrnn_host.board.uboard).
    Use as a context manager yielding the port path; arguments as bridge(). Stopping,
    alive() and pid are the WebAssembly board's (board/vboard): the process ends when
    its stdin closes, or on SIGTERM."""

    def __init__(self, heap_bytes=DEFAULT_HEAP, fs_dir=None, time_limit=None, stderr=None):
        super().__init__(heap_bytes, fs_dir, time_limit, stderr)

    def start(self):
        if self.proc is not None:
            raise UnixBoardError("already started")
        mpunix.binary()                # a clear SetupError if the port is not installed
        if self._own_fs:
            self.fs_dir = pathlib.Path(tempfile.mkdtemp(prefix="uboard-fs-"))
        cmd = [sys.executable, "-m", "tinyrnn_host.board.uboard", "--heap", str(self.heap_bytes),
               "--fs", str(self.fs_dir)] + (["--time-limit", str(float(self.time_limit))] if self.time_limit else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     text=True, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        for line in self.proc.stdout:
            if line.startswith("BANNER "):
                self.banner = line[7:].strip()
            elif line.startswith("PORT="):
                self.port = line[5:].strip()
            elif line.strip() == "READY":
                return self.port
            if time.monotonic() > deadline:
                break
        self.stop()
        raise UnixBoardError("the unix-port board did not start (exit %s)" % self.proc.returncode)


RUNTIMES = ("wasm", "unix", "qemu", "qemu-m0", "qemu-m7")


def start_virtual(runtime, heap_bytes=None, fs_dir=None, time_limit=None):
    """A started virtual board: runtime 'wasm' (board/vboard, the WebAssembly build), 'unix'
    (this module) or 'qemu' (board/qemu: the Cortex-M3 firmware; fs_dir does not apply, its
    filesystem is littlefs in its RAM; 'qemu-m0', 'qemu-m7': the Cortex-M0 and Cortex-M7 ones).
    Returns (board, port); DeviceError if it does not start."""
    from .device import DeviceError
    if runtime == "unix":
        board, errors = UnixBoard(heap_bytes or DEFAULT_HEAP, fs_dir, time_limit), (UnixBoardError,)
    elif runtime == "wasm":
        from . import vboard
        board = vboard.VirtualBoard(heap_bytes or vboard.DEFAULT_HEAP, fs_dir, time_limit)
        errors = (vboard.VirtualBoardError,)
    elif runtime in ("qemu", "qemu-m0", "qemu-m7"):
        from . import qemu
        errors = (qemu.QemuBoardError,)
        try:
            board = qemu.QemuBoard(heap_bytes or qemu.DEFAULT_HEAP, None, time_limit,
                                   announce=lambda s: print(s, flush=True), board=runtime)
        except errors as e:
            raise DeviceError("virtual board (qemu): %s" % e)
    else:
        raise DeviceError("runtime %r: give one of %s" % (runtime, ", ".join(RUNTIMES)))
    try:
        return board, board.start()
    except errors as e:
        raise DeviceError("virtual board (%s): %s" % (runtime, e))


def serve(heap_bytes=DEFAULT_HEAP, fs_dir=None, time_limit=None):
    """`tinyrnn vboard --runtime unix`: serve in the foreground until Ctrl-C / SIGTERM; exit code."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *a: stop.set())
    own = fs_dir is None
    fs_dir = pathlib.Path(fs_dir) if fs_dir else pathlib.Path(tempfile.mkdtemp(prefix="uboard-fs-"))

    port = []

    def announce(line):
        if line.startswith("PORT="):
            port.append(line[5:])
        if line == "READY":
            line = "Use: mpremote connect %s ...   (Ctrl-C here stops the board)" % port[0]
        print(line[7:] if line.startswith("BANNER ") else line, flush=True)

    try:
        bridge(heap_bytes, fs_dir, time_limit or None, announce, stop)
    except (UnixBoardError, OSError) as e:
        print("vboard: %s" % e, file=sys.stderr)
        return 1
    finally:
        if own:
            shutil.rmtree(fs_dir, ignore_errors=True)
    return 0


def main(argv=None):
    """The board process UnixBoard starts: stops on SIGTERM or when its stdin closes."""
    import argparse
    ap = argparse.ArgumentParser(prog="python -m tinyrnn_host.board.uboard")
    ap.add_argument("--heap", type=int, default=DEFAULT_HEAP)
    ap.add_argument("--fs", required=True)
    ap.add_argument("--time-limit", type=float, default=None)
    a = ap.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: stop.set())

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    bridge(a.heap, a.fs, a.time_limit, lambda line: print(line, flush=True), stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
