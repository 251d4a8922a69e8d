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


def test_unix_port_reports_micropython_tracebacks():
    # the unix port prints an uncaught exception's traceback on stdout and nothing on stderr
    from tinyrnn_host.board import mpunix
    import pytest
    with pytest.raises(mpunix.MicroPythonError, match="ZeroDivisionError: q88.div: division by zero"):
        mpunix.run_unix("from tinyrnn import q88\nq88.div(1, 0)")
    res = mpunix.run_unix("x = [bytearray(4096) for _ in range(64)]", heap_bytes=65536, check=False)
    assert res.returncode == 1 and res.memory_error and res.error.startswith("Traceback"), res.error


SKIPPING = '''
import harness

def test_ok():
    assert 1 + 1 == 2

def test_skipped():
    raise harness.Skip("not here")
'''


def test_unix_runner_counts_failures_memory_and_missing_passes(tmp_path, capfd):
    """On the unix port: a failure, a MemoryError past the hard cap, and a file whose PASS
    count falls short of the tests it defines (a SKIP) are all failures."""
    shutil.copy(paths.device_tests() / "harness.py", tmp_path / "harness.py")
    (tmp_path / "test_bad.py").write_text(BAD)
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    passed, failed = run_device_tests.run_on_unix(tmp_path / "test_bad.py", 65536, None)
    out = capfd.readouterr().out
    assert "PASS test_ok" in out and "arith: got 4, want 5" in out and "MemoryError" in out
    assert passed == 1 and failed == 2
    assert "FAIL test_bad.py [unix]: 1 passed of 3 tests defined" in out
    passed, failed = run_device_tests.run_on_unix(tmp_path / "test_skipping.py", 65536, None)
    out = capfd.readouterr().out
    assert (passed, failed) == (1, 1) and "FAIL test_skipping.py [unix]: 1 passed of 2 tests defined" in out


def test_both_runtimes_are_named_with_each_kernel_set(capfd):
    assert run_device_tests.main(["test_rng", "test_model"], runtime="both") == 0
    out = capfd.readouterr().out
    n = len(run_device_tests.test_functions(paths.device_tests() / "test_model.py"))
    both = n + len(run_device_tests.test_functions(paths.device_tests() / "test_rng.py"))
    assert "== runtime wasm: the WebAssembly VM" in out
    assert "ok test_model.py [wasm]: %d passed of %d tests defined, kernels bytecode" % (n, n) in out
    for kind in ("c", "viper", "bytecode"):
        assert "== runtime unix, %s kernels: the unix port" % kind in out
        assert "kernels: the unix port chooses %s, as a board running the %s set does" % (kind, kind) in out
        assert "ok test_model.py [unix]: %d passed of %d tests defined, kernels %s" % (n, n, kind) in out
    lines = out[out.index("device tests by runtime and kernel set:"):].splitlines()
    assert [ln.split() for ln in lines[1:5]] == [[pair, str(both), "passed,", "0", "failed"] for pair in
                                                 ("wasm/bytecode", "unix/c", "unix/viper", "unix/bytecode")]
    assert lines[5] == "device tests: %d passed, 0 failed" % (4 * both)


def test_a_kernel_set_the_library_does_not_choose_fails_the_pair(monkeypatch, capfd):
    # the viper set's lib still holding the C module: the interpreter chooses c, and the pair fails
    monkeypatch.setitem(run_device_tests.WITHOUT, "viper", ())
    assert run_device_tests.main(["test_rng"], runtime="unix", kinds=("viper",)) == 1
    assert "FAIL kernels: the unix port chooses c, not the viper set under test" in capfd.readouterr().out


def test_unix_heap_is_what_the_file_states_for_the_set(tmp_path):
    f = tmp_path / "test_x.py"
    f.write_text("# a test\n# unix-heap: c 73728, bytecode 86016   (why)\nimport harness\n")
    assert [run_device_tests.unix_heap(f, k, 65536) for k in ("c", "viper", "bytecode")] == [73728, 65536, 86016]
    f.write_text("import harness\n")
    assert run_device_tests.unix_heap(f, "c", 65536) == 65536


def test_missing_unix_port_is_one_line_and_a_failure_in_ci(monkeypatch, capfd):
    from tinyrnn_host.board import mpunix
    monkeypatch.setattr(mpunix, "available", lambda: False)
    monkeypatch.setenv("CI", "false")
    assert run_device_tests.main(["test_rng"], runtime="unix") == 0
    out = capfd.readouterr().out
    assert "the MicroPython unix port is not installed here" in out and "a failure under CI=true" not in out
    monkeypatch.setenv("CI", "true")
    assert run_device_tests.main(["test_rng"], runtime="unix") == 1
    assert "a failure under CI=true" in capfd.readouterr().out
