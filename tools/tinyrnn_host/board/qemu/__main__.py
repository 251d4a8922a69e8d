"""python -m tinyrnn_host.board.qemu [--heap BYTES] [--check]: build (or find) the firmware, print its path."""
import sys

from .build import main

sys.exit(main())
