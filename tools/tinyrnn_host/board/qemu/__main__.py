"""python -m tinyrnn_host.board.qemu [--heap BYTES] [--board m0|m3|m7] [--check]: build (or find) the firmware, print its path."""
import sys

from .build import main

sys.exit(main())
