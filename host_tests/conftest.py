"""The host package (tinyrnn_host) is imported as installed: `make setup` installs it
editable into .venv. Tests that run the board library under CPython `import tinyrnn`:
that is lib/, not the host package; paths.import_board puts its folder on sys.path."""
import os
import sys

import pytest

from tinyrnn_host import paths

paths.import_board("tinyrnn")


@pytest.fixture(scope="module")
def bad_input_files(tmp_path_factory):
    """A working folder holding the files device_tests/bad_input.py's weights cases read."""
    sys.path.insert(0, str(paths.device_tests()))
    import bad_input
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("bad_input"))
    bad_input.files()
    yield
    bad_input.cleanup()
    os.chdir(here)
