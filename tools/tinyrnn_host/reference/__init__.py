"""Float64 reference of tinyrnn's cells and model, on PyTorch's equations. Imports only NumPy.

torch_interop (PyTorch <-> reference) is a separate module: import it only where torch is wanted.
Training: model.loss_and_grads (BPTT), loss (mse, cross_entropy), optim (SGD, RMSprop, Adam), train.fit.
"""
from .activations import ACTIVATIONS, activation_backward, sigmoid, softmax
from .dense import dense_backward, dense_forward
from .elman import elman_backward, elman_forward
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .model import (CELLS, backward, check_desc, check_loss, check_params, forward, forward_with_cache, init_params,
                    layers, loss_and_grads, loss_value, param_shapes, step, windows, zero_state)
