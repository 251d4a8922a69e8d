"""The device-test runner reports failures, errors and heap growth instead of passing them."""
import shutil

from tinyrnn_host import paths
from tinyrnn_host.board import run_device_tests

BAD = '''
import harness

def test_ok():
    assert 1 + 1 == 2

def test_wrong():
    harness.eq(2 + 2, 5, "arith")

def test_hog():
    x = [bytearray(1024) for _ in range(100)]   # 100 KB live: past a 64 KB cap
'''


def test_runner_counts_failures_and_heap_growth(tmp_path, capfd):
    shutil.copy(paths.device_tests() / "harness.py", tmp_path / "harness.py")
    (tmp_path / "test_bad.py").write_text(BAD)
    passed, failed = run_device_tests.run_on_vm(tmp_path / "test_bad.py", 65536, mpy=False)
    out = capfd.readouterr().out
    assert "PASS test_ok" in out
    assert "FAIL test_wrong" in out and "arith: got 4, want 5" in out
    assert "heap grew past the 65536-byte cap" in out
    assert passed == 2 and failed == 2   # test_wrong + the heap cap


def test_vm_reports_micropython_tracebacks():
    from tinyrnn_host.board import mpvm
    import pytest
    with pytest.raises(mpvm.MicroPythonError, match="ZeroDivisionError: q88.div: division by zero"):
        mpvm.run_vm("from tinyrnn import q88\nq88.div(1, 0)")
