# Recordings files: training data read from flash one recording at a time
# (format: docs/recordings-format.md). A dataset for Trainer.fit() and evaluate().
#
#     from tinyrnn.recordings import Recordings, fit_norm
#     train = Recordings("train.rec")          # validated (size, CRC32, targets) on open
#     train.norm = fit_norm(train)             # optional: raw sensor ints -> Q8.8 inputs
#     trainer.fit(train, epochs=3)             # len(train), train[i] -> (xs, ys)
#
# train[i] reads recording i into buffers allocated once at open and returns the same
# two-item list each time: xs, its steps as row views (Q8.8 inputs: raw values through
# norm when one is set), and ys, the targets (a class int, a row per step, or one row).
# Copy what must outlive the next read. Bad files raise RecordingsError naming the
# problem; nothing is kept open by a failed open.
import struct
from array import array

from ._cell import bad_type

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
KINDS = ("class", "steps", "last")
_HEAD_FMT = "<4sBBHHHHH"     # magic, version, kind, recordings, steps, channels, outputs, labels bytes
_HEAD_LEN = 16


class RecordingsError(ValueError):
    """A recordings file is not what it must be; the message says what is wrong."""


def _rows(buf, T, W):
    mv = memoryview(buf)
    return [mv[t * W:(t + 1) * W] for t in range(T)]


class Recordings:
    """A recordings file as a sequence of (xs, ys); see the module comment.
    like: another Recordings of the same shape whose buffers this one shares
    (a test set read while the training set is not)."""

    norm = None

    def __init__(self, path, like=None):
        if type(path) is not str:
            bad_type("Recordings: path", "a str", path)
        if like is not None and not isinstance(like, Recordings):
            bad_type("Recordings: like", "a Recordings", like)
        try:
            f = open(path, "rb")
        except OSError as e:
            raise RecordingsError("%s: cannot open (%s)" % (path, e))
        try:
            self._open(f, path, like)
        except BaseException:
            f.close()
            raise

    def _open(self, f, path, like):
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
        self.labels = self._labels(path, lb, kind, O)
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
            crc = self._read(i, crc, path)
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

    @staticmethod
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

    def _read(self, i, crc, path):
        # record i into raw and y; with crc, the first pass: checks and the running CRC
        f = self._f
        if crc is None:
            f.seek(self._start + i * self._rec)
        if f.readinto(self.raw) != len(self.raw) * 2 or f.readinto(self.y) != len(self.y) * 2:
            raise RecordingsError("%s: truncated in recording %d (%d bytes each)" % (path, i, self._rec))
        if crc is None:
            return 0
        if self.kind == "class" and not 0 <= self.y[0] < self.outputs:
            raise RecordingsError("%s: recording %d has class %d, the file has %d classes"
                                  % (path, i, self.y[0], self.outputs))
        return _crc32(self.y, _crc32(self.raw, crc))

    def __len__(self):
        return self.n

    def read_raw(self, i):
        """Recording i's stored inputs as rows (views of one buffer); returns them."""
        if type(i) is not int:
            bad_type("Recordings index", "an int", i)
        if i < 0 or i >= self.n:
            raise IndexError("recording %d of %d" % (i, self.n))
        self._read(i, None, "recordings")
        return self.raw_rows

    def __getitem__(self, i):
        self.read_raw(i)
        norm = self.norm
        rows = self.raw_rows
        if norm is not None:
            x = self.x
            C = self.channels
            for t in range(self.steps):
                q = norm.apply(rows[t])
                o = t * C
                for c in range(C):
                    x[o + c] = q[c]
            rows = self.rows
        p = self._pair
        p[0] = rows
        p[1] = self.y[0] if self.kind == "class" else self._ys
        return p

    def __iter__(self):
        for i in range(self.n):
            yield self[i]

    def close(self):
        self._f.close()


def fit_norm(data):
    """A norm.Norm fitted in integers over every step of every recording: per channel,
    offset = the mean, mul / 2^shift = 256 / std (the largest shift with mul <= 16383)."""
    from ._fixed import isqrt
    from .norm import Norm
    if not isinstance(data, Recordings):
        bad_type("fit_norm: data", "a Recordings", data)
    C = data.channels
    s1 = [0] * C
    s2 = [0] * C
    for i in range(len(data)):
        for r in data.read_raw(i):
            for c in range(C):
                v = r[c]
                s1[c] += v
                s2[c] += v * v
    n = len(data) * data.steps
    offset, mul, shift = [], [], []
    for c in range(C):
        offset.append((2 * s1[c] + n) // (2 * n))                       # the mean, rounded half up
        std8 = isqrt(((n * s2[c] - s1[c] * s1[c]) << 16) // (n * n))     # 256 * std, floor
        m, s = 0, 0
        if std8:
            for s in range(16, -1, -1):
                m = ((65536 << s) + std8 // 2) // std8                 # 256 / std * 2^s, rounded
                if m <= 16383:
                    break
            m = min(m, 16383)
        mul.append(m)
        shift.append(s)
    return Norm(offset, mul, shift)
