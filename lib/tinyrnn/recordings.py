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
from ._cell import bad_type

KINDS = ("class", "steps", "last")       # target kinds: a class per recording, a row per step, one row


class RecordingsError(ValueError):
    """A recordings file is not what it must be; the message says what is wrong."""


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
        from . import _rec_open, _unload     # validation runs once: its code is dropped after
        try:
            _rec_open.scan(self, f, path, like)
        except BaseException:
            f.close()
            raise
        finally:
            _unload("_rec_open")

    def _read(self, i):
        # recording i into raw and y (the checks of every record ran at open: _rec_open.py)
        f = self._f
        f.seek(self._start + i * self._rec)
        if f.readinto(self.raw) != 2 * len(self.raw) or f.readinto(self.y) != 2 * len(self.y):
            raise RecordingsError("recordings: the file changed: recording %d is truncated" % i)

    def __len__(self):
        return self.n

    def read_raw(self, i):
        """Recording i's stored inputs as rows (views of one buffer); returns them."""
        if type(i) is not int:
            bad_type("Recordings index", "an int", i)
        if i < 0 or i >= self.n:
            raise IndexError("recording %d of %d" % (i, self.n))
        self._read(i)
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
