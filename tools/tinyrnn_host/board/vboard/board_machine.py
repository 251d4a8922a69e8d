"""The virtual board's `machine` module: MicroPython code, not for the host.

The bridge (interpreter.mjs) puts it in every fresh interpreter as
/proc/vboard/machine.py and imports it, so `import machine` finds it as on a
board. No hardware: resets only. See docs/virtual-board.md.
"""
import _vboard

# machine.reset_cause() values (as on the rp2 and esp32 ports).
PWRON_RESET = 1   # the board was started
HARD_RESET = 2    # machine.reset() / `mpremote reset`
WDT_RESET = 3     # the bridge stopped a command at its time limit and restarted
DEEPSLEEP_RESET = 4
SOFT_RESET = 5    # Ctrl-D at the REPL, sys.exit(), machine.soft_reset(), `mpremote soft-reset`


def reset():
    """Hard reset: the board restarts in the friendly REPL, running boot.py then main.py.

    As on a board it does not return. The restart happens when the SystemExit
    raised here reaches the REPL (mpremote's `reset` does just this)."""
    _vboard.reset_asked = True
    raise SystemExit


def soft_reset():
    """Soft reset: a fresh interpreter; boot.py runs, and main.py too in the friendly REPL."""
    raise SystemExit


def reset_cause():
    return _vboard.cause


def idle():
    pass
