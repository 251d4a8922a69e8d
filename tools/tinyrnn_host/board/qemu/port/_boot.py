# Frozen into tinyrnn's QEMU firmware; runs on every (soft) reset before boot.py, as a
# board's _boot.py does: a littlefs2 filesystem at / on a RAM disk outside the heap (it
# survives soft resets; a new QEMU starts it blank), the ROMFS image QEMU loaded at
# 0x21000000 (if any) at /rom, then sys.path as on a board with ROMFS.
import machine, sys, vfs, uctypes


def _mount():
    bdev = machine.RAMDisk(0x20000000, 512, 2048)   # 1 MB; C, allocation-free, as a board's flash driver
    try:
        vfs.mount(vfs.VfsLfs2(bdev, progsize=32, readsize=32, lookahead=32), "/")
    except OSError:
        vfs.VfsLfs2.mkfs(bdev)
        vfs.mount(vfs.VfsLfs2(bdev, progsize=32, readsize=32, lookahead=32), "/")
    rom = uctypes.bytearray_at(0x21000000, 4)
    if rom[0] == 0xD2 and rom[1] == 0xCD and rom[2] == 0x31:
        vfs.mount(vfs.VfsRom(memoryview(uctypes.bytearray_at(0x21000000, 0x400000))), "/rom")
        sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/lib"]
    else:
        sys.path[:] = ["", ".frozen", "/lib"]


_mount()
import os
os.chdir("/")
del _mount, machine, os, sys, vfs, uctypes
