"""The float64 reference against real PyTorch (float64): outputs and final states must agree.

torch is a test-only dependency, but a required one: a missing torch fails here, never skips.
"""
import numpy as np
import pytest
import torch
from torch import nn

from tinyrnn_host import reference
from tinyrnn_host.reference import model as reference_model
from tinyrnn_host.reference.activations import sigmoid
from tinyrnn_host.reference.torch_interop import TorchModel, params_from_state_dict, to_numpy, to_tensors, to_torch

KINDS = ["elman", "lstm", "gru"]
GATES = {"elman": 1, "lstm": 4, "gru": 3}
HEADS = [None, "identity", "sigmoid", "tanh", "softmax"]
# Weight scales, x PyTorch's init range. At 6, about half of all tanh/sigmoid outputs of an Elman
# net lie beyond 0.99 in magnitude (a quarter for LSTM/GRU). Larger scales make Elman nets chaotic:
# the last-bit differences between NumPy's and torch's BLAS sums then grow ~10x every few steps
# (up to 5.6e-5 within 50 steps at 10x), so deeper saturation is checked one step at a time instead
# (test_deep_saturation_step_by_step).
SCALES = [1.0, 3.0, 6.0]
SEEDS = range(20)

# Measured max |reference - torch| (torch 2.13.0 CPU, numpy 2.4.6): 4.4e-16 at 1x, 5.0e-15 at 3x,
# at 6x 1.3e-11 for Elman, 1.5e-13 GRU, 1.1e-14 LSTM, 8.5e-14 mixed stacks; step by step at 20x
# (55-87% of units saturated) 3.3e-14. The equation slips in the test_catches_* tests miss by 0.13+.
TOL = 1e-6


def random_desc(rng, kinds, head):
    """1..3 layers of sizes 1..32 (all one size half the time, so torch stacks them in one module)."""
    L = int(rng.integers(1, 4))
    if rng.random() < 0.5:
        hidden = [int(rng.integers(1, 33))] * L
    else:
        hidden = [int(h) for h in rng.integers(1, 33, size=L)]
    desc = {"input": int(rng.integers(1, 33)),
            "layers": [{"kind": str(rng.choice(kinds)), "hidden": h} for h in hidden],
            "head": None}
    if head is not None:
        desc["head"] = {"out": int(rng.integers(1, 33)), "act": head}
    return desc


def random_state(rng, desc, batch):
    """A nonzero initial state: h in (-1, 1) as tanh leaves it, c wider as an LSTM cell can grow."""
    state = []
    for kind, _, H in reference.layers(desc):
        h = rng.uniform(-1, 1, size=(batch, H))
        state.append((h, 3 * rng.standard_normal((batch, H))) if kind == "lstm" else h)
    return state


def max_diff(a, b):
    """Max abs difference over two equally nested lists/tuples of arrays."""
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return max(max_diff(x, y) for x, y in zip(a, b))
    assert a.shape == b.shape
    return float(np.abs(a - b).max())


def torch_run(desc, params, xs, state):
    """Run the same model in PyTorch float64; return NumPy ys and final state."""
    with torch.no_grad():
        ys, final = to_torch(desc, params)(to_tensors(xs), to_tensors(state))
    return to_numpy(ys), to_numpy(final)


def diff_vs_torch(desc, params, xs, state, torch_params=None):
    """Max abs difference between reference and torch (given torch_params, else the same params),
    over outputs and every layer's final state."""
    ys, final = reference.forward(desc, params, xs, state)
    t_ys, t_final = torch_run(desc, params if torch_params is None else torch_params, xs, state)
    assert ys.shape == t_ys.shape
    return max(max_diff(ys, t_ys), max_diff(final, t_final))


def random_case(seed, kinds, head, scale):
    rng = np.random.default_rng(seed)
    desc = random_desc(rng, kinds, head)
    params = reference.init_params(desc, rng, scale=scale)
    batch, steps = int(rng.integers(1, 9)), int(rng.integers(1, 51))
    xs = rng.standard_normal((batch, steps, desc["input"]))
    return desc, params, xs, random_state(rng, desc, batch)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
def test_matches_torch(kind, seed):
    case = random_case(1000 * KINDS.index(kind) + seed, [kind],
                       HEADS[seed % len(HEADS)], SCALES[seed % len(SCALES)])
    assert diff_vs_torch(*case) < TOL


@pytest.mark.parametrize("seed", range(10))
def test_mixed_kinds_match_torch(seed):
    case = random_case(5000 + seed, KINDS, HEADS[seed % len(HEADS)], SCALES[seed % len(SCALES)])
    assert diff_vs_torch(*case) < TOL


@pytest.mark.parametrize("act", HEADS[1:])
def test_head_alone_matches_linear(act):
    rng = np.random.default_rng(7)
    w, b, x = rng.standard_normal((5, 9)) * 4, rng.standard_normal(5), rng.standard_normal((3, 11, 9))
    y, _ = reference.dense_forward(x, w, b, act)
    linear = nn.Linear(9, 5, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(w))
        linear.bias.copy_(torch.as_tensor(b))
        a = linear(to_tensors(x))
        t_y = {"identity": a, "sigmoid": torch.sigmoid(a), "tanh": torch.tanh(a),
               "softmax": torch.softmax(a, dim=-1)}[act]
    assert max_diff(y, to_numpy(t_y)) < TOL


@pytest.mark.parametrize("kind", KINDS)
def test_params_from_plain_torch_modules(kind):
    """A user's own nn.GRU(num_layers=2) + nn.Linear state_dict maps onto the reference by name."""
    torch.manual_seed(0)
    desc = {"input": 4, "layers": [{"kind": kind, "hidden": 6}] * 2, "head": {"out": 3, "act": "tanh"}}
    rnn = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](4, 6, num_layers=2, batch_first=True,
                                                                 dtype=torch.float64)
    head = nn.Linear(6, 3, dtype=torch.float64)
    state_dict = dict(rnn.state_dict(), **{"head." + k: v for k, v in head.state_dict().items()})
    params = params_from_state_dict(desc, state_dict)
    xs = np.random.default_rng(1).standard_normal((2, 9, 4))
    with torch.no_grad():
        t_hs, _ = rnn(to_tensors(xs))
        t_ys = torch.tanh(head(t_hs))
    ys, _ = reference.forward(desc, params, xs)
    assert max_diff(ys, to_numpy(t_ys)) < TOL


def test_params_round_trip_through_torch_model():
    desc = {"input": 3, "layers": [{"kind": "lstm", "hidden": 5}, {"kind": "gru", "hidden": 4}],
            "head": {"out": 2, "act": "softmax"}}
    params = reference.init_params(desc, 3)
    back = params_from_state_dict(desc, to_torch(desc, params).state_dict())
    assert back.keys() == params.keys()
    assert all(np.array_equal(back[k], params[k]) for k in params)
    fresh = params_from_state_dict(desc, TorchModel(desc).state_dict())  # torch's own init
    xs = np.random.default_rng(4).standard_normal((3, 6, 3))
    assert diff_vs_torch(desc, fresh, xs, None) < TOL


@pytest.mark.parametrize("kind", KINDS)
def test_step_matches_forward(kind):
    desc, params, xs, state = random_case(77, [kind], "sigmoid", 1.0)
    ys, final = reference.forward(desc, params, xs, state)
    s = state
    for t in range(xs.shape[1]):
        y, s = reference.step(desc, params, xs[:, t], s)
        assert max_diff(y, ys[:, t]) < 1e-14  # BLAS may sum (B,I) and (B,T,I) matmuls in other orders
    assert max_diff(s, final) < 1e-14


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", KINDS)
def test_deep_saturation_step_by_step(kind, seed):
    """At 20x almost every unit is saturated; torch restarts from the reference's state at every step."""
    desc, params, xs, state = random_case(7000 + 100 * KINDS.index(kind) + seed, [kind], "softmax", 20.0)
    net = to_torch(desc, params)
    worst = 0.0
    for t in range(xs.shape[1]):
        y, next_state = reference.step(desc, params, xs[:, t], state)
        with torch.no_grad():
            t_y, t_state = net(to_tensors(xs[:, t:t + 1]), to_tensors(state))
        worst = max(worst, max_diff(y, to_numpy(t_y)[:, 0]), max_diff(next_state, to_numpy(t_state)))
        state = next_state
    assert worst < TOL


def test_init_params_follows_torch_ranges():
    desc = {"input": 3, "layers": [{"kind": "gru", "hidden": 16}], "head": {"out": 2, "act": "identity"}}
    params = reference.init_params(desc, 0, scale=2.0)
    assert np.abs(params["weight_hh_l0"]).max() <= 2.0 / 4
    assert np.abs(params["weight_hh_l0"]).max() > 0.9 * 2.0 / 4
    assert np.abs(params["head.bias"]).max() <= 2.0 / 4


def test_bad_description_and_params_are_named():
    with pytest.raises(ValueError, match="kind 'rnn'"):
        reference.param_shapes({"input": 2, "layers": [{"kind": "rnn", "hidden": 3}]})
    desc = {"input": 2, "layers": [{"kind": "gru", "hidden": 3}], "head": None}
    params = reference.init_params(desc, 0)
    params["weight_hh_l0"] = params["weight_hh_l0"][:, :2]
    with pytest.raises(ValueError, match="weight_hh_l0 has shape"):
        reference.forward(desc, params, np.zeros((1, 1, 2)))


# --- The comparison has teeth: plausible wrong equations are far outside TOL. ---

def teeth_cases(kind, count=5):
    """Ordinary (unsaturated) models, with nonzero initial states and several steps."""
    return [random_case(9000 + seed, [kind], None, 1.0) for seed in range(count)]


def swapped_gate_blocks(params, kind, a, b):
    """The params with gate blocks a and b exchanged: what a cell reading the wrong gate order would see."""
    out = dict(params)
    for name, p in params.items():
        if name.startswith(("weight_", "bias_")):
            idx = np.arange(p.shape[0]).reshape(GATES[kind], -1)
            idx[[a, b]] = idx[[b, a]]
            out[name] = p[idx.ravel()]
    return out


@pytest.mark.parametrize("kind, a, b", [("lstm", a, b) for a in range(4) for b in range(a + 1, 4)]
                         + [("gru", a, b) for a in range(3) for b in range(a + 1, 3)])
def test_catches_wrong_gate_order(kind, a, b):
    for desc, params, xs, state in teeth_cases(kind):
        assert diff_vs_torch(desc, swapped_gate_blocks(params, kind, a, b), xs, state, torch_params=params) > 1e-2


def gru_reset_before_matmul(xs, h0, w_ih, w_hh, b_ih, b_hh):
    """The wrong GRU of Cho et al. / the C++ seed: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""
    H = w_hh.shape[1]
    hs, h = [], h0
    for x in np.moveaxis(xs, 1, 0):
        x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=1)
        h_r, h_z, _ = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = np.tanh(x_n + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, axis=1), h, None


def gru_bias_outside_reset(xs, h0, w_ih, w_hh, b_ih, b_hh):
    """Another wrong GRU: b_hn outside the reset, n = tanh(W_in x + b_in + r * (W_hn h) + b_hn)."""
    H = w_hh.shape[1]
    hs, h = [], h0
    for x in np.moveaxis(xs, 1, 0):
        x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=1)
        h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * (h_n - b_hh[2 * H:]) + b_hh[2 * H:])
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, axis=1), h, None


@pytest.mark.parametrize("wrong_gru", [gru_reset_before_matmul, gru_bias_outside_reset])
def test_catches_wrong_gru_reset(monkeypatch, wrong_gru):
    monkeypatch.setitem(reference_model.CELLS, "gru", (wrong_gru, 3))
    for case in teeth_cases("gru"):
        assert diff_vs_torch(*case) > 1e-2
