"""What a board's flash filesystem answers and the virtual boards' do not: MicroPython code.

Both virtual boards keep their files in a host folder (the WebAssembly board in
its MEMFS synced with it, the unix-port board through vfs.VfsPosix), so
`os.statvfs('/')` would describe the host's disk (terabytes: `mpremote df`
runs its columns together) and the unix port's `os.ilistdir()` gives no
sizes (`mpremote ls` shows 0). Here the boards answer as a board with a
FLASH_BYTES flash: used = the files, in BLOCK-byte blocks (never less total
than that; the size is reported, not enforced), and listings with sizes.
The WebAssembly board installs this as /proc/vboard/_vboard_flash.py
(board_vboard.py), the unix-port board imports it at boot (uboard.py).
"""
import os

FLASH_BYTES = 2 * 1024 * 1024   # a board's filesystem (RP2040 boards: 1.4 MB, ESP32: 1.5-2 MB)
BLOCK = 4096                    # littlefs / FAT block on most boards
_DIR = 0x4000


def _join(d, name):
    return (d.rstrip('/') + '/' if d else '') + name


def sized(ilistdir, stat):
    """ilistdir(path) entries as a board's: (name, type, inode, size)."""
    def ilistdir_sized(*args):
        d = args[0] if args else ''
        for e in ilistdir(*args):
            if len(e) == 3:
                size = 0
                if e[1] != _DIR and isinstance(e[0], str):
                    try:
                        size = stat(_join(d, e[0]))[6]
                    except OSError:
                        pass
                e = (e[0], e[1], e[2], size)
            yield e
    return ilistdir_sized


def _used_blocks(ilistdir, stat, d):
    n = 1                           # the directory itself
    for e in ilistdir(d):
        p = _join(d, e[0])
        if e[1] == _DIR:
            n += _used_blocks(ilistdir, stat, p)
        else:
            n += (stat(p)[6] + BLOCK - 1) // BLOCK
    return n


def statvfs(ilistdir, stat, root='/'):
    """os.statvfs() of a FLASH_BYTES flash holding the files under root."""
    used = _used_blocks(ilistdir, stat, root)
    total = max(FLASH_BYTES // BLOCK, used)
    free = total - used
    return (BLOCK, BLOCK, total, free, free, 0, 0, 0, 0, 255)
