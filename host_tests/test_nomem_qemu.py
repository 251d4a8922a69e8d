"""Kernels that find no heap block, on the Cortex-M3 board with room to spare (QEMU, the 256 KB
firmware, the C kernels deployed): device_tests/test_kernels_nomem.py and test_train_nomem.py.

In the 64 KB heap that `tinyrnn device-test --runtime qemu` gives every file, a "c" model's
trainer whose C training module (one 7.3 KB block of code) finds no hole has no room for viper's
30 KB nor bytecode's 12 KB beside the test either, so there it can only show the budget's
MemoryError. Here, with holes of 3.8 KB (viper's largest block is 2.6 KB) it must fall back to
viper, and with holes of 1.5 KB (below _viper's 2.1 KB block) to bytecode, and train to the NumPy
mirror's golden CRC both times; and Model(desc, kernels="c") with no 3.8 KB hole for _c says
MemoryError and what to do.
"""
import re

import pytest

import needs
from tinyrnn_host import paths
from tinyrnn_host.board import qemu, run_device_tests

pytestmark = pytest.mark.slow


def test_a_c_model_trains_on_viper_then_bytecode_where_its_code_finds_no_block(capsys):
    needs.qemu_toolchain()
    files = [paths.device_tests() / name for name in ("test_kernels_nomem.py", "test_train_nomem.py")]
    results = run_device_tests.run_on_qemu(files, qemu.LARGE_HEAP, False, 900, kinds=("c",))
    out = capsys.readouterr().out
    assert results == {"c": [3, 0]}, (results, out[-3000:])
    rounds = re.findall(r"^c model, holes of (\d+) bytes \(largest free block \d+\): (\w+); loaded (.*)$", out, re.M)
    assert [(int(h) < 4000, kind) for h, kind, _ in rounds] == [(True, "viper"), (True, "bytecode")], out[-3000:]
    assert "_c_train" not in rounds[0][2] and "_viper" not in rounds[1][2], rounds
