"""The Cortex-M3 (MicroPython v1.28.0 firmware under QEMU) as a party to the bit-exact suites:
32-bit machine words, viper as Thumb-2 native code, through the real mpremote.

- 300 random models (100 Elman, 100 LSTM, 100 GRU of test_cells_bitexact.make_cases: weights
  scaled up to x8 so they saturate, inputs at the rails; sequences cut to T_MAX steps) with the viper
  kernels, and N_BYTECODE of each kind (test_cells_bitexact.covering: the first ones and every variant
  of the 100) with the bytecode ones: every output and state == the NumPy mirror (the board folds each
  model's int16 outputs and states into a CRC32, compared with the CRC32 of the mirror's);
- training (test_train_bitexact.CASES: SGD, Momentum, RMSprop, Adam, every option) with the
  viper kernels == the mirror;
- heap-locked steps and updates at the Q8.8 rails (test_extremes_32bit.CASES) with the viper
  kernels, and LOCKED_BYTECODE of them (every cell with every optimizer, each variant) with the
  bytecode ones: 0 MemoryError, == the mirror; its canary (plain loops at the rails) must raise
  MemoryError on a 32-bit port, so the check can fail;
- the armv6m .mpy a deploy gives an RP2040 (an ARM firmware loads older ARM archs): the same
  models and heap-locked cases with its viper code.
One board session per module (the 256 KB firmware: cases are batched, many per script).
"""
import json
import zlib

import numpy as np
import pytest

import needs
import test_cells_bitexact as cells
import test_extremes_32bit as extremes
import test_train_bitexact as train
from tinyrnn_host.board import qemu

N_PER_KIND = 100
# The bytecode kernels are Python: their arithmetic is the VM's small ints, the same on every 32-bit
# port, and the WebAssembly VM (32-bit object model) runs them on 600 full-length models of
# test_cells_bitexact. Here the firmware's interpreter takes about 6x viper's time per model, so it
# runs the first N_BYTECODE of each kind plus the first model of every variant the 100 hold
# (layers 1-3, each head, scaled weights, each input range): every branch of the kernels, on this CPU.
N_BYTECODE = 25
CHUNK = 50
T_MAX = 6
pytestmark = pytest.mark.slow


def forced(script, kernels):
    return ("import tinyrnn\nfrom tinyrnn import kernels as _k\n_k.use(%r)\n" % kernels + script
            + "\nassert tinyrnn.KERNELS == %r, tinyrnn.KERNELS\nprint('KERNELS_OK', tinyrnn.KERNELS)\n" % kernels)


@pytest.fixture(scope="module")
def session():
    needs.qemu_toolchain()
    with qemu.Session(qemu.LARGE_HEAP) as s:
        s.arch = s.install_lib()
        yield s


@pytest.fixture(scope="module")
def cases():
    """make_cases' models, each sequence cut to its first T_MAX steps (emulated time is the cost)."""
    return cells.cut_cases(N_PER_KIND, 900, T_MAX)


# test_cells_bitexact's board script, with each model's outputs and states folded into a CRC32
# printed per model instead of written to a file (the pty, not the board, is the slow part).
CRC_SCRIPT = cells.VM_SCRIPT.replace(
    "out = open('out.bin', 'wb')",
    "import binascii\nclass _Crc:\n    v = 0\n    def write(self, b):\n        self.v = binascii.crc32(b, self.v)\n"
    "    def close(self):\n        print('CRC', self.v)\nout = _Crc()").replace(
    "    m = Model(c['desc'], c['seed'])", "    if at:\n        print('CRC', out.v)\n    out.v = 0\n"
    "    m = Model(c['desc'], c['seed'])")
assert CRC_SCRIPT.count("print('CRC'") == 2


def run_models(session, cases, kernels):
    bad, n = [], 0
    for kind in cells.KINDS:
        for part in range(0, len(cases[kind]), CHUNK):     # the inputs of CHUNK models fit the heap at once
            cs = cases[kind][part:part + CHUNK]
            meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cs]
            xs = np.concatenate([c["xs"].ravel() for c in cs]).astype("<i2").tobytes()
            res = session.run(forced(CRC_SCRIPT, kernels), files={"cases.json": json.dumps(meta).encode(),
                                                                   "xs.bin": xs})
            assert "KERNELS_OK %s" % kernels in res.stdout, res.stdout
            crcs = [int(line.split()[1]) for line in res.stdout.splitlines() if line.startswith("CRC ")]
            assert len(crcs) == len(cs), res.stdout[-500:]
            for i, (case, crc) in enumerate(zip(cs, crcs)):
                want = cells.mirror_once(case).astype("<i2").tobytes()     # the bytes the board folded
                n += 1
                if zlib.crc32(want) != crc:
                    bad.append("%s model %d %r" % (kind, part + i, case["desc"]))
    return n, bad


# (the C kernels on the Cortex-M3: its device tests with the c set, test_qemu_c_kernels.py; one more
# set here left no 33 KB block for the viper run's largest model in the same session)
@pytest.mark.parametrize("kernels", ["viper", "bytecode"])
def test_300_models_bitexact(session, cases, kernels):
    if kernels == "bytecode":
        cases = {kind: cells.covering(cs, N_BYTECODE) for kind, cs in cases.items()}
    n, bad = run_models(session, cases, kernels)
    assert n == sum(map(len, cases.values())) >= (300 if kernels == "viper" else 3 * N_BYTECODE)
    assert not bad, "Cortex-M3 (%s, %s) != mirror in %d of %d models: %s" % (kernels, session.arch, len(bad), n,
                                                                          "; ".join(bad[:5]))


@pytest.mark.parametrize("kernels", ["viper"])
def test_training_every_optimizer_bitexact(session, kernels):
    got = {}
    for part in range(0, len(train.CASES), 4):         # a few cases per script: their results fit the heap
        res = session.run(forced(train.VM_SCRIPT, kernels),
                          files={"cases.json": json.dumps(train.CASES[part:part + 4]).encode()}, collect=["out.json"])
        got.update(json.loads(res.files["out.json"]))
    opts = set()
    for case in train.CASES:
        assert got[case["name"]] == train.run_mirror(case), "Cortex-M3 (%s) != mirror: %s" % (kernels, case["name"])
        opts.add(case["opt"][0])
    assert opts >= {"SGD", "Momentum", "RMSprop", "Adam"}, opts


@pytest.fixture(scope="module")
def mirror_extremes():
    return {c["name"]: extremes.mirror(c) for c in extremes.CASES}


def locked_bytecode():
    """The heap-locked cases the bytecode kernels run here: issue 8's reproduction, then each cell
    (and the stack) with each optimizer, the variants taken in turn (each of the six 2 or 3 times).
    The bytecode kernels' arithmetic is the VM's small ints, the same on every 32-bit port: the
    WebAssembly VM (32-bit) runs all of test_extremes_32bit.CASES heap-locked with them
    (test_wasm_vm_32bit_heap_locked), and the viper kernels run all of them here; this firmware's
    interpreter trains about 10x slower than its viper code, so it runs these 17."""
    by_name = {c["name"]: c for c in extremes.CASES}
    out = [by_name["repro-overflow"]]          # first: each script's third case (the canary's) at the rails
    for ki, kind in enumerate(extremes.KINDS):
        for oi, opt in enumerate(extremes.OPTS):
            variant = extremes.VARIANTS[(ki * len(extremes.OPTS) + oi) % len(extremes.VARIANTS)]
            out.append(by_name["%s-%s-%s" % (kind, opt, variant)])
    assert {c["name"].split("-")[-1] for c in out[1:]} == set(extremes.VARIANTS)
    return out


LOCKED_BYTECODE = locked_bytecode()


def run_locked(session, kernels, per_script=7, cases=extremes.CASES):
    """extremes' board script over `cases`, per_script cases at a time (their results fit the
    heap); each script's canary (plain loops on its third case, bytecode) kept in out['canaries']."""
    out = {"cases": {}, "canaries": []}
    for part in range(0, len(cases), per_script):
        res = session.run(extremes.script(kernels),
                          files={"cases.json": json.dumps(cases[part:part + per_script]).encode()},
                          collect=["out.json"])
        got = json.loads(res.files["out.json"])
        out["kernels"] = got["kernels"]
        out["cases"].update(got["cases"])
        out["canaries"].append(got["canary"])
    return out


def test_heap_locked_extremes_every_kernel_set(session, mirror_extremes):
    for kernels, cases in (("viper", extremes.CASES), ("bytecode", LOCKED_BYTECODE)):   # one set per script
        out = run_locked(session, [kernels], cases=cases)
        assert out["kernels"] == [kernels]
        extremes.check(out, kernels, mirror_extremes, cases)     # no MemoryError, == mirror, every case
        # every canary (the third case of each script: weights at the rails) must hit MemoryError
        assert len(cases) % 7 >= 3 and len(out["canaries"]) == -(-len(cases) // 7), out["canaries"]
        assert all("MemoryError" in c[0] for c in out["canaries"]), (kernels, out["canaries"])


def test_armv6m_code_of_an_rp2040_bitexact(session, cases, mirror_extremes):
    """The .mpy a deploy gives an RP2040 (mpy 6.3 armv6m: Thumb-1 code) on the Cortex-M3."""
    try:
        assert session.install_lib(as_mpy=qemu.RP2040_MPY) == "armv6m"
        head = session.run("import tinyrnn._viper as v\nf = open('/lib/tinyrnn/_viper.mpy', 'rb')\n"
                           "print('HDR', list(f.read(4)))\n")
        assert "HDR [77, 6, %d, 31]" % ((4 << 2) | 3) in head.stdout, head.stdout     # arch 4 = armv6m
        n, bad = run_models(session, cases, "viper")
        assert not bad, "armv6m code != mirror in %d of %d models: %s" % (len(bad), n, "; ".join(bad[:5]))
        out = run_locked(session, ["viper"])
        extremes.check(out, "viper", mirror_extremes)
    finally:
        session.install_lib()
