"""Speed on MicroPython, as ratios within one run per runtime.

    tinyrnn bench          (make bench)

Runs `_bench_board.py` on each runtime and prints, per model: microseconds per
inference step with the bytecode kernels and (where the port compiles native
code) the viper and C kernels, the same GRU step as plain C (c/plain_gru.c,
gcc -O2, timed in the same run on the host), the naive float GRU of the same size (lists and
`math`, what a user would write without tinyrnn), and bare multiply-accumulate
loops over array('h') with the same number of MACs; then where a step's fixed
cost goes (check, copy, calls) and a training update (BPTT over 8 steps, Adam). The runtimes: the unix port (x64, native code; the
library as .mpy with its viper modules compiled for x64) and the WebAssembly VM
(no native emitter: bytecode only). Both run on this shared machine, so read the
ratios; measure on your board with `mpremote run` for absolute figures. Then the
Cortex-M3 firmware under QEMU with -icount shift=0 (board/qemu): its ticks_us
differences are instruction counts / 1000, printed as instructions per step and
per MAC: deterministic (host_tests/test_qemu_bench.py runs it twice).
"""
import json
import pathlib
import shutil
import subprocess

from .. import paths
from ..board import mpunix, mpvm, natmod
from .progress import LineBar

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
MODELS_BY_NAME = {name: desc for name, desc, _ in MODELS}
PLAIN_C = pathlib.Path(__file__).with_name("c") / "plain_gru.c"


def script(models=MODELS, training=TRAINING, slow=10):
    return BOARD_SCRIPT.read_text() + "\nSLOW = %d\nrun(%r, %r, KERNEL_SETS)\n" % (slow, models, training)


def parse(stdout):
    rows, train = [], []
    for line in stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            (train if "training" in row or "fixed" in row else rows).append(row)
    return rows, train


def measure_unix(models=MODELS, training=TRAINING, progress=False):
    bar = LineBar(len(models) + len(training), "bench on the unix port", b"{", "model") if progress else None
    try:
        res = mpunix.run_unix(script(models, training), heap_bytes=8 << 20, timeout=1800,
                              echo=bar.feed if bar else False)
    finally:
        if bar:
            bar.close()
    return parse(res.stdout)


def measure_wasm(models=MODELS, training=TRAINING, progress=False):
    # the VM's clock ticks in milliseconds: as many steps for bytecode as viper gets elsewhere
    bar = LineBar(len(models) + len(training), "bench on the VM", b"{", "model") if progress else None
    try:
        res = mpvm.run_vm(script(models, training, slow=1), heap_bytes=1 << 20, allow_growth=True, mpy=True,
                          timeout=1800, echo=bar.feed if bar else False)
    finally:
        if bar:
            bar.close()
    return parse(res.stdout)


def plain_c_us(I, H, O, steps):
    """Microseconds per step of c/plain_gru.c (the same Q8.8 GRU step as plain C, gcc -O2), or None."""
    if shutil.which("gcc") is None:
        return None
    out = paths.build_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "tables.h").write_text(natmod.tables_h())
    exe = out / "plain_gru"
    src = PLAIN_C.read_text()
    copy = out / "plain_gru.c"
    if not exe.exists() or not copy.exists() or copy.read_text() != src:
        copy.write_text(src)
        subprocess.run(["gcc", "-O2", "-I", str(out), "-o", str(exe), str(out / "plain_gru.c")], check=True)
    res = subprocess.run([str(exe), str(I), str(H), str(O), str(steps)], capture_output=True, text=True, check=True)
    return float(res.stdout.split()[0]) / 1000


def with_plain_c(rows, steps=20000):
    """Each single-GRU row gets the plain C step of its size, timed now (the same run)."""
    for r in rows:
        desc = dict(MODELS_BY_NAME[r["model"]])
        layers = desc.get("layers", [])
        if len(layers) == 1 and layers[0]["kind"] == "gru":
            r["plain_c"] = plain_c_us(desc["input"], layers[0]["hidden"], desc["head"]["out"], steps)
    return rows


# The Cortex-M3 under QEMU: a tenth of the steps (emulated time), one repeat (the count is exact).
QEMU_MODELS = [(name, desc, max(10, n // 10)) for name, desc, n in MODELS]
QEMU_TRAINING = [(name, desc, max(3, n // 10)) for name, desc, n in TRAINING]


def measure_qemu(models=QEMU_MODELS, training=QEMU_TRAINING, spin=0):
    """On the Cortex-M3 board (board/qemu, -icount shift=0: one guest ns per instruction), the
    library deployed as .mpy: rows as measure_unix's, whose microseconds are instructions / 1000.
    spin: turns of an empty loop first (moves where the measurements fall against the guest
    clock's ticks, as the host's I/O does; the figures must not move). The 256 KB firmware:
    a GRU 8-32-1 trainer with Adam (about 68 KB of buffers) cannot fit 64 KB."""
    from ..board import qemu
    with qemu.Session(qemu.LARGE_HEAP) as s:
        s.install_lib()
        res = s.run(script(models, training).replace(
            "\nrun(", "\nREPS = 1\nfor _ in range(%6d):\n    pass\nrun(" % spin))     # (one script length for every spin)
    rows, train = parse(res.stdout)
    return rows, [t for t in train if "training" in t]     # (the fixed-cost rows: qemu_counts)


def qemu_table(rows, train):
    print("Cortex-M3 (MicroPython v1.28.0 firmware for mps2-an385 under qemu-system-arm -icount shift=0, "
          "256 KB heap), lib as .mpy:")
    print("instructions executed, read as time.ticks_us() differences (one guest nanosecond per instruction, "
          "so us x 1000), over 10..300 steps: the same on every run and every host (each measurement clears SysTick's counter first)")
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
    sets = [k for k in ("bytecode", "viper", "c") if any(k in r for r in rows)]
    fast = sets[-1]
    print(title)
    head = "%-14s %6s" % ("model", "MACs") + "".join(" %10s" % k for k in sets)
    head += "".join(" %8s" % ("bc/" + k) for k in sets[1:])
    head += " %10s %9s %10s %10s" % ("float GRU", "float/us", "bare bc", "step/bare")
    if "viper" in sets:
        head += " %10s %10s" % ("bare viper", "%s/bare" % fast)
    if "c" in sets:
        head += " %9s %8s" % ("plain C", "c/plain")
    print(head + "      (us per step; float/us: float GRU over our fastest)")
    for r in rows:
        line = "%-14s %6d" % (r["model"], r["macs"]) + "".join(" %10.2f" % r[k] for k in sets)
        line += "".join(" %8s" % ratio(r["bytecode"], r[k]) for k in sets[1:])
        line += " %10s %9s %10.1f %10s" % ("%.1f" % r["float"] if "float" in r else "-",
                                            ratio(r.get("float"), r[fast]), r["bare_bytecode"],
                                            ratio(r["bytecode"], r["bare_bytecode"]))
        if "viper" in sets:
            line += " %10.2f %10s" % (r["bare_viper"], ratio(r[fast], r["bare_viper"]))
        if "c" in sets:
            line += " %9s %8s" % ("%.2f" % r["plain_c"] if r.get("plain_c") else "-", ratio(r["c"], r.get("plain_c")))
        print(line)
    for t in train:
        if "fixed" in t:
            k = t["fixed"]
            line = ("where a %s step's time goes (%s kernels): Model.step %.2f us, its layers' kernel calls %.2f us "
                    "(check, copy, call: %.0f%%)" % (t["model"], k, t["step"], t["kernels"],
                                                     100 * max(0, t["step"] - t["kernels"]) / t["step"]))
            if "run" in t:
                line += ", _c.run (check, copy, stack) %.2f us" % t["run"]
            print(line + ", an empty method call %.2f us" % t["empty_call"])
            continue
        line = "training update %s (BPTT over 8 steps, Adam): bytecode %.0f us" % (t["training"], t["bytecode"])
        for k in sets[1:]:
            if k in t:
                line += ", %s %.0f us (%s)" % (k, t[k], ratio(t["bytecode"], t[k]))
        print(line)
    print()


def main(runtime="all", progress=True):
    """`tinyrnn bench`: the tables, a progress bar per runtime while they are measured (stderr)."""
    if runtime in ("all", "both", "unix"):
        rows, train = measure_unix(progress=progress)
        table("MicroPython unix port (x64, native code), lib as .mpy: C, viper and bytecode kernels; "
              "plain C (gcc -O2) in the same run", with_plain_c(rows), train)
    if runtime in ("all", "both", "wasm"):
        rows, train = measure_wasm(progress=progress)
        table("MicroPython WebAssembly VM (Node.js; no native emitter), lib as .mpy: bytecode kernels", rows, train)
    if runtime in ("all", "qemu"):
        qemu_table(*measure_qemu())
        from . import qemu_counts
        qemu_counts.main()
    if runtime in ("qemu-m0", "qemu-m7"):          # (not in "all")
        from . import qemu_counts
        qemu_counts.main(runtime)
    if runtime in ("all", "mirror"):
        from . import mirror_bench
        return mirror_bench.main()
    return 0
