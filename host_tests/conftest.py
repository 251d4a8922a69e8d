"""The host package (tinyrnn_host) is imported as installed: `make setup` installs it
editable into .venv. Tests that run the board library under CPython `import tinyrnn`:
that is lib/, not the host package; paths.import_board puts its folder on sys.path."""
from tinyrnn_host import paths

paths.import_board("tinyrnn")
