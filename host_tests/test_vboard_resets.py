"""The virtual board resets as a board does, and stops what runs too long.

A board (MicroPython's ports, e.g. ports/rp2/main.c) runs boot.py at every
start, and main.py too when it starts in the friendly REPL: at power-on, after
a hard reset (machine.reset(), `mpremote reset`), after a soft reset in the
friendly REPL (Ctrl-D). A soft reset in the raw REPL (what mpremote does
before its commands) runs boot.py only. Each test checks one of these through
the real mpremote or the serial line, with the scripts' own record of what ran.
"""
import time

import pytest

from tinyrnn_host.board import vboard
from vboard_client import Serial, mpr, out, running_board, wait_for

# Each script appends "<name> <machine.reset_cause()>" to log.txt (closing it: a
# file still open for writing reaches the host folder only when closed).
LOGGING = ("import machine\nwith open('log.txt', 'a') as f:\n    f.write('%s %%d\\n' %% machine.reset_cause())\n")
BOOT = LOGGING % "boot"
APP = LOGGING % "main" + "print('app: main.py ran')\n"
PWRON, HARD, WDT, SOFT = 1, 2, 3, 5


@pytest.fixture
def board(tmp_path):
    yield from running_board(tmp_path / "flash")


def log(vb):
    p = vb.fs_dir / "log.txt"
    return p.read_text() if p.exists() else ""


def test_mpremote_reset_runs_boot_and_the_app_deployed_as_main(board, tmp_path):
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "boot.py").write_text(BOOT)
    mpr(board, "cp", str(tmp_path / "app.py"), ":main.py", "+", "cp", str(tmp_path / "boot.py"), ":boot.py")
    assert log(board) == ""                       # copying does not start the app
    start = time.monotonic()
    assert mpr(board, "reset").returncode == 0
    # mpremote's own soft reset (raw REPL) ran boot.py only; the hard reset ran both.
    wait_for(lambda: log(board) == "boot %d\nboot %d\nmain %d\n" % (SOFT, HARD, HARD), what=repr(log(board)))
    assert time.monotonic() - start < 10
    assert out(mpr(board, "exec", "import machine; print(machine.reset_cause())")) == "%d\r\n" % SOFT


def test_the_app_prints_on_the_serial_line_after_reset_until_mpremote_interrupts_it(board, tmp_path):
    (tmp_path / "app.py").write_text(
        "import machine, time\nn = 0\nwhile True:\n    print('tick', n, machine.reset_cause())\n"
        "    n += 1\n    time.sleep_ms(20)\n")
    mpr(board, "cp", str(tmp_path / "app.py"), ":main.py")
    mpr(board, "reset")
    ser = Serial(board.port)   # a terminal on the port, as a user would watch the board
    try:
        got = ser.read_until(b" %d\r\n" % HARD)
        got += ser.read_until(b" %d\r\n" % HARD)
        assert b"tick " in got
    finally:
        ser.close()
    # mpremote interrupts the running app (Ctrl-C), as on a board.
    assert out(mpr(board, "exec", "print('free')")) == "free\r\n"


def test_power_on_runs_boot_and_main(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "boot.py").write_text(BOOT)
    (flash / "main.py").write_text(APP)
    for vb in running_board(flash):
        wait_for(lambda: log(vb) == "boot %d\nmain %d\n" % (PWRON, PWRON), what=repr(log(vb)))


def test_soft_reset_runs_main_in_the_friendly_repl_only(board):
    (board.fs_dir / "boot.py").write_text("print('boot.py here')\n")
    (board.fs_dir / "main.py").write_text("import machine\nprint('main.py here', machine.reset_cause())\n")
    ser = Serial(board.port)
    try:
        ser.raw()
        ser.write(b"\x04")   # Ctrl-D on an empty raw REPL line: soft reset, back in the raw REPL
        got = ser.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        assert got == b"OK\r\nMPY: soft reboot\r\nboot.py here\r\nraw REPL; CTRL-B to exit\r\n>"
        ser.write(b"\x02")   # friendly REPL
        ser.read_until(b">>> ")
        ser.write(b"\x04")   # Ctrl-D at the friendly prompt: soft reset with main.py
        got = ser.read_until(b">>> ")
        assert got.startswith(b"\r\nMPY: soft reboot\r\nboot.py here\r\nmain.py here %d\r\nMicroPython v1.27.0" % SOFT)
        ser.write(b"import machine; machine.soft_reset()\r")
        assert b"main.py here %d\r\n" % SOFT in ser.read_until(b">>> ")
    finally:
        ser.close()


def test_an_error_in_main_is_a_traceback_then_the_repl(board):
    (board.fs_dir / "main.py").write_text("x = 1\ndef f():\n    return 1 // 0\nf()\n")
    ser = Serial(board.port)
    try:
        ser.write(b"\r")     # the board waits at the friendly REPL (its power-on banner may follow)
        ser.read_until(b">>> ")
        time.sleep(0.2)
        ser.s.reset_input_buffer()
        ser.write(b"\x04")   # Ctrl-D: soft reset
        # Read up to the banner that follows the traceback (a late ">>> " of the power-on banner
        # may still arrive after the buffer was cleared), then to its prompt.
        got = ser.read_until(b"ZeroDivisionError: divide by zero\r\nMicroPython v1.27.0", timeout=15.0)
        got += ser.read_until(b">>> ")
        assert (b'Traceback (most recent call last):\r\n  File "main.py", line 4, in <module>\r\n'
                b'  File "main.py", line 3, in f\r\nZeroDivisionError: divide by zero\r\nMicroPython v1.27.0') in got
        ser.write(b"x\r")   # main.py ran in the REPL's globals, as pyexec_file does
        assert ser.read_until(b">>> ") == b"x\r\n1\r\n>>> "
    finally:
        ser.close()


# -- the command time limit ------------------------------------------------------

@pytest.fixture
def quick_board(tmp_path):
    yield from running_board(tmp_path / "flash", command_limit=2)


def test_a_runaway_command_is_stopped_reported_and_the_board_restarts(quick_board):
    start = time.monotonic()
    res = mpr(quick_board, "exec", "x = 1\nwhile True:\n    pass", check=False)
    took = time.monotonic() - start
    assert res.returncode == 1 and 2 <= took < 8, (res, took)
    assert ('vboard: "x = 1" (and 2 more lines) ran past the 2 s time limit (--command-limit) and was stopped; '
            'the board restarted') in out(res)
    ser = Serial(quick_board.port)
    try:
        ser.raw()
        ser.write(b"while True:\n    pass\n\x04")
        got = ser.read_until(b"\x04>", timeout=10)
        assert got.startswith(b'OK\x04vboard: "while True:" (and 1 more lines) ran past the 2 s time limit')
        ser.write(b"import machine; print(machine.reset_cause())\x04")   # the same raw REPL, restarted
        assert ser.read_until(b"\x04>") == b"OK%d\r\n\x04\x04>" % WDT
    finally:
        ser.close()


def test_a_runaway_main_py_does_not_lock_mpremote_out(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_text("while True:\n    pass\n")   # cannot be interrupted on this VM
    for vb in running_board(flash, command_limit=2):
        assert out(mpr(vb, "exec", "print('free')", timeout=20)) == "free\r\n"


def test_a_raise_under_heap_lock_ends_the_command(quick_board):
    start = time.monotonic()
    res = mpr(quick_board, "exec", "import micropython\nmicropython.heap_lock()\nraise ValueError('x')", check=False)
    assert res.returncode == 1 and time.monotonic() - start < 2
    assert out(mpr(quick_board, "exec", "print('next')")) == "next\r\n"


def test_command_limit_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="command_limit"):
        vboard.VirtualBoard(fs_dir=tmp_path, command_limit=0)
