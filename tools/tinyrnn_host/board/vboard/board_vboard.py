"""The virtual board's own module, `_vboard`: MicroPython code, not for the host.

The bridge (interpreter.mjs) puts it in every fresh interpreter as
/proc/vboard/_vboard.py (hidden from the board's files, never synced), imports
it and calls install(). It makes the WebAssembly build behave like a board
where programs or mpremote would notice, and runs boot.py and main.py as a
board's pyexec_file does. See docs/virtual-board.md.
"""
import os
import sys

cause = 1            # what machine.reset_cause() answers (a machine.*_RESET value)
reset_asked = False  # machine.reset() was called: the bridge does a hard reset next


def install(reset_cause):
    """Patch the interpreter where this build differs from a board.

    - input() reads with the C readline, whose stdin here is a stub that never
      returns a character (it would hang for good). Replace it by one that
      reads sys.stdin (the host's input) and echoes, like a board's input().
    - os.ilistdir() (VfsPosix) yields (name, type, inode); a board's flash
      filesystem also gives the size, which `mpremote ls` shows.
    - os.statvfs() describes a board's flash, not the host's memory
      (`mpremote df`; _vboard_flash, board_flash.py beside this file).
    """
    global cause
    import builtins
    import _vboard_flash as flash
    cause = reset_cause
    builtins.input = _input
    os.ilistdir = flash.sized(os.ilistdir, os.stat)
    listdir, stat = os.ilistdir, os.stat
    os.statvfs = lambda path='/': flash.statvfs(listdir, stat)


class BinaryOut:
    """sys.stdout.buffer for `mpremote mount`'s protocol (the bridge puts it into the code
    mpremote sends, repl.mjs): bytes go out as they are. This build's stdout cannot tell
    them from print()'s text, whose \n the bridge makes \r\n; while this writes, the
    interrupt char is -2 (mount's code has Ctrl-C off, -1, around it) and the bridge
    passes every byte unchanged."""

    def write(self, buf, n=None):
        import micropython
        micropython.kbd_intr(-2)
        try:
            return sys.stdout.buffer.write(buf) if n is None else sys.stdout.buffer.write(buf, n)
        finally:
            micropython.kbd_intr(-1)


def _input(prompt=''):
    write = sys.stdout.write
    write(prompt)
    line = ''
    while True:
        c = sys.stdin.read(1)
        if not c:
            continue  # a Ctrl-C: the pending KeyboardInterrupt is raised here
        if c == '\r' or c == '\n':
            write('\r\n')
            return line
        if c == '\x03':
            raise KeyboardInterrupt
        if c == '\x04' and not line:
            raise EOFError
        if c in '\x08\x7f':
            if line:
                line = line[:-1]
                write('\x08 \x08')
        elif c >= ' ':
            line += c
            write(c)


def run_file(name):
    """Run a script in the REPL's globals as a board's pyexec_file does (boot.py, main.py).

    Returns 0 when it ran (or there is no such file), 1 when it raised (the
    traceback is printed), 2 when it asked for a reset (SystemExit: sys.exit(),
    machine.soft_reset(), machine.reset()).
    """
    try:
        f = open(name)
    except OSError:
        return 0
    with f:
        src = f.read()
    import __main__
    import micropython
    g = __main__.__dict__
    g['__file__'] = name
    micropython.kbd_intr(3)  # Ctrl-C raises KeyboardInterrupt, as while a board runs code
    try:
        exec(compile(src, name, 'exec'), g)
    except SystemExit:
        return 2
    except BaseException as e:  # noqa: B902 - a board prints every uncaught exception
        _print_exception(e)
        return 1
    finally:
        micropython.kbd_intr(-1)
    return 0


def _print_exception(e):
    """The traceback as a board prints it: without this module's own frame."""
    try:
        import io
        buf = io.StringIO()
        sys.print_exception(e, buf)
        lines = buf.getvalue().split('\n')
    except MemoryError:  # the script left the heap locked
        sys.print_exception(e)
        return
    sys.stdout.write('\n'.join(ln for ln in lines if '/proc/vboard/' not in ln))
