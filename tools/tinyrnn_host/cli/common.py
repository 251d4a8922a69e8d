"""Arguments several subcommands share."""
import argparse


def command(sub, name, help, description=None):
    """A subcommand parser; its help line also heads its own --help."""
    return sub.add_parser(name, help=help, description=description or help,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def add_port(p, default="the virtual board"):
    p.add_argument("-p", "--port", metavar="PORT",
                   help="the board as mpremote names it: a device path (/dev/ttyACM0, COM3), id:SERIAL, "
                        "or a shortcut (a0, u0, c0 ...) passed to mpremote unchanged (default: %s)" % default)


def heap_bytes(text):
    """A heap size in bytes: 65536, 64K or 1M."""
    t = text.strip().upper()
    scale = {"K": 1024, "M": 1024 * 1024}.get(t[-1:], 1)
    try:
        n = int(t[:-1] if scale > 1 else t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError("a size in bytes like 65536, 64K or 1M, got %r" % text)
    if n <= 0:
        raise argparse.ArgumentTypeError("must be positive, got %r" % text)
    return n


def seconds(text):
    """A positive number of seconds: 30, 2.5."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError("a positive number of seconds, got %r" % text)
    return value
