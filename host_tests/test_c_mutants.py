"""The bit-exact suites can catch a C kernel that is wrong: deliberate mutants of _c.c.

Each mutant is lib/tinyrnn_c/_c.c with one line changed (a rounding constant, a
saturation dropped so that a store wraps), built for x64 like the real module and
run through the same board scripts as test_bitexact_unix.py (random models at the
rails) and test_extremes_32bit.py (training at the rails, every optimizer and option,
heap-locked) on the unix port. The real module must equal
the NumPy mirror there; every mutant must differ from it somewhere.
"""
import json

import numpy as np
import pytest

import test_bitexact_unix as bitexact
import test_cells_bitexact as cells
import test_extremes_32bit as extremes
from tinyrnn_host.board import mpunix, natmod

pytestmark = pytest.mark.slow      # five module builds and runs: about two minutes

MUTANTS = {   # name: (the line as it is in _c.c, what the mutant has instead)
    "row rounding": ("    I a = ((I)b1[r] << 8) + 128;", "    I a = ((I)b1[r] << 8) + 127;"),
    "row store wraps": ("                out[r + i] = SAT16(v);", "                out[r + i] = v;"),
    # the rows a block shares each load of v with: the fourth row reads the third's weights
    "block of rows": ("        a3 += (I)*w3++ * x;", "        a3 += (I)(w3++, w2[-1]) * x;"),
    # the single rows after the last whole block (and a dense head) sum one term short
    "row tail": ("        a0 += (I)*w++ * *v;", "        a0 += (I)*w++ * (v + 1 < e ? *v : 0);"),
    "gradient sum unsaturated": ("                    v = GSAT(v);", "                    v = v + 0;"),
    # the backward matvec's column pairs: the second column reads the first one's weights
    "column pair": ("                v1 += (I)q[1] * e;", "                v1 += (I)q[0] * e;"),
    "update rounding": ("    return (-la <= b && b <= la) ? (a * b + 32768) >> 16 : mul16(a, b);",
                        "    return (-la <= b && b <= la) ? (a * b + 32767) >> 16 : mul16(a, b);"),
}
# The pair path (PAIRS: two int16s per 32-bit load, SMLAD on armv7em) built for x64 with SMLAD
# written in C (mac2), so that the suites run its loops here; the Cortex-M7 runs the real one
# (test_qemu_m0_m7.py). The build must equal the mirror, each of its mutants must not.
PAIRS = "#define PAIRS 1\n"
PAIR_MUTANTS = {
    # the fourth row's pairs read the third row's weights
    "pair block": ("        a3 = mac2(a3, ld2(w3), x);", "        a3 = mac2(a3, ld2(w2), x);"),
    # an odd length's last term dropped after the pairs
    "pair odd tail": ("    for (; v < e; v++) {\n        I x = *v;\n        a0 += (I)*w0++ * x;\n        a1 += (I)*w1++ * x;\n        a2",
                      "    for (; v + 1 < e; v++) {\n        I x = *v;\n        a0 += (I)*w0++ * x;\n        a1 += (I)*w1++ * x;\n        a2"),
}


@pytest.fixture(scope="module")
def cases():
    return [c for kind in cells.KINDS for c in cells.make_cases(kind, 6, 900 + len(kind))]


def lib_with(modules, tmp):
    lib = mpunix.compiled_lib_dir(tmp / "lib")
    for mpy in modules:
        (lib / "tinyrnn" / mpy.name).write_bytes(mpy.read_bytes())
    return lib


def inference_differs(lib, cases):
    meta = [{"desc": c["desc"], "seed": c["seed"], "scale": c["scale"], "T": len(c["xs"])} for c in cases]
    xs = np.concatenate([c["xs"].ravel() for c in cases]).astype("<i2").tobytes()
    res = mpunix.run_unix(bitexact.forced(cells.VM_SCRIPT, "c"), heap_bytes=16 << 20, compiled_lib=lib,
                          files={"cases.json": json.dumps(meta).encode(), "xs.bin": xs}, collect=["out.bin"])
    got = np.frombuffer(res.files["out.bin"], dtype="<i2").astype(np.int64)
    want = np.concatenate([cells.run_mirror(c).ravel() for c in cases])
    return got.size != want.size or not np.array_equal(got, want)


@pytest.fixture(scope="module")
def train_mirror():
    return {c["name"]: extremes.mirror(c) for c in extremes.CASES}


def training_differs(lib, train_mirror):
    # test_extremes_32bit's training at the rails, every cell, optimizer and option, heap-locked
    res = mpunix.run_unix(extremes.script(["c"]), heap_bytes=8 << 20, compiled_lib=lib,
                          files={"cases.json": json.dumps(extremes.CASES).encode()}, collect=["out.json"])
    out = json.loads(res.files["out.json"])
    return any(out["cases"]["c " + c["name"]] != train_mirror[c["name"]] for c in extremes.CASES)


def test_the_real_module_equals_the_mirror(cases, train_mirror, tmp_path):
    lib = lib_with(natmod.prebuilt_files("x64"), tmp_path)
    assert not inference_differs(lib, cases)
    assert not training_differs(lib, train_mirror)


def mutant(old, new, prefix=""):
    src = (natmod.source_dir() / "_c.c").read_text()
    assert src.count(old) == 1, "the mutated line is no longer in _c.c: %r" % old
    return prefix + src.replace(old, new)


@pytest.mark.parametrize("name", MUTANTS)
def test_a_mutant_is_caught(name, cases, train_mirror, tmp_path):
    c_mpy = natmod.build("x64", source=mutant(*MUTANTS[name]), work=tmp_path / "build")
    lib = lib_with(c_mpy, tmp_path)
    assert inference_differs(lib, cases) or training_differs(lib, train_mirror), "mutant %r passed" % name


def test_the_pair_path_equals_the_mirror(cases, tmp_path):
    src = PAIRS + (natmod.source_dir() / "_c.c").read_text()
    lib = lib_with(natmod.build("x64", source=src, work=tmp_path / "build"), tmp_path)
    assert not inference_differs(lib, cases)


@pytest.mark.parametrize("name", PAIR_MUTANTS)
def test_a_pair_path_mutant_is_caught(name, cases, tmp_path):
    c_mpy = natmod.build("x64", source=mutant(*PAIR_MUTANTS[name], prefix=PAIRS), work=tmp_path / "build")
    assert inference_differs(lib_with(c_mpy, tmp_path), cases), "mutant %r passed" % name
