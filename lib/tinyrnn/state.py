# A model's state (hidden and cell state, model.state) as bytes, to keep it across a
# deep sleep (RTC memory) or a reboot (a small file). Format: docs/state.md.
# A stream.Stream in place of the model keeps its window too (its last outputs).
#
#     from tinyrnn import state
#     rtc.memory(state.dumps(model))            # before machine.deepsleep()
#     state.loads(model, rtc.memory())          # after waking: the sequence goes on
#     state.save(model, "state.bin")            # or a file (via state.bin.tmp + rename)
#     state.load(model, "state.bin")
#
#     buf = bytearray(state.size(model))        # once
#     state.dump_into(model, buf)               # every time: allocates nothing
#
# A state is refused (StateError, a ValueError naming the problem) when it is
# truncated, has extra bytes, the wrong magic or version, a bad CRC32, a value a
# cell never holds, comes from another architecture (layer kinds and sizes, the
# fingerprint in its header) or holds another window; everything is checked before the model's state
# is touched, so a refused state leaves it byte for byte as it was.
# Only programs that import this module pay for it.
import os

from ._cell import GRU, LSTM, Dense, bad_type
from ._crc import crc32_into
from .model import Model

MAGIC = b"TRNS"
VERSION = 1
HEADER = 12                   # magic, version, entries, inputs (u16), values (u16), window (u16)
_IDENTITY = 0
_TANH = 2
_KIND_HEAD = 4               # entry kinds: 0 elman, 1 lstm, 2 gru, 3 dense, 4 head
_NAMES = ("elman", "lstm", "gru", "dense", "head")
_ACTS = ("identity", "sigmoid", "tanh", "softmax")
_BUFS = (bytearray, memoryview)          # (module tuples: one written in a call is built per call)
_DATA = (bytes, bytearray, memoryview)


_ACC = bytearray(4)          # the last CRC computed, little-endian (no tuple returned)


class StateError(ValueError):
    """A state is not what it must be (or not this model's); the message says what is wrong."""


# ---- the model's fingerprint -----------------------------------------------------

def _kind(model, i, L):
    c = L.__class__
    if c is Dense:
        return _KIND_HEAD if i == len(model.layers) - 1 and model.desc.get("head") is not None else 3
    return 1 if c is LSTM else (2 if c is GRU else 0)


def _values(L):
    return 2 * L.n_hid if L.__class__ is LSTM else L.n_hid


def _model(obj):
    """The model of what dumps and loads take: a Model, or a stream.Stream (its .model)."""
    if isinstance(obj, Model):
        return obj
    m = getattr(obj, "model", None)          # a Stream, by its parts (this module does not load stream)
    if isinstance(m, Model) and getattr(obj, "ring", None) is not None:
        return m
    bad_type("state: model", "a tinyrnn Model or Stream", obj)


def _window(obj, model):
    return 0 if obj is model else obj.window


def size(obj):
    """The bytes a dump takes: 12 + 4 per layer (and head) + 2 per state value + 4; a Stream's
    window adds 4 + 2 per output per step."""
    model = _model(obj)
    n = len(model.layers)
    if n > 255 or len(model.state) > 65535:
        raise StateError("state: a model of %d layers and %d state values does not fit the format "
                         "(at most 255 and 65535)" % (n, len(model.state)))
    w = _window(obj, model)
    return HEADER + 4 * n + 2 * len(model.state) + 4 + (4 + 2 * len(obj.ring) if w else 0)


def _u16(d, i):
    return d[i] | (d[i + 1] << 8)


def _s16(d, i):
    v = d[i] | (d[i + 1] << 8)
    return v - 65536 if v > 32767 else v


def _put16(b, i, v):
    b[i] = v & 255
    b[i + 1] = (v >> 8) & 255


# ---- writing ---------------------------------------------------------------------

def dump_into(obj, buf):
    """Write the state of a Model (or a Stream: its model's state and its window) into buf
    (a bytearray or memoryview of at least size(obj) bytes) from its start; return the number
    of bytes written. Allocates nothing."""
    n = size(obj)
    model = _model(obj)
    w = _window(obj, model)
    if not isinstance(buf, _BUFS):
        bad_type("state.dump_into: buf", "a bytearray or memoryview", buf)
    if len(buf) < n:
        raise ValueError("state.dump_into: buf holds %d bytes, this model's state needs %d" % (len(buf), n))
    layers = model.layers
    for i in range(4):
        buf[i] = MAGIC[i]
    buf[4] = VERSION
    buf[5] = len(layers)
    _put16(buf, 6, model.layers[0].n_in)
    s = model.state
    _put16(buf, 8, len(s))
    _put16(buf, 10, w)
    at = HEADER
    for i in range(len(layers)):
        L = layers[i]
        buf[at] = _kind(model, i, L)
        buf[at + 1] = L.act if L.__class__ is Dense else 0
        _put16(buf, at + 2, L.n_hid)
        at += 4
    for i in range(len(s)):
        _put16(buf, at, s[i])
        at += 2
    if w:
        _put16(buf, at, obj.count)
        _put16(buf, at + 2, obj._at)
        at += 4
        r = obj.ring
        for i in range(len(r)):
            _put16(buf, at, r[i])
            at += 2
    crc32_into(buf, at, _ACC)
    a = _ACC
    for i in range(4):
        buf[at + i] = a[i]
    return n


def dumps(obj):
    """The state of a Model (or a Stream, with its window) as bytes (size(obj) of them)."""
    buf = bytearray(size(obj))
    dump_into(obj, buf)
    return bytes(buf)


# ---- reading ---------------------------------------------------------------------

def _describe(d, n):
    out = ["input %d" % _u16(d, 6)]
    at = HEADER
    for _ in range(n):
        k = d[at]
        a = d[at + 1]
        out.append("%s %d%s" % (_NAMES[k] if k < 5 else "kind%d" % k, _u16(d, at + 2),
                                " " + _ACTS[a] if k >= 3 and a < 4 else ""))
        at += 4
    return ", ".join(out)


def _range(kind, act, u, n_hid):
    """(lo, hi): the values entry value u of a layer can hold (the spec's bounds)."""
    if kind < 3:
        if kind == 1 and u >= n_hid:
            return -32768, 32767       # an LSTM's cell state c: any Q8.8 value
        return -256, 256               # a cell's h
    if act == _IDENTITY:
        return -32768, 32767
    return (-256, 256) if act == _TANH else (0, 256)


def _what(w):
    return "a stream window of %d steps" % w if w else "no window"


def check(obj, data):
    """Raise StateError naming the first problem of data as a state of obj, a Model or a Stream
    (none: return)."""
    n_bytes = size(obj)
    model = _model(obj)
    if not isinstance(data, _DATA):
        bad_type("state: data", "bytes, a bytearray or a memoryview", data)
    got = len(data)
    if got < HEADER + 4:
        raise StateError("state: truncated: %d bytes, a header and CRC alone are %d" % (got, HEADER + 4))
    for i in range(4):
        if data[i] != MAGIC[i]:
            raise StateError("state: bad magic %r: not a tinyrnn state" % bytes(data[0:4]))
    if data[4] != VERSION:
        raise StateError("state: format version %d not supported (this library reads %d)" % (data[4], VERSION))
    n = data[5]
    s = _u16(data, 8)
    w = _u16(data, 10)
    o = 0                        # outputs per window row: the last entry's size
    if w and n and got >= HEADER + 4 * n:
        o = _u16(data, HEADER + 4 * n - 2)
    want = HEADER + 4 * n + 2 * s + 4 + (4 + 2 * w * o if w else 0)
    if got != want:
        raise StateError("state: %d bytes, its header says %d (%s)"
                         % (got, want, "truncated" if got < want else "extra bytes at the end"))
    at = got - 4
    crc32_into(data, at, _ACC)
    a = _ACC
    for i in range(4):
        if data[at + i] != a[i]:
            raise StateError("state: CRC mismatch: the state says 0x%08x, its contents give 0x%08x (corrupted)"
                             % (_u16(data, at) | (_u16(data, at + 2) << 16), _u16(a, 0) | (_u16(a, 2) << 16)))
    layers = model.layers
    same = n == len(layers) and _u16(data, 6) == layers[0].n_in
    at = HEADER
    i = 0
    while same and i < n:
        L = layers[i]
        same = (data[at] == _kind(model, i, L) and _u16(data, at + 2) == L.n_hid
                and data[at + 1] == (L.act if L.__class__ is Dense else 0))
        at += 4
        i += 1
    if not same:
        raise StateError("state: architecture mismatch: the state is of [%s], the model is [%s]"
                         % (_describe(data, n), _describe(dumps(model), len(layers))))
    if w != _window(obj, model):
        raise StateError("state: window mismatch: the state holds %s, this %s has %s"
                         % (_what(w), "Model" if obj is model else "Stream", _what(_window(obj, model))))
    if s != len(model.state) or want != n_bytes:
        raise StateError("state: header says %d values, the architecture has %d" % (s, len(model.state)))
    for i in range(n):
        L = layers[i]
        k = data[HEADER + 4 * i]
        act = data[HEADER + 4 * i + 1]
        for u in range(_values(L)):
            v = _s16(data, at)
            lo, hi = _range(k, act, u, L.n_hid)
            if v < lo or v > hi:
                raise StateError("state: layer %d (%s) value %d is %d, outside [%d, %d]: not a state this cell holds"
                                 % (i, _NAMES[k], u, v, lo, hi))
            at += 2
    if w:
        _check_window(data, at, w, o, data[HEADER + 4 * n - 4], data[HEADER + 4 * n - 3])


def _check_window(data, at, w, o, kind, act):
    count = _u16(data, at)
    nxt = _u16(data, at + 2)
    if count > w or nxt >= w or (count < w and nxt != count):
        raise StateError("state: window counters (count %d, next row %d) do not fit a window of %d steps"
                         % (count, nxt, w))
    at += 4
    for row in range(w):
        for u in range(o):
            v = _s16(data, at)
            lo, hi = _range(kind, act, u, o)
            if row >= count and v:
                raise StateError("state: window row %d is not filled yet but holds %d" % (row, v))
            if v < lo or v > hi:
                raise StateError("state: window row %d output %d is %d, outside [%d, %d]: not an output of this model"
                                 % (row, u, v, lo, hi))
            at += 2


def _get(data, at, a):
    # len(a) int16 values from data[at:] into a; the offset after them
    for i in range(len(a)):
        a[i] = _s16(data, at)
        at += 2
    return at


def loads(obj, data):
    """Restore the state of a Model (or a Stream: its model's state and its window) from data
    (bytes from dumps(), dump_into() or a file); StateError (a ValueError) if it is not a valid
    state of obj, which is then left untouched. Returns obj."""
    check(obj, data)
    model = _model(obj)
    at = _get(data, HEADER + 4 * len(model.layers), model.state)
    if obj is not model:
        obj.count = _u16(data, at)
        obj._at = _u16(data, at + 2)
        r = obj.ring
        _get(data, at + 4, r)
        sc = obj.scores
        n = len(sc)
        for k in range(n):           # the sums, from the rows (not stored: they cannot disagree)
            t = 0
            i = k
            while i < len(r):        # (a range() with a variable step would be an object)
                t += r[i]
                i += n
            sc[k] = t
    return obj


# ---- files -----------------------------------------------------------------------

def _path(fn, path):
    """The file's size (-1: not there); TypeError/StateError for a bad path."""
    if type(path) is not str:
        bad_type("state.%s: path" % fn, "a str", path)
    try:
        st = os.stat(path)
    except OSError:
        return -1
    if st[0] & 0x4000:           # S_IFDIR
        raise StateError("state.%s: path %r is a directory, not a state file" % (fn, path))
    return st[6]


def save(obj, path):
    """Write the state of a Model (or a Stream) to path, via path.tmp and a rename (an
    interrupted save leaves the old file). Returns the number of bytes written."""
    _path("save", path)
    data = dumps(obj)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        os.rename(tmp, path)
    except OSError:              # a filesystem whose rename will not replace (FAT): remove, then rename
        try:
            os.remove(path)
        except OSError:
            pass
        os.rename(tmp, path)
    return len(data)


def _read(path, n, want):
    # the whole file: a state is small; one far larger than this one's is not read into RAM
    if n > want + 4096:
        raise StateError("state: %r is %d bytes, this state is %d: not its state file" % (path, n, want))
    with open(path, "rb") as f:
        return f.read()


def load(obj, path):
    """Restore the state of a Model (or a Stream) from a file written by save(). If path is
    missing and a valid path.tmp is there (a FAT replace cut between remove and rename), that
    one is used and renamed. StateError if the file is not a valid state of obj."""
    n = _path("load", path)
    want = size(obj)                 # obj checked before any file is read
    if n >= 0:
        return loads(obj, _read(path, n, want))
    tmp = path + ".tmp"
    try:
        n = os.stat(tmp)[6]
    except OSError:
        raise StateError("state: cannot open %r" % path)
    loads(obj, _read(tmp, n, want))  # refused: path.tmp stays where it is
    os.rename(tmp, path)
    return obj
