"""Recordings files to fuzz the readers with (test_recordings_fuzz.py, test_qemu_recordings.py):
valid files from the host writer, every truncation, single-bit flips (with the stored CRC and
with a recomputed one, so the CRC does not hide the checks before it), headers declaring huge
or inconsistent sizes with a valid CRC, header-only files, random damage. Deterministic.

The board script prints one line per file, `i OK <summary>` or `i <exception type> <message>`;
summary() is the same line computed on the host from decode()."""
import struct
import zlib

import numpy as np

from tinyrnn_host.interop import recordings as host_rec

FIELDS = {"N": 6, "T": 8, "C": 10, "O": 12, "L": 14}        # the header's u16 sizes and their offsets
BIG = (0, 1, 2, 255, 256, 32767, 32768, 65534, 65535)


def recrc(b):
    b = bytes(b)
    return b[:-4] + struct.pack("<I", zlib.crc32(b[:-4]))


def with_fields(b, crc=True, **fields):
    b = bytearray(b)
    for name, v in fields.items():
        b[FIELDS[name]:FIELDS[name] + 2] = struct.pack("<H", v)
    return recrc(b) if crc else bytes(b)


def bases():
    """Small valid files of every kind, labels or not, and classes above 32767."""
    rng = np.random.default_rng(7)
    out = [host_rec.encode(rng.integers(-32768, 32768, (3, 2, 2)), [2, 0, 1], "class", ("no", "yes", "maybe")),
           host_rec.encode(rng.integers(-300, 301, (2, 3, 1)), [1, 0], "class"),
           host_rec.encode(rng.integers(-300, 301, (2, 2, 2)), rng.integers(-200, 201, (2, 2, 2)), "steps"),
           host_rec.encode(rng.integers(-300, 301, (3, 1, 3)), rng.integers(-200, 201, (3, 1)), "last"),
           host_rec.encode(np.zeros((3, 1, 1), int), [35000, 65534, 0], "class")]     # 65535 classes
    assert all(host_rec.check(b) is None for b in out)
    return out


def header_only(k, N, T, C, O, L):
    return recrc(struct.pack(host_rec.HEAD_FMT, host_rec.MAGIC, host_rec.VERSION, k, N, T, C, O, L) + bytes(4))


def cases(seed=1):
    """The list of files (bytes), about 1,900."""
    rng = np.random.default_rng(seed)
    bs = bases()
    out = list(bs)
    for b in bs:
        out += [b[:n] for n in range(len(b))]                      # truncations
        out += [b + b"\0", b + bytes(5), recrc(b + bytes(2))]               # trailing bytes
        for i in range(len(b)):                                             # one bit flipped
            for bit in (0x01, 0x80):
                f = bytearray(b)
                f[i] ^= bit
                out.append(bytes(f))
                if i < len(b) - 4:
                    out.append(recrc(f))            # ... and the CRC made valid again
        for name in FIELDS:                                                 # a declared size, CRC valid
            for v in BIG:
                out.append(with_fields(b, **{name: v}))
    # header-only files (20 bytes, valid CRC) declaring every mix of 1 and 65535, and the 8.6 GB one
    for k in range(3):
        for m in range(32):
            N, T, C, O, L = [65535 if m >> j & 1 else 1 for j in range(5)]
            out.append(header_only(k, N, T, C, max(O, 2) if k == 0 else O, L))
    out.append(header_only(0, 1, 65535, 65535, 2, 0))
    # consistent files of other shapes (the body resized to what the header says, CRC valid):
    # valid ones, bad labels, bad classes
    b = bs[1]
    for T, C in ((40, 40), (1, 300), (300, 1), (2, 1000)):
        body = rng.integers(0, 256, 2 * (T * C + 1)).astype(np.uint8).tobytes()
        for cls in (b"\x01\x00", b"\x02\x00", b"\xff\xff"):
            out.append(recrc(struct.pack(host_rec.HEAD_FMT, host_rec.MAGIC, 1, 0, 1, T, C, 2, 0)
                             + body[:-2] + cls + bytes(4)))
    for lb in (b"\x01a\x01b", b"\x01a\x02b", b"\x00\x01a\x01b", b"\x01a\x01\x7f", b"\x01a\x01b\x01c", b"\x01a",
               b"\x03abc\x05abcde", b"\xffab"):
        out.append(recrc(struct.pack(host_rec.HEAD_FMT, host_rec.MAGIC, 1, 0, 1, 1, 1, 2, len(lb))
                         + lb + b"\x05\x00\x01\x00" + bytes(4)))
    # random damage: a few bytes set anywhere (half with the CRC recomputed), sometimes cut
    for _ in range(400):
        b = bytearray(bs[int(rng.integers(0, len(bs)))])
        for i in rng.integers(0, len(b), int(rng.integers(1, 5))):
            b[i] = int(rng.integers(0, 256))
        if rng.integers(0, 4) == 0:
            b = b[:int(rng.integers(16, len(b) + 1))]
        out.append(recrc(b) if rng.integers(0, 2) and len(b) > 4 else bytes(b))
    return out


def summary(data):
    """What the board script prints after OK for a valid file, from the host's decode."""
    xs, ys, kind, labels = host_rec.decode(data)
    N, T, C = xs.shape
    O = len(labels) if labels else (struct.unpack("<H", data[12:14])[0])
    body = data[16 + struct.unpack("<H", data[14:16])[0]:-4]
    y = int(ys.sum()) if kind == "class" else 0
    return "%d %d %d %d %s %s %d %d" % (N, T, C, O, kind, labels, zlib.crc32(body), y)


# the board side: one interpreter opens every file, reads every recording, says what happened
BOARD = """
import binascii
from tinyrnn.recordings import Recordings, RecordingsError

def summary(r):
    crc = 0
    y = 0
    for i in range(len(r)):
        r.read_raw(i)
        crc = binascii.crc32(r.y, binascii.crc32(r.raw, crc))
        if r.kind == 'class':
            y += r[i][1]
    return '%d %d %d %d %s %s %d %d' % (len(r), r.steps, r.channels, r.outputs, r.kind, r.labels, crc, y)

def one(i, name):
    try:
        r = Recordings(name)
        try:
            print(i, 'OK', summary(r))
        finally:
            r.close()
    except RecordingsError as e:
        print(i, 'RecordingsError', e)
    except BaseException as e:
        print(i, type(e).__name__, e)
"""


def parse(stdout, n):
    """{i: (type, rest)} from the board's lines; every file must have its line (files 0..n-1,
    or the indices in n when it is a list)."""
    want = list(range(n)) if isinstance(n, int) else sorted(n)
    got = {}
    for line in stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].isdigit():
            got[int(parts[0])] = (parts[1], parts[2])
    assert sorted(got) == want, "the board answered for %d of %d files:\n%s" % (
        len(got), len(want), stdout[-2000:])
    return got


def mismatches(files, got, name_of):
    """Every file where the board did not do what the host's check() says it must:
    refuse with RecordingsError and exactly the host's message, or load (the same values)."""
    bad = []
    for i, data in enumerate(files):
        why = host_rec.check(data)
        try:
            want = ("OK", summary(data)) if why is None else ("RecordingsError", "%s: %s" % (name_of(i), why))
        except host_rec.RecordingsError as e:
            want = ("decode refused what check() accepted", str(e))
        if got[i] != want:
            bad.append((i, data[:24].hex(), len(data), got[i], want))
    return bad
