"""After a deploy: one inference step on the board must equal the same step run here by
lib/tinyrnn under CPython (of the weights' model, or of a small seeded GRU)."""
import os
import pathlib
import subprocess
import sys

from .device import DeviceError, records
from .sync import say

# The smoke test without weights: a small seeded model and a fixed input.
SMOKE_DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1, "act": "identity"}}


def _smoke_code(weights_name):
    """One inference step; prints ('SMOKE', crc or None, outputs, module file)."""
    if weights_name:
        make = ("from tinyrnn import weights\nc = weights.file_crc(%r)\nm = weights.load(%r)\n"
                % (weights_name, weights_name))
    else:
        make = "from tinyrnn.model import Model\nc = None\nm = Model(%r, seed=1)\n" % (SMOKE_DESC,)
    return (make +
            "import tinyrnn, tinyrnn.model as M\n"
            "x = [((j * 89 + 37) % 513) - 256 for j in range(m.n_inputs)]\n"
            "print(repr(('SMOKE', c, list(m.step(x)), getattr(M, '__file__', '?'), tinyrnn.KERNELS)))\n")


def host_smoke(lib_dir, weights_file):
    """The same step under CPython with the same lib (in a subprocess: a clean import)."""
    code = _smoke_code(str(weights_file) if weights_file else None)
    # The board library (not this package) under CPython, from the folder being deployed.
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(lib_dir).resolve().parent))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    got = records(proc.stdout, "SMOKE")
    if proc.returncode != 0 or not got:
        raise DeviceError("the smoke test failed on the host:\n%s" % (proc.stdout + proc.stderr).strip())
    return got[0]


def smoke(board, lib_dir, weights_name, weights_file, report, out=say):
    res = records(board.exec(_smoke_code(weights_name)), "SMOKE")
    if not res:
        raise DeviceError("smoke test: no output from the board")
    _, crc, y, module_file, kernels = res[0]
    _, host_crc, host_y, _, _ = host_smoke(lib_dir, weights_file)
    if weights_name:
        if crc != host_crc:
            raise DeviceError("weights: CRC on the board 0x%08x differs from the file's 0x%08x" % (crc, host_crc))
        out("weights: verified CRC 0x%08x of %s on the board" % (crc, weights_name))
        report.weights_crc = crc
    if y != host_y:
        raise DeviceError("smoke test: one step on the board gave %r, the same step on the host %r" % (y, host_y))
    out("smoke: one step of %s on the board = %r, the same as on the host (lib loaded from %s, %s kernels)"
        % ("the weights' model" if weights_name else "a seeded GRU 2-4-1", y, module_file, kernels))
    report.smoke = y
    report.kernels = kernels
