"""Bad input across the public API: device_tests/bad_input.py holds the cases (at
least 200 calls); each must raise its exception, name the argument, and leave the
parameters, state, master weights, optimizer state and PRNG byte-identical.
Every case runs here under CPython as its own test, and the whole file runs on
MicroPython, compiled to .mpy: on the unix port under a hard heap cap (HEAP), and on the
WebAssembly VM."""
import sys

import pytest

from tinyrnn_host import paths
from tinyrnn_host.board import mpunix, mpvm, mpycompile

sys.path.insert(0, str(paths.device_tests()))
import bad_input  # noqa: E402

CASES = [(group, i, case) for group, make in bad_input.GROUPS.items() for i, case in enumerate(make())]


def test_at_least_200_calls():
    assert len(CASES) >= 200
    import readme_figures as rf     # the README counts them
    assert int(rf.find(r"`device_tests/bad_input\.py` \((\d+) calls across")) == len(CASES)


@pytest.mark.parametrize("group, i, case", CASES, ids=["%s-%d" % (g, i) for g, i, _ in CASES])
def test_refused_and_nothing_changed(group, i, case, bad_input_files):
    why = bad_input.check_case(bad_input.World(), case)
    assert why is None, why


def compiled(tmp_path, arch):
    for name in ("bad_input", "harness"):
        mpycompile.compile_file(paths.device_tests() / (name + ".py"), tmp_path / (name + ".mpy"),
                                name + ".py", arch=arch)
    return tmp_path


SCRIPT = "import bad_input\nbad_input.main()\n"


def check_output(out):
    n_tests = sum(1 for k in vars(bad_input) if k.startswith("test_"))
    assert "%d passed, 0 failed" % n_tests in out, out[-3000:]


HEAP = 131072     # the whole library (model, training, viper kernels, weights) plus the cases, a group at a time: 96K is not enough


def test_on_the_unix_port_under_a_hard_cap(tmp_path):
    res = mpunix.run_unix(SCRIPT, heap_bytes=HEAP, extra_dirs=[compiled(tmp_path, "x64")])
    check_output(res.stdout)


def test_on_the_webassembly_vm(tmp_path):
    res = mpvm.run_vm("import sys\nsys.path.insert(0, '/tests')\n" + SCRIPT, heap_bytes=HEAP, mpy=True,
                      allow_growth=True, extra_dirs=[(compiled(tmp_path, None), "/tests")])
    check_output(res.stdout)
