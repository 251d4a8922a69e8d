"""The tables in lib/ are exactly what `tinyrnn tables` makes, and they are accurate."""
import math
import re

import numpy as np

from tinyrnn import _tables, _tables_train
from tinyrnn_host import paths
from tinyrnn_host.mirror import act
from tinyrnn_host.reports import gen_tables

LIB = paths.board_lib() / "tinyrnn"

Q = np.arange(-32768, 32768)
X = Q / 256.0


def test_lib_tables_match_generator():
    for name, values in gen_tables.make_tables().items():
        assert tuple(getattr(_tables, name)) == values, name + " in lib differs from the generator"
    assert tuple(_tables_train.NEG_LN) == gen_tables.make_train_tables()["NEG_LN"]
    assert gen_tables.render(gen_tables.make_tables()) == (LIB / gen_tables.TABLES).read_text()
    assert (gen_tables.render(gen_tables.make_train_tables(), gen_tables.TRAIN_HEADER)
            == (LIB / gen_tables.TRAIN_TABLES).read_text())


def test_generator_check_mode_passes(capsys):
    assert gen_tables.main() == 0
    out = capsys.readouterr().out
    assert "sigmoid" in out and "max err" in out
    # the README's table is what `make check-tables` prints
    import readme_figures as rf
    printed = {}
    for line in out.splitlines():
        m = re.match(r"(sigmoid|tanh|exp q<=0|exp)\s+([\d.]+)\s+-?\d+\s+([\d.]+)$", line)
        if m:
            printed[m.group(1)] = (m.group(2), m.group(3))
    names = {"sigmoid": "sigmoid", "tanh": "tanh", "exp (q <= 0, softmax domain)": "exp q<=0",
             "exp (whole range)": "exp"}
    readme = {names[r["table"]]: (r["max err (LSB)"], r["mean err (LSB)"]) for r in rf.table("table")
              if r.get("table")}
    assert readme == printed


def test_sigmoid_within_0_51_lsb():
    # measured: 0.5036 LSB at q=-599 (the 0.5 is the final rounding); the issue asks <= 2
    err = np.abs(act.sigmoid(Q) - 256.0 / (1.0 + np.exp(-X)))
    assert err.max() <= 0.51


def test_tanh_within_0_6_lsb():
    # measured: 0.5781 LSB at q=-187
    err = np.abs(act.tanh(Q) - 256.0 * np.tanh(X))
    assert err.max() <= 0.6


def test_exp_accuracy():
    true = np.minimum(256.0 * np.exp(np.minimum(X, 10.0)), 32767.0)
    err = np.abs(act.exp(Q) - true)
    # softmax domain (x <= 0, after subtracting the max): measured 0.5000 LSB
    assert err[Q <= 0].max() <= 0.51
    # whole range, up to 32767 where one input step moves the output ~128 LSB: measured 1.107 LSB
    assert err.max() <= 1.2
    # beyond the final rounding (0.5 LSB) the error is relative: measured max 2.5e-5 of the value
    assert ((err - 0.5) / np.maximum(true, 1.0)).max() < 3e-5


def test_tables_are_rounded_not_truncated():
    t = gen_tables.make_tables()
    assert t["TANH"][1] == math.floor(32768 * math.tanh(1 / 16) + 0.5)
    assert t["SIGMOID"][0] == 16384 and t["EXP2"][0] == 32768 and t["EXP2"][64] == 65536
