"""Where the MicroPython v1.28.0 source comes from: the QEMU firmware and the C kernels' builds need it.

    from tinyrnn_host.board import mpsource
    src = mpsource.root(announce=print)    # a tree with py/dynruntime.mk, ports/qemu, mpy-cross; or SourceError

Looked for in this order (the first that holds the tree wins):
  1. $MICROPY_SRC (when set it must be the tree: a wrong path is an error, not a fall-through);
  2. <checkout>/../shared/micropython-1.28.0 (how CI lays a clone; read-only there);
  3. build/micropython-1.28.0, a copy fetched before;
  4. else a shallow `git clone --branch v1.28.0` of the official repository ($MICROPY_GIT_URL
     overrides it: a mirror, or the local stand-in the tests use) into build/, kept only when its
     commit is the tag's (e0e9fbb1...).
Where none works, SourceError says what was tried and the ways to provide the tree.
Users of `tinyrnn deploy`, `dist` and `mip` never need it: the C kernels ship prebuilt
(lib/tinyrnn_c/prebuilt/); only building firmware and rebuilding those modules do.
"""
import os
import pathlib
import shutil
import subprocess

from .. import paths

RELEASE = "v1.28.0"
TAG_COMMIT = "e0e9fbb17ed6fd06bb76e266ae554784c9c80804"
SRC_ENV = "MICROPY_SRC"
URL_ENV = "MICROPY_GIT_URL"
URL = "https://github.com/micropython/micropython.git"
DIRNAME = "micropython-1.28.0"
# What a tree must hold for what is built here (the firmware, mpy-cross, the native modules).
NEEDS = ("py/dynruntime.mk", "ports/qemu/Makefile", "mpy-cross/Makefile", "tools/mpy_ld.py")


class SourceError(RuntimeError):
    """No MicroPython v1.28.0 tree could be found or fetched; the message says how to provide one."""


def is_tree(path):
    path = pathlib.Path(path)
    return all((path / need).is_file() for need in NEEDS)


def shared_dir():
    return (paths.checkout() or pathlib.Path.cwd()).parent / "shared" / DIRNAME


def build_copy():
    return paths.build_dir() / DIRNAME


def find():
    """The tree from $MICROPY_SRC, ../shared or build/, or None; SourceError if $MICROPY_SRC is wrong."""
    env = os.environ.get(SRC_ENV)
    if env:
        if not is_tree(env):
            raise SourceError("%s=%s is not a MicroPython %s tree (it lacks %s)"
                              % (SRC_ENV, env, RELEASE, ", ".join(n for n in NEEDS if not (pathlib.Path(env) / n).is_file())))
        return pathlib.Path(env).resolve()
    for cand in (shared_dir(), build_copy()):
        if is_tree(cand):
            return cand.resolve()
    return None


def _git(args, cwd=None, timeout=600):
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="true")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def fetch(url=None, dest=None, tag=RELEASE, commit=TAG_COMMIT, announce=None):
    """Shallow-clone `tag` of `url` (default $MICROPY_GIT_URL, else the official repository) into
    `dest` (default build/micropython-1.28.0); the clone is kept only when HEAD is `commit`.
    Returns dest; SourceError with git's own reason otherwise (nothing is left at dest)."""
    url = url or os.environ.get(URL_ENV) or URL
    dest = pathlib.Path(dest or build_copy())
    if shutil.which("git") is None:
        raise SourceError("git is not installed, so MicroPython %s cannot be cloned from %s" % (RELEASE, url))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    if announce:
        announce("micropython: cloning %s of %s into %s" % (tag, url, paths.shown(dest)))
    try:
        proc = _git(["clone", "-q", "--depth", "1", "--branch", tag, "--single-branch", url, str(tmp)])
    except subprocess.TimeoutExpired:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError("git clone of %s timed out" % url)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = (proc.stderr.strip().splitlines() or ["exit %d" % proc.returncode])[-1]
        raise SourceError("git clone --branch %s %s failed: %s" % (tag, url, reason))
    head = _git(["rev-parse", "HEAD"], cwd=tmp).stdout.strip()
    if head != commit:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError("%s at %s is commit %s, not %s's %s: refused (a moved tag or another repository)"
                          % (tag, url, head[:12] or "?", RELEASE, commit[:12]))
    if not is_tree(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError("the clone of %s at %s lacks %s" % (url, tag, ", ".join(NEEDS)))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest.resolve()


def how_to_provide():
    return ("give it one of these ways: set %s to a MicroPython %s tree (tag %s, commit %s); put the tree at %s; "
            "or let setup clone it into %s (needs git and the network; %s names another remote)"
            % (SRC_ENV, RELEASE, RELEASE, TAG_COMMIT[:12], shared_dir(), paths.shown(build_copy()), URL_ENV))


def root(announce=None, fetch_ok=True):
    """The source tree, found or fetched (see the module docstring); SourceError otherwise."""
    found = find()
    if found is not None:
        return found
    if not fetch_ok:
        raise SourceError("MicroPython %s source not found: %s" % (RELEASE, how_to_provide()))
    try:
        return fetch(announce=announce)
    except SourceError as e:
        raise SourceError("MicroPython %s source not found (not in $%s, %s or %s) and could not be fetched: %s. %s"
                          % (RELEASE, SRC_ENV, shared_dir(), paths.shown(build_copy()), e,
                             how_to_provide()[0].upper() + how_to_provide()[1:]))
