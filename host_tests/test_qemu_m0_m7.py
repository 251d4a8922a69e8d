"""The Cortex-M0 and Cortex-M7 boards (board/qemu build.BOARDS: MICROBIT, MPS2_AN500) beside the
Cortex-M3: MicroPython v1.28.0 firmware under QEMU, reached by the real mpremote.

- each board reports the `sys.implementation._mpy` a deploy compiles for: 4870 (mpy 6.3, armv6m:
  exactly what an RP2040 reports), 6918 (the M3, armv7em) and 8966 (the M7, armv7emdp);
- the Cortex-M0 is a proof for armv6m code, where the M3 (which loads it too) is not: Thumb-2
  code faults there (the M3's armv7em C module, its header relabelled armv6m, ends in a HardFault);
- the .mpy set a deploy gives an RP2040 (viper and C modules as armv6m code) runs on it with the
  viper and the C kernels bit for bit as the NumPy mirror does: 21 random models per set
  (test_cells_bitexact.cut_cases, weights up to x8 so they saturate, inputs at the rails,
  sequences cut to T_MAX steps; the board folds outputs and states into CRC32s:
  test_qemu_bitexact.CRC_SCRIPT), and training with each optimizer, clipping, weight decay and
  schedules (TRAIN_CASES, of test_train_bitexact.CASES) with the C kernels equals the mirror;
- instruction counts: the M0's SysTick runs at the nRF51's 16 MHz under QEMU (the firmware is
  built with CPU_FREQ_HZ=16000000), so one ticks_us is 1,000 instructions on every board: a loop
  of a known number of instructions (inline Thumb, 2 per turn) says so on each.
The calibration runs on the 64 KB firmwares the device tests use (the M3's, and the M7's), and on the M0
on the 80 KB firmware of the bit-exact cases (the largest random models need more than 64 KB beside
the script's inputs; its RAM disk, which shares the 256 KB SRAM, is then 152 KB: the library takes
123 KB of it): the heap does not change a count of instructions, and each firmware is a build of its own.
"""
import json
import os
import re
import select
import subprocess
import sys
import time
import tty
import zlib

import numpy as np
import pytest

import needs
import test_cells_bitexact as cells
import test_qemu_bitexact as qb
import test_train_bitexact as train
from tinyrnn_host import paths
from tinyrnn_host.board import mpycompile, natmod
from tinyrnn_host.board.qemu import QemuBoard, RP2040_MPY, Session, spec

pytestmark = pytest.mark.slow

N_PER_KIND = 7            # 21 models per kernel set
CHUNK = 3                 # models per script: their inputs and the largest model fit the heap
T_MAX = 6
HEAP = 65536
M0_HEAP = 81920
BOARD_HEAP = {"m0": M0_HEAP, "m3": HEAP, "m7": HEAP}     # the one firmware per board these tests build
MPY = {"m0": 4870, "m3": 6918, "m7": 8966}


def mpremote(port, *args, timeout=60):
    proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout.replace("\r\n", "\n") + proc.stderr


CALIBRATE = """
import sys, time, machine, micropython
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
print('MPY', sys.implementation._mpy, sys.implementation._build)
print('US', run(1000000), run(2000000))
"""


@pytest.mark.parametrize("board", ["m0", "m3", "m7"])
def test_each_board_reports_its_mpy_and_counts_1000_instructions_per_us(board):
    needs.qemu_toolchain()
    s = spec(board)
    assert s.mpy == MPY[board]
    with QemuBoard(BOARD_HEAP[board], board=board, time_limit=120) as port:
        code, out = mpremote(port, "exec", CALIBRATE)
    assert code == 0, out
    assert "MPY %d %s" % (MPY[board], s.name) in out, out
    # 2 instructions a turn (subs, bne): 2,000,000 and 4,000,000 instructions, plus the call
    a, b = map(int, re.search(r"US (\d+) (\d+)", out).groups())
    assert 2000 <= a <= 2002 and 4000 <= b <= 4002, (board, a, b)
    assert mpycompile.decode_mpy(MPY[board]).arch_name == {"m0": "armv6m", "m3": "armv7em", "m7": "armv7emdp"}[board]
    assert (MPY["m0"] == RP2040_MPY) and s.cpu in ("Cortex-M0", "Cortex-M3", "Cortex-M7")


def test_thumb2_code_faults_on_the_m0(tmp_path):
    """The M3's C module (armv7m: Thumb-2) relabelled armv6m in its header: the M0 loads it and
    faults on its first 32-bit Thumb-2 instruction, where a Cortex-M3 would run it."""
    needs.qemu_toolchain()
    c_v7m = natmod.for_arch("armv7m", (6, 3))[0]
    data = bytearray(pathlib_read(c_v7m))
    assert data[0] == ord("M") and data[2] >> 2 == 5, data[:4]          # arch 5: armv7m
    data[2] = (4 << 2) | (data[2] & 3)                                  # arch 4: armv6m
    (tmp_path / "_t2.mpy").write_bytes(bytes(data))
    with QemuBoard(BOARD_HEAP["m0"], board="m0", time_limit=120) as port:
        code, out = mpremote(port, "cp", str(tmp_path / "_t2.mpy"), ":_t2.mpy")
        assert code == 0, out
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            os.write(fd, b"\r\x03\x02")
            os.write(fd, b"import _t2\r\n")
            buf, end = b"", time.monotonic() + 30
            while not re.search(rb"xPSR: [0-9A-F]{8}", buf):      # the last line of an armv6m fault's report
                left = end - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    break
                buf += os.read(fd, 4096)
        finally:
            os.close(fd)
    text = buf.decode(errors="replace")
    assert "HardFault exception caught" in text and "xPSR" in text, text[-1500:]
    assert "DFSR" not in text            # (an armv7m firmware's report goes on with its fault status registers)


def pathlib_read(p):
    with open(p, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def m0():
    """One Cortex-M0 board, the library deployed as `tinyrnn deploy` gives it (armv6m)."""
    needs.qemu_toolchain()
    with Session(M0_HEAP, board="m0", timeout=600) as s:
        s.arch = s.install_lib()
        yield s


@pytest.fixture(scope="module")
def cases():
    return cells.cut_cases(N_PER_KIND, 1900, T_MAX)


def test_the_m0_gets_what_a_deploy_gives_an_rp2040(m0):
    assert m0.arch == "armv6m" and m0.spec.mpy == RP2040_MPY
    res = m0.run("import os\nfor n in ('_c', '_c_train', '_viper', '_viper_train'):\n"
                 "    f = open('/lib/tinyrnn/%s.mpy' % n, 'rb')\n    print('HDR', n, list(f.read(4)))\n"
                 "    f.close()\n")
    for name in ("_c", "_c_train", "_viper", "_viper_train"):
        assert "HDR %s [77, 6, %d, 31]" % (name, (4 << 2) | 3) in res.stdout, res.stdout    # arch 4, sub 3
    # the C modules there are the prebuilt armv6m ones, byte for byte
    for path in natmod.for_arch("armv6m", (6, 3)):
        local = paths.build_dir() / "mpy" / "6.3-armv6m" / "tinyrnn" / path.name
        assert local.read_bytes() == path.read_bytes(), path.name


def run_models(session, cases, kernels):
    bad, n = [], 0
    for kind, part in [(k, p) for k in cells.KINDS for p in range(0, N_PER_KIND, CHUNK)]:
        cs = cases[kind][part:part + CHUNK]
        meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cs]
        xs = np.concatenate([c["xs"].ravel() for c in cs]).astype("<i2").tobytes()
        res = session.run(qb.forced(qb.CRC_SCRIPT, kernels), files={"cases.json": json.dumps(meta).encode(),
                                                                     "xs.bin": xs})
        assert "KERNELS_OK %s" % kernels in res.stdout, res.stdout
        crcs = [int(line.split()[1]) for line in res.stdout.splitlines() if line.startswith("CRC ")]
        assert len(crcs) == len(cs), res.stdout[-500:]
        for i, (case, crc) in enumerate(zip(cs, crcs)):
            n += 1
            if zlib.crc32(cells.mirror_once(case).astype("<i2").tobytes()) != crc:
                bad.append("%s model %d %r" % (kind, part + i, case["desc"]))
    return n, bad


@pytest.mark.parametrize("kernels", ["c", "viper"])
def test_rp2040_code_on_the_m0_bitexact(m0, cases, kernels):
    n, bad = run_models(m0, cases, kernels)
    assert n == 3 * N_PER_KIND
    assert not bad, "Cortex-M0 (%s, armv6m) != mirror in %d of %d models: %s" % (kernels, len(bad), n,
                                                                              "; ".join(bad[:5]))


# test_train_bitexact.CASES' GRU with each optimizer, and the cases with clipping, weight decay and a
# schedule: 50 updates each (the whole list takes two minutes here, one case per script)
TRAIN_CASES = [c for c in train.CASES if c["name"].startswith("gru-") and c["name"].count("-None-") == 1
               and c["name"].split("-")[2] == "mse"][:4] + [c for c in train.CASES if c["options"].get("clip_value")
                                                             or c["schedule"]]


def test_training_every_optimizer_with_c_kernels_on_the_m0_bitexact(m0):
    assert {c["opt"][0] for c in TRAIN_CASES} == {"SGD", "Momentum", "RMSprop", "Adam"}
    assert any(c["schedule"] for c in TRAIN_CASES) and any(c["options"] for c in TRAIN_CASES)
    m0.run("import os\nfor f in os.listdir('/'):\n    if f.endswith(('.bin', '.json')):\n        os.remove(f)\n")
    got = {}
    for case in TRAIN_CASES:            # one case per script: its data (as lists), model and trainer fit the heap
        res = m0.run(qb.forced(train.VM_SCRIPT, "c"), files={"cases.json": json.dumps([case]).encode()},
                     collect=["out.json"])
        assert "KERNELS_OK c" in res.stdout, res.stdout
        got.update(json.loads(res.files["out.json"]))
    for case in TRAIN_CASES:
        assert got[case["name"]] == train.run_mirror(case), "Cortex-M0 (c, armv6m) != mirror: %s" % case["name"]


def test_each_boards_command_line_and_limits():
    from tinyrnn_host.board.qemu import FirmwareError, firmware, qemu_command
    m0 = " ".join(qemu_command("f.elf", romfs="r.img", board="qemu-m0"))
    assert "-machine microbit -global nrf51-soc.flash-size=1048576 -global nrf51-soc.sram-size=262144" in m0, m0
    assert "loader,file=r.img,addr=0x80000,force-raw=on" in m0 and "shift=0" in m0
    m7 = " ".join(qemu_command("f.elf", romfs="r.img", board="m7"))
    assert "-machine mps2-an500 " in m7 and "addr=0x60000000" in m7, m7
    assert spec("m0") is spec("MICROBIT") is spec("qemu-m0") and spec("qemu") is spec("m3") is spec("MPS2_AN385")
    with pytest.raises(FirmwareError, match="the boards here are"):
        spec("m4")
    # the M0's SRAM holds heap, stack (24 KB with the rest of its data) and a RAM disk of at least 128 KB
    assert spec("m0").max_heap() == 106496 and spec("m0").layout(65536) == (90112, 0x20016000, 336)
    with pytest.raises(FirmwareError, match="16384 to 106496 on MICROBIT"):
        firmware(131072, board="m0")
