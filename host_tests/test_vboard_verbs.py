"""Every mpremote verb against both virtual boards, with the real mpremote CLI (pinned 1.29.0).

The WebAssembly board (board/vboard) and the unix-port board (board/uboard) each get:
mount (binary data both ways, writes, renames), df, ls with sizes, cp -r, rm -r, resume, soft-reset, edit (EDITOR=true and an
editor that changes the file), and Ctrl-C (SIGINT to mpremote) in the middle of a
command. A verb either works (its result checked) or fails within VERB_SECONDS with
a clear message; after each, the board still answers. The soak: a few hundred mixed
commands, bounded in count and time, and the board answering at the end.
"""
import os
import random
import re
import signal
import subprocess
import time

import pytest

from tinyrnn_host.board import uboard, vboard
from vboard_client import mpremote_path

VERB_SECONDS = 5.0          # a verb that cannot work must say so within this
BOARD_LIFETIME = 120
FLASH_BYTES = 2 * 1024 * 1024


def start_board(kind, fs_dir):
    if kind == "wasm":
        b = vboard.VirtualBoard(heap_bytes=65536, fs_dir=fs_dir, time_limit=BOARD_LIFETIME, command_limit=30)
    else:
        b = uboard.UnixBoard(fs_dir=fs_dir, time_limit=BOARD_LIFETIME)
    b.start()
    return b


@pytest.fixture(params=["wasm", "unix"])
def board(request, tmp_path):
    b = start_board(request.param, tmp_path / "flash")
    b.kind = request.param
    try:
        yield b
    finally:
        b.stop()
    assert not b.alive(), "the board process outlived the test"


@pytest.fixture
def local(tmp_path):
    """A host folder to copy and mount: a module, a subfolder with a text file."""
    d = tmp_path / "loc"
    (d / "sub").mkdir(parents=True)
    (d / "a.py").write_text("X = 42\n")
    (d / "sub" / "b.txt").write_text("hello\n" * 10)
    return d


def mpr(b, *args, timeout=30, env=None):
    """mpremote connect PORT ARGS: (returncode, stdout with \\r\\n as \\n, stderr, seconds)."""
    t = time.monotonic()
    res = subprocess.run([mpremote_path(), "connect", b.port, *args], capture_output=True, timeout=timeout,
                         cwd=b.fs_dir.parent, env=env)
    norm = lambda s: s.decode(errors="replace").replace("\r\n", "\n")
    return res.returncode, norm(res.stdout), norm(res.stderr), time.monotonic() - t


def ok(b, *args, **kw):
    code, out, err, _ = mpr(b, *args, **kw)
    assert code == 0, "mpremote %s failed (%d):\n%s\n%s" % (" ".join(args), code, out, err)
    return out


def assert_answers(b):
    assert ok(b, "exec", "print(6 * 7)", timeout=VERB_SECONDS + 5) == "42\n"


def listing(out):
    """{name: size} from `mpremote ls` output."""
    return {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s*(\d+) (\S+)$", out, re.M)}


# -- the verbs ----------------------------------------------------------------------

MOUNT_CHECK = """\
import os
import a
print(a.X, sorted(os.listdir('sub')), open('sub/b.txt').readline().strip())
data = open('bin.dat', 'rb').read()
print(len(data), data == bytes(range(256)) * 40)
with open('out.dat', 'wb') as f:
    f.write(bytes(range(255, -1, -1)) * 8)
os.mkdir('made')
os.rename('out.dat', 'made/out.dat')
os.remove('sub/b.txt')
print('done')
"""


def test_mount(board, local):
    data = bytes(range(256)) * 40          # every byte, \n \r \x03 \x04 \x18 included, 10 KB
    (local / "bin.dat").write_bytes(data)
    code, out, err, took = mpr(board, "mount", str(local), "exec", MOUNT_CHECK, timeout=60)
    assert code == 0, (out, err)
    assert "42 ['b.txt'] hello\n10240 True\ndone\n" in out, out
    assert (local / "made" / "out.dat").read_bytes() == bytes(range(255, -1, -1)) * 8
    assert not (local / "sub" / "b.txt").exists()
    assert not (board.fs_dir / "a.py").exists()           # the board's own flash is untouched
    assert_answers(board)


def test_mount_hook_typed_into_the_plain_raw_repl_is_refused(tmp_path):
    # without raw-paste the WebAssembly board cannot make mount's stdout binary: it refuses at once
    from mpremote.transport_serial import fs_hook_code
    from vboard_client import Serial
    b = start_board("wasm", tmp_path / "flash")
    try:
        ser = Serial(b.port)
        ser.raw()
        t = time.monotonic()
        ser.write(fs_hook_code.encode() + b"\x04")
        got = ser.read_until(b"\x04>", timeout=VERB_SECONDS)
        assert time.monotonic() - t < VERB_SECONDS
        assert got.startswith(b"OK\x04OSError: vboard: `mpremote mount` needs raw-paste mode"), got
        ser.write(b"print(6 * 7)\x04")
        assert ser.read_until(b"\x04\x04>") == b"OK42\r\n\x04\x04>"
        ser.close()
    finally:
        b.stop()


def test_df_is_a_boards_flash(board, tmp_path):
    def df():
        out = ok(board, "df")
        lines = out.splitlines()
        assert lines[0].split() == ["filesystem", "size", "used", "avail", "use%", "mounted", "on"]
        name, size, used, avail, pct, mounted = lines[1].split()
        assert mounted == "/" and int(size) == FLASH_BYTES and int(used) + int(avail) == int(size)
        return int(used)

    empty = df()
    (tmp_path / "big.bin").write_bytes(os.urandom(50000))
    ok(board, "cp", str(tmp_path / "big.bin"), ":")
    assert df() - empty == 13 * 4096        # 50,000 bytes in 4 KB blocks
    assert_answers(board)


def test_cp_r_ls_sizes_rm_r(board, local):
    ok(board, "cp", "-r", str(local), ":")
    assert listing(ok(board, "ls", ":loc")) == {"a.py": 7, "sub/": 0}
    assert listing(ok(board, "ls", ":loc/sub")) == {"b.txt": 60}
    assert (board.fs_dir / "loc" / "sub" / "b.txt").read_text() == "hello\n" * 10
    back = local.parent / "back"
    ok(board, "cp", "-r", ":loc", str(back))
    assert (back / "sub" / "b.txt").read_text() == "hello\n" * 10
    ok(board, "rm", "-r", ":loc")
    assert listing(ok(board, "ls")) == {}
    assert not (board.fs_dir / "loc").exists()
    assert_answers(board)


def test_resume_and_soft_reset(board):
    assert ok(board, "exec", "x = 5", "resume", "exec", "print(x)") == "5\n"
    # each mpremote call soft-resets first; `resume` keeps the state of the last one
    ok(board, "exec", "y = 7")
    assert ok(board, "resume", "exec", "print(y)") == "7\n"
    assert ok(board, "exec", "z = 1", "soft-reset", "exec", "print('z' in globals())") == "False\n"
    assert_answers(board)


def test_edit(board, local):
    ok(board, "cp", str(local / "a.py"), ":e.py")
    env = dict(os.environ, EDITOR="true")
    assert ok(board, "edit", ":e.py", env=env) == "edit :e.py\n"
    assert ok(board, "cat", ":e.py") == "X = 42\n"
    env["EDITOR"] = "sed -i s/42/43/"
    ok(board, "edit", ":e.py", env=env)
    assert ok(board, "cat", ":e.py") == "X = 43\n"
    assert (board.fs_dir / "e.py").read_text() == "X = 43\n"
    # a new file: edit creates it (touch) as on a board
    ok(board, "edit", ":new.py", env=dict(os.environ, EDITOR="true"))
    assert listing(ok(board, "ls")).get("new.py") == 0
    assert_answers(board)


def interrupt_mpremote(b, *args, after=1.0, ready=None):
    """Start mpremote ARGS, send it SIGINT (Ctrl-C at the terminal) after `after` seconds, or
    (ready: bytes) once its output shows them, i.e. the command is running on the board (on a
    loaded machine mpremote may take longer than `after` to get there); returns (seconds it
    took to exit after the signal, its output)."""
    # SIGINT as a terminal gives it: a shell runs a background job (`make test &`, a CI runner's)
    # with SIGINT ignored, children inherit that, and a Python started so keeps ignoring it
    proc = subprocess.Popen([mpremote_path(), "connect", b.port, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=b.fs_dir.parent,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    head = b""
    if ready is not None:
        end = time.monotonic() + 60
        while ready not in head and time.monotonic() < end:
            c = proc.stdout.read1(256)
            if not c:
                break
            head += c
    else:
        time.sleep(after)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out = head + proc.communicate(timeout=VERB_SECONDS + 5)[0]
    return time.monotonic() - t, out.decode(errors="replace")


def test_ctrl_c_mid_command(board, tmp_path):
    took, _ = interrupt_mpremote(board, "exec", "import time\nprint('go')\nwhile True:\n    time.sleep_ms(5)",
                                  ready=b"go")
    assert took < VERB_SECONDS
    assert_answers(board)           # the next mpremote's Ctrl-C stops the loop left running
    took, _ = interrupt_mpremote(board, "exec", "i = 0\nwhile True:\n    i += 1\n    print(i)", ready=b"1\n")
    assert took < VERB_SECONDS
    assert_answers(board)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(64 * 1024))
    took, _ = interrupt_mpremote(board, "cp", str(big), ":big.bin", after=0.5)
    assert took < VERB_SECONDS
    assert_answers(board)
    ok(board, "cp", str(big), ":big.bin")               # and a whole copy after the cut one
    assert (board.fs_dir / "big.bin").read_bytes() == big.read_bytes()


# -- the soak -------------------------------------------------------------------------

SOAK_COMMANDS = 300         # board commands in all, in chains of up to 25 per mpremote call
SOAK_SECONDS = 90           # the whole soak, per board


def soak_chain(rng, state, tmp_path, n):
    """n random mpremote commands, with what each must print (None: not checked)."""
    args, expect = [], []
    for _ in range(n):
        pick = rng.randrange(9)
        if pick == 0:
            a, b_ = rng.randrange(1000), rng.randrange(1000)
            args += ["eval", "%d*%d" % (a, b_)]
            expect.append("%d\n" % (a * b_))
        elif pick == 1:
            name = "f%d.txt" % rng.randrange(6)
            body = "%d\n" % rng.randrange(10 ** 9)
            src = tmp_path / ("src%d" % rng.randrange(10 ** 9))    # one source per copy
            src.write_text(body)
            args += ["cp", str(src), ":" + name]
            expect.append(None)
            state[name] = body
        elif pick == 2 and state:
            name = rng.choice(sorted(state))
            args += ["cat", ":" + name]
            expect.append(state[name])
        elif pick == 3 and state:
            name = rng.choice(sorted(state))
            args += ["rm", ":" + name]
            expect.append(None)
            del state[name]
        elif pick == 4:
            args += ["ls"]
            expect.append(None)
        elif pick == 5:
            args += ["exec", "g = %d" % len(state), "resume", "exec", "print(g)"]
            expect += [None, "%d\n" % len(state)]
            args.append("+")
            continue
        elif pick == 6:
            args += ["soft-reset"]
            expect.append(None)
        elif pick == 7:
            args += ["df"]
            expect.append(None)
        else:
            args += ["exec", "import os\nprint(sorted(x for x in os.listdir() if x.endswith('.txt')))"]
            expect.append("%r\n" % sorted(state))
        args.append("+")           # mpremote's command separator (cp takes many paths)
    return args, expect


@pytest.mark.slow
def test_soak(board, tmp_path):
    rng = random.Random(19)
    state, done, t0, calls = {}, 0, time.monotonic(), 0
    while done < SOAK_COMMANDS:
        assert time.monotonic() - t0 < SOAK_SECONDS, "soak too slow: %d commands done" % done
        n = min(25, SOAK_COMMANDS - done)
        args, expect = soak_chain(rng, state, tmp_path, n)
        out = ok(board, *args, timeout=60)
        for want in expect:
            if want is not None:
                assert want in out, (want, out)
        done += len(expect)
        calls += 1
        if calls % 5 == 0:          # now and then a command cut by Ctrl-C
            took, _ = interrupt_mpremote(board, "exec", "import time\nprint('go')\nwhile True:\n    time.sleep_ms(3)",
                                             ready=b"go")
            assert took < VERB_SECONDS
            done += 1
    assert_answers(board)
    files = {n: p.read_text() for n, p in ((p.name, p) for p in board.fs_dir.iterdir()) if n.endswith(".txt")}
    assert files == state           # the flash holds what the commands left
