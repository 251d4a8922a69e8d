"""Where the host package finds the project's files: in a checkout (an editable install)
the repository's own folders, in an installed wheel the copies it carries.

    board_lib()     the folder holding the board library tinyrnn/ (what goes to a board's /lib)
    examples()      examples/ (the demo's board app among them)
    device_tests()  device_tests/ (they run on MicroPython)
    checkout()      the repository root, or None when running from a wheel
    build_dir()     where generated files go: the checkout's build/, else ./build
    shown(path)     a path as messages show it (relative to the checkout)
    node_modules()  the npm folder with the pinned MicroPython WebAssembly build
    import_board()  a module of the board library, imported under CPython
"""
import importlib
import os
import pathlib
import sys

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
SHIPPED = PACKAGE_DIR / "_shipped"       # in a wheel: _shipped/lib/tinyrnn, _shipped/examples, ...
WASM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
NODE_MODULES_ENV = "TINYRNN_NODE_MODULES"


class SetupError(RuntimeError):
    """Something to install first (Node.js, the WebAssembly build); the message says how."""


def checkout():
    """The repository root when this package runs from a checkout, else None."""
    root = PACKAGE_DIR.parent.parent     # tools/tinyrnn_host -> the repository
    if (root / "pyproject.toml").is_file() and (root / "lib" / "tinyrnn").is_dir():
        return root
    return None


def _root():
    return checkout() or SHIPPED


def board_lib():
    """The folder holding tinyrnn/: the repository's lib/, or the wheel's copy of it."""
    return _root() / "lib"


def import_board(name="tinyrnn"):
    """Import the board library's module `name` (e.g. "tinyrnn.act") under CPython.

    The board library is not part of this package: board_lib() goes first on sys.path."""
    lib = str(board_lib())
    if lib not in sys.path:
        sys.path.insert(0, lib)
    return importlib.import_module(name)


def examples():
    return _root() / "examples"


def device_tests():
    return _root() / "device_tests"


def build_dir():
    return (checkout() or pathlib.Path.cwd()) / "build"


def shown(path):
    """`path` as messages show it: relative to the checkout (or the current folder) when inside it."""
    try:
        return pathlib.Path(path).resolve().relative_to(checkout() or pathlib.Path.cwd())
    except ValueError:
        return pathlib.Path(path)


def node_modules():
    """The node_modules folder holding the MicroPython WebAssembly build, or None.

    Looked for in $TINYRNN_NODE_MODULES, the checkout's tools/node_modules
    (`make setup`), then ./node_modules (`npm install <WASM_PACKAGE>@1.27.0` there).
    """
    candidates = []
    if os.environ.get(NODE_MODULES_ENV):
        candidates.append(pathlib.Path(os.environ[NODE_MODULES_ENV]))
    root = checkout()
    if root:
        candidates.append(root / "tools" / "node_modules")
    candidates.append(pathlib.Path.cwd() / "node_modules")
    for c in candidates:
        if (c / WASM_PACKAGE).is_dir():
            return c.resolve()
    return None


def node_env():
    """The environment for the .mjs runners: they load the WebAssembly build from node_modules()."""
    found = node_modules()
    if found is None:
        raise SetupError(
            "the MicroPython WebAssembly build (%s) is missing: run `make setup` in a checkout, "
            "or `npm install %s@1.27.0` and point %s at that node_modules"
            % (WASM_PACKAGE, WASM_PACKAGE, NODE_MODULES_ENV))
    return dict(os.environ, **{NODE_MODULES_ENV: str(found)})
