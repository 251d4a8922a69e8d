"""Where the MicroPython source comes from (board/mpsource.py, `make setup`): found in the order
$MICROPY_SRC, ../shared, build/, else cloned from a remote, the clone's commit checked.

A local bare repository stands in for the official remote (there is no network to it here):
a tree holding the files a build needs, committed and tagged v1.28.0."""
import pathlib
import subprocess

import pytest

from tinyrnn_host.board import mpsource, prereq


def git(*args, cwd=None):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=master",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_remote(root, tag="v1.28.0", files=mpsource.NEEDS):
    """A bare repository whose `tag` holds `files`; returns (url, the tagged commit)."""
    work = root / "work"
    for name in files:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text("# %s\n" % name)
    git("init", "-q", str(work))
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "the stand-in tree", cwd=work)
    git("tag", "-a", tag, "-m", tag, cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    git("clone", "-q", "--bare", str(work), str(root / "remote.git"))
    return "file://%s" % (root / "remote.git"), commit


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No source anywhere: no $MICROPY_SRC, no ../shared, nothing in build/."""
    monkeypatch.delenv(mpsource.SRC_ENV, raising=False)
    monkeypatch.delenv(mpsource.URL_ENV, raising=False)
    monkeypatch.setattr(mpsource, "shared_dir", lambda: tmp_path / "shared" / mpsource.DIRNAME)
    monkeypatch.setattr(mpsource, "build_copy", lambda: tmp_path / "build" / mpsource.DIRNAME)
    return tmp_path


def test_fetch_clones_the_tag_and_checks_its_commit(nowhere):
    url, commit = make_remote(nowhere / "r")
    dest = mpsource.fetch(url=url, commit=commit)
    assert dest == (nowhere / "build" / mpsource.DIRNAME).resolve()
    assert mpsource.is_tree(dest)
    assert git("rev-parse", "HEAD", cwd=dest) == commit
    assert not dest.with_name(dest.name + ".tmp").exists()
    # and from then on it is found there, without a fetch
    assert mpsource.find() == dest


def test_fetch_refuses_a_commit_other_than_the_tags(nowhere):
    url, commit = make_remote(nowhere / "r")
    with pytest.raises(mpsource.SourceError, match="refused") as e:
        mpsource.fetch(url=url)          # the real tag commit e0e9fbb1, which the stand-in is not
    assert commit[:12] in str(e.value) and mpsource.TAG_COMMIT[:12] in str(e.value)
    assert not (nowhere / "build" / mpsource.DIRNAME).exists()
    assert mpsource.find() is None


def test_fetch_refuses_a_remote_without_the_tag(nowhere):
    url, commit = make_remote(nowhere / "r", tag="v1.27.0")
    with pytest.raises(mpsource.SourceError, match="v1.28.0") as e:
        mpsource.fetch(url=url, commit=commit)
    assert "failed" in str(e.value)
    assert not (nowhere / "build").exists() or not any((nowhere / "build").iterdir())


def test_root_looks_in_order(nowhere, monkeypatch):
    url, commit = make_remote(nowhere / "r")
    shared, built, env = (nowhere / "shared" / mpsource.DIRNAME, nowhere / "build" / mpsource.DIRNAME,
                          nowhere / "env-src")
    for tree in (shared, built, env):
        for name in mpsource.NEEDS:
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_text("")
    monkeypatch.setenv(mpsource.SRC_ENV, str(env))
    assert mpsource.root() == env.resolve()
    monkeypatch.delenv(mpsource.SRC_ENV)
    assert mpsource.root() == shared.resolve()
    (shared / "py" / "dynruntime.mk").unlink()        # not a whole tree: the next place
    assert mpsource.root() == built.resolve()
    monkeypatch.setenv(mpsource.SRC_ENV, str(nowhere / "missing"))
    with pytest.raises(mpsource.SourceError, match="MICROPY_SRC=.*missing is not"):
        mpsource.root()                  # an explicit wrong path is an error, not a fall-through


def test_setup_stops_with_one_message_when_nothing_provides_the_source(nowhere, monkeypatch, capsys):
    monkeypatch.setenv(mpsource.URL_ENV, "file://%s/no-such-remote.git" % nowhere)
    monkeypatch.setattr(prereq, "missing_tools", lambda: [])
    assert prereq.main() == 1
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for what in ("MICROPY_SRC", str(nowhere / "shared" / mpsource.DIRNAME), "could not be fetched",
                 "git clone", mpsource.URL_ENV):
        assert what in lines[0], (what, lines[0])
    assert "toolchains ok" not in out


def test_setup_without_root_prints_the_apt_line_and_stops(monkeypatch, capsys):
    monkeypatch.setattr(prereq, "missing_tools", lambda: ["qemu-system-arm"])
    monkeypatch.setattr(prereq.os, "geteuid", lambda: 1000)
    called = []
    monkeypatch.setattr(prereq.subprocess, "run", lambda *a, **k: called.append(a))
    assert prereq.main() == 1
    err = capsys.readouterr().err
    assert "sudo apt-get install -y " + " ".join(prereq.APT_PACKAGES) in err
    assert not called                     # nothing installed, nothing else tried
    assert "qemu-system-misc" in prereq.APT_PACKAGES and "picolibc-riscv64-unknown-elf" in prereq.APT_PACKAGES
