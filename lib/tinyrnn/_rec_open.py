# Opening a recordings file (recordings.py): the header, the labels and every record
# checked in one streaming pass with the CRC32, the reader's buffers allocated. Run once
# per file; Recordings() drops this module again (its code does not stay in the heap).
import struct
from array import array

from .recordings import KINDS, RecordingsError

try:
    from binascii import crc32 as _crc32
except ImportError:          # the same CRC, bit by bit (a port built without binascii)
    def _crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in bytes(data):
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF

MAGIC = b"TREC"
VERSION = 1
CLASS = 0                    # target kinds: one class per recording (u16) ...
STEPS = 1                    # ... a Q8.8 target row per step ...
LAST = 2                     # ... one Q8.8 target row, for the last step
_HEAD_FMT = "<4sBBHHHHH"     # magic, version, kind, recordings, steps, channels, outputs, labels bytes
_HEAD_LEN = 16


def _rows(buf, T, W):
    mv = memoryview(buf)
    return [mv[t * W:(t + 1) * W] for t in range(T)]


def scan(self, f, path, like):
    h = f.read(_HEAD_LEN)
    if len(h) < _HEAD_LEN:
        raise RecordingsError("%s: truncated: %d bytes, a recordings file starts with a %d-byte header"
                              % (path, len(h), _HEAD_LEN))
    magic, version, kind, N, T, C, O, L = struct.unpack(_HEAD_FMT, h)
    if magic != MAGIC:
        raise RecordingsError("%s: not a recordings file (magic %r, expected %r)" % (path, magic, MAGIC))
    if version != VERSION:
        raise RecordingsError("%s: format version %d, this reader reads version %d" % (path, version, VERSION))
    if kind > LAST:
        raise RecordingsError("%s: target kind %d is not 0 (class), 1 (steps) or 2 (last)" % (path, kind))
    for name, v in (("recordings", N), ("steps", T), ("channels", C), ("outputs", O)):
        if v == 0:
            raise RecordingsError("%s: %s is 0" % (path, name))
    if kind == CLASS and O < 2:
        raise RecordingsError("%s: %d classes: a class target needs at least 2" % (path, O))
    crc = _crc32(h)
    lb = f.read(L)
    if len(lb) < L:
        raise RecordingsError("%s: truncated in the labels (%d of %d bytes)" % (path, len(lb), L))
    crc = _crc32(lb, crc)
    self.labels = _labels(path, lb, kind, O)
    self.kind = KINDS[kind]
    self.steps = T
    self.channels = C
    self.outputs = O
    self.n = N
    tw = 1 if kind == CLASS else (T * O if kind == STEPS else O)       # target values per record
    self._rec = 2 * (T * C + tw)
    if like is not None and (like.steps, like.channels, like.outputs, like.kind) == (T, C, O, self.kind):
        self.raw, self.x, self.y = like.raw, like.x, like.y
        self.raw_rows, self.rows, self._ys = like.raw_rows, like.rows, like._ys
    else:
        self.raw = array("h", bytes(2 * T * C))         # the record's inputs as stored
        self.x = array("h", bytes(2 * T * C))           # ... through norm
        self.y = array("h", bytes(2 * tw))
        self.raw_rows = _rows(self.raw, T, C)
        self.rows = _rows(self.x, T, C)
        self._ys = _rows(self.y, T, O) if kind == STEPS else self.y
    self._pair = [None, None]
    self._f = f
    self._start = _HEAD_LEN + L
    # a first pass: every record's bytes and targets, then the CRC32 (nothing else is read into RAM)
    for i in range(N):
        crc = _check(self, i, crc, path)
    tail = f.read(5)
    if len(tail) < 4:
        raise RecordingsError("%s: truncated: no CRC32 after the %d recordings" % (path, N))
    if len(tail) > 4:
        raise RecordingsError("%s: trailing bytes after the CRC32 (%d recordings of %d bytes)"
                              % (path, N, self._rec))
    stored = struct.unpack("<I", tail)[0]
    if stored != crc & 0xFFFFFFFF:
        raise RecordingsError("%s: CRC mismatch: stored 0x%08x, computed 0x%08x"
                              % (path, stored, crc & 0xFFFFFFFF))


def _labels(path, lb, kind, O):
    if kind != CLASS:
        if lb:
            raise RecordingsError("%s: %d label bytes, but only class targets have labels" % (path, len(lb)))
        return None
    if not lb:
        return None
    out = []
    at = 0
    while at < len(lb):
        k = lb[at]
        name = lb[at + 1:at + 1 + k]
        if k == 0 or len(name) < k or any(c < 32 or c > 126 for c in name):
            raise RecordingsError("%s: label %d is not 1..255 printable ASCII bytes" % (path, len(out)))
        out.append(name.decode())
        at += 1 + k
    if len(out) != O:
        raise RecordingsError("%s: %d labels for %d classes" % (path, len(out), O))
    return tuple(out)


def _check(self, i, crc, path):
    # record i (the next in the file) into raw and y, checked; the running CRC
    f = self._f
    if f.readinto(self.raw) != len(self.raw) * 2 or f.readinto(self.y) != len(self.y) * 2:
        raise RecordingsError("%s: truncated in recording %d (%d bytes each)" % (path, i, self._rec))
    if self.kind == "class" and not 0 <= self.y[0] < self.outputs:
        raise RecordingsError("%s: recording %d has class %d, the file has %d classes"
                              % (path, i, self.y[0], self.outputs))
    return _crc32(self.y, _crc32(self.raw, crc))
