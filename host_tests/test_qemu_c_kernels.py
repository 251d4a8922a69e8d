"""The C kernels on the Cortex-M3 board (QEMU, -icount shift=0): instruction counts and armv6m.

The counts are exact and deterministic (one guest nanosecond per instruction), so they
are asserted as upper bounds (issue 20): a GRU 8-32-1 step at most 10 instructions per
multiply-accumulate; a GRU 2-3-1 step (48 MACs, the input's check and copy included) at
most 3x a bare viper multiply-accumulate loop over 48 MACs; a GRU 8-32-1 training update
(BPTT over 8 steps, Adam) at least 5x fewer instructions than with the viper kernels.
Then the armv6m modules (RP2040's code; ARM firmware loads older Thumb archs) replace
the armv7m ones on the board and the kernel device tests must pass with them: C ==
viper == bytecode at the rails, and training to the NumPy mirror's golden CRC.
"""
import pytest

import needs
import readme_figures as rf
from tinyrnn_host import paths
from tinyrnn_host.board import natmod, run_device_tests
from tinyrnn_host.reports import qemu_counts

pytestmark = pytest.mark.slow
# the kernels a model gets, and the arch field of both modules' .mpy headers (4: armv6m)
ARMV6M_CHECK = """import tinyrnn
from tinyrnn.model import Model
from tinyrnn import _c_train
Model({'input': 1, 'head': {'out': 1}})
print(tinyrnn.KERNELS, [open('/lib/tinyrnn/' + m + '.mpy', 'rb').read(3)[2] >> 2 for m in ('_c', '_c_train')])
"""


@pytest.fixture(scope="module")
def counts():
    needs.qemu_toolchain()
    return qemu_counts.measure()


def test_gru_8_32_1_step_at_most_10_instructions_per_mac(counts):
    assert counts["kernels"][0] == "c"
    assert counts["GRU 8-32-1 step c"] <= 10 * 3872, counts


def test_gru_2_3_1_step_at_most_3x_a_bare_viper_loop(counts):
    assert counts["GRU 2-3-1 step c"] <= 3 * counts["bare viper 48 MACs"], counts


def test_training_update_5x_fewer_instructions_than_viper(counts):
    # measured 1.88 M against viper's 10.17 M instructions: 5.4x (4.9x until Adam's isqrt found
    # its first digit with clz: test_c_isqrt.py)
    assert 5 * counts["GRU 8-32-1 training c"] <= counts["GRU 8-32-1 training viper"], counts


def test_the_readme_quotes_the_counts(counts):
    step, small, train_c, train_v, ratio = rf.find(
        r"a GRU 8-32-1 step is ([\d,]+) instructions .*?a GRU 2-3-1 step ([\d,]+) .*?"
        r"training update \(BPTT 8, Adam\) ([\d.]+) M instructions \(viper ([\d.]+) M: ([\d.]+)x")
    assert rf.number(step) == counts["GRU 8-32-1 step c"], counts
    assert rf.number(small) == counts["GRU 2-3-1 step c"], counts
    c, v = counts["GRU 8-32-1 training c"], counts["GRU 8-32-1 training viper"]
    assert (float(train_c), float(train_v), float(ratio)) == (round(c / 1e6, 2), round(v / 1e6, 2), round(v / c, 1))


def test_armv6m_modules_bit_exact_on_the_board():
    needs.qemu_toolchain()
    def run(board):
        got = board.exec(ARMV6M_CHECK)
        assert got.split() == ["c", "[4,", "4]"], got          # arch 4: armv6m, and it runs
        results = []
        for name in ("test_kernels", "test_kernels_train"):
            path = paths.device_tests() / (name + ".py")
            results.append((name,) + run_device_tests.run_on_board(path, board, "qemu armv6m"))
        return results
    for name, passed, failed in qemu_counts.on_board(run, natmod.prebuilt_files("armv6m")):
        assert failed == 0 and passed == len(run_device_tests.test_functions(paths.device_tests() / (name + ".py"))), name
