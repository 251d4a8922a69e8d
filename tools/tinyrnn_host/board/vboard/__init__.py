"""A virtual MicroPython board on a pseudo-terminal, for the real `mpremote`.

    tinyrnn vboard [--heap BYTES] [--fs DIR] [--time-limit SECONDS] [--command-limit SECONDS]

prints the MicroPython version line and `PORT=/dev/pts/N`, then serves until
Ctrl-C / SIGTERM / the time limit. Talk to it as to a board on a serial port:

    mpremote connect /dev/pts/N exec "print(1+1)"
    mpremote connect /dev/pts/N cp main.py :
    mpremote connect /dev/pts/N            # REPL

From Python (tests):

    from tinyrnn_host.board import vboard
    with vboard.VirtualBoard(heap_bytes=65536, fs_dir=tmp_path, time_limit=60) as port:
        subprocess.run(["mpremote", "connect", port, "ls"], timeout=20)

The board is the pinned MicroPython WebAssembly build (tinyrnn_host.paths.node_modules:
tools/node_modules in a checkout) run by Node.js through bridge.mjs beside this file. The host folder `fs_dir` is the
board's flash: it is synced both ways around every command the board runs,
and every reset starts a fresh interpreter from it, running boot.py and
main.py as a board does (machine.reset() / `mpremote reset` included). Without
one, a temporary folder is used and removed at the end. A command that runs
longer than command_limit seconds is stopped and reported, and the board
restarts. See docs/virtual-board.md.
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

from ... import paths
from .._process import ProcessBoard

BRIDGE = pathlib.Path(__file__).resolve().with_name("bridge.mjs")
# Initial heap of the interpreter. The build grows its heap when full (split
# heap), so this is where `micropython.mem_info()`'s "GC: total" starts, not a
# hard limit. 128 KiB is a small board's free heap (RP2040-class boards report
# ~190 KB, ESP32 without PSRAM ~110 KB).
DEFAULT_HEAP = 131072
# Longest a command (or boot.py / main.py) may run on the board before the
# bridge stops it, reports it and restarts the interpreter, as a watchdog would.
DEFAULT_COMMAND_LIMIT = 600.0
START_TIMEOUT = 20.0

__all__ = ["VirtualBoard", "VirtualBoardError", "DEFAULT_HEAP", "DEFAULT_COMMAND_LIMIT", "serve"]


class VirtualBoardError(RuntimeError):
    pass


def _node_executable():
    node = os.environ.get("VBOARD_NODE") or shutil.which("node")
    if not node:
        raise VirtualBoardError("Node.js (`node`) not found; install Node.js 20 or set VBOARD_NODE")
    return node


class VirtualBoard(ProcessBoard):
    """A running virtual board. Use as a context manager yielding the port path.

    heap_bytes  initial MicroPython heap (it grows when full; see DEFAULT_HEAP)
    fs_dir      host folder mirroring the board's filesystem (created if missing);
                None: a temporary folder, deleted on stop
    time_limit  seconds after which the board stops by itself (None: never)
    command_limit  seconds one command (or boot.py, main.py) may run; past it the
                board stops it, says so to the host and restarts its interpreter
    stderr      where the bridge's own diagnostics go (default: inherited)
    """

    def __init__(self, heap_bytes=DEFAULT_HEAP, fs_dir=None, time_limit=None, stderr=None,
                 command_limit=DEFAULT_COMMAND_LIMIT):
        if not command_limit or float(command_limit) <= 0:
            raise ValueError("command_limit must be a positive number of seconds, not %r" % (command_limit,))
        self.heap_bytes = int(heap_bytes)
        self.time_limit = time_limit
        self.command_limit = float(command_limit)
        self._own_fs = fs_dir is None
        self.fs_dir = None if fs_dir is None else pathlib.Path(fs_dir).resolve()
        self._stderr = stderr
        self.proc = None
        self.port = None
        self.banner = None
        self._timer = None

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Start the board; return the port path (e.g. /dev/pts/5)."""
        if self.proc is not None:
            raise VirtualBoardError("already started")
        try:
            env = paths.node_env()
        except paths.SetupError as e:
            raise VirtualBoardError(str(e))
        if self._own_fs:
            self.fs_dir = pathlib.Path(tempfile.mkdtemp(prefix="vboard-fs-"))
        self.fs_dir.mkdir(parents=True, exist_ok=True)

        master, slave = os.openpty()
        try:
            # No echo, no line editing, no signals from Ctrl-C: a serial line.
            tty.setraw(slave)
            # The bridge polls the master for Ctrl-C while Python code runs.
            os.set_blocking(master, False)
            port = os.ttyname(slave)
            cmd = [_node_executable(), str(BRIDGE), "--fd", str(master), "--slave", port,
                   "--heap", str(self.heap_bytes), "--fs", str(self.fs_dir),
                   "--command-limit", str(self.command_limit)]
            if self.time_limit:
                cmd += ["--time-limit", str(float(self.time_limit))]
            self.proc = subprocess.Popen(
                cmd, env=env, pass_fds=(master,), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, start_new_session=True)
        finally:
            # The bridge holds the pty from now on (master, and the slave by path).
            os.close(master)
            os.close(slave)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.port = port
        if self.time_limit:
            self._timer = threading.Timer(float(self.time_limit) + 2.0, self.stop)
            self._timer.daemon = True
            self._timer.start()
        return port

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        fd = self.proc.stdout.fileno()
        buf = b""
        while b"READY\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise VirtualBoardError("virtual board did not start within %.0f s" % START_TIMEOUT)
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self.proc.wait()
                    raise VirtualBoardError("virtual board exited at start (code %s): %s"
                                            % (code, buf.decode(errors="replace").strip()))
                buf += chunk
        for line in buf.decode(errors="replace").splitlines():
            if line.startswith("BANNER "):
                self.banner = line[len("BANNER "):]

    def stop(self):
        """Stop the board (idempotent). Its pty disappears with it."""
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()          # the bridge exits on EOF when idle...
            except OSError:
                pass
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                proc.terminate()            # ...or on SIGTERM (its default action)
                try:
                    proc.wait(timeout=3.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if proc is not None:
            for f in (proc.stdin, proc.stdout):
                try:
                    if f:
                        f.close()
                except OSError:
                    pass
        if self._own_fs and self.fs_dir is not None and self.fs_dir.exists():
            shutil.rmtree(self.fs_dir, ignore_errors=True)


# -- `tinyrnn vboard` ------------------------------------------------------------

def serve(heap_bytes=DEFAULT_HEAP, fs_dir=None, time_limit=None, command_limit=DEFAULT_COMMAND_LIMIT):
    """Run a board until Ctrl-C / SIGTERM / the time limit, printing its port; exit code."""
    board = VirtualBoard(heap_bytes=heap_bytes, fs_dir=fs_dir, time_limit=time_limit or None,
                         command_limit=command_limit)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        port = board.start()
    except VirtualBoardError as e:
        print("vboard: %s" % e, file=sys.stderr)
        return 1
    try:
        print(board.banner)
        print("PORT=%s" % port)
        print("FS=%s" % board.fs_dir)
        print("Use: mpremote connect %s ...   (Ctrl-C here stops the board)" % port, flush=True)
        started = time.monotonic()
        while not stop.is_set() and board.alive():
            stop.wait(0.2)
        if stop.is_set():
            return 0
        if time_limit and time.monotonic() - started >= time_limit - 1:
            return 0  # the bridge said "time limit reached"
        print("vboard: the board stopped unexpectedly (code %s)" % board.proc.returncode, file=sys.stderr)
        return 1
    finally:
        board.stop()
