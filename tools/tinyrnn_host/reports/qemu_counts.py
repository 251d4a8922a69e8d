"""Instruction counts of the kernels on the Cortex-M3 board (QEMU, -icount shift=0).

    tinyrnn bench --runtime qemu

Starts the QEMU board (board/qemu) with a qemu.LARGE_HEAP firmware (a GRU
8-32-1 trainer cannot fit 64 KB: about 68 KB of Adam buffers), deploys the library as armv7m .mpy (the C kernels
as armv7m _c.mpy) and runs _count_board.py there: instructions per inference step
(GRU 2-3-1, GRU 8-32-1) with the C and viper kernels, a bare viper multiply-
accumulate loop over the same MACs, and a training update (BPTT over 8 steps,
Adam). The counts are deterministic: host tests assert them as upper bounds.

    tinyrnn bench --runtime qemu-m0 | qemu-m7

the same counts on the Cortex-M0 (microbit: armv6m, the code an RP2040 gets; 96 KB firmware, no
training: its 256 KB SRAM holds no GRU 8-32-1 Adam trainer beside the RAM disk) and the Cortex-M7
(mps2-an500: armv7emdp), with the c, viper and bytecode kernels. Before any count is quoted, each
board is calibrated against a known instruction loop (inline Thumb, `subs; bne`: 2 instructions a
turn): 20,000,000 more instructions must read as 20,000 more ticks_us. They do on all three boards
(the M0's firmware counts SysTick at the nRF51's 16 MHz, QEMU's rate; with the port's default
25 MHz one ticks_us would be 1,562.5 instructions there), and a board that did not would have
its counts scaled by what its loop read.
"""
import json
import pathlib
import tempfile

from ..board import device, run_device_tests
from ..board import qemu

BOARD_SCRIPT = pathlib.Path(__file__).with_name("_count_board.py")
MACS = {"GRU 2-3-1": 48, "GRU 8-32-1": 3872}


CALIBRATE = """
import time, machine, micropython
@micropython.asm_thumb
def spin(r0):
    label(loop)
    sub(r0, 1)
    bne(loop)
def run(n):
    machine.mem32[0xE000E018] = 0
    t = time.ticks_us()
    spin(n)
    return time.ticks_diff(time.ticks_us(), t)
print('CAL', run(1000000), run(11000000))
"""
CAL_INSTRUCTIONS = 20_000_000          # what run(11000000) executes beyond run(1000000)


def instructions_per_tick(b):
    """(The board's instructions per ticks_us, the ticks_us its known loop took): 1,000 under
    -icount shift=0 when the firmware's SysTick rate is right (a reading within 0.1 % of it is
    that: each reading is whole ticks), else what the loop read."""
    for line in b.exec(CALIBRATE, timeout=120).splitlines():
        if line.startswith("CAL "):
            one, two = map(int, line.split()[1:3])
            ipt = CAL_INSTRUCTIONS / (two - one)
            return (1000 if abs(ipt - 1000) <= 1 else ipt), two - one
    raise device.DeviceError("the calibration loop printed nothing")


def on_board(fn, modules=(), out=print, board="m3", heap=None):
    """fn(board) on a fresh QEMU board (`board`: m3, the Cortex-M3, or m0, m7) holding the library
    (the C kernels for its arch, or `modules`: other _c.mpy / _c_train.mpy files put in their
    place, e.g. the armv6m ones); its result."""
    board = qemu.QemuBoard(heap or qemu.LARGE_HEAP, time_limit=3600, announce=out, board=board)
    port = board.start()
    try:
        run_device_tests.install_on_board(port)
        b = device.Board(port, timeout=1800)
        for mpy in modules:
            b.cp(mpy, ":lib/tinyrnn/" + pathlib.Path(mpy).name)
        return fn(b)
    finally:
        board.stop()


# _count_board.py as a board without room for a GRU 8-32-1 trainer runs it: no training update,
# the 3840-MAC loop's weights filled in place (no 16 KB list: the Cortex-M0's heap). Edits of the
# text, not of the file: the Cortex-M3's training counts move with the script's own allocations
# (where its collections fall), and the README quotes them.
LEAN = (('    w = array("h", [(i * 7) % 200 - 100 for i in range(rows * cols)])',
         '    w = array("h", bytes(2 * rows * cols))\n    for i in range(rows * cols):\n        w[i] = (i * 7) % 200 - 100'),
        ('        if k != "bytecode":\n            out["GRU 8-32-1 training " + k]',
         '        if False:\n            out["GRU 8-32-1 training " + k]'))


def lean(text):
    for old, new in LEAN:
        if old not in text:
            raise RuntimeError("_count_board.py no longer has %r: qemu_counts.LEAN needs updating" % old)
        text = text.replace(old, new)
    return text


def measure(kinds=("c", "viper"), out=print, board="m3", heap=None, training=True):
    """The board's counts as a dict (`board` m3, m0 or m7; heap: its firmware's, default
    LARGE_HEAP; training: also the GRU 8-32-1 training update), and "instructions per tick": what
    the calibration loop read (counts are scaled by it over 1,000 when it is not 1,000)."""
    def count(b):
        ipt, ticks = instructions_per_tick(b)
        with tempfile.TemporaryDirectory() as tmp:
            script = pathlib.Path(tmp) / "count.py"
            text = BOARD_SCRIPT.read_text()
            if not training:
                text = lean(text)
            script.write_text(text + "\nrun(%r)\n" % (list(kinds),))
            return b.run(script) + (ipt, ticks)
    text, code, ipt, ticks = on_board(count, out=out, board=board, heap=heap)
    for line in text.splitlines():
        if line.startswith("{"):
            c = json.loads(line)
            if ipt != 1000:
                for k, v in c.items():
                    if isinstance(v, int):
                        c[k] = round(v * ipt / 1000)
            c["instructions per tick"] = ipt
            c["calibration ticks"] = ticks
            return c
    raise device.DeviceError("the count script printed no result (exit %s):\n%s" % (code, text[-2000:]))


def table(c, board="m3"):
    s = qemu.spec(board)
    print("%s (QEMU %s, -icount shift=0), instructions per call, loop and call overhead "
          "subtracted; kernels on the board: %s" % (s.cpu, s.machine, ", ".join(c["kernels"])))
    print("%-34s %12s %12s" % ("", "instructions", "per MAC"))
    for name, macs in MACS.items():
        for k in c["kernels"]:
            key = "%s step %s" % (name, k)
            print("%-34s %12d %12.1f" % (key, c[key], c[key] / macs))
    for key in ("bare viper 48 MACs", "bare viper 3840 MACs"):
        print("%-34s %12d %12.1f" % (key, c[key], c[key] / int(key.split()[2])))
    if "c" in c["kernels"]:
        print("GRU 2-3-1 step (c, validation included) / bare viper loop over 48 MACs: %.2fx"
              % (c["GRU 2-3-1 step c"] / c["bare viper 48 MACs"]))
    for k in c["kernels"]:
        key = "GRU 8-32-1 training " + k
        if key in c:
            print("%-34s %12d" % (key + " (BPTT 8, Adam)", c[key]))
    if "GRU 8-32-1 training c" in c and "GRU 8-32-1 training viper" in c:
        print("training update, viper / c: %.1fx fewer instructions"
              % (c["GRU 8-32-1 training viper"] / c["GRU 8-32-1 training c"]))
    if "instructions per tick" in c:
        print("calibration: %s instructions per ticks_us (a loop of %s instructions more read as %d ticks_us more)%s"
              % (format(c["instructions per tick"], ",g"), format(CAL_INSTRUCTIONS, ","), c["calibration ticks"],
                 "" if c["instructions per tick"] == 1000 else ": the counts above are scaled by it"))
    print()


# the boards beside the Cortex-M3: (heap, whether the training update is measured); the
# Cortex-M0's SRAM holds its RAM disk above the heap: 80 KB leaves it the 152 KB the library's
# modules and the test helpers take (in 96 KB they no longer fit)
OTHERS = {"MICROBIT": (81920, False), "MPS2_AN500": (qemu.LARGE_HEAP, True)}


def main(board="m3"):
    """`tinyrnn bench --runtime qemu` (the Cortex-M3: c and viper), qemu-m0, qemu-m7 (c, viper and
    bytecode)."""
    s = qemu.spec(board)
    if s.name not in OTHERS:
        table(measure())
        return 0
    heap, training = OTHERS[s.name]
    table(measure(("c", "viper", "bytecode"), board=s.name, heap=heap, training=training), s.name)
    return 0
