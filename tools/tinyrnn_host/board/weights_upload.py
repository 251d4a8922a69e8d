"""Upload a weights file so that an interrupted upload never leaves a half-written file in
place: validate it here, send it as NAME.tmp, check its size and CRC on the board, then rename."""
import pathlib

from .device import DeviceError, records
from .sync import remove_code, same_content, say


def host_weights_crc(path):
    """Validate a weights file here (interop/weights_io) before it goes anywhere; its CRC32."""
    from ..interop import weights_io
    try:
        return weights_io.file_crc(str(path))
    except ValueError as e:
        raise DeviceError("%s is not a valid weights file, not uploading it: %s" % (path, e))


# Runs on the board after the upload to NAME.tmp: size and CRC (tinyrnn.weights
# reads and checks the whole file), then the rename. On any failure the .tmp
# is removed and NAME is left as it was.
_COMMIT_WEIGHTS = """\
import os
from tinyrnn import weights
t, d, size, crc = %r, %r, %d, %d
try:
    s = os.stat(t)[6]
    if s != size:
        raise ValueError('%%s is %%d bytes on the board, the file is %%d' %% (t, s, size))
    c = weights.file_crc(t)
    if c != crc:
        raise ValueError('CRC on the board 0x%%08x, the file has 0x%%08x' %% (c, crc))
except Exception as e:
    try:
        os.remove(t)
    except OSError:
        pass
    print(repr(('BAD', '%%s: %%s' %% (type(e).__name__, e))))
else:
    try:
        os.rename(t, d)
    except OSError:
        os.remove(d)
        os.rename(t, d)
    print(repr(('OK', c)))
"""


def upload_weights(board, info, local, name, report, dry_run=False, out=say):
    crc = host_weights_crc(local)
    size = pathlib.Path(local).stat().st_size
    tmp = name + ".tmp"
    have = info.files.get(name)
    unchanged = have and have[0] == size and same_content(local, have[1])
    if tmp in info.files:
        if unchanged and not dry_run:
            board.exec(remove_code([tmp]))
        out("found %s left by an interrupted upload: %s" % (tmp, "removed" if unchanged else "it will be replaced"))
    if unchanged:
        out("weights: %s unchanged on the board (CRC 0x%08x)" % (name, crc))
        report.unchanged.append(name)
        return crc
    if dry_run:
        out("would upload weights %s -> %s (%d bytes, via %s)" % (local, name, size, tmp))
        report.uploaded.append(name)
        return crc
    # a replace cut short on FAT (old file removed, rename not done) leaves the only good copy
    # in NAME.tmp: make it NAME again before the upload overwrites the .tmp (docs/weights-format.md)
    board.exec("from tinyrnn import weights\nweights.recover(%r)" % name)
    out("weights: uploading %s -> %s (%d bytes)" % (local, tmp, size))
    copy_to_board(board, local, tmp)
    got = records(board.exec(_COMMIT_WEIGHTS % (tmp, name, size, crc)), "BAD")
    if got:
        raise DeviceError("weights: the upload did not verify on the board (%s); removed %s, "
                          "%s left as it was" % (got[0][1], tmp, name))
    out("weights: verified size and CRC 0x%08x on the board, renamed %s -> %s" % (crc, tmp, name))
    report.uploaded.append(name)
    return crc


def copy_to_board(board, local, remote):
    """One file to the board (separate so tests can interrupt it)."""
    board.cp(local, ":" + remote, timeout=60 + pathlib.Path(local).stat().st_size // 500)
