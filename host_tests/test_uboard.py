"""The unix-port virtual board (board/uboard) through the real mpremote, and a real native
deploy to it: -march=x64 picked from its _mpy, _viper*.mpy uploaded as x64 code, the board
running C kernels (the best it has) and giving the host's outputs."""
import pathlib
import subprocess
import sys
import time

import pytest

from tinyrnn_host.board import deploy, uboard

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "tinyrnn"


@pytest.fixture
def board(tmp_path):
    b = uboard.UnixBoard(fs_dir=tmp_path / "flash", time_limit=120)
    port = b.start()
    try:
        yield port, b.fs_dir
    finally:
        b.stop()
        assert not b.alive(), "the board process outlived the test"


def mpremote(port, *args, timeout=30):
    proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout.replace("\r\n", "\n") + proc.stderr


def test_files_live_in_the_host_folder_and_each_call_starts_fresh(board, tmp_path):
    port, flash = board
    (tmp_path / "sq.py").write_text("def sq(x):\n    return x * x\n")
    code, out = mpremote(port, "exec", "import sys\nprint('MPY', sys.implementation._mpy, sys.path)\nX = 42")
    assert code == 0 and "MPY 2822 ['', '/lib']" in out          # v6.3, arch x64
    assert mpremote(port, "cp", str(tmp_path / "sq.py"), ":q.py")[0] == 0
    assert (flash / "q.py").read_bytes() == (tmp_path / "sq.py").read_bytes()
    code, out = mpremote(port, "ls", ":")
    assert code == 0 and "q.py" in out
    # mpremote soft-resets at the start of each call: a fresh interpreter, no X
    code, out = mpremote(port, "exec", "print('X' in globals())\nimport q\nprint(q.sq(24))")
    assert code == 0 and "False\n576" in out, out


def test_ctrl_c_interrupts_a_running_script(board):
    port, _ = board
    proc = subprocess.Popen([sys.executable, "-m", "mpremote", "connect", port, "exec", "while True:\n    pass"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(1.5)
    proc.terminate()           # mpremote exits; the loop runs on
    proc.wait(timeout=10)
    t = time.monotonic()
    code, out = mpremote(port, "exec", "print('alive')")      # mpremote's Ctrl-C stops the loop first
    assert code == 0 and "alive" in out and time.monotonic() - t < 10, out


def test_native_deploy_end_to_end(board, tmp_path):
    port, flash = board
    lines = []
    weights = tmp_path / "w.bin"
    from tinyrnn import weights as W
    from tinyrnn.model import Model
    W.save(Model({"input": 3, "layers": [{"kind": "lstm", "hidden": 6}], "head": {"out": 2, "act": "tanh"}},
                 seed=9), str(weights))
    report = deploy.deploy(port, weights=weights, build_dir=tmp_path / "build", out=lines.append)
    text = "\n".join(lines)
    assert "loads mpy v6.3, native arch x64" in text
    assert "native code for x64: _c.mpy, _c_train.mpy, _viper.mpy, _viper_train.mpy" in text
    for name in ("_c", "_c_train", "_viper", "_viper_train"):
        assert "/lib/tinyrnn/%s.mpy" % name in report.uploaded
        head = (flash / "lib" / "tinyrnn" / (name + ".mpy")).read_bytes()[:3]
        assert head == bytes([ord("M"), 6, 2 << 2 | 3])              # v6.3, arch x64 (2)
    assert report.kernels == "c"
    m = W.load(str(weights))
    assert report.smoke == list(m.step([((j * 89 + 37) % 513) - 256 for j in range(3)]))
    # the same through the command line, a second time: nothing to upload
    r = subprocess.run([sys.executable, "-m", "tinyrnn_host", "deploy", "--port", port,
                        "--build-dir", str(tmp_path / "build")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deploy: 0 files uploaded, 0 removed" in r.stdout and "c kernels" in r.stdout


def test_deploy_without_port_starts_a_unix_board(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tinyrnn_host", "deploy", "--runtime", "unix",
                        "--fs", str(tmp_path / "flash"), "--build-dir", str(tmp_path / "build")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "virtual board (unix)" in r.stdout and "c kernels" in r.stdout
    assert (tmp_path / "flash" / "lib" / "tinyrnn" / "_viper.mpy").exists()
