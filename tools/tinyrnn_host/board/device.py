"""The one mpremote wrapper: a board named as mpremote names it, and every mpremote call we make.

    b = Board("/dev/ttyACM0")          # or "a0", "u0", "id:SERIAL", a pty path ...
    b.exec("print(1 + 1)")             # -> '2\\n'  (the board's \\r\\n made \\n)
    b.mpremote("cp", "-f", "x.bin", ":x.bin")
    b.run("app.py", stream=print)       # `mpremote run`, each output line as it comes

Each call is one `mpremote connect PORT ...` subprocess with this Python's
mpremote; mpremote soft-resets the board at the start of each call, so each
call starts from a fresh interpreter with the files on the board's flash. A
failure (non-zero exit, a time limit) raises DeviceError with what mpremote said.
"""
import ast
import glob
import os
import re
import subprocess
import sys

SHORTCUT = re.compile(r"[auc]\d+$")     # mpremote's a0 (/dev/ttyACM0), u0 (/dev/ttyUSB0), c0 (COM0) ...
SHORTCUTS = {"a": "/dev/ttyACM%s", "u": "/dev/ttyUSB%s", "c": "COM%s"}


class DeviceError(Exception):
    """Something the user must fix about a board or its files; the message says what and how."""


def connect_args(port):
    """mpremote's arguments selecting `port`: a shortcut (a0, u1, c3 ...) as it is, anything
    else (a device path, id:SERIAL, port:PATH, rfc2217://..., auto) as `connect PORT`."""
    return [port] if SHORTCUT.match(port) else ["connect", port]


def device_path(port):
    """The device a port names: mpremote's shortcuts spelled out (a0 -> /dev/ttyACM0), else as given."""
    m = re.match(r"([auc])(\d+)$", port)
    return SHORTCUTS[m.group(1)] % m.group(2) if m else port


def check_port(port):
    """DeviceError, before any mpremote call, when `port` names a device file that does not
    exist (mpremote itself then says the port "may be in use by another program")."""
    path = device_path(port)
    if path.startswith("/dev/") and not os.path.exists(path):
        here = sorted(glob.glob("/dev/ttyACM*") + glob.glob("/dev/ttyUSB*") + glob.glob("/dev/cu.usb*"))
        raise DeviceError("port %s%s does not exist (no such device); serial ports here: %s"
                          % (port, " (%s)" % path if path != port else "", ", ".join(here) or "none"))


def mpremote_command(port, *args):
    """The argv of one mpremote call on the board at `port`, with this Python's mpremote."""
    return [sys.executable, "-m", "mpremote", *connect_args(port), *args]


class Board:
    """A board at `port`, driven through the mpremote command line."""

    def __init__(self, port, timeout=120):
        self.port = port
        self.timeout = timeout

    def _failed(self, args, out, err, code=None):
        text = (out + err).strip() or "no output"
        if "No module named 'mpremote'" in err:
            text = "mpremote is not installed for %s (run `make setup`)" % sys.executable
        return DeviceError("mpremote %s on %s failed%s:\n%s"
                           % (args[0], self.port, " (exit %d)" % code if code else "", text))

    def mpremote(self, *args, timeout=None, check=True):
        """One mpremote call; its stdout with \\r\\n made \\n (DeviceError if it failed and check)."""
        timeout = timeout or self.timeout
        try:
            proc = subprocess.run(mpremote_command(self.port, *args), capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeviceError("mpremote %s on %s did not finish within %s s (the board may need a reset)"
                              % (args[0], self.port, timeout))
        out = proc.stdout.replace("\r\n", "\n")
        if check and proc.returncode != 0:
            raise self._failed(args, out, proc.stderr)
        return out

    def exec(self, code, timeout=None):
        """Run code on the board; its printed output."""
        return self.mpremote("exec", code, timeout=timeout)

    def run(self, script, stream=None, timeout=None):
        """`mpremote run SCRIPT`: returns (output, exit code); `stream` gets each line as it comes."""
        timeout = timeout or self.timeout
        cmd = mpremote_command(self.port, "run", str(script))
        lines = []
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
            try:
                for line in p.stdout:
                    line = line.replace("\r\n", "\n")
                    lines.append(line)
                    if stream:
                        stream(line.rstrip("\n"))
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                raise DeviceError("mpremote run %s on %s did not finish within %s s" % (script, self.port, timeout))
        return "".join(lines), p.returncode

    def cp(self, *args, timeout=None):
        """`mpremote cp -f ARGS...` (board paths start with ':')."""
        return self.mpremote("cp", "-f", *map(str, args), timeout=timeout)


def records(output, tag):
    """The tuples the board printed with repr() whose first item is `tag`."""
    out = []
    for line in output.splitlines():
        if line.startswith("(%r," % tag):
            out.append(ast.literal_eval(line))
    return out
