"""`tinyrnn dist` / `make dist`: the board library as .mpy bundles, for users who copy files by hand.

    build/dist/tinyrnn-<version>-mpy6-bytecode/       every board loading .mpy v6 (MicroPython 1.19+)
    build/dist/tinyrnn-<version>-mpy6.3-xtensawin/    ESP32 on MicroPython 1.23+: viper kernels native
    build/dist/tinyrnn-<version>-mpy5-bytecode/       MicroPython 1.12-1.18
    ...

Each bundle holds lib/tinyrnn/*.mpy and a README.md saying which board takes it
(the sys.implementation._mpy values it loads) and how to copy it. A native
bundle is complete: the bytecode modules plus _viper*.mpy compiled with
-march=<arch> for that .mpy sub-version (native code must match it exactly),
and _c.mpy, _c_train.mpy (the C kernels) prebuilt in lib/tinyrnn_c/prebuilt where
there are some for the arch and .mpy version (its README says why not otherwise);
the bytecode bundle leaves the viper modules out (the library then runs its
bytecode kernels). Compiled by mpycompile.compile_tree, as deploy compiles.
"""
import json
import pathlib
import shutil

from .. import paths
from . import mpycompile, natmod
from .device import DeviceError

# Which boards have which native arch (MicroPython's port docs); for the READMEs.
BOARDS = {
    "x86": "the unix port on 32-bit x86", "x64": "the unix port on x86-64 (the `micropython` command)",
    "armv6": "ARM11 (Raspberry Pi Zero / 1, bare metal)", "armv6m": "RP2040 (Raspberry Pi Pico), Cortex-M0/M0+",
    "armv7m": "Cortex-M3 boards", "armv7em": "Cortex-M4/M7 without an FPU build",
    "armv7emsp": "STM32F4 pyboards, RP2350 (Pico 2, ARM cores), Cortex-M4F/M33",
    "armv7emdp": "STM32F7/H7 boards, Cortex-M7 with double-precision FPU", "xtensa": "ESP8266",
    "xtensawin": "ESP32, ESP32-S2, ESP32-S3", "rv32imc": "ESP32-C3/C6, RP2350 (RISC-V cores)",
    "rv64imc": "the unix port on 64-bit RISC-V"}
CHECK = "import sys; print(sys.implementation._mpy)"


def lib_version():
    try:
        return json.loads((paths.checkout() / "package.json").read_text())["version"]
    except (OSError, TypeError, ValueError, KeyError):
        return "0"


def readme(name, compiler, arch, values, n_files, c_kernels=False, no_c=None):
    """no_c: why a native bundle has no C kernels (natmod.why_not), for its README."""
    if arch:
        who = ("Boards with native arch **%s** (%s) whose MicroPython loads .mpy %s: `sys.implementation._mpy` "
               "== %d. The viper kernels (`_viper.mpy`, `_viper_train.mpy`) are native %s code, so "
               "`tinyrnn.KERNELS == \"viper\"` after a model is built."
               % (arch, BOARDS.get(arch, arch), compiler.emits, values[0], arch))
        if c_kernels:
            who = who.replace("so `tinyrnn.KERNELS == \"viper\"`", "and `_c.mpy` holds the C kernels (a native "
                              "module), so `tinyrnn.KERNELS == \"c\"`")
        else:
            who += " No C kernels (`_c.mpy`) in this bundle: %s." % (no_c or "not available for %s" % arch)
    else:
        flags = "" if compiler.major >= 6 else " (and `_mpy >> 8 & 3` == 2: unicode, no cached lookups, as " \
            "most builds)"
        who = ("Every board whose MicroPython loads .mpy v%d (%s), whatever its arch: `sys.implementation._mpy "
               "& 0xff` == %d%s. No native code: the library runs its bytecode kernels (`tinyrnn.KERNELS == "
               "\"bytecode\"`). On a board with a native arch, its own bundle (tinyrnn-*-mpy%s-<arch>) is faster."
               % (compiler.major, mpycompile.MPY_RELEASES.get(compiler.major, "?"), compiler.major, flags,
                  compiler.emits[1:]))
    return """# %s

%d modules of the tinyrnn board library, compiled by %s.

Which board takes it: %s

Ask a board what it loads: `mpremote exec "%s"`.

Copy it onto the board (into its lib folder, `/lib` on most ports, `/flash/lib` on a pyboard):

    mpremote cp -r lib :

or copy `lib/tinyrnn/` by hand to the board's `lib/tinyrnn/`. Then on the board:

    from tinyrnn.model import Model
    import tinyrnn
    m = Model({"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1, "act": "identity"}}, seed=1)
    print(m.step([256, -128]), tinyrnn.KERNELS)

Made by `tinyrnn dist` (`make dist`) from lib/tinyrnn; `tinyrnn deploy` picks the same files for a board by itself.
""" % (name, n_files, compiler, who, CHECK)


def bundle(out_root, name, compiler, arch):
    """One bundle folder: lib/tinyrnn/*.mpy and README.md; returns its path."""
    dst = pathlib.Path(out_root) / name
    if dst.exists():
        shutil.rmtree(dst)
    mpycompile.compile_tree(paths.board_lib() / "tinyrnn", dst / "lib" / "tinyrnn", arch=arch, compiler=compiler,
                            prefix="tinyrnn/")
    files = sorted((dst / "lib" / "tinyrnn").glob("*.mpy"))
    values = [compiler.major | compiler.sub << 8 | mpycompile.ARCHS.index(arch) << 10] if arch else []
    c_kernels = (dst / "lib" / "tinyrnn" / "_c.mpy").exists()
    (dst / "README.md").write_text(readme(name, compiler, arch, values, len(files), c_kernels,
                                          None if c_kernels else no_c_kernels(arch, compiler)))
    return dst


def no_c_kernels(arch, compiler):
    """Why a native bundle for `arch` by `compiler` holds no C kernels (None: it does)."""
    if not arch:
        return None
    return natmod.why_not(arch, (compiler.major, compiler.sub)) or "not available for %s" % arch


def build(out_root=None, archs=None, out=print):
    """Every bundle; returns {name: path}. archs: native archs to build (default: all)."""
    out_root = pathlib.Path(out_root or paths.build_dir() / "dist")
    archs = archs or mpycompile.NATIVE_ARCHS
    bad = [a for a in archs if a not in mpycompile.NATIVE_ARCHS]
    if bad:
        raise DeviceError("--arch %s: not a native arch (one of %s)" % (", ".join(bad), ", ".join(mpycompile.NATIVE_ARCHS)))
    version = lib_version()
    made, majors = {}, set()
    for path, label in mpycompile.installed_compilers():
        c = mpycompile.Compiler(path, label)
        if c.major in majors or c.major < 5:      # the newest compiler of each major; v4 and older: 1.11 and before
            continue
        name = "tinyrnn-%s-mpy%d-bytecode" % (version, c.major)
        try:
            made[name] = bundle(out_root, name, c, None)
        except DeviceError as e:
            out("dist: %s cannot compile the library, no v%d bundle: %s" % (c, c.major, str(e).splitlines()[0]))
            continue
        majors.add(c.major)
        out("dist: %s  (%s)" % (paths.shown(made[name]), c))
        if c.major < 6:
            continue                              # native bundles: for the installed compiler's exact version
        for arch in archs:
            name = "tinyrnn-%s-mpy%s-%s" % (version, c.emits[1:], arch)
            try:
                made[name] = bundle(out_root, name, c, arch)
            except DeviceError as e:
                if "invalid arch" not in str(e):
                    raise
                shutil.rmtree(out_root / name, ignore_errors=True)
                out("dist: %s has no code generator for %s: no %s bundle (such boards take the bytecode one)"
                    % (c, arch, arch))
                continue
            out("dist: %s" % paths.shown(made[name]))
            if not (made[name] / "lib" / "tinyrnn" / "_c.mpy").exists():     # never silently
                out("dist: note: no C kernels in %s: %s" % (name, no_c_kernels(arch, c)))
    return made


def main(out_root=None, archs=None):
    """`tinyrnn dist`: exit code."""
    try:
        made = build(out_root, archs)
    except DeviceError as e:
        print("dist: error: %s" % e)
        return 2
    print("dist: %d bundles; each README.md says which board takes it" % len(made))
    return 0
