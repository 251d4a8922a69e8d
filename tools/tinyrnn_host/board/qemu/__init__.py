"""MicroPython v1.28.0 firmware under QEMU: the Cortex-M3 board (mps2-an385).

    firmware.firmware(heap_bytes, frozen=(), depends=(), extra_cflags=())  -> the firmware.elf path
    QemuBoard(heap_bytes, elf=None, romfs=None, time_limit=None)           -> start() gives the pty
"""
from .build import DEFAULT_HEAP, LARGE_HEAP, FirmwareError, firmware  # noqa: F401
from .board import QemuBoard, QemuBoardError, ROMFS_ADDR, qemu_command, serve  # noqa: F401
from .session import RP2040_MPY, Session  # noqa: F401
