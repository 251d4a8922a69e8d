# A GRU 8-32-1 (4,065 parameters: one 8 KB block for its weights) steps without allocating.
# In a file of its own so that it starts from a fresh heap: after test_model.py's other tests, a
# 64 KB Cortex-M3 heap holding the C kernels' code had no 8 KB hole left for the weights (nor has a
# fresh one: on that firmware it runs on the 256 KB build, tools/tinyrnn_host/board/run_device_tests.py).
from array import array

import harness
import measure
from harness import eq
from tinyrnn.model import Model


def test_gru_8_32_1_step_allocates_nothing():
    m = Model({"input": 8, "layers": [{"kind": "gru", "hidden": 32}], "head": {"out": 1}}, seed=3)
    x = array("h", [256, -128, 64, 0, 300, -300, 17, 99])
    m.step(x)
    step = m.step
    eq(measure.alloc_bytes(lambda: step(x), 1000), 0, "bytes allocated by 1,000 steps")


if __name__ == "__main__":
    harness.run_all(globals())
