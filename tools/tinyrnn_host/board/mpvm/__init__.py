"""Run scripts on real MicroPython: the pinned WebAssembly build under Node.js.

    from tinyrnn_host.board.mpvm import run_vm
    res = run_vm("import tinyrnn.q88 as q; print(q.mul(384, 384))", heap_bytes=65536)
    res.stdout  -> '576\\n'

`lib/` is copied to the VM's /lib (on sys.path), so `import tinyrnn` works as on
a board. The heap starts at `heap_bytes`; this build grows its heap when full,
so a run *fits* in heap_bytes exactly when the GC total is unchanged at the
end. This build never frees garbage while a call runs (it collects only when
control returns to JavaScript), so within one script the cap bounds *all*
allocation, which is stricter than a board; pass a list of scripts to run them
as separate top-level calls with a collection in between. run_vm raises HeapCapExceeded when it grew (unless allow_growth=True)
and MicroPythonError, carrying the VM's own traceback, when the script raised.

Every run has a time limit (`timeout`, default DEFAULT_TIMEOUT seconds): past
it the node process is killed and run_vm raises VMTimeout (a MicroPythonError)
naming the limit and the chunk that was running; with check=False the result
carries that message as its error instead. A script that leaves
micropython.heap_lock() active (raising or not) gets the heap unlocked by the
runner, with an error that says so; without that the VM spun for good.

Command line: tinyrnn run SCRIPT.py [--runtime wasm|unix] [--heap BYTES] [--fs DIR] [--mpy]
"""
import base64
import json
import os
import pathlib
import select
import shutil
import subprocess
import tempfile
import time

from ... import paths

RUNNER = pathlib.Path(__file__).resolve().with_name("run.mjs")
DEFAULT_HEAP = 65536
# Seconds a run_vm call may take when it names no timeout (read at call time).
DEFAULT_TIMEOUT = 900.0


class MicroPythonError(Exception):
    """The script raised inside MicroPython; str() is the VM's traceback."""

    def __init__(self, traceback, stdout):
        super().__init__(traceback)
        self.traceback = traceback
        self.stdout = stdout


class VMTimeout(MicroPythonError):
    """The run did not end within its time limit; the VM was killed. str() says which limit
    and what was running; .stdout is what the scripts printed until then."""


class HeapCapExceeded(Exception):
    """The VM had to grow its heap past the cap it was given."""


class VMResult:
    def __init__(self, stdout, error, heap_start, heap_end, files, heap_bytes, chunk_totals=(),
                 peak_alloc=-1, loops=0):
        self.stdout = stdout            # everything the script printed (str)
        self.error = error              # traceback text or None
        self.heap_start = heap_start    # GC total before the script
        self.heap_end = heap_end        # GC total after the script
        self.files = files              # {vm_path: bytes or None} for `collect`
        self.heap_bytes = heap_bytes    # the cap asked for
        self.chunk_totals = list(chunk_totals)  # GC total at the end of each script chunk
        self.peak_alloc = peak_alloc    # largest gc.mem_alloc() at the end of a chunk: the heap high-water mark
        self.loops = loops              # how many times `loop` ran
        self.timed_out = False          # stopped at the time limit (error says so)

    @property
    def heap_grew(self):
        return self.heap_end != self.heap_start


def node_binary():
    node = shutil.which("node")
    if node is None:
        raise paths.SetupError("Node.js not found on PATH: the MicroPython VM needs it")
    return node


def compile_mpy(src_dir, out_dir):
    """Compile every .py under src_dir to .mpy in out_dir with mpy-cross, as a deploy does
    for a port with no native arch (this one): viper modules are left out."""
    from .. import mpycompile
    return mpycompile.compile_tree(src_dir, out_dir, arch=None)


def _snippet(src):
    lines = [ln.strip() for ln in src.splitlines() if ln.strip()]
    if not lines:
        return "(empty)"
    first = lines[0] if len(lines[0]) <= 60 else lines[0][:57] + "..."
    return repr(first) + (" and %d more lines" % (len(lines) - 1) if len(lines) > 1 else "")


def _what_ran(progress, scripts, loop, label):
    """What was running when the time limit struck, from run.mjs's progress file."""
    where = label + ": " if label else ""
    if progress is None:
        return where + "before the first script (loading the VM)"
    if progress.get("loop") is not None:
        return where + "the loop statement %s (run %d)" % (_snippet(loop), progress["loop"] + 1)
    i = progress["chunk"]
    if len(scripts) == 1:
        return where + "the script %s" % _snippet(scripts[0])
    return where + "script %d of %d, %s" % (i + 1, len(scripts), _snippet(scripts[i]))


def _read_until(proc, deadline, echo):
    """Everything proc prints until it exits or the deadline passes -> (bytes, timed_out)."""
    out = []
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(out), True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        out.append(data)
        if callable(echo):
            echo(data)
        elif echo:
            os.write(1, data)
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"".join(out), True
    return b"".join(out), False


def _run_node(job, tmp, timeout, echo):
    """Run run.mjs on job -> (stdout, result dict, or None and the progress dict at the time limit)."""
    (tmp / "job.json").write_text(json.dumps(job))
    proc = subprocess.Popen(
        [node_binary(), str(RUNNER), str(tmp / "job.json"), str(tmp / "result.json"), str(tmp / "progress.json")],
        env=paths.node_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        raw, timed_out = _read_until(proc, time.monotonic() + timeout, echo)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    stdout = raw.decode("utf-8", "replace")
    if timed_out:
        try:
            progress = json.loads((tmp / "progress.json").read_text())
        except (OSError, ValueError):
            progress = None
        return stdout, None, progress
    if proc.returncode != 0 or not (tmp / "result.json").exists():
        raise RuntimeError("MicroPython VM (node) failed, exit %s:\n%s" % (proc.returncode, stdout))
    return stdout, json.loads((tmp / "result.json").read_text()), None


def run_vm(script, heap_bytes=DEFAULT_HEAP, files=None, collect=(), mpy=False,
           extra_dirs=(), allow_growth=False, check=True, timeout=None, echo=False, loop=None, label=None,
           collect_tree=None):
    """Run `script` (source text, or a list of sources run as successive
    top-level calls in one interpreter) on the MicroPython VM; see the module docstring.

    files: {vm_path: bytes} written before the run; collect: vm paths read back
    after it; extra_dirs: [(host_dir, vm_dir)] copied in besides lib/; collect_tree: a vm
    folder whose every file is read back too (not /lib, /dev, /proc: the runner's own).
    echo: also stream the VM's output to our stdout as it comes (or, a callable, hand it
    each piece of output as bytes: a progress bar).
    loop: a statement run after the scripts as separate top-level calls until it
    raises StopIteration (e.g. "next(g)" for a generator yielding once per epoch).
    timeout: seconds for the whole run (default DEFAULT_TIMEOUT); label: what the
    time-limit error calls the run (e.g. a file name).
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds, not %r" % (timeout,))
    scripts = [script] if isinstance(script, str) else list(script)
    with tempfile.TemporaryDirectory(prefix="mpvm-") as tmp:
        tmp = pathlib.Path(tmp)
        lib = paths.board_lib()
        lib_dir = compile_mpy(lib, tmp / "mpylib") if mpy else lib
        job = {
            "heapsize": int(heap_bytes),
            "scripts": scripts,
            "dirs": [[str(lib_dir), "/lib"]] + [[str(pathlib.Path(h).resolve()), v] for h, v in extra_dirs],
            "files": {p: base64.b64encode(b).decode() for p, b in (files or {}).items()},
            "collect": list(collect),
            "collect_tree": None if collect_tree is None else {
                "dir": collect_tree, "skip": ["/lib", "/dev", "/proc"] + [v for _, v in extra_dirs]},
            "loop": loop,
            "time_limit": float(timeout),
            "caller_pid": os.getpid(),
        }
        stdout, raw, progress = _run_node(job, tmp, timeout, echo)
    timed_out = raw is None
    if timed_out:
        msg = ("MicroPython VM: no end within the %g s time limit (timeout=%g); node was killed while "
               "running %s" % (timeout, timeout, _what_ran(progress, scripts, loop, label)))
        if check:
            raise VMTimeout(msg, stdout)
        raw = dict(progress or {}, error=msg, files={})   # the heap figures of the chunks that ended
    res = VMResult(stdout, raw["error"], raw.get("heap_start", -1), raw.get("heap_end", -1),
                   {p: (base64.b64decode(b) if b is not None else None) for p, b in raw["files"].items()},
                   heap_bytes, raw.get("chunk_totals", ()), raw.get("peak_alloc", -1), raw.get("loops", 0))
    res.timed_out = timed_out
    if check and res.error:
        raise MicroPythonError(res.error, stdout)
    if check and res.heap_grew and not allow_growth:
        raise HeapCapExceeded(
            "script needed more than the %d-byte heap cap (GC total grew %d -> %d)"
            % (heap_bytes, res.heap_start, res.heap_end))
    return res
