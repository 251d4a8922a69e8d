"""`python -m tinyrnn_host ...`: the `tinyrnn` command."""
import sys

from .cli import main

sys.exit(main())
