"""A board named on the command line as mpremote names it, for every mpremote call we make."""
import re
import sys

SHORTCUT = re.compile(r"[auc]\d+$")     # mpremote's a0 (/dev/ttyACM0), u0 (/dev/ttyUSB0), c0 (COM0) ...


def connect_args(port):
    """mpremote's arguments selecting `port`: a shortcut (a0, u1, c3 ...) as it is, anything
    else (a device path, id:SERIAL, port:PATH, rfc2217://..., auto) as `connect PORT`."""
    return [port] if SHORTCUT.match(port) else ["connect", port]


def mpremote_command(port, *args):
    """The argv of one mpremote call on the board at `port`, with this Python's mpremote."""
    return [sys.executable, "-m", "mpremote", *connect_args(port), *args]
