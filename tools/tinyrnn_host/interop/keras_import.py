"""Keras 3 -> tinyrnn weights files, on Keras's PyTorch backend (no TensorFlow).

    tinyrnn import-keras model.keras model.bin

    desc, params, report = from_model(model)        # a keras.Sequential; params: Q8.8 ints
    desc, params, report = import_file("model.keras", "model.bin")

What maps, in a Sequential model: SimpleRNN (tanh), LSTM (tanh / sigmoid), GRU (tanh / sigmoid,
reset_after=True) of any depth, Dense layers (linear, sigmoid, tanh, softmax; also inside
TimeDistributed, or followed by an Activation layer), Dropout (nothing at inference). The last
Dense is the head. A recurrent layer with return_sequences=True feeds the next layer every step,
as tinyrnn does; the last one may have either (tinyrnn's output at the last step is Keras's output
without sequences). Everything else is refused with a TinyImportError naming the layer: other
activations, reset_after=False, go_backwards, stateful, Bidirectional, a single vector fed on
(RepeatVector after return_sequences=False), other layer types.

Layouts (Keras stores kernels (inputs, units * gates), PyTorch (gates * units, inputs)):
  SimpleRNN  kernel, recurrent_kernel, bias (H,)      -> bias_ih = bias, bias_hh = 0
  LSTM       gates i, f, c, o (PyTorch's i, f, g, o), one bias (4H,) -> bias_ih, bias_hh = 0
  GRU        gates z, r, h (PyTorch: r, z, n): the blocks are reordered; reset_after=True is
             PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); bias (2, 3H): the input
             row then the recurrent row (one row: the recurrent bias is 0)
  Dense      kernel (I, O), bias (O,)                 -> weight = kernel.T
Quantisation as import-torch: round half up, saturated (torch_import.quantise, format_report).
"""
import os

import numpy as np

from ..mirror.model import param_shapes
from . import torch_import, weights_io

os.environ.setdefault("KERAS_BACKEND", "torch")

PACKAGE = "keras==3.15.1"
ACTS = {"linear": "identity", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}
KINDS = {"SimpleRNN": "elman", "LSTM": "lstm", "GRU": "gru"}
KERAS_GATES = {"elman": "h", "lstm": "ifco", "gru": "zrh"}
TORCH_GATES = {"elman": "h", "lstm": "ifco", "gru": "rzh"}     # PyTorch's order, in Keras's letters


class KerasImportError(ValueError):
    """The Keras model cannot become a tinyrnn model (or not exactly); the message says why."""


def keras():
    try:
        import keras as k
    except ImportError:
        raise KerasImportError("this needs Keras 3: pip install %s (make setup does it); it runs on the "
                               "PyTorch backend (KERAS_BACKEND=torch)" % PACKAGE)
    return k


def _act(value):
    """A Keras activation setting as its name ('tanh'), whatever form get_config gives it."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("config", {}).get("name", value.get("class_name", repr(value)))
    return getattr(value, "__name__", repr(value))


def _reorder(a, kind, axis):
    """Gate blocks from Keras's order to PyTorch's along axis (H per block)."""
    src, dst = KERAS_GATES[kind], TORCH_GATES[kind]
    blocks = np.split(a, len(src), axis=axis)
    return np.concatenate([blocks[src.index(g)] for g in dst], axis=axis)


def recurrent(layer, kind):
    """A Keras recurrent layer -> {weight_ih, weight_hh, bias_ih, bias_hh} float64 in PyTorch's layout."""
    c = layer.get_config()
    name = layer.name
    if _act(c.get("activation")) != "tanh":
        raise KerasImportError("%s: activation=%r is not supported (tinyrnn's cells use tanh)"
                               % (name, _act(c.get("activation"))))
    if kind != "elman" and _act(c.get("recurrent_activation")) != "sigmoid":
        raise KerasImportError("%s: recurrent_activation=%r is not supported (tinyrnn's gates are sigmoid)"
                               % (name, _act(c.get("recurrent_activation"))))
    if kind == "gru" and not c.get("reset_after", True):
        raise KerasImportError("%s: GRU(reset_after=False) is not supported: tinyrnn's GRU is PyTorch's, "
                               "reset_after=True (the reset gate applied after the recurrent matmul)" % name)
    for flag in ("go_backwards", "stateful", "return_state"):
        if c.get(flag):
            raise KerasImportError("%s: %s=True is not supported (tinyrnn steps forward through one sequence)"
                                   % (name, flag))
    w = [np.asarray(v, np.float64) for v in layer.get_weights()]
    kernel, rec = w[0], w[1]
    H, G = rec.shape[0], len(KERAS_GATES[kind])
    if kernel.shape[1] != G * H or rec.shape != (H, G * H):
        raise KerasImportError("%s: kernel %s and recurrent_kernel %s are not a %s of %d units"
                               % (name, kernel.shape, rec.shape, type(layer).__name__, H))
    bias = w[2] if c.get("use_bias", True) and len(w) > 2 else np.zeros(G * H)
    rows = bias.reshape(-1, G * H)
    if len(rows) > 2 or (len(rows) == 2 and kind != "gru"):
        raise KerasImportError("%s: a bias of shape %s; expected (%d,)%s" % (
            name, bias.shape, G * H, " or (2, %d)" % (G * H) if kind == "gru" else ""))
    b_ih = rows[0]
    b_hh = rows[1] if len(rows) == 2 else np.zeros(G * H)
    return {"weight_ih": _reorder(kernel.T, kind, 0), "weight_hh": _reorder(rec.T, kind, 0),
            "bias_ih": _reorder(b_ih, kind, 0), "bias_hh": _reorder(b_hh, kind, 0), "rows": len(rows)}


def dense(layer):
    """A Keras Dense layer -> (act name, {weight, bias}) in PyTorch's layout."""
    c = layer.get_config()
    act = _act(c.get("activation"))
    if act not in ACTS:
        raise KerasImportError("%s: Dense activation %r is not supported (tinyrnn has %s)"
                               % (layer.name, act, ", ".join(ACTS)))
    w = [np.asarray(v, np.float64) for v in layer.get_weights()]
    bias = w[1] if c.get("use_bias", True) and len(w) > 1 else np.zeros(w[0].shape[1])
    return ACTS[act], {"weight": w[0].T, "bias": bias}


def layers_of(model):
    """[(kind, keras name, settings, {PyTorch-layout arrays})] for a Sequential model, checked."""
    k = keras()
    if not isinstance(model, k.Sequential):
        raise KerasImportError("a %s: only keras.Sequential models are imported (layers in one chain)"
                               % type(model).__name__)
    out = []
    sequence = True            # what the next layer gets: a value per step, or one vector (the last step's)
    for layer in model.layers:
        cls = type(layer).__name__
        if cls == "TimeDistributed" and type(layer.layer).__name__ == "Dense":
            layer, cls = layer.layer, "Dense"
        if cls in ("InputLayer", "Dropout"):
            continue                                    # nothing at inference
        if cls in KINDS:
            kind = KINDS[cls]
            if not sequence:
                raise KerasImportError("%s gets one vector, not a sequence (an earlier layer has "
                                       "return_sequences=False): tinyrnn cannot map it" % layer.name)
            arrays = recurrent(layer, kind)
            out.append((kind, layer.name, {"hidden": arrays["weight_hh"].shape[1], "bias_rows": arrays.pop("rows")},
                        arrays))
            sequence = bool(layer.get_config().get("return_sequences"))
        elif cls == "Dense":
            act, arrays = dense(layer)
            out.append(("dense", layer.name, {"out": arrays["weight"].shape[0], "act": act}, arrays))
        elif cls == "Activation":
            act = _act(layer.get_config().get("activation"))
            if not out or out[-1][0] != "dense" or out[-1][2]["act"] != "identity" or act not in ACTS:
                raise KerasImportError("%s: Activation(%r) maps only onto a linear Dense just before it, with one "
                                       "of %s" % (layer.name, act, ", ".join(ACTS)))
            out[-1][2]["act"] = ACTS[act]
        elif cls == "RepeatVector":
            raise KerasImportError("%s: RepeatVector (after return_sequences=False) cannot map: tinyrnn feeds "
                                   "every layer the sequence step by step" % layer.name)
        elif cls == "Bidirectional":
            raise KerasImportError("%s: Bidirectional layers are not supported (tinyrnn runs forward in time "
                                   "only)" % layer.name)
        else:
            raise KerasImportError("%s: a %s layer has no tinyrnn counterpart (SimpleRNN, LSTM, GRU, Dense, "
                                   "Dropout, Activation after Dense)" % (layer.name, cls))
    if not any(kind != "dense" for kind, _, _, _ in out):
        raise KerasImportError("no SimpleRNN, LSTM or GRU layer in the model")
    if out[0][0] == "dense":
        raise KerasImportError("%s: a Dense layer before the first recurrent layer is not supported" % out[0][1])
    return out


def from_model(model):
    """A Keras Sequential -> (desc, params {tinyrnn name: Q8.8 int64}, report rows as import-torch's)."""
    stack = layers_of(model)
    n_in = stack[0][3]["weight_ih"].shape[1]
    head = stack[-1] if stack[-1][0] == "dense" else None
    body = stack[:-1] if head else stack
    desc = {"input": n_in, "layers": [], "head": None}
    sources = []                          # (tinyrnn name, keras name, array)
    for l, (kind, name, settings, arrays) in enumerate(body):
        if kind == "dense":
            desc["layers"].append({"kind": "dense", "out": settings["out"], "act": settings["act"]})
            sources += [("weight_l%d" % l, name + ".kernel", arrays["weight"]),
                        ("bias_l%d" % l, name + ".bias", arrays["bias"])]
        else:
            desc["layers"].append({"kind": kind, "hidden": settings["hidden"]})
            two = settings.get("bias_rows") == 2
            keys = {"weight_ih": "kernel", "weight_hh": "recurrent_kernel",
                    "bias_ih": "bias[0]" if two else "bias", "bias_hh": "bias[1]" if two else "(zero)"}
            sources += [("%s_l%d" % (stem, l), "%s.%s" % (name, keys[stem]), arrays[stem])
                        for stem in torch_import.STEMS]
    if head:
        _, name, settings, arrays = head
        desc["head"] = {"out": settings["out"], "act": settings["act"]}
        sources += [("head.weight", name + ".kernel", arrays["weight"]), ("head.bias", name + ".bias", arrays["bias"])]
    try:
        weights_io._check_arch(desc["input"], desc["layers"], desc["head"])      # what a board can load
    except ValueError as e:
        raise KerasImportError("the model does not fit tinyrnn: %s (at most %d inputs + hidden per row)"
                               % (str(e).replace("weights: the architecture in the file is invalid: ", ""),
                                  weights_io.MAX_ROW))
    shapes = dict(param_shapes(desc))
    params, report = {}, []
    for name, key, x in sources:
        if shapes[name] != x.shape:
            raise KerasImportError("%s has shape %s where %s needs %s" % (key, x.shape, name, shapes[name]))
        try:
            params[name], row = torch_import.quantise_tensor(name, key, x)
        except torch_import.TorchImportError as e:
            raise KerasImportError(str(e))
        report.append(row)
    return desc, params, report


def load(path):
    """A .keras file (keras.saving.save_model) -> the model."""
    k = keras()
    if not os.path.isfile(path):
        raise KerasImportError("cannot open %r" % str(path))
    try:
        return k.saving.load_model(path, compile=False)
    except Exception as e:
        raise KerasImportError("%s: keras could not load it: %s" % (path, str(e).strip().splitlines()[0]))


def import_file(src, out):
    """.keras file -> tinyrnn weights file; returns (model, desc, params, report)."""
    model = load(src)
    desc, params, report = from_model(model)
    weights_io.save(desc, params, out)
    return model, desc, params, report


def describe(desc):
    parts = ["in %d" % desc["input"]] + ["%s %d" % (d["kind"], d["hidden"]) if "hidden" in d else
                                         "dense %d %s" % (d["out"], d["act"]) for d in desc["layers"]]
    if desc.get("head") is not None:
        parts.append("head %d %s" % (desc["head"]["out"], desc["head"]["act"]))
    return " -> ".join(parts)


def keras_outputs(model, xq):
    """The Keras float model on Q8.8 inputs xq (B, T, I) ints: (B, T, O) float64, every step."""
    import torch
    k = keras()
    # a model whose last recurrent layer has return_sequences=False answers for the last step only:
    # run it on every prefix of the sequence
    last = [L for L in model.layers if type(L).__name__ in KINDS][-1]
    last_only = not last.get_config().get("return_sequences")
    x = xq / 256.0
    with torch.no_grad():
        if not last_only:
            return np.asarray(k.ops.convert_to_numpy(model(x.astype(np.float32))), np.float64)
        return np.stack([np.asarray(k.ops.convert_to_numpy(model(x[:, :t + 1].astype(np.float32))), np.float64)
                         for t in range(x.shape[1])], axis=1)


def output_error(model, desc, params, seed=0, batch=16, steps=40):
    """|board (the mirror, bit for bit) - Keras float| on sine inputs, in LSB: (max, mean, outputs)."""
    from ..mirror.model import Model
    xq = torch_import.sine_inputs(seed, batch, steps, desc["input"])
    yk = keras_outputs(model, xq)
    yq, _ = Model(desc, params=params, batch=batch).run(xq)
    d = np.abs(yq - yk * 256.0)
    return float(d.max()), float(d.mean()), yq


def import_command(src, out):
    """`tinyrnn import-keras`: .keras -> weights file, the quantisation report and the Keras-vs-board error."""
    try:
        model, desc, params, report = import_file(src, out)
    except KerasImportError as e:
        print("tinyrnn import-keras: %s" % e)
        return 2
    print("imported %s: %s" % (src, describe(desc)))
    print(torch_import.format_report(report))
    mx, mean, _ = output_error(model, desc, params)
    print("Keras float vs the board's Q8.8 after import (mirror == board bit for bit), 16 sine sequences of 40 "
          "steps: max %.2f LSB, mean %.3f LSB (1 LSB = 1/256)" % (mx, mean))
    print("wrote %s (CRC32 0x%08x)" % (out, weights_io.file_crc(out)))
    return 0


def error_model(cls, hidden=16, n_in=4, out=3, act="linear", seed=0):
    """A freshly initialised Keras Sequential: cls(hidden, return_sequences=True), Dense(out, act)."""
    k = keras()
    k.utils.set_random_seed(seed)
    return k.Sequential([k.Input((None, n_in)), getattr(k.layers, cls)(hidden, return_sequences=True),
                         k.layers.Dense(out, activation=act)])


def print_error_table(seeds=(0, 1, 2)):
    """`tinyrnn keras-error`: per layer type, the worst over seeds of max and mean |board - Keras| in LSB."""
    print("Keras float (Keras %s init, PyTorch backend) vs the board's Q8.8 after import-keras; 16 sine sequences "
          "of 40 steps, worst of %d seeds, in LSB (1/256) of the output" % (keras().__version__, len(seeds)))
    print("%-10s %-8s %-9s %10s %10s" % ("layer", "hidden", "head", "max LSB", "mean LSB"))
    for cls in ("SimpleRNN", "LSTM", "GRU"):
        for act in ("linear", "softmax"):
            worst = (0.0, 0.0)
            for seed in seeds:
                m = error_model(cls, act=act, seed=seed)
                desc, params, _ = from_model(m)
                mx, mean, _ = output_error(m, desc, params, seed=seed)
                worst = (max(worst[0], mx), max(worst[1], mean))
            print("%-10s %-8d %-9s %10.2f %10.3f" % (cls, 16, act, worst[0], worst[1]))
