"""The activation tables, read as data from lib/tinyrnn/_tables.py (never imported)."""
import ast
import pathlib

import numpy as np

from ..paths import board_lib

TABLES_PY = board_lib() / "tinyrnn" / "_tables.py"


def load(path=TABLES_PY):
    """{name: int64 array} for every `NAME = array(code, bytes)` in the file (little-endian)."""
    tree = ast.parse(pathlib.Path(path).read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            code, raw = (ast.literal_eval(a) for a in node.value.args)
            out[node.targets[0].id] = np.frombuffer(raw, dtype={"H": "<u2", "i": "<i4"}[code]).astype(np.int64)
    return out


_T = load()
SIGMOID, TANH, EXP2 = _T["SIGMOID"], _T["TANH"], _T["EXP2"]
NEG_LN = load(TABLES_PY.with_name("_tables_train.py"))["NEG_LN"]
