"""The golden of device_tests/test_kernels_train.py, recomputed by the NumPy mirror (never by lib)."""
import ast
import binascii

import numpy as np

from tinyrnn_host import paths
from tinyrnn_host.mirror import optim
from tinyrnn_host.mirror.model import Model
from tinyrnn_host.mirror.train import Trainer

SOURCE = paths.device_tests() / "test_kernels_train.py"


def constant(name):
    for node in ast.parse(SOURCE.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value)
    raise KeyError(name)


def test_training_golden_is_the_mirrors():
    m = Model(constant("GRU"), seed=4)
    t = Trainer(m, optimizer=optim.Adam(lr="0.05"), clip_norm="0.5")
    data = [([[(s * 31 + j * 7 + n * 3) % 600 - 300 for j in range(2)] for s in range(5)],
             [[(s * 50 + n * 20) % 256 - 128, 100] for s in range(5)]) for n in range(6)]
    t.fit(data, 3, batch_size=2, shuffle=False)
    params = m.flat_params().astype("<i2").tobytes()
    master = np.concatenate([t.master[n].ravel() for n in t.names]).astype("<i4").tobytes()
    assert constant("TRAIN_GOLDEN") == binascii.crc32(master, binascii.crc32(params))
