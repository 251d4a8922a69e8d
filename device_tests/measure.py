# What device tests measure on the board: heap bytes a call allocates, and a CRC32
# of a stream of values (compared with a golden the host computes). Imported only by
# the tests that use them: on the unix port's 64 KB heap every module counts.
from array import array


def alloc_bytes(fn, n):
    """Heap bytes allocated by n calls of fn() (gc.mem_alloc() delta; the loop itself allocates nothing)."""
    import gc
    if not hasattr(gc, "mem_alloc"):
        from harness import Skip
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
