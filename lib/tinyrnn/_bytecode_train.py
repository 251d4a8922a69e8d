# The bytecode training kernels, gathered under the names the viper ones use (kernels.py).
from ._update import (adam_update, add_decay, from_q88, grad_mean, max_abs,  # noqa: F401
                      momentum_update, rmsprop_update, scale_q15, sgd_update, sum_sq, to_q88)
from .backward import (copy16, dense_backward, elman_backward, fits_cols,  # noqa: F401
                       gru_backward, lstm_backward)
