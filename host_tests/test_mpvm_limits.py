"""Every run of the MicroPython VM (board/mpvm) ends, with an error that says why.

The issue's reproduction: a script that raises while micropython.heap_lock()
is active left the WebAssembly VM spinning at full CPU, and run_vm never
returned. Now the runner unlocks the heap before the exception leaves Python,
and every run has a time limit after which node is killed. Each test bounds
itself with a limit of its own, so a regression fails here instead of hanging.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tinyrnn_host import paths
from tinyrnn_host.board import mpvm, run_device_tests
from vboard_client import children_running, pid_alive

HEAP_LOCKED_RAISE = "import micropython\nmicropython.heap_lock()\nraise ValueError('x')\n"
RUNAWAY = "x = 1\nwhile True:\n    pass\n"


def runner_children(parent):
    """PIDs of node processes running run.mjs whose parent is `parent`."""
    return children_running(mpvm.RUNNER, parent)


def test_a_raise_under_heap_lock_returns_with_a_clear_error():
    start = time.monotonic()
    with pytest.raises(mpvm.MicroPythonError) as e:
        mpvm.run_vm(HEAP_LOCKED_RAISE, timeout=30)
    assert not isinstance(e.value, mpvm.VMTimeout)
    assert time.monotonic() - start < 10
    assert "the heap was locked when this was raised" in str(e.value)
    assert "the runner unlocked it" in str(e.value)


def test_the_heap_is_usable_after_a_chunk_raised_under_heap_lock():
    code = ("import micropython\n"
            "def f():\n    micropython.heap_lock()\n    raise ValueError\n")
    res = mpvm.run_vm([code, "try:\n    f()\nexcept ValueError:\n    micropython.heap_unlock()\n",
                       "f()"], check=False, timeout=30)
    assert "the heap was locked when this was raised" in res.error   # the third chunk raised locked
    res = mpvm.run_vm([code, "try:\n    f()\nexcept ValueError:\n    pass\n"], check=False, timeout=30)
    assert "RuntimeError: the script left the heap locked" in res.error


def test_a_runaway_loop_hits_the_time_limit():
    start = time.monotonic()
    with pytest.raises(mpvm.VMTimeout) as e:
        mpvm.run_vm(["print('before')", RUNAWAY], timeout=3, label="runaway.py")
    took = time.monotonic() - start
    assert 3 <= took < 8, took
    assert str(e.value) == ("MicroPython VM: no end within the 3 s time limit (timeout=3); node was killed "
                            "while running runaway.py: script 2 of 2, 'x = 1' and 2 more lines")
    assert e.value.stdout == "before\n"           # what ran before the limit is kept
    assert runner_children(os.getpid()) == []


def test_without_check_the_time_limit_is_the_result_error():
    res = mpvm.run_vm(["x = 1", RUNAWAY], timeout=3, check=False)
    assert res.timed_out and "3 s time limit" in res.error
    assert len(res.chunk_totals) == 1 and not res.heap_grew   # the figures of the chunk that ended


def test_the_device_test_runner_reports_a_runaway_test(tmp_path, capfd, monkeypatch):
    shutil.copy(paths.device_tests() / "harness.py", tmp_path / "harness.py")
    (tmp_path / "test_spin.py").write_text("def test_ok():\n    pass\n\ndef test_spin():\n    while True:\n"
                                           "        pass\n")
    monkeypatch.setattr(mpvm, "DEFAULT_TIMEOUT", 3)
    passed, failed = run_device_tests.run_on_vm(tmp_path / "test_spin.py", 65536, mpy=False)
    printed = capfd.readouterr().out
    assert (passed, failed) == (1, 1), printed
    assert "FAIL test_spin.py: error outside a test:" in printed
    assert "3 s time limit" in printed and "harness.run_one(_m, 'test_spin')" in printed


def test_node_ends_itself_when_its_caller_is_killed():
    code = ("from tinyrnn_host.board import mpvm\n"
            "mpvm.run_vm('while True:\\n    pass\\n', timeout=600)\n")
    caller = subprocess.Popen([sys.executable, "-c", code])
    try:
        end = time.monotonic() + 20
        while not runner_children(caller.pid):
            assert time.monotonic() < end and caller.poll() is None, "the VM did not start"
            time.sleep(0.05)
        (node,) = runner_children(caller.pid)
        caller.send_signal(signal.SIGKILL)
        caller.wait(timeout=5)
        end = time.monotonic() + 5
        while pid_alive(node) and time.monotonic() < end:
            time.sleep(0.05)
        alive = pid_alive(node)
        if alive:
            os.kill(node, signal.SIGKILL)
        assert not alive, "the VM outlived its caller"
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()


@pytest.mark.parametrize("bad", [0, -1, "10", True, float("nan")])
def test_timeout_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        mpvm.run_vm("pass", timeout=bad)
