"""Keras 3 import (interop/keras_import.py, `tinyrnn import-keras`), on Keras's PyTorch backend.

The layouts are checked against PyTorch itself: the imported Q8.8 weights, put back as floats
into a Keras model and into PyTorch modules (torch_import.torch_modules), give the same float
outputs, so the gate reordering (GRU z, r, h -> r, z, n) and the bias rows are PyTorch's. The
round trip runs the written file on MicroPython (the unix port): its outputs equal the mirror's
and stay within the measured Keras-vs-board error. The seed tutorial's layer sizes give its
parameter counts. Everything the importer cannot map is refused, and no file is written."""
import json
import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
import torch  # noqa: E402

from tinyrnn_host import cli  # noqa: E402
from tinyrnn_host.board import mpunix  # noqa: E402
from tinyrnn_host.interop import keras_import as ki  # noqa: E402
from tinyrnn_host.interop import torch_import, weights_io  # noqa: E402
from tinyrnn_host.mirror.model import Model  # noqa: E402

L = keras.layers
# measured by `tinyrnn keras-error` (worst of 3 seeds, hidden 16): SimpleRNN 7.25, LSTM 2.42,
# GRU 2.70 LSB; Keras's orthogonal recurrent init keeps an Elman cell's errors longer
BOUND_LSB = {"SimpleRNN": 10.0, "LSTM": 4.0, "GRU": 4.0}


def tinyrnn(*argv, capsys):
    """The `tinyrnn` command in this process (Keras and PyTorch are imported once): (exit code, stdout)."""
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().out


def seq(*layers, n_in=3):
    return keras.Sequential([keras.Input((None, n_in))] + list(layers))


def model_of(cls, seed):
    keras.utils.set_random_seed(seed)
    return seq(getattr(L, cls)(8, return_sequences=True), getattr(L, cls)(6), L.Dense(4, activation="tanh"))


def test_the_keras_backend_is_pytorch():
    assert keras.backend.backend() == "torch" and keras.__version__ == "3.15.1"


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_layouts_equal_pytorchs(cls):
    """Keras with the quantised weights (q / 256) == the PyTorch modules built from the imported file."""
    m = model_of(cls, 1)
    desc, params, _ = ki.from_model(m)
    # the same floats back into Keras, layer by layer, through the importer's inverse layout
    for layer, l in zip([x for x in m.layers if type(x).__name__ == cls], range(2)):
        w = [v.copy() for v in layer.get_weights()]
        kind = ki.KINDS[cls]
        perm = [ki.TORCH_GATES[kind].index(g) for g in ki.KERAS_GATES[kind]]    # PyTorch block per Keras block
        H = w[1].shape[0]

        def back(a):
            blocks = np.split(np.asarray(a, np.float64) / 256.0, len(perm), axis=0)
            return np.concatenate([blocks[p] for p in perm], axis=0)
        w[0] = back(params["weight_ih_l%d" % l]).T
        w[1] = back(params["weight_hh_l%d" % l]).T
        if cls == "GRU":
            w[2] = np.stack([back(params["bias_ih_l%d" % l]), back(params["bias_hh_l%d" % l])])
        else:
            assert not params["bias_hh_l%d" % l].any()                          # one Keras bias: bias_hh = 0
            w[2] = back(params["bias_ih_l%d" % l])
        assert w[1].shape == (H, len(perm) * H)
        layer.set_weights(w)
    dense = m.layers[-1]
    dense.set_weights([params["head.weight"].T / 256.0, params["head.bias"] / 256.0])
    mods, lin = torch_import.torch_modules(desc, dtype=torch.float64)
    sd = torch_import.to_state_dict(desc, params, rnn_prefix="rnn.", linear_prefix="fc.", dtype=torch.float64)
    x = np.random.default_rng(2).uniform(-1, 1, (5, 7, 3))
    with torch.no_grad():
        h = torch.from_numpy(x)
        for i, mod in enumerate(mods):
            prefix = "rnn.%d." % i if len(mods) > 1 else "rnn."
            mod.load_state_dict({k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)})
            h, _ = mod(h)
        lin.load_state_dict({"weight": sd["fc.weight"], "bias": sd["fc.bias"]})
        y_torch = torch.tanh(lin(h[:, -1])).numpy()
    y_keras = np.asarray(keras.ops.convert_to_numpy(m(x.astype(np.float32))), np.float64)
    assert np.abs(y_keras - y_torch).max() < 1e-5                            # float32 Keras vs float64 torch


def run_on_board(path, xq):
    """The weights file on the unix port: every step's output of every sequence."""
    script = r"""
import json
from tinyrnn import weights
m = weights.load("m.bin")
out = []
for xs in XS:
    m.reset()
    out.append([list(m.step(x)) for x in xs])
print(json.dumps(out))
""".replace("XS", json.dumps(xq.tolist()))
    res = mpunix.run_unix(script, heap_bytes=262144, files={"m.bin": path.read_bytes()})
    return np.array(json.loads(res.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
def test_import_keras_round_trip_on_the_board(tmp_path, capsys, cls):
    m = model_of(cls, 3)
    src, out = tmp_path / "m.keras", tmp_path / "m.bin"
    m.save(src)
    code, stdout = tinyrnn("import-keras", src, out, capsys=capsys)
    assert code == 0, stdout
    assert "Keras float vs the board's Q8.8 after import" in stdout and "LSB" in stdout
    assert "weight_ih_l0" in stdout                                         # the rounding report
    f = weights_io.read(out)
    kind = ki.KINDS[cls]
    assert f.desc == {"input": 3, "layers": [{"kind": kind, "hidden": 8}, {"kind": kind, "hidden": 6}],
                      "head": {"out": 4, "act": "tanh"}}
    xq = torch_import.sine_inputs(4, 3, 12, 3)
    board = run_on_board(out, xq)
    mirror, _ = Model(f.desc, params=f.params, batch=3).run(xq)
    assert board.tolist() == mirror.tolist()                                  # the board == the mirror, bit for bit
    yk = ki.keras_outputs(keras.saving.load_model(src), xq)                   # Keras's own file, float
    err = np.abs(board - yk * 256.0)
    assert err.max() <= BOUND_LSB[cls], err.max()
    assert err.mean() < 1.5
    printed = float(re.search(r"steps: max ([0-9.]+) LSB", stdout).group(1))
    assert 0 < printed <= BOUND_LSB[cls]


def test_the_seed_tutorials_layers_have_its_parameter_counts():
    """The Keras tutorial in the seeds: input (256, 256), two recurrent layers of 32, Dense 32, Dense 10."""
    def counts(rnn, **kw):
        m = seq(rnn(32, return_sequences=True, **kw), rnn(32, return_sequences=True, **kw),
                L.TimeDistributed(L.Dense(32)), L.Dropout(0.5), L.TimeDistributed(L.Dense(10)),
                L.Activation("sigmoid"), n_in=256)
        return [x.count_params() for x in m.layers if x.count_params()], m
    assert counts(L.SimpleRNN)[0] == [9248, 2080, 1056, 330]
    assert counts(L.LSTM)[0] == [36992, 8320, 1056, 330]
    assert counts(L.GRU, reset_after=False)[0] == [27744, 6240, 1056, 330]   # the tutorial's Keras 2 GRU
    assert counts(L.GRU)[0] == [27840, 6336, 1056, 330]                      # Keras 3: reset_after=True
    # the same stack at 64 input features (a row of 256 + 32 terms is past the board's 255) imports
    # whole: tinyrnn keeps a second bias vector, zero for SimpleRNN and LSTM
    for rnn, extra in ((L.SimpleRNN, 1), (L.LSTM, 4), (L.GRU, 0)):
        m = seq(rnn(32, return_sequences=True), rnn(32, return_sequences=True), L.TimeDistributed(L.Dense(32)),
                L.Dropout(0.5), L.TimeDistributed(L.Dense(10)), L.Activation("sigmoid"), n_in=64)
        desc, params, _ = ki.from_model(m)
        assert desc["layers"][2] == {"kind": "dense", "out": 32, "act": "identity"}
        assert desc["head"] == {"out": 10, "act": "sigmoid"}
        assert sum(v.size for v in params.values()) == m.count_params() + 2 * extra * 32
    with pytest.raises(ki.KerasImportError, match="reset_after=False"):
        ki.from_model(counts(L.GRU, reset_after=False)[1])


def test_the_seed_tutorials_256_inputs_are_refused_as_too_wide(tmp_path):
    m = seq(L.LSTM(32, return_sequences=True), L.TimeDistributed(L.Dense(10)), n_in=256)
    src, out = tmp_path / "seed.keras", tmp_path / "seed.bin"
    m.save(src)
    with pytest.raises(ki.KerasImportError, match="does not fit tinyrnn.*255"):
        ki.import_file(src, out)
    assert not out.exists()


REFUSED = [
    (lambda: seq(L.GRU(4, reset_after=False), L.Dense(2)), "reset_after=False"),
    (lambda: seq(L.Bidirectional(L.LSTM(4)), L.Dense(2)), "Bidirectional"),
    (lambda: seq(L.LSTM(4), L.RepeatVector(5), L.LSTM(3), L.Dense(2)), "RepeatVector .*return_sequences=False"),
    (lambda: seq(L.SimpleRNN(4, activation="relu"), L.Dense(2)), "activation='relu'"),
    (lambda: seq(L.LSTM(4, recurrent_activation="hard_sigmoid"), L.Dense(2)), "recurrent_activation='hard_sigmoid'"),
    (lambda: seq(L.GRU(4, activation="sigmoid"), L.Dense(2)), "activation='sigmoid'"),
    (lambda: seq(L.LSTM(4), L.Dense(2, activation="relu")), "Dense activation 'relu'"),
    (lambda: seq(L.GRU(4), L.Dense(2), L.Activation("relu")), r"Activation\('relu'\)"),
    (lambda: seq(L.LSTM(4, go_backwards=True), L.Dense(2)), "go_backwards=True"),
    (lambda: seq(L.Conv1D(4, 3), L.GRU(4), L.Dense(2)), "Conv1D layer has no tinyrnn counterpart"),
    (lambda: seq(L.Dense(4), L.GRU(3)), "Dense layer before the first recurrent"),
    (lambda: seq(L.Dense(4)), "no SimpleRNN, LSTM or GRU"),
]


@pytest.mark.parametrize("make,message", REFUSED, ids=[m for _, m in REFUSED])
def test_what_cannot_map_is_refused(tmp_path, make, message):
    m = make()
    with pytest.raises(ki.KerasImportError, match=message):
        ki.from_model(m)


def test_the_command_refuses_clearly_and_writes_nothing(tmp_path, capsys):
    src, out = tmp_path / "bad.keras", tmp_path / "bad.bin"
    seq(L.GRU(4, reset_after=False), L.Dense(2)).save(src)
    code, stdout = tinyrnn("import-keras", src, out, capsys=capsys)
    assert code == 2 and "GRU(reset_after=False) is not supported" in stdout and not out.exists()
    i = keras.Input((None, 3))
    with pytest.raises(ki.KerasImportError, match="only keras.Sequential"):
        ki.from_model(keras.Model(i, L.Dense(2)(L.GRU(4)(i))))
    with pytest.raises(ki.KerasImportError, match="cannot open"):
        ki.load(tmp_path / "absent.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ki.KerasImportError, match="keras could not load it"):
        ki.load(tmp_path / "junk.keras")
