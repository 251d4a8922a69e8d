"""CI's "device tests through mpremote": `tinyrnn device-test --port` on the virtual board.

The runner syncs lib/tinyrnn (as .mpy, through board/deploy.py) and harness.py
to the board with mpremote, then `mpremote run`s each device_tests/test_*.py.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tinyrnn_host import paths
from tinyrnn_host.board import vboard


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("VBOARD_NODE"), reason="Node.js not installed")
@pytest.mark.skipif(paths.node_modules() is None, reason="tools/node_modules missing (make setup)")
def test_device_tests_pass_through_mpremote(tmp_path):
    b = vboard.VirtualBoard(fs_dir=tmp_path / "flash", time_limit=170)
    port = b.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "tinyrnn_host", "device-test", "--port", port,
                               "--timeout", "120"], capture_output=True, text=True, timeout=160)
    finally:
        b.stop()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    n_files = len(list(paths.device_tests().glob("test_*.py")))
    assert len(re.findall(r"^== test_\w+\.py$", proc.stdout, re.M)) == n_files, out
    m = re.search(r"^device tests: (\d+) passed, 0 failed$", proc.stdout, re.M)
    assert m and int(m.group(1)) > 0, out
    assert "loads mpy v6.3" in proc.stdout and "/lib/tinyrnn/model.mpy" in proc.stdout
    assert "uploaded /lib/harness.py" in proc.stdout
    assert not b.alive()
