"""Ask a board, in one mpremote exec, what a deploy needs to know: its .mpy version and
native arch (sys.implementation._mpy), MicroPython version, lib folder, and a digest of
each file the deploy may touch."""
from .device import DeviceError, records

PACKAGE = "tinyrnn"


# Runs on the board (one round trip): what it loads (sys.implementation._mpy,
# named `mpy` on MicroPython 1.12-1.18), where its lib folder is
# (the first sys.path entry ending in /lib, as mip picks it), and a digest of
# each file in the package folder, of each extra path and of each extra name in
# the lib folder: sha256 if the port has hashlib, else CRC32 if it has
# binascii.crc32, else None (then the file is always uploaded).
_PROBE = """\
import os, sys
try:
    import hashlib
    hashlib.sha256
except (ImportError, AttributeError):
    hashlib = None
try:
    from binascii import hexlify, crc32
except ImportError:
    hexlify = crc32 = None
i = sys.implementation
L = [p for p in sys.path if p.endswith('/lib') and not p.startswith('/rom')]
L = L[0] if L else '/lib'
print(repr(('IMPL', getattr(i, '_mpy', getattr(i, 'mpy', None)), tuple(i.version[:3]), sys.platform, L)))
b = bytearray(512)
v = memoryview(b)
def dig(p):
    h = c = None
    if hashlib and hexlify:
        h = hashlib.sha256()
    elif crc32:
        c = 0
    else:
        return None
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            if h:
                h.update(v[:n])
            else:
                c = crc32(v[:n], c)
    return 'sha256:' + hexlify(h.digest()).decode() if h else 'crc32:%%08x' %% (c & 0xffffffff)
def rep(p):
    try:
        s = os.stat(p)
    except OSError:
        return
    if not s[0] & 0x4000:
        print(repr(('F', p, s[6], dig(p))))
d = L + '/' + %(package)r
try:
    ns = [e[0] for e in os.ilistdir(d)]
except OSError:
    ns = []
for n in ns:
    rep(d + '/' + n)
for p in %(extra)r:
    rep(p)
for n in %(extra_lib)r:
    rep(L + '/' + n)
"""


class BoardInfo:
    """What the probe found: .mpy support, version, lib folder, files with digests."""

    def __init__(self, mpy, version, platform, lib_dir, files):
        self.mpy = mpy                  # sys.implementation._mpy, or None: cannot import .mpy
        self.version = version          # (1, 27, 0)
        self.platform = platform
        self.lib_dir = lib_dir          # '/lib' (or '/flash/lib' on a pyboard)
        self.files = files              # {board path: (size, 'sha256:...' or 'crc32:...' or None)}

    @property
    def version_str(self):
        return ".".join(str(v) for v in self.version)

    @property
    def package_dir(self):
        return self.lib_dir.rstrip("/") + "/" + PACKAGE


def probe(board, extra=(), extra_lib=()):
    out = board.exec(_PROBE % {"package": PACKAGE, "extra": list(extra), "extra_lib": list(extra_lib)})
    impl = records(out, "IMPL")
    if not impl:
        raise DeviceError("the board on %s did not answer the probe; it printed:\n%s" % (board.port, out.strip()))
    _, mpy, version, platform, lib_dir = impl[0]
    if isinstance(mpy, bytes) and len(mpy) >= 3:    # a .mpy header (early drafts of the attribute)
        mpy = mpy[1] | mpy[2] << 8
    files = {p: (size, dig) for _, p, size, dig in records(out, "F")}
    return BoardInfo(mpy, tuple(version), platform, lib_dir, files)
