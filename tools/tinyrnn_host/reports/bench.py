"""Speed on MicroPython, as ratios within one run per runtime.

    tinyrnn bench          (make bench)

Runs `_bench_board.py` on each runtime and prints, per model: microseconds per
inference step with the bytecode kernels and (where the port compiles native
code) the viper kernels, the naive float GRU of the same size (lists and
`math`, what a user would write without tinyrnn), and bare multiply-accumulate
loops over array('h') with the same number of MACs; then a training update
(BPTT over 8 steps, Adam). The runtimes: the unix port (x64, native code; the
library as .mpy with its viper modules compiled for x64) and the WebAssembly VM
(no native emitter: bytecode only). Both run on this shared machine, so read the
ratios; measure on your board with `mpremote run` for absolute figures. Then the
Cortex-M3 firmware under QEMU with -icount shift=0 (board/qemu): its ticks_us
differences are instruction counts / 1000, printed as instructions per step and
per MAC: deterministic (host_tests/test_qemu_bench.py runs it twice).
"""
import json
import pathlib

from ..board import mpunix, mpvm

BOARD_SCRIPT = pathlib.Path(__file__).with_name("_bench_board.py")

GRU = lambda i, h, o=1: {"input": i, "layers": [{"kind": "gru", "hidden": h}], "head": {"out": o}}  # noqa: E731
MODELS = [   # (name, description, inference steps per repeat with viper; bytecode runs a tenth)
    ("GRU 2-3-1", GRU(2, 3), 3000),
    ("LSTM 2-3-1", {"input": 2, "layers": [{"kind": "lstm", "hidden": 3}], "head": {"out": 1}}, 3000),
    ("Elman 2-3-1", {"input": 2, "layers": [{"kind": "elman", "hidden": 3}], "head": {"out": 1}}, 3000),
    ("GRU 1-16-1", GRU(1, 16), 1000),
    ("GRU 8-32-1", GRU(8, 32), 300),
    ("LSTM 8-32-8-1", {"input": 8, "layers": [{"kind": "lstm", "hidden": 32}, {"kind": "lstm", "hidden": 8}],
                       "head": {"out": 1}}, 300),
]
TRAINING = [("GRU 2-3-1", GRU(2, 3), 200), ("GRU 8-32-1", GRU(8, 32), 30)]


def script(models=MODELS, training=TRAINING, slow=10):
    return BOARD_SCRIPT.read_text() + "\nSLOW = %d\nrun(%r, %r, KERNEL_SETS)\n" % (slow, models, training)


def parse(stdout):
    rows, train = [], []
    for line in stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            (train if "training" in row else rows).append(row)
    return rows, train


def measure_unix(models=MODELS, training=TRAINING):
    res = mpunix.run_unix(script(models, training), heap_bytes=8 << 20, timeout=1800)
    return parse(res.stdout)


def measure_wasm(models=MODELS, training=TRAINING):
    # the VM's clock ticks in milliseconds: as many steps for bytecode as viper gets elsewhere
    res = mpvm.run_vm(script(models, training, slow=1), heap_bytes=1 << 20, allow_growth=True, mpy=True,
                      timeout=1800)
    return parse(res.stdout)


# The Cortex-M3 under QEMU: a tenth of the steps (emulated time), one repeat (the count is exact).
QEMU_MODELS = [(name, desc, max(10, n // 10)) for name, desc, n in MODELS]
QEMU_TRAINING = [(name, desc, max(3, n // 10)) for name, desc, n in TRAINING]


def measure_qemu(models=QEMU_MODELS, training=QEMU_TRAINING):
    """On the Cortex-M3 board (board/qemu, -icount shift=0: one guest ns per instruction), the
    library deployed as .mpy: rows as measure_unix's, whose microseconds are instructions / 1000.
    The 256 KB firmware: the training update does not fit 64 KB yet (issue 16)."""
    from ..board import qemu
    with qemu.Session(qemu.LARGE_HEAP) as s:
        s.install_lib()
        res = s.run(script(models, training).replace("\nrun(", "\nREPS = 1\nrun("))
    return parse(res.stdout)


def qemu_table(rows, train):
    print("Cortex-M3 (MicroPython v1.28.0 firmware for mps2-an385 under qemu-system-arm -icount shift=0, "
          "256 KB heap), lib as .mpy:")
    print("instructions executed, read as time.ticks_us() differences (one guest nanosecond per instruction, "
          "so us x 1000), over 10..300 steps: the same on every run and every host")
    print("%-14s %6s %12s %8s %12s %8s %8s %10s %10s" % ("model", "MACs", "bytecode", "per MAC", "viper",
                                                       "per MAC", "speedup", "bare bc/MAC", "bare vip/MAC"))
    for r in rows:
        print("%-14s %6d %12d %8d %12d %8d %8s %10d %10d"
              % (r["model"], r["macs"], round(r["bytecode"] * 1000), round(r["bytecode"] * 1000 / r["macs"]),
                 round(r["viper"] * 1000), round(r["viper"] * 1000 / r["macs"]), ratio(r["bytecode"], r["viper"]),
                 round(r["bare_bytecode"] * 1000 / r["macs"]), round(r["bare_viper"] * 1000 / r["macs"])))
    for t in train:
        print("training update %s (BPTT over 8 steps, Adam): bytecode %d instructions, viper %d, speedup %s"
              % (t["training"], round(t["bytecode"] * 1000), round(t["viper"] * 1000), ratio(t["bytecode"], t["viper"])))
    print()


def ratio(a, b):
    return "%.1fx" % (a / b) if a and b else "-"


def table(title, rows, train):
    native = any("viper" in r for r in rows)
    print(title)
    head = "%-14s %6s %10s" % ("model", "MACs", "bytecode")
    if native:
        head += " %10s %8s" % ("viper", "speedup")
    head += " %10s %9s %10s %10s" % ("float GRU", "float/us", "bare bc", "step/bare")
    if native:
        head += " %10s %10s" % ("bare viper", "step/bare")
    print(head + "      (us per step; float/us: float GRU over our fastest)")
    for r in rows:
        fast = r.get("viper") or r["bytecode"]
        line = "%-14s %6d %10.1f" % (r["model"], r["macs"], r["bytecode"])
        if native:
            line += " %10.2f %8s" % (r["viper"], ratio(r["bytecode"], r["viper"]))
        line += " %10s %9s %10.1f %10s" % ("%.1f" % r["float"] if "float" in r else "-",
                                            ratio(r.get("float"), fast), r["bare_bytecode"],
                                            ratio(r["bytecode"], r["bare_bytecode"]))
        if native:
            line += " %10.2f %10s" % (r["bare_viper"], ratio(r["viper"], r["bare_viper"]))
        print(line)
    for t in train:
        line = "training update %s (BPTT over 8 steps, Adam): bytecode %.0f us" % (t["training"], t["bytecode"])
        if "viper" in t:
            line += ", viper %.0f us, speedup %s" % (t["viper"], ratio(t["bytecode"], t["viper"]))
        print(line)
    print()


def main(runtime="all"):
    if runtime in ("all", "both", "unix"):
        rows, train = measure_unix()
        table("MicroPython unix port (x64, native code), lib as .mpy: viper and bytecode kernels", rows, train)
    if runtime in ("all", "both", "wasm"):
        rows, train = measure_wasm()
        table("MicroPython WebAssembly VM (Node.js; no native emitter), lib as .mpy: bytecode kernels", rows, train)
    if runtime in ("all", "qemu"):
        qemu_table(*measure_qemu())
    return 0
