# Opening a recordings file (recordings.py): the header, then the file's size against the
# sizes the header declares (before anything sized from them is allocated), the labels and
# every record checked in one streaming pass with the CRC32, the reader's buffers allocated.
# Run once per file; Recordings() drops this module again (its code does not stay in the heap).
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
    # the checks in this order, with these messages, are also the host's decode
    # (tools/tinyrnn_host/interop/recordings.py): both refuse the same files
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
    if kind != CLASS and L:
        raise RecordingsError("%s: %d label bytes, but only class targets have labels" % (path, L))
    # the file's size against the sizes the header declares: every buffer below is sized
    # from them, so none is larger than the file
    tw = 1 if kind == CLASS else (T * O if kind == STEPS else O)       # target values per record
    rec = 2 * (T * C + tw)
    want = _HEAD_LEN + L + N * rec + 4
    size = f.seek(0, 2)
    if size != want:
        raise RecordingsError("%s: %s: %d bytes, the header declares %d (%d label bytes, %d recordings"
                              " of %d bytes, a CRC32)" % (path, "truncated file" if size < want else
                                                          "trailing bytes", size, want, L, N, rec))
    f.seek(_HEAD_LEN)
    crc = _crc32(h)
    try:                     # a file of the right size can still ask for more than the heap has
        lb = f.read(L)
        crc = _crc32(lb, crc)
        labels = _labels(path, lb, O)
        lb = None
        same = like is not None and (like.steps, like.channels, like.outputs, like.kind) == (T, C, O, KINDS[kind])
        raw = like.raw if same else array("h", bytes(2 * T * C))       # the record's inputs as stored
        # a class is a u16 (up to 65534)
        y = like.y if same else array("H" if kind == CLASS else "h", bytes(2 * tw))
        for i in range(N):   # a first pass: every record's bytes and class, then the CRC32
            if f.readinto(raw) != 2 * T * C or f.readinto(y) != 2 * tw:
                raise RecordingsError("%s: the file changed while it was read (recording %d)" % (path, i))
            if kind == CLASS and y[0] >= O:
                raise RecordingsError("%s: recording %d has class %d, the file has %d classes"
                                      % (path, i, y[0], O))
            crc = _crc32(y, _crc32(raw, crc))
        tail = f.read(4)
        if len(tail) != 4:
            raise RecordingsError("%s: the file changed while it was read (its CRC32)" % path)
        stored = struct.unpack("<I", tail)[0]
        if stored != crc & 0xFFFFFFFF:
            raise RecordingsError("%s: CRC mismatch: stored 0x%08x, computed 0x%08x"
                                  % (path, stored, crc & 0xFFFFFFFF))
        if same:
            x, raw_rows, rows, ys = like.x, like.raw_rows, like.rows, like._ys
        else:
            x = array("h", bytes(2 * T * C))                           # ... through norm
            raw_rows = _rows(raw, T, C)
            rows = _rows(x, T, C)
            ys = _rows(y, T, O) if kind == STEPS else y
    except MemoryError:
        raise RecordingsError("%s: too big for the free heap: %d label bytes, recordings of %d steps x %d"
                              " channels and %d target values" % (path, L, T, C, tw))
    # valid: only now does the reader take its fields (a failed open leaves nothing half-built)
    self.labels, self.kind, self.steps, self.channels, self.outputs, self.n = labels, KINDS[kind], T, C, O, N
    self.raw, self.x, self.y, self.raw_rows, self.rows, self._ys = raw, x, y, raw_rows, rows, ys
    self._rec = rec
    self._pair = [None, None]
    self._f = f
    self._start = _HEAD_LEN + L


def _labels(path, lb, O):
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
