"""The host package as a wheel: it holds every sub-package, the .mjs runners and the files
it sends to a board, and, installed outside the checkout, finds the board library it carries."""
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

import needs

from tinyrnn_host import paths

ROOT = paths.checkout()


def test_pyproject_lists_every_sub_package():
    with open(ROOT / "pyproject.toml", "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    tools = ROOT / "tools"
    found = {".".join(p.parent.relative_to(tools).parts) for p in (tools / "tinyrnn_host").rglob("__init__.py")}
    assert found == {p for p in listed if "._shipped" not in p}


def test_checkout_paths_are_the_repository_folders():
    assert paths.board_lib() == ROOT / "lib"
    assert paths.examples() == ROOT / "examples" and paths.device_tests() == ROOT / "device_tests"
    assert paths.build_dir() == ROOT / "build"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    # Built from a copy of what pyproject.toml names: setuptools builds in the source
    # tree, and its build/ there would keep files this checkout has since removed.
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    skip = shutil.ignore_patterns("node_modules", "__pycache__", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("tools", "lib", "examples", "device_tests"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                        "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = out.glob("tinyrnn-*.whl")
    return whl


def test_wheel_carries_the_board_library_examples_and_runners(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for sub, folder in (("lib/tinyrnn", ROOT / "lib" / "tinyrnn"), ("examples", ROOT / "examples"),
                        ("device_tests", ROOT / "device_tests")):
        for f in folder.glob("*.py"):
            assert "tinyrnn_host/_shipped/%s/%s" % (sub, f.name) in names
    for mpy in sorted((ROOT / "lib" / "tinyrnn_c" / "prebuilt").glob("*/*.mpy")):     # the C kernels, prebuilt
        assert "tinyrnn_host/_shipped/lib/tinyrnn_c/prebuilt/%s/%s" % (mpy.parent.name, mpy.name) in names
    assert len(list((ROOT / "lib" / "tinyrnn_c" / "prebuilt").glob("*/_c.mpy"))) >= 6
    for mjs in ("board/wasm.mjs", "board/mpvm/run.mjs", "board/vboard/bridge.mjs"):
        assert "tinyrnn_host/" + mjs in names
    assert not any(n.startswith(("tinyrnn/", "mirror/", "reference/")) for n in names)   # nothing at top level
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tinyrnn = tinyrnn_host.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_finds_its_own_board_library(wheel, tmp_path):
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                        "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # Run from the install folder: `python -c` puts it first on sys.path, ahead of the editable install.
    code = ("from tinyrnn_host import paths, mirror\nfrom tinyrnn_host.mirror import tables\n"
            "print(paths.checkout(), paths.board_lib().relative_to(paths.PACKAGE_DIR), len(tables.SIGMOID))")
    r = subprocess.run([sys.executable, "-c", code], cwd=site, capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["None", "_shipped/lib", "129"], r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "tinyrnn_host", "tables"], cwd=site, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "sigmoid" in r.stdout, r.stdout + r.stderr
    needs.node()
    (tmp_path / "smoke.py").write_text("from tinyrnn.model import Model\n"
                                       "m = Model({'input': 2, 'layers': [{'kind': 'gru', 'hidden': 4}]}, 1)\n"
                                       "print('OUT', list(m.step([256, -128])))\n")
    env = dict(os.environ, TINYRNN_NODE_MODULES=str(paths.node_modules()))
    r = subprocess.run([sys.executable, "-m", "tinyrnn_host", "run", str(tmp_path / "smoke.py"), "--mpy"],
                       cwd=site, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "OUT [" in r.stdout, r.stdout + r.stderr
