"""The host package (tinyrnn_host) is imported as installed: `make setup` installs it
editable into .venv. Tests that run the board library under CPython `import tinyrnn`:
that is lib/, not the host package, so its folder goes on sys.path here."""
import sys

from tinyrnn_host import paths


def _board_lib_on_path():
    lib = str(paths.board_lib())
    if lib not in sys.path:
        sys.path.insert(0, lib)


_board_lib_on_path()
