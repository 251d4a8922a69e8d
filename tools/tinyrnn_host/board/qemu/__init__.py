"""MicroPython v1.28.0 firmware under QEMU: the Cortex-M3 board (mps2-an385), the Cortex-M0
(microbit, nRF51: armv6m) and the Cortex-M7 (mps2-an500: armv7emdp), build.BOARDS.

    firmware.firmware(heap_bytes, frozen=(), depends=(), extra_cflags=(), board="m3")  -> the firmware.elf path
    QemuBoard(heap_bytes, elf=None, romfs=None, time_limit=None, board="m3")           -> start() gives the pty

Boards are named by BOARD (MPS2_AN385, MICROBIT, MPS2_AN500), by runtime (RUNTIMES: qemu, qemu-m0,
qemu-m7, as the command line spells them) or m0/m3/m7; spec(name) gives the board's Spec.
"""
from .build import BOARDS, DEFAULT_HEAP, LARGE_HEAP, RUNTIMES, FirmwareError, firmware, spec  # noqa: F401
from .board import QemuBoard, QemuBoardError, ROMFS_ADDR, qemu_command, serve  # noqa: F401
from .session import RP2040_MPY, Session  # noqa: F401
