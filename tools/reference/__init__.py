"""Float64 reference of tinyrnn's cells and model, on PyTorch's equations. Imports only NumPy.

torch_interop (PyTorch <-> reference) is a separate module: import it only where torch is wanted.
"""
from .activations import ACTIVATIONS, sigmoid, softmax
from .dense import dense_forward
from .elman import elman_forward
from .gru import gru_forward
from .lstm import lstm_forward
from .model import (CELLS, check_desc, check_params, forward, forward_with_cache, init_params, layers,
                    param_shapes, step, zero_state)
