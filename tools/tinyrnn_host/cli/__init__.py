"""The `tinyrnn` command: one subcommand per job, each with its own --help.

Subcommands import what they need when they run, so `tinyrnn --help` needs
neither NumPy nor torch. Boards are named as mpremote names them (--port).
"""
import argparse
import sys

from .. import __version__, paths
from ..board.vboard import VirtualBoardError
from . import board, interop, reports

EPILOG = """\
`tinyrnn COMMAND --help` tells a command's options. A board (-p/--port) is named as
mpremote names it: a device path (/dev/ttyACM0, COM3), id:SERIAL, or a shortcut
(a0, u0, c0 ...); without one, the commands use the virtual board (or the VM)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Each subcommand on one line with its help: argparse measures their names one indent short."""

    def add_argument(self, action):
        super().add_argument(action)
        if action.nargs == argparse.PARSER:
            self._action_max_length += self._indent_increment


def parser():
    ap = argparse.ArgumentParser(
        prog="tinyrnn", epilog=EPILOG, formatter_class=_Formatter,
        description="tinyrnn on the host: Q8.8 RNN/LSTM/GRU for MicroPython boards, "
                    "their NumPy mirror, and the tools that put them on a board.")
    ap.add_argument("--version", action="version", version="tinyrnn " + __version__)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)
    reports.add_demo(sub)           # the main job first
    board.add(sub)
    interop.add(sub)
    reports.add(sub)
    return ap


def main(argv=None):
    """Entry point of the `tinyrnn` console script; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (paths.SetupError, VirtualBoardError) as e:
        print("tinyrnn %s: error: %s" % (args.command, e), file=sys.stderr)
        return 2
