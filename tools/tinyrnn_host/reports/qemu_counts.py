"""Instruction counts of the kernels on the Cortex-M3 board (QEMU, -icount shift=0).

    tinyrnn bench --runtime qemu

Starts the QEMU board (board/qemu) with a qemu.LARGE_HEAP firmware (a GRU
8-32-1 trainer cannot fit 64 KB: about 68 KB of Adam buffers), deploys the library as armv7m .mpy (the C kernels
as armv7m _c.mpy) and runs _count_board.py there: instructions per inference step
(GRU 2-3-1, GRU 8-32-1) with the C and viper kernels, a bare viper multiply-
accumulate loop over the same MACs, and a training update (BPTT over 8 steps,
Adam). The counts are deterministic: host tests assert them as upper bounds.
"""
import json
import pathlib
import tempfile

from ..board import device, run_device_tests
from ..board import qemu

BOARD_SCRIPT = pathlib.Path(__file__).with_name("_count_board.py")
MACS = {"GRU 2-3-1": 48, "GRU 8-32-1": 3872}


def on_board(fn, modules=(), out=print):
    """fn(board) on a fresh QEMU board holding the library (armv7m C kernels, or `modules`:
    other _c.mpy / _c_train.mpy files put in their place, e.g. the armv6m ones); its result."""
    board = qemu.QemuBoard(qemu.LARGE_HEAP, time_limit=3600, announce=out)
    port = board.start()
    try:
        run_device_tests.install_on_board(port)
        b = device.Board(port, timeout=1800)
        for mpy in modules:
            b.cp(mpy, ":lib/tinyrnn/" + pathlib.Path(mpy).name)
        return fn(b)
    finally:
        board.stop()


def measure(kinds=("c", "viper"), out=print):
    """The board's counts as a dict."""
    def count(b):
        with tempfile.TemporaryDirectory() as tmp:
            script = pathlib.Path(tmp) / "count.py"
            script.write_text(BOARD_SCRIPT.read_text() + "\nrun(%r)\n" % (list(kinds),))
            return b.run(script)
    text, code = on_board(count, out=out)
    for line in text.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise device.DeviceError("the count script printed no result (exit %s):\n%s" % (code, text[-2000:]))


def table(c):
    print("Cortex-M3 (QEMU mps2-an385, -icount shift=0), instructions per call, loop and call overhead "
          "subtracted; kernels on the board: %s" % ", ".join(c["kernels"]))
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
    print()


def main():
    table(measure())
    return 0
