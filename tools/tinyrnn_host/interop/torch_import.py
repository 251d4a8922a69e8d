"""PyTorch <-> tinyrnn weights files.

    tinyrnn import-torch model.pt model.bin --head-act identity [--kind gru]
                         [--rnn-prefix rnn.] [--linear-prefix fc.]
    tinyrnn export-torch model.bin model.pt [--rnn-prefix rnn.] [--linear-prefix fc.]

What maps: one nn.RNN (tanh) / nn.LSTM / nn.GRU of any depth (bias=True, one direction,
no proj_size), or several of them chained (an nn.ModuleList, or one --rnn-prefix each, in
order), then optionally one nn.Linear whose activation you name (a state_dict does not
record it). Dense layers inside the stack have no nn.RNN counterpart and are refused.

    desc, params, report = from_state_dict(sd, head_act="identity")   # params: Q8.8 ints
    desc, params, report = from_module(model, head_act="sigmoid")     # also checks the flags
    sd = to_state_dict(desc, params, rnn_prefix="rnn.", linear_prefix="fc.")  # floats = q / 256

Quantisation is round half up, floor(x * 256 + 1/2), saturated to int16 (docs/arithmetic.md 1).
"""
import re
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from . import weights_io

GATES = {"elman": 1, "gru": 3, "lstm": 4}
KIND_OF_GATES = {g: k for k, g in GATES.items()}
TORCH_CLASS = {"elman": "nn.RNN", "gru": "nn.GRU", "lstm": "nn.LSTM"}
HEAD_ACTS = ("identity", "sigmoid", "tanh", "softmax")
STEMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
Q_MIN, Q_MAX, ONE = -32768, 32767, 256


class TorchImportError(ValueError):
    """The PyTorch model or file cannot become a tinyrnn model; the message says why."""


# ---------------------------------------------------------------- quantisation

def quantise(x):
    """Float array -> (Q8.8 int64 array, count saturated, max |q/256 - x|)."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise TorchImportError("holds NaN or infinite values")
    raw = np.floor(x * ONE + 0.5)                       # round half up
    saturated = int(((raw < Q_MIN) | (raw > Q_MAX)).sum())
    q = np.clip(raw, Q_MIN, Q_MAX).astype(np.int64)     # saturate, never wrap
    err = float(np.abs(q / ONE - x).max(initial=0.0))
    return q, saturated, err


# ---------------------------------------------------------------- PyTorch -> tinyrnn

def _array(state_dict, key):
    v = state_dict[key]
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().to(torch.float64).numpy()
    return np.asarray(v, dtype=np.float64)


def _shape(state_dict, key):
    return tuple(np.shape(state_dict[key]))


def _dotted(state_dict, prefix, suffix):
    """Accept 'rnn' for 'rnn.' (the dot is easy to forget)."""
    if prefix and not prefix.endswith(".") and prefix + suffix not in state_dict and \
            prefix + "." + suffix in state_dict:
        return prefix + "."
    return prefix


def find_rnn_prefixes(keys):
    """The prefixes p with p + 'weight_ih_l0' in keys, in stack order.

    One module: its prefix. Several: only when they are one ModuleList ('rnns.0.', 'rnns.1.', ...),
    whose indices give the order; otherwise the order is the user's to give."""
    found = sorted(k[:-len("weight_ih_l0")] for k in keys if k.endswith("weight_ih_l0"))
    if not found:
        raise TorchImportError("no recurrent layer found: no key ends in 'weight_ih_l0' "
                               "(an nn.RNN/LSTM/GRU state_dict has weight_ih_l0, weight_hh_l0, ...)")
    if len(found) == 1:
        return found
    m = [re.fullmatch(r"(.*?)(\d+)\.", p) for p in found]
    if all(m) and len({x.group(1) for x in m}) == 1:
        return [x.group(0) for x in sorted(m, key=lambda x: int(x.group(2)))]
    raise TorchImportError("several recurrent modules (%s) and no way to tell their order: "
                           "give --rnn-prefix once per module, in order" % ", ".join(repr(p) for p in found))


def read_rnn(state_dict, prefix, kind=None):
    """One nn.RNN/LSTM/GRU's tensors -> (kind, input size, hidden size, [{stem: key}] per layer)."""
    keys = [k for k in state_dict if k.startswith(prefix)]
    if any("_reverse" in k[len(prefix):] for k in keys):
        raise TorchImportError("%s: bidirectional=True is not supported (tinyrnn runs forward in time only)"
                               % (prefix or "the recurrent module"))
    if any(k[len(prefix):].startswith("weight_hr_l") for k in keys):
        raise TorchImportError("%s: an LSTM with proj_size > 0 is not supported (weight_hr_l* found)"
                               % (prefix or "the recurrent module"))
    n_layers = 0
    while prefix + "weight_ih_l%d" % n_layers in state_dict:
        n_layers += 1
    if n_layers == 0:
        raise TorchImportError("no key %rweight_ih_l0 in the state_dict" % prefix)
    layers, n_in, hidden = [], None, None
    for l in range(n_layers):
        names = {stem: "%s%s_l%d" % (prefix, stem, l) for stem in STEMS}
        missing = [k for k in names.values() if k not in state_dict]
        if names["bias_ih"] in missing and names["bias_hh"] in missing:
            raise TorchImportError("%s: no bias_ih_l%d / bias_hh_l%d: bias=False is not supported "
                                   "(tinyrnn keeps both bias vectors)" % (prefix or "the recurrent module", l, l))
        if missing:
            raise TorchImportError("missing keys: %s" % ", ".join(missing))
        w_hh = _shape(state_dict, names["weight_hh"])
        if len(w_hh) != 2 or w_hh[1] == 0 or w_hh[0] % w_hh[1] or w_hh[0] // w_hh[1] not in KIND_OF_GATES:
            raise TorchImportError("%s has shape %s: expected (G*H, H) with G = 1, 3 or 4 gate blocks "
                                   "(nn.RNN, nn.GRU, nn.LSTM)" % (names["weight_hh"], w_hh))
        H, gates = w_hh[1], w_hh[0] // w_hh[1]
        got = KIND_OF_GATES[gates]
        if kind is not None and got != kind:
            raise TorchImportError("%s has shape %s: %d gate block(s) of %d, so %s; --kind %s needs (%d, %d)"
                                   % (names["weight_hh"], w_hh, gates, H, TORCH_CLASS[got], kind,
                                      GATES[kind] * H, H))
        kind = got
        if l > 0 and H != hidden:
            raise TorchImportError("%s has shape %s: layer 0 of this module has hidden size %d"
                                   % (names["weight_hh"], w_hh, hidden))
        w_ih = _shape(state_dict, names["weight_ih"])
        if len(w_ih) != 2:
            raise TorchImportError("%s has shape %s: expected 2-D" % (names["weight_ih"], w_ih))
        want = {"weight_ih": (gates * H, w_ih[1] if l == 0 else H), "bias_ih": (gates * H,), "bias_hh": (gates * H,)}
        for stem, shape in want.items():
            if _shape(state_dict, names[stem]) != shape:
                raise TorchImportError("%s has shape %s; layer %d (%s, hidden %d) needs %s"
                                       % (names[stem], _shape(state_dict, names[stem]), l, kind, H, shape))
        if l == 0:
            n_in, hidden = w_ih[1], H
        layers.append(names)
    return kind, n_in, hidden, layers


def find_linear(state_dict, used, prefix=None):
    """The head's (weight key, bias key), or None when there is none; prefix=None: auto-detect."""
    if prefix is not None:
        w, b = prefix + "weight", prefix + "bias"
        if w not in state_dict:
            raise TorchImportError("no key %r: --linear-prefix %r names no nn.Linear" % (w, prefix))
        if b not in state_dict:
            raise TorchImportError("no key %r: an nn.Linear with bias=False is not supported" % b)
        return w, b
    weights = [k for k in state_dict if k.endswith("weight") and k not in used and len(_shape(state_dict, k)) == 2]
    pairs = [(w, w[:-len("weight")] + "bias") for w in weights if w[:-len("weight")] + "bias" in state_dict]
    if len(pairs) > 1:
        raise TorchImportError("several 2-D weights with a bias could be the head (%s): give --linear-prefix"
                               % ", ".join(w for w, _ in pairs))
    if pairs:
        return pairs[0]
    if weights:
        raise TorchImportError("%s has no bias next to it: an nn.Linear with bias=False is not supported"
                               % ", ".join(weights))
    return None


def from_state_dict(state_dict, head_act=None, kinds=None, rnn_prefixes=None, linear_prefix=None,
                    no_head=False, allow_extra=False):
    """A PyTorch state_dict -> (desc, params {tinyrnn name: Q8.8 int64}, report rows).

    head_act: the activation after the nn.Linear (identity, sigmoid, tanh, softmax), needed when there is one;
    kinds: None (read from the shapes), one kind for every module, or one per module;
    rnn_prefixes: None (auto-detect) or the modules' key prefixes in stack order;
    linear_prefix: None (auto-detect) or the nn.Linear's prefix; no_head: the file has no head.
    report: per tensor {"name", "key", "shape", "saturated", "max_err", "max_abs"} (max_err in value units).
    """
    if head_act is not None and head_act not in HEAD_ACTS:
        raise TorchImportError("head activation %r is not one of %s" % (head_act, ", ".join(HEAD_ACTS)))
    if isinstance(rnn_prefixes, str):
        rnn_prefixes = [rnn_prefixes]
    prefixes = find_rnn_prefixes(state_dict) if rnn_prefixes is None else \
        [_dotted(state_dict, p, "weight_ih_l0") for p in rnn_prefixes]
    if linear_prefix is not None:
        linear_prefix = _dotted(state_dict, linear_prefix, "weight")
    if kinds is None or isinstance(kinds, str):
        kinds = [kinds] * len(prefixes)
    if len(kinds) != len(prefixes):
        raise TorchImportError("%d kinds given for %d recurrent modules" % (len(kinds), len(prefixes)))
    for k in kinds:
        if k is not None and k not in GATES:
            raise TorchImportError("kind %r is not one of elman, lstm, gru" % k)
    desc = {"input": None, "layers": [], "head": None}
    sources = []                       # (tinyrnn name, state_dict key)
    size = None                        # what flows out of the stack so far
    for prefix, kind in zip(prefixes, kinds):
        kind, n_in, hidden, layers = read_rnn(state_dict, prefix, kind)
        if size is None:
            desc["input"] = n_in
        elif n_in != size:
            raise TorchImportError("%sweight_ih_l0 takes %d inputs, the module before it gives %d"
                                   % (prefix, n_in, size))
        for names in layers:
            l = len(desc["layers"])
            desc["layers"].append({"kind": kind, "hidden": hidden})
            sources += [("%s_l%d" % (stem, l), names[stem]) for stem in STEMS]
        size = hidden
    used = {key for _, key in sources}
    linear = None if no_head else find_linear(state_dict, used, linear_prefix)
    if linear is None and not no_head:
        raise TorchImportError("no nn.Linear head found (a 2-D weight and its bias besides the recurrent "
                               "tensors); pass --no-head to import the recurrent stack alone")
    if linear is not None:
        w, b = linear
        if head_act is None:
            raise TorchImportError("%s is the head: give its activation (--head-act %s); a state_dict does not "
                                   "record it" % (w, "|".join(HEAD_ACTS)))
        shape_w, shape_b = _shape(state_dict, w), _shape(state_dict, b)
        if len(shape_w) != 2 or shape_w[1] != size:
            raise TorchImportError("%s has shape %s: the head must take the %d outputs of the last recurrent "
                                   "layer, so (out, %d)" % (w, shape_w, size, size))
        if shape_b != (shape_w[0],):
            raise TorchImportError("%s has shape %s, the head needs (%d,)" % (b, shape_b, shape_w[0]))
        desc["head"] = {"out": shape_w[0], "act": head_act}
        sources += [("head.weight", w), ("head.bias", b)]
        used |= {w, b}
    extra = [k for k in state_dict if k not in used]
    if extra and not allow_extra:
        raise TorchImportError("keys that map to nothing in tinyrnn: %s (another layer tinyrnn cannot hold? "
                               "pass --allow-extra to leave them out)" % ", ".join(extra))
    params, report = {}, []
    for name, key in sources:
        params[name], row = quantise_tensor(name, key, _array(state_dict, key))
        report.append(row)
    return desc, params, report


def quantise_tensor(name, key, x):
    """One tensor -> (Q8.8 ints, its report row); `key` says where it came from (also in errors)."""
    try:
        q, sat, err = quantise(x)
    except TorchImportError as e:
        raise TorchImportError("%s %s" % (key, e))
    return q, {"name": name, "key": key, "shape": tuple(x.shape), "saturated": sat, "max_err": err,
               "max_abs": float(np.abs(x).max(initial=0.0))}


def check_module(module):
    """Refuse the recurrent-module settings a state_dict cannot show (relu) or tinyrnn cannot run."""
    for name, m in module.named_modules():
        where = name or type(m).__name__
        if isinstance(m, nn.RNNBase):
            if m.mode == "RNN_RELU":
                raise TorchImportError("%s: nn.RNN with nonlinearity='relu' is not supported (tinyrnn's Elman "
                                       "cell is tanh)" % where)
            if m.bidirectional:
                raise TorchImportError("%s: bidirectional=True is not supported (tinyrnn runs forward in time "
                                       "only)" % where)
            if getattr(m, "proj_size", 0):
                raise TorchImportError("%s: an LSTM with proj_size > 0 is not supported" % where)
            if not m.bias:
                raise TorchImportError("%s: bias=False is not supported (tinyrnn keeps both bias vectors)" % where)
        elif isinstance(m, (nn.RNNCellBase,)):
            raise TorchImportError("%s: %s cells are not supported; use nn.RNN/LSTM/GRU" % (where, type(m).__name__))


def from_module(module, head_act=None, **kw):
    """from_state_dict(module.state_dict()) after check_module(module)."""
    check_module(module)
    return from_state_dict(module.state_dict(), head_act, **kw)


def plain(text):
    """text without terminal escape codes (torch's messages carry bold on/off)."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def load_torch(path, unsafe_pickle=False):
    """A file written by torch.save -> a state_dict or an nn.Module.

    Checkpoints {'state_dict': ...} / {'model_state_dict': ...} / {'model': ...} are unwrapped.
    A pickled module loads only with unsafe_pickle=True (it runs code from the file)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not unsafe_pickle)
    except FileNotFoundError:
        raise TorchImportError("cannot open %r" % str(path))
    except Exception as e:
        if unsafe_pickle:
            raise TorchImportError("%s: torch.load failed: %s" % (path, plain(str(e))))
        raise TorchImportError("%s: not a plain state_dict (%s). Save model.state_dict() instead, or pass "
                               "--unsafe-pickle for a whole pickled module you trust"
                               % (path, plain(str(e)).strip().splitlines()[0].rstrip(" .")))
    if isinstance(obj, nn.Module):
        return obj
    if isinstance(obj, dict):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        for k in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(k)
            if isinstance(inner, nn.Module):
                return inner
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
    raise TorchImportError("%s holds a %s, not a state_dict of tensors (nor a checkpoint with one under "
                           "'state_dict', 'model_state_dict' or 'model')" % (path, type(obj).__name__))


def import_file(src, out, head_act=None, unsafe_pickle=False, **kw):
    """torch.save'd file -> tinyrnn weights file; returns (desc, params, report)."""
    obj = load_torch(src, unsafe_pickle)
    if isinstance(obj, nn.Module):
        desc, params, report = from_module(obj, head_act, **kw)
    else:
        desc, params, report = from_state_dict(obj, head_act, **kw)
    weights_io.save(desc, params, out)
    return desc, params, report


def format_report(report):
    """The per-tensor table: name, PyTorch key, shape, saturated count, max |quantisation error|."""
    lines = ["%-14s %-26s %-10s %9s %12s %8s" % ("tensor", "from", "shape", "saturated", "max |err|", "LSB")]
    for r in report:
        lines.append("%-14s %-26s %-10s %9d %12.6f %8.3f" % (
            r["name"], r["key"], "x".join(map(str, r["shape"])), r["saturated"], r["max_err"], r["max_err"] * ONE))
    n_sat = sum(r["saturated"] for r in report)
    if n_sat:
        worst = max(report, key=lambda r: r["max_abs"])
        lines.append("warning: %d value(s) saturated: Q8.8 holds [-128, 127.996], %s reaches %.3f; the board "
                     "model will differ (train with weight decay or clipping)"
                     % (n_sat, worst["key"], worst["max_abs"]))
    return "\n".join(lines)


# ---------------------------------------------------------------- tinyrnn -> PyTorch

def runs(desc):
    """Group the stack into torch modules: consecutive recurrent layers of one kind and hidden size.
    [{"kind", "input", "hidden", "layers": [tinyrnn layer indices]}]; dense layers are refused."""
    out, size = [], desc["input"]
    for l, d in enumerate(desc["layers"]):
        if d["kind"] == "dense":
            raise TorchImportError("layer %d is a dense layer inside the stack: nn.RNN/LSTM/GRU + nn.Linear has "
                                   "no place for it" % l)
        if out and out[-1]["kind"] == d["kind"] and out[-1]["hidden"] == d["hidden"]:
            out[-1]["layers"].append(l)
        else:
            out.append({"kind": d["kind"], "input": size, "hidden": d["hidden"], "layers": [l]})
        size = d["hidden"]
    if not out:
        raise TorchImportError("the model has no recurrent layer")
    return out


def module_prefixes(desc, rnn_prefix="rnn."):
    """One key prefix per torch module: rnn_prefix itself for one module, rnn_prefix + 'm.' for several
    (an nn.ModuleList), or a list given by the caller."""
    groups = runs(desc)
    if isinstance(rnn_prefix, str):
        if len(groups) == 1:
            return [rnn_prefix]
        return ["%s%d." % (rnn_prefix, m) for m in range(len(groups))]
    prefixes = list(rnn_prefix)
    if len(prefixes) != len(groups):
        raise TorchImportError("the stack needs %d torch modules (%s), %d prefixes given" % (
            len(groups), ", ".join("%s %d x%d" % (TORCH_CLASS[g["kind"]], g["hidden"], len(g["layers"]))
                                   for g in groups), len(prefixes)))
    return prefixes


def to_state_dict(desc, params, rnn_prefix="rnn.", linear_prefix="fc.", dtype=torch.float32):
    """Q8.8 params -> an OrderedDict of float tensors (q / 256, exact in float32) in PyTorch's naming."""
    sd = OrderedDict()
    for group, prefix in zip(runs(desc), module_prefixes(desc, rnn_prefix)):
        for k, l in enumerate(group["layers"]):
            for stem in STEMS:
                sd["%s%s_l%d" % (prefix, stem, k)] = torch.as_tensor(
                    np.asarray(params["%s_l%d" % (stem, l)], dtype=np.float64) / ONE, dtype=dtype)
    if desc.get("head") is not None:
        for stem in ("weight", "bias"):
            sd[linear_prefix + stem] = torch.as_tensor(np.asarray(params["head." + stem], dtype=np.float64) / ONE,
                                                       dtype=dtype)
    return sd


def torch_modules(desc, dtype=torch.float32):
    """Fresh torch modules for desc: ([nn.RNN/LSTM/GRU per group], nn.Linear or None)."""
    cls = {"elman": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
    rnns = [cls[g["kind"]](g["input"], g["hidden"], num_layers=len(g["layers"]), batch_first=True, dtype=dtype)
            for g in runs(desc)]
    head = desc.get("head")
    linear = None if head is None else nn.Linear(desc["layers"][-1]["hidden"], head["out"], dtype=dtype)
    return rnns, linear


def export_file(src, out, rnn_prefix="rnn.", linear_prefix="fc.", dtype=torch.float32):
    """tinyrnn weights file -> torch.save'd state_dict; returns (desc, state_dict)."""
    desc, params = weights_io.load(src)
    sd = to_state_dict(desc, params, rnn_prefix, linear_prefix, dtype)
    torch.save(sd, out)
    return desc, sd


# ---------------------------------------------------------------- measured error

def sine_inputs(seed, batch, steps, n_in):
    """(B,T,I) Q8.8 ints: sines of random frequency and phase, amplitude 1 (exact in Q8.8 and float)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :, None]
    freq = rng.uniform(0.02, 0.3, (batch, 1, n_in))
    phase = rng.uniform(0, 2 * np.pi, (batch, 1, n_in))
    return np.floor(256 * np.sin(2 * np.pi * freq * t + phase) + 0.5).astype(np.int64)


def torch_output_error(kind, hidden, n_layers=1, head_act="identity", scale=1.0, seed=0, batch=32, steps=100):
    """|Q8.8 model (mirror) - the ORIGINAL float PyTorch model| in LSB of the output: (max, mean).

    PyTorch's default init (times scale for the recurrent weights), input 2, nn.Linear(hidden, 1);
    both see the same inputs (Q8.8 values), so the gap is weight quantisation plus Q8.8 arithmetic."""
    from ..mirror.model import Model
    torch.manual_seed(seed)
    cls = {"elman": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
    rnn = cls(2, hidden, num_layers=n_layers, batch_first=True, dtype=torch.float64)
    fc = nn.Linear(hidden, 1, dtype=torch.float64)
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(scale)
    sd = OrderedDict([("rnn." + k, v) for k, v in rnn.state_dict().items()] +
                     [("fc." + k, v) for k, v in fc.state_dict().items()])
    desc, params, _ = from_state_dict(sd, head_act)
    xq = sine_inputs(seed, batch, steps, 2)                      # (B,T,2)
    with torch.no_grad():
        a = fc(rnn(torch.as_tensor(xq / ONE))[0])                # (B,T,1)
        y = {"identity": a, "sigmoid": torch.sigmoid(a), "tanh": torch.tanh(a)}[head_act].numpy()
    yq, _ = Model(desc, params=params, batch=batch).run(xq)      # (B,T,1) Q8.8
    err = np.abs(yq - ONE * y)
    return float(err.max()), float(err.mean())


ERROR_TABLE = [(k, h, n, s) for s in (1.0, 3.0) for k in ("elman", "gru", "lstm")
               for h, n in ((8, 1), (32, 1), (64, 1), (32, 2))]


def print_error_table(seeds=(0, 1, 2)):
    print("Q8.8 model vs the original float PyTorch model (weights quantised by this tool), "
          "input 2 -> cell -> linear 1, 32 x 100 steps of sines; the worst of %d seeds" % len(seeds))
    print("%-6s %6s %6s %12s %14s %15s" % ("cell", "hidden", "layers", "init scale", "max err (LSB)",
                                           "mean err (LSB)"))
    for kind, hidden, n_layers, scale in ERROR_TABLE:
        errs = [torch_output_error(kind, hidden, n_layers, scale=scale, seed=s) for s in seeds]
        print("%-6s %6d %6d %12s %14.2f %15.3f" % (kind, hidden, n_layers, "%gx" % scale,
                                                   max(e[0] for e in errs), max(e[1] for e in errs)))


# ---------------------------------------------------------------- command line

def describe(desc):
    parts = ["in %d" % desc["input"]] + ["%s %d" % (d["kind"], d["hidden"]) for d in desc["layers"]]
    if desc.get("head") is not None:
        parts.append("linear %d %s" % (desc["head"]["out"], desc["head"]["act"]))
    return " -> ".join(parts)


def import_command(src, out, head_act=None, kind=None, rnn_prefix=None, linear_prefix=None, no_head=False,
                   allow_extra=False, unsafe_pickle=False):
    """`tinyrnn import-torch`: a torch.save'd state_dict (or module) -> weights file; exit code."""
    kinds = None if kind is None else (kind.split(",") if "," in kind else kind)
    try:
        desc, params, report = import_file(src, out, head_act, unsafe_pickle=unsafe_pickle, kinds=kinds,
                                           rnn_prefixes=rnn_prefix, linear_prefix=linear_prefix,
                                           no_head=no_head, allow_extra=allow_extra)
    except (TorchImportError, weights_io.WeightsError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print(format_report(report))
    n = sum(int(np.prod(r["shape"])) for r in report)
    print("wrote %s: %s, %d parameters, CRC32 0x%08x" % (out, describe(desc), n, weights_io.file_crc(out)))
    return 0


def export_command(src, out, rnn_prefix=None, linear_prefix="fc.", float64=False):
    """`tinyrnn export-torch`: weights file -> torch.save'd state_dict (floats = q / 256); exit code."""
    prefix = "rnn." if rnn_prefix is None else (rnn_prefix[0] if len(rnn_prefix) == 1 else rnn_prefix)
    try:
        desc, sd = export_file(src, out, prefix, linear_prefix, torch.float64 if float64 else torch.float32)
    except (TorchImportError, weights_io.WeightsError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %s" % (out, describe(desc)))
    for k, v in sd.items():
        print("  %-24s %s" % (k, "x".join(map(str, v.shape))))
    return 0
