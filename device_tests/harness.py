# Tiny test runner for MicroPython (no unittest needed). Board side.
#
# A test file defines test_* functions and ends with
#     if __name__ == "__main__":
#         harness.run_all(globals())
# so `mpremote run device_tests/test_q88.py` runs it on a board (with lib/tinyrnn
# and this file in the board's /lib). Prints PASS/FAIL per test and a closing
# "N passed, N failed" line. Checksums and allocation counts: measure.py (kept
# apart so that a test which needs neither does not hold them in its heap).
import sys

try:
    print_exception = sys.print_exception
except AttributeError:          # CPython
    import traceback

    def print_exception(e):
        traceback.print_exception(type(e), e, e.__traceback__)

try:
    from gc import collect as _collect
except ImportError:             # CPython without gc.collect is not a case, but stay importable anywhere
    _collect = None

passed = 0
failed = 0
skipped = 0


class Skip(Exception):
    """Raised by a test that cannot run on this port; reported as SKIP, not a failure."""


def test_names(namespace):
    if not isinstance(namespace, dict):
        namespace = namespace.__dict__
    return sorted(k for k in namespace if k.startswith("test_") and callable(namespace[k]))


def run_one(namespace, name):
    global passed, failed, skipped
    if not isinstance(namespace, dict):
        namespace = namespace.__dict__
    if _collect:
        _collect()      # each test starts from a collected heap, as a fresh board program would
    try:
        namespace[name]()
    except Skip as e:
        skipped += 1
        print("SKIP", name, e)
        return True
    except Exception as e:
        failed += 1
        print("FAIL", name)
        print_exception(e)
        return False
    passed += 1
    print("PASS", name)
    return True


def summary():
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return failed


def run_all(namespace):
    for name in test_names(namespace):
        run_one(namespace, name)
    if summary():
        raise SystemExit(1)


def expect_error(exc_type, fn, *args):
    """Call fn(*args); return the error message, or fail if exc_type is not raised."""
    try:
        fn(*args)
    except exc_type as e:
        return str(e)
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc_type.__name__))


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
