# The bytecode inference kernels, gathered under the names the viper ones use (kernels.py).
from .dense import dense_step  # noqa: F401
from .elman import elman_step  # noqa: F401
from .gru import gru_step  # noqa: F401
from .lstm import lstm_step  # noqa: F401
