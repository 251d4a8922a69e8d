"""The host mirror's Model.run keeps up with torch.nn.GRU in float32 on one thread (issue 20):
1,000 sequences x 20 steps through a GRU 8-32-1 and a dense head, the two taking turns, best of
9 each, in one child process whose BLAS has one thread (`tinyrnn bench --runtime mirror`).
A ratio within one run, never a wall time: measured 1.13-1.19x on a shared 2-core machine.
And Model.run is faster than a Model.step per step, which it must equal (test_mirror_fast.py)."""
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_mirror_run_at_least_torch_gru_float32_one_thread():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "tinyrnn_host.reports.mirror_bench"], env=env,
                         capture_output=True, text=True, check=True).stdout
    row = re.search(r"^GRU 8-32-1\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)x", out, re.M)
    assert row, out
    run, step, torch = (int(row.group(i)) for i in (1, 2, 3))
    assert run >= torch, out
    assert run > 1.5 * step, out
