# The bytecode inference kernels, gathered under the names the viper ones use (kernels.py),
# and the weight bound that picks their plain or split loops (_rows.weights_changed, fits).
from ._rows import fits, weights_changed  # noqa: F401
from .dense import dense_step  # noqa: F401
from .elman import elman_step  # noqa: F401
from .gru import gru_step  # noqa: F401
from .lstm import lstm_step  # noqa: F401
