# Tiny test runner for MicroPython (no unittest needed). Board side.
#
# A test file defines test_* functions and ends with
#     if __name__ == "__main__":
#         harness.run_all(globals())
# so `mpremote run device_tests/test_q88.py` runs it on a board (with lib/tinyrnn
# and this file in the board's /lib). Prints PASS/FAIL per test and a closing
# "N passed, N failed" line.
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


def alloc_bytes(fn, n):
    """Heap bytes allocated by n calls of fn() (gc.mem_alloc() delta; the loop itself allocates nothing)."""
    import gc
    if not hasattr(gc, "mem_alloc"):
        raise Skip("(gc.mem_alloc is MicroPython only)")
    gc.collect()
    before = gc.mem_alloc()
    i = 0
    while i < n:
        fn()
        i += 1
    return gc.mem_alloc() - before


try:
    from binascii import crc32
except ImportError:             # a port built without it: the same CRC, bit by bit
    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in bytes(data):
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF


class Crc:
    """CRC32 (binascii.crc32) of a stream of ints, each as 4 little-endian bytes (int32):
    a real checksum, so a changed, missing or swapped value changes it. Values are
    buffered 64 at a time: the CRC passes 2^30, a long int on a 32-bit board, so a
    board allocates once per 64 values, not once per value, and the buffer is small
    enough not to move a test's heap figure. The host computes the same number over
    numpy '<i4' bytes (host_tests/test_device_goldens.py)."""

    def __init__(self):
        from array import array
        self.buf = array("i", range(64))
        self.n = 0
        self.crc = 0

    def add(self, v):
        self.buf[self.n] = v
        self.n += 1
        if self.n == 64:
            self.crc = crc32(self.buf, self.crc)
            self.n = 0

    def add_all(self, values):
        for v in values:
            self.add(v)

    def value(self):
        if self.n:
            self.crc = crc32(memoryview(self.buf)[:self.n], self.crc)
            self.n = 0
        return self.crc & 0xFFFFFFFF
