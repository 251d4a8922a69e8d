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
    "row rounding": ("            I acc = dot_plain(p + r * nI, x, nI, (b << 8) + 128);",
                     "            I acc = dot_plain(p + r * nI, x, nI, (b << 8) + 127);"),
    "row store wraps": ("            v = SAT16(acc);\n        }\n        out[r] = SAT16(v);",
                        "            v = acc;\n        }\n        out[r] = v;"),
    "gradient sum wraps": ("                gi[j] = GSAT(v);", "                gi[j] = v;"),
    "update rounding": ("    return (-la <= b && b <= la) ? (a * b + 32768) >> 16 : mul16(a, b);",
                        "    return (-la <= b && b <= la) ? (a * b + 32767) >> 16 : mul16(a, b);"),
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


@pytest.mark.parametrize("name", MUTANTS)
def test_a_mutant_is_caught(name, cases, train_mirror, tmp_path):
    old, new = MUTANTS[name]
    src = (natmod.source_dir() / "_c.c").read_text()
    assert src.count(old) == 1, "the mutated line is no longer in _c.c: %r" % old
    c_mpy = natmod.build("x64", source=src.replace(old, new), work=tmp_path / "build")
    lib = lib_with(c_mpy, tmp_path)
    assert inference_differs(lib, cases) or training_differs(lib, train_mirror), "mutant %r passed" % name
