"""make demo: the main job end to end, on a (virtual) MicroPython board.

    tinyrnn demo                  # starts the virtual board
    tinyrnn demo --port a0        # a real board, named as mpremote names it (/dev/ttyACM0, u0, COM3 ...)

1. start the virtual board (unless --port names a real one),
2. deploy the library to it as .mpy with board/deploy.py (mpremote underneath),
3. train a GRU ON THE BOARD (examples/demo_train.py via `mpremote run`), with
   its per-epoch progress lines, and save the weights there,
4. pull the weights file back with `mpremote cp`,
5. on the host, load it into the NumPy mirror, run the same test sequence and
   check the outputs equal the board's, bit for bit; then replay the board's
   training in the mirror (same seed, data, optimizer, validation, patience,
   restore_best) and check the weights file it writes equals the board's, byte
   for byte.
"""
import ast
import binascii
import shutil
import subprocess
import sys
import time

import numpy as np

from .. import paths
from ..board import device, vboard
from ..interop import weights_io
from ..mirror import optim as m_optim
from ..mirror.model import Model as MirrorModel
from ..mirror.rng import Rng
from ..mirror.train import Trainer as MirrorTrainer

APP = "demo_train.py"        # in examples/


def say(step, text):
    print("[%s] %s" % (step, text), flush=True)


def mpremote(port, *args, stream=False, timeout=600):
    """One mpremote call through board/device.py; with stream, `run` output shown as it comes."""
    board = device.Board(port, timeout=timeout)
    try:
        if stream:
            shown = lambda line: line.startswith("OUTPUTS") or print("    " + line, flush=True)  # noqa: E731
            out, code = board.run(args[-1], stream=shown)
            if code:
                raise SystemExit("mpremote %s failed (exit %d)" % (" ".join(args), code))
            return out.splitlines()
        return board.mpremote(*args)
    except device.DeviceError as e:
        raise SystemExit(str(e))


def app_constant(name):
    """A constant of the board app (the test sequence), read from its source."""
    for node in ast.parse((paths.examples() / APP).read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def run(port, build):
    t0 = time.time()
    app = paths.examples() / APP
    say("2/5", "deploying lib/tinyrnn to the board as .mpy (tinyrnn deploy, mpremote)")
    r = subprocess.run([sys.executable, "-m", "tinyrnn_host", "deploy", "--port", port],
                       capture_output=True, text=True, timeout=600)
    for line in (r.stdout + r.stderr).strip().splitlines():
        print("    " + line)
    if r.returncode:
        raise SystemExit("deploy failed")
    say("3/5", "training on the board: mpremote run %s" % paths.shown(app))
    lines = mpremote(port, "run", str(app), stream=True)
    outputs = next(ast.literal_eval(l.split(None, 1)[1]) for l in lines if l.startswith("OUTPUTS"))
    build.mkdir(parents=True, exist_ok=True)
    local = build / "demo.bin"
    say("4/5", "pulling the weights back: mpremote cp :demo.bin %s" % paths.shown(local))
    mpremote(port, "cp", ":demo.bin", str(local))
    desc, _ = weights_io.load(local)
    say("5/5", "host: %s (%d bytes, CRC32 0x%08x) -> NumPy mirror, same test sequence"
        % (local.name, local.stat().st_size, weights_io.file_crc(local)))
    model = weights_io.load_mirror(local)
    pairs = app_constant("PAIRS")
    xs = np.array([[pairs[i] for i in app_constant("TEST")]])
    ys, _ = model.run(xs)
    host = ys[0, :, 0].tolist()
    print("    board outputs (Q8.8): %s" % outputs)
    print("    host  outputs (Q8.8): %s" % host)
    if host != outputs:
        raise SystemExit("MISMATCH: the mirror does not reproduce the board")
    replayed, epochs = replay_training()
    board_bytes = local.read_bytes()
    print("    training replayed in the mirror: %d epochs; its weights file: %d bytes, CRC32 0x%08x"
          % (epochs, len(replayed), binascii.crc32(replayed[:-4])))
    if replayed != board_bytes:
        raise SystemExit("MISMATCH: the mirror's replayed training does not write the board's weights file")
    print("RESULT training bit-exact: the mirror's replay writes the board's %d-byte weights file byte for byte"
          % len(board_bytes))
    print("RESULT bit-exact: the NumPy mirror reproduces all %d board outputs; model %s; %.0f s"
          % (len(host), ", ".join("%s %d" % (l["kind"], l["hidden"]) for l in desc["layers"]), time.time() - t0))


def replay_training():
    """The board's training (examples/demo_train.py, from its constants) in the NumPy mirror:
    -> (the weights file's bytes, epochs run)."""
    c = app_constant
    pairs, xor = c("PAIRS"), c("XOR")
    rng = Rng(c("DATA_SEED"))

    def sequences(n, steps):
        out = []
        for _ in range(n):
            k = [rng.randbelow(4) for _ in range(steps)]
            out.append(([pairs[i] for i in k], [xor[i] for i in k]))
        return out
    train, val = sequences(c("N_TRAIN"), c("STEPS")), sequences(c("N_VAL"), c("STEPS"))
    model = MirrorModel(c("DESC"), c("SEED"))
    trainer = MirrorTrainer(model, loss="mse", optimizer=m_optim.Adam(lr=c("LR")))
    hist = trainer.fit(train, c("EPOCHS"), batch_size=c("BATCH"), val=val, patience=c("PATIENCE"),
                       restore_best=True)
    return weights_io.encode(c("DESC"), model.params), len(hist)


def main(port=None, heap=131072, runtime="wasm"):
    """`tinyrnn demo`: on the board at `port`, or a virtual board with `heap` bytes (runtime
    'wasm', or 'qemu': the Cortex-M3 firmware under QEMU, heap None: its 64 KB, a stock board's,
    with the library as .mpy files in /lib as a deploy leaves them); exit code."""
    build = paths.build_dir() / "demo"
    if port:
        try:
            device.check_port(port)
        except device.DeviceError as e:
            print("demo: error: %s" % e, file=sys.stderr)
            return 2
        say("1/5", "using the board at %s" % port)
        run(port, build)
        return 0
    if runtime == "qemu":
        from ..board import qemu
        heap = heap or qemu.DEFAULT_HEAP
        say("1/5", "starting the Cortex-M3 board (MicroPython v1.28.0 firmware under qemu-system-arm, "
                   "%d-byte heap%s)" % (heap, ": a stock 64 KB board's" if heap == 65536 else ""))
        with qemu.QemuBoard(heap, time_limit=900, announce=print) as port:
            print("    port %s; firmware %s; littlefs on its RAM disk" % (port, paths.shown(qemu.firmware(heap))))
            run(port, build)
        return 0
    heap = heap or 131072
    fs = build / "board-fs"
    if fs.exists():
        shutil.rmtree(fs)
    fs.mkdir(parents=True)
    say("1/5", "starting the virtual board (MicroPython WebAssembly under Node.js, %d-byte heap)" % heap)
    with vboard.VirtualBoard(heap_bytes=heap, fs_dir=fs, time_limit=600) as port:
        print("    port %s; its flash is %s" % (port, paths.shown(fs)))
        run(port, build)
    return 0

