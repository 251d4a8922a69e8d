"""CI's "device tests through mpremote": tools/run_device_tests.py --port on the virtual board.

The runner syncs lib/tinyrnn (as .mpy, through tools/deploy.py) and harness.py
to the board with mpremote, then `mpremote run`s each device_tests/test_*.py.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import vboard

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("VBOARD_NODE"), reason="Node.js not installed")
@pytest.mark.skipif(not vboard.NODE_MODULES.is_dir(), reason="tools/node_modules missing (make setup)")
def test_device_tests_pass_through_mpremote(tmp_path):
    b = vboard.VirtualBoard(fs_dir=tmp_path / "flash", time_limit=170)
    port = b.start()
    try:
        proc = subprocess.run([sys.executable, str(ROOT / "tools" / "run_device_tests.py"), "--port", port,
                               "--timeout", "120"], capture_output=True, text=True, timeout=160)
    finally:
        b.stop()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    n_files = len(list((ROOT / "device_tests").glob("test_*.py")))
    assert len(re.findall(r"^== test_\w+\.py$", proc.stdout, re.M)) == n_files, out
    m = re.search(r"^device tests: (\d+) passed, 0 failed$", proc.stdout, re.M)
    assert m and int(m.group(1)) > 0, out
    assert "loads mpy v6.3" in proc.stdout and "/lib/tinyrnn/model.mpy" in proc.stdout
    assert "uploaded /lib/harness.py" in proc.stdout
    assert not b.alive()
