# CRC-32 (zlib's, as binascii.crc32) computed in two 16-bit halves, for code that must
# not allocate: a 32-bit CRC is a heap-allocated long int on a 32-bit board once it
# passes 2^30, two halves never are. Four bits at a time, from two 16-entry tables
# made at import (the tables' high and low halves: entry k is byte k | byte 16+k << 8).
_TH = bytearray(32)
_TL = bytearray(32)


def _tables():
    for k in range(16):
        hi = 0
        lo = k
        for _ in range(4):
            bit = lo & 1
            lo = (lo >> 1) | ((hi & 1) << 15)
            hi >>= 1
            if bit:
                hi ^= 0xEDB8
                lo ^= 0x8320
        _TH[k] = hi & 255
        _TH[16 + k] = hi >> 8
        _TL[k] = lo & 255
        _TL[16 + k] = lo >> 8


_tables()


def crc32_into(buf, n, out):
    """The CRC-32 of buf[0:n] into out[0:4], little-endian. Allocates nothing."""
    th = _TH
    tl = _TL
    hi = 0xFFFF
    lo = 0xFFFF
    for i in range(n):
        lo ^= buf[i]
        k = lo & 15
        lo = ((lo >> 4) | ((hi & 15) << 12)) ^ (tl[k] | (tl[16 + k] << 8))
        hi = (hi >> 4) ^ (th[k] | (th[16 + k] << 8))
        k = lo & 15
        lo = ((lo >> 4) | ((hi & 15) << 12)) ^ (tl[k] | (tl[16 + k] << 8))
        hi = (hi >> 4) ^ (th[k] | (th[16 + k] << 8))
    lo ^= 0xFFFF
    hi ^= 0xFFFF
    out[0] = lo & 255
    out[1] = lo >> 8
    out[2] = hi & 255
    out[3] = hi >> 8
