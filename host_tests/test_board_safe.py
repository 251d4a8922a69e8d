"""lib/ is board code: MicroPython built-ins only, integer only, no float anywhere."""
import ast
import pathlib

import pytest

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "tinyrnn"
BOARD_MODULES = {"array", "gc", "struct", "sys", "micropython", "os", "binascii", "errno", "io", "time"}
FILES = sorted(LIB.glob("*.py"))
# native code lives only in the fast-path modules, imported by kernels.py under try/except
FAST_PATH = {"_viper.py", "_viper_train.py"}


def problems(path):
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        where = "%s:%d" % (path.name, getattr(node, "lineno", 0))
        if isinstance(node, ast.Constant) and isinstance(node.value, (float, complex)):
            found.append(where + " float literal")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
            found.append(where + " true division '/'")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("float", "round", "complex"):
            found.append(where + " %s() call" % node.func.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("math", "cmath", "random"):
            found.append(where + " %s.%s" % (node.value.id, node.attr))
        elif isinstance(node, ast.Import):
            found += [where + " imports " + a.name for a in node.names
                      if a.name.split(".")[0] not in BOARD_MODULES | {"tinyrnn"}]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module.split(".")[0] not in BOARD_MODULES | {"tinyrnn"}:
                found.append(where + " imports from " + node.module)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                isinstance(d, ast.Attribute) and d.attr in ("viper", "native") for d in node.decorator_list):
            if path.name not in FAST_PATH:
                found.append(where + " viper/native outside a fast-path module")
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and (node.module or "").startswith("_viper"):
            if path.name not in FAST_PATH | {"kernels.py"}:
                found.append(where + " imports a fast-path module outside kernels.py")
    return found


def test_lib_has_files():
    assert {"q88.py", "act.py", "rng.py", "_tables.py"} <= {f.name for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_board_safe(path):
    assert problems(path) == []


def test_scanner_catches_violations(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import math\nimport numpy\nx = 1.5\ny = 3 / 2\nz = float(2)\nw = math.sqrt(2)\n")
    found = " ".join(problems(bad))
    for what in ("imports math", "imports numpy", "float literal", "true division", "float() call", "math.sqrt"):
        assert what in found
    bad.write_text("import micropython\nfrom ._viper import gru_step\n@micropython.viper\ndef f(a: int) -> int:\n    return a\n")
    found = " ".join(problems(bad))
    assert "viper/native outside a fast-path module" in found and "imports a fast-path module" in found
