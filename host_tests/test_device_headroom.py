"""Headroom under the unix port's 64 KB cap: every device test also passes under 62,
62.5, 63 and 63.5 KB, one fresh interpreter per test as `make test` runs them at 64 KB.
A tripwire: memory that creeps into the library's training path or into the test
support modules fails here before the 64 KB run starts failing on another machine
(CI once failed on a test that had no bytes to spare). Several sizes, not one:
whether a program fits is not monotonic in the heap size (that failing test ran
under 63 KB). The robust search (mpunix.smallest_cap) puts the heaviest test, Adam
training in test_train.py, at 61.6 KB."""
import pytest

from tinyrnn_host.board import run_device_tests

import needs


@pytest.mark.parametrize("kb", [62, 62.5, 63, 63.5])
def test_unix_device_tests_pass_with_less_heap(kb, capsys):
    needs.unix_port()
    code = run_device_tests.main(heap=int(kb * 1024), runtime="unix")
    out = capsys.readouterr().out
    fails = [l for l in out.splitlines() if l.startswith("FAIL") or "MemoryError" in l]
    assert code == 0, "device tests under -X heapsize=%s KB on the unix port:\n%s" % (kb, "\n".join(fails))
    assert "device tests: 53 passed, 0 failed" in out, out[-500:]
