"""`python -m vboard` (with PYTHONPATH=tools) or `python tools/vboard`."""
import pathlib
import sys

if not __package__:
    # Run as `python tools/vboard`: make the package importable.
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from vboard import main  # noqa: E402

sys.exit(main())
