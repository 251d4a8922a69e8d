"""PyTorch <-> reference: build torch modules from a description and move parameters both ways.

Only tests and import tools need this; the reference itself never imports torch.
"""
import numpy as np
import torch
from torch import nn

from .model import check_params, layers

TORCH_CELLS = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TORCH_ACTIVATIONS = {
    "identity": lambda a: a,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda a: torch.softmax(a, dim=-1),
}


def runs(desc):
    """Group layers into torch modules: consecutive layers of one kind and one hidden size share one."""
    groups = []
    for l, (kind, I, H) in enumerate(layers(desc)):
        if groups and groups[-1]["kind"] == kind and groups[-1]["hidden"] == H:
            groups[-1]["layers"].append(l)
        else:
            groups.append({"kind": kind, "input": I, "hidden": H, "layers": [l]})
    return groups


def torch_names(desc):
    """Map each reference parameter name to its name in TorchModel(desc).state_dict()."""
    names = {}
    for m, run in enumerate(runs(desc)):
        for k, l in enumerate(run["layers"]):
            for stem in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                names["%s_l%d" % (stem, l)] = "rnns.%d.%s_l%d" % (m, stem, k)
    if desc.get("head") is not None:
        names["head.weight"] = "head.weight"
        names["head.bias"] = "head.bias"
    return names


class TorchModel(nn.Module):
    """A description as torch modules: nn.RNN/LSTM/GRU (batch_first) per run of layers, then nn.Linear."""

    def __init__(self, desc, dtype=torch.float64):
        super().__init__()
        self.desc = desc
        self.runs = runs(desc)
        self.rnns = nn.ModuleList(
            TORCH_CELLS[r["kind"]](r["input"], r["hidden"], num_layers=len(r["layers"]), batch_first=True, dtype=dtype)
            for r in self.runs)
        head = desc.get("head")
        self.head = None if head is None else nn.Linear(desc["layers"][-1]["hidden"], head["out"], dtype=dtype)
        self.act = None if head is None else TORCH_ACTIVATIONS[head.get("act", "identity")]

    def forward(self, xs, state=None):
        """xs (B,T,I), state per layer (h, or (h, c) for an LSTM) or None -> ys (B,T,O), final state per layer."""
        h, final = xs, []
        for run, rnn in zip(self.runs, self.rnns):
            s0 = None
            if state is not None:
                s = [state[l] for l in run["layers"]]
                # torch wants h0 (and c0) as (num_layers, B, H)
                s0 = (torch.stack([h for h, _ in s]), torch.stack([c for _, c in s])) if run["kind"] == "lstm" \
                    else torch.stack(s)
            h, s_n = rnn(h, s0)
            for k in range(len(run["layers"])):
                final.append((s_n[0][k], s_n[1][k]) if run["kind"] == "lstm" else s_n[k])
        if self.head is not None:
            h = self.act(self.head(h))
        return h, final


def to_torch(desc, params, dtype=torch.float64):
    """Build TorchModel(desc) and copy params into it by name."""
    check_params(desc, params)
    model = TorchModel(desc, dtype=dtype)
    with torch.no_grad():
        for name, torch_name in torch_names(desc).items():
            model.get_parameter(torch_name).copy_(torch.as_tensor(np.asarray(params[name])))
    return model


def params_from_state_dict(desc, state_dict):
    """Pull a torch state_dict into a reference params dict (float64 NumPy).

    Keys may be the reference's own names (a plain nn.GRU's state_dict plus head.weight/head.bias)
    or TorchModel(desc)'s.
    """
    params = {}
    for name, torch_name in torch_names(desc).items():
        key = name if name in state_dict else torch_name
        if key not in state_dict:
            raise KeyError("state_dict has neither %s nor %s" % (name, torch_name))
        params[name] = state_dict[key].detach().cpu().to(torch.float64).numpy().copy()
    check_params(desc, params)
    return params


def to_tensors(tree, dtype=torch.float64):
    """NumPy arrays -> torch tensors, through lists and tuples (states); None stays None."""
    if tree is None:
        return None
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_tensors(x, dtype) for x in tree)
    return torch.as_tensor(np.asarray(tree), dtype=dtype)


def to_numpy(tree):
    """Torch tensors -> float64 NumPy arrays, through lists and tuples (states); None stays None."""
    if tree is None:
        return None
    if isinstance(tree, (list, tuple)):
        return type(tree)(to_numpy(x) for x in tree)
    return tree.detach().cpu().to(torch.float64).numpy()
