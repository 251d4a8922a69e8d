"""The virtual board (board/vboard, `tinyrnn vboard`) driven by the real `mpremote` CLI.

Each test starts its own board (about 0.2 s) with a fresh --fs folder, runs
`mpremote connect <pty> ...` as a subprocess with a timeout, and checks that
the board's node process is gone afterwards. Node.js, the WebAssembly build and
mpremote are pinned dependencies: without them these tests fail, never skip.
Resets, machine and the command time limit: test_vboard_resets.py.
"""
import hashlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tinyrnn_host.board import vboard
from vboard_client import Serial, bridge_children, mpr, mpremote_path, out, pid_alive, running_board


@pytest.fixture
def board(tmp_path):
    yield from running_board(tmp_path / "flash")


# -- basic commands ------------------------------------------------------------

def test_banner_and_exec(board):
    assert board.banner.startswith("MicroPython v1.27.0")
    assert out(mpr(board, "exec", "print(1+1)")) == "2\r\n"   # a board's stdout ends lines with \r\n
    assert out(mpr(board, "eval", "6*7")) == "42\r\n"


def test_exception_is_traceback_and_nonzero_exit(board):
    res = mpr(board, "exec", "x = 1\n1/0", check=False)
    assert res.returncode == 1
    text = out(res)
    assert "Traceback (most recent call last):" in text
    assert 'File "<stdin>", line 2' in text
    assert "ZeroDivisionError: divide by zero" in text
    # the board is fine afterwards
    assert out(mpr(board, "exec", "print('ok')")) == "ok\r\n"


def test_errno_numbers_are_a_boards(board):
    res = mpr(board, "exec", "open('missing.txt')", check=False)
    assert res.returncode == 1 and "OSError: [Errno 2] ENOENT" in out(res)
    code = ("import errno, os\n"
            "try:\n open('nope')\nexcept OSError as e:\n print(e.errno == errno.ENOENT)\n"
            "os.mkdir('d')\n"
            "try:\n os.mkdir('d')\nexcept OSError as e:\n print(e.errno == errno.EEXIST)\n")
    assert out(mpr(board, "exec", code)) == "True\r\nTrue\r\n"
    res = mpr(board, "cat", ":nope.txt", check=False)
    assert res.returncode != 0 and "No such file" in res.stdout.decode() + res.stderr.decode()


def test_heap_size(board):
    res = mpr(board, "exec", "import micropython; micropython.mem_info()")
    assert "GC: total: 64000," in out(res)  # --heap 65536 as the fixture asked


# -- files -----------------------------------------------------------------------

def test_cp_roundtrip_ls_sha256_and_mirror(board, tmp_path):
    data = bytes(range(256)) * 12 + b"\r\n\x00\x04\x03 end"
    src = tmp_path / "data.bin"
    src.write_bytes(data)
    mpr(board, "cp", str(src), ":")
    mpr(board, "cp", str(src), ":copy.bin")       # a new name: needs ENOENT from the board
    assert (board.fs_dir / "data.bin").read_bytes() == data  # mirrored when mpremote returns
    back = tmp_path / "back.bin"
    mpr(board, "cp", ":copy.bin", str(back))
    assert back.read_bytes() == data

    listing = out(mpr(board, "ls"))
    assert re.search(r"^\s*%d data\.bin\r?$" % len(data), listing, re.M), listing  # sizes, as a board
    assert "copy.bin" in listing
    assert "dev" not in listing and "proc" not in listing  # Emscripten's own dirs are hidden

    res = mpr(board, "sha256sum", ":data.bin")
    assert hashlib.sha256(data).hexdigest() in out(res)


def test_mkdir_rm_rmdir(board, tmp_path):
    src = tmp_path / "a.py"
    src.write_text("X = 7\n")
    mpr(board, "mkdir", ":lib")
    mpr(board, "cp", str(src), ":lib/a.py")
    assert (board.fs_dir / "lib" / "a.py").read_text() == "X = 7\n"
    assert "a.py" in out(mpr(board, "ls", ":lib"))
    assert out(mpr(board, "exec", "import a; print(a.X)")) == "7\r\n"  # /lib is on sys.path
    mpr(board, "rm", ":lib/a.py")
    assert not (board.fs_dir / "lib" / "a.py").exists()
    mpr(board, "rmdir", ":lib")
    assert not (board.fs_dir / "lib").exists()
    assert out(mpr(board, "exec", "import os; print(os.listdir())")) == "[]\r\n"


def test_run_script(board, tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import sys\nfor i in range(3):\n    print('line', i)\nprint(sys.platform)\n")
    res = mpr(board, "run", str(script))
    assert out(res) == "line 0\r\nline 1\r\nline 2\r\nwebassembly\r\n"


def test_soft_reset_keeps_files_and_clears_state(board):
    res = mpr(board, "exec", "x = 5\nopen('keep.txt', 'w').write('kept')",
              "soft-reset", "exec", "import os\nprint('x' in globals(), os.listdir(), open('keep.txt').read())")
    assert out(res) == "False ['keep.txt'] kept\r\n"
    # sys.exit() soft-reboots the board too; files still there
    mpr(board, "exec", "import sys; sys.exit()", check=False)
    assert out(mpr(board, "exec", "print(open('keep.txt').read())")) == "kept\r\n"


def test_host_folder_changes_reach_the_board(board):
    (board.fs_dir / "from_host.txt").write_text("hi from host")
    (board.fs_dir / "lib").mkdir()
    (board.fs_dir / "lib" / "hostmod.py").write_text("VALUE = 'hostmod'\n")
    res = mpr(board, "exec", "import hostmod\nprint(open('from_host.txt').read(), hostmod.VALUE)")
    assert out(res) == "hi from host hostmod\r\n"
    (board.fs_dir / "from_host.txt").unlink()
    assert out(mpr(board, "exec", "import os; print(os.listdir())")) == "['lib']\r\n"


def test_file_larger_than_heap(board, tmp_path):
    data = os.urandom(200 * 1024)  # 3x the 64 KB heap; mpremote cp sends 256-byte pieces
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    mpr(board, "cp", str(src), ":big.bin", timeout=40)
    assert (board.fs_dir / "big.bin").read_bytes() == data
    assert hashlib.sha256(data).hexdigest() in out(mpr(board, "sha256sum", ":big.bin"))
    back = tmp_path / "big_back.bin"
    mpr(board, "cp", ":big.bin", str(back), timeout=40)
    assert back.read_bytes() == data
    assert "GC: total: 64000," in out(mpr(board, "exec", "import micropython; micropython.mem_info()"))


# -- the serial protocol, byte by byte -------------------------------------------

@pytest.fixture
def ser(board):
    s = Serial(board.port)
    yield s
    s.close()


def test_raw_paste_protocol(ser):
    ser.raw()
    ser.write(b"\x05A\x01")
    head = ser.read_exactly(5)
    assert head[:2] == b"R\x01"
    window = int.from_bytes(head[2:4], "little")
    assert window == 128 and head[4:] == b"\x01"
    code = b"s = 0\n" + b"s += 1\n" * 100 + b"print('sum', s)\n"  # > 2 windows
    sent, remain = 0, window * 2
    while sent < len(code):
        n = min(remain, len(code) - sent)
        ser.write(code[sent:sent + n])
        sent += n
        remain -= n
        if remain == 0:
            assert ser.read_until(b"\x01") == b"\x01"
            remain += window
    ser.write(b"\x04")
    acks = ser.read_until(b"\x04")  # more window credits, then: end of data acknowledged
    assert set(acks[:-1]) <= {1}
    assert ser.read_until(b"\x04\x04>") == b"sum 100\r\n\x04\x04>"


def test_plain_raw_repl_and_friendly_repl(ser):
    ser.raw()
    ser.write(b"print('raw')\x04")
    assert ser.read_until(b"\x04\x04>") == b"OKraw\r\n\x04\x04>"
    ser.write(b"\x02")  # Ctrl-B: friendly REPL with its banner
    got = ser.read_until(b">>> ")
    assert b"MicroPython v1.27.0" in got and b'Type "help()"' in got
    ser.write(b"1+2\r")
    assert ser.read_until(b">>> ") == b"1+2\r\n3\r\n>>> "
    ser.write(b"name = input('who? ')\r")
    ser.read_until(b"who? ")
    ser.write(b"ann\r")
    ser.read_until(b">>> ")
    ser.write(b"name\r")
    assert ser.read_until(b">>> ") == b"name\r\n'ann'\r\n>>> "
    ser.write(b"\x04")  # Ctrl-D at the prompt: soft reboot
    got = ser.read_until(b">>> ")
    assert got.startswith(b"\r\nMPY: soft reboot\r\nMicroPython v1.27.0")


def test_ctrl_c_interrupts(ser):
    ser.raw()
    # a loop that sleeps...
    ser.write(b"import time\nwhile True:\n    time.sleep_ms(5)\n\x04")
    assert ser.read_until(b"OK") == b"OK"
    time.sleep(0.2)
    ser.write(b"\x03")
    got = ser.read_until(b"\x04>")
    assert got.startswith(b"\x04Traceback") and b"KeyboardInterrupt" in got
    # ...and one that prints
    ser.write(b"i = 0\nwhile True:\n    i += 1\n    print(i)\n\x04")
    ser.read_until(b"OK")
    ser.read_until(b"\r\n100\r\n")
    ser.write(b"\x03")
    got = ser.read_until(b"\x04>", timeout=10)
    assert b"KeyboardInterrupt" in got
    ser.write(b"print('alive')\x04")
    assert ser.read_until(b"\x04\x04>") == b"OKalive\r\n\x04\x04>"


def test_mpremote_recovers_a_running_program(board):
    # left running by `exec --no-follow`; the next mpremote interrupts it (Ctrl-C)
    mpr(board, "exec", "--no-follow", "import time\nwhile True:\n    print('tick')\n    time.sleep_ms(20)")
    time.sleep(0.3)
    assert out(mpr(board, "exec", "print('next')")) == "next\r\n"


# -- lifetime ---------------------------------------------------------------------

def test_time_limit(tmp_path):
    vb = vboard.VirtualBoard(fs_dir=tmp_path / "fs", time_limit=1)
    vb.start()
    try:
        vb.proc.wait(timeout=5)
    finally:
        vb.stop()
    assert not pid_alive(vb.pid)


def test_stops_when_the_launcher_dies(tmp_path):
    code = ("import time; from tinyrnn_host.board import vboard\n"
            "vb = vboard.VirtualBoard(fs_dir=%r, time_limit=60); vb.start()\n"
            "print(vb.pid, flush=True); time.sleep(60)\n" % (str(tmp_path / "fs"),))
    launcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        pid = int(launcher.stdout.readline())
        assert pid_alive(pid)
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=5)
        end = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        assert not pid_alive(pid)
    finally:
        launcher.kill()
        launcher.wait()
        launcher.stdout.close()


def test_command_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tinyrnn_host", "vboard", "--heap", "32768",
                             "--fs", str(tmp_path / "fs"), "--time-limit", "30"], stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("MicroPython v1.27.0")
        port = proc.stdout.readline().strip()
        assert port.startswith("PORT=/dev/pts/")
        res = subprocess.run([mpremote_path(), "connect", port[5:], "exec",
                              "import micropython; micropython.mem_info()"],
                             capture_output=True, timeout=20)
        assert b"GC: total: 32000," in res.stdout
        nodes = bridge_children(proc.pid)
        assert len(nodes) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert not pid_alive(nodes[0])
