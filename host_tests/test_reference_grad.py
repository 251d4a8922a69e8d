"""BPTT in the float64 reference: every gradient against finite differences, and against PyTorch autograd.

The finite-difference side is written independently of the code under test: it runs only the
forward pass (reference.forward) and writes the losses out again here, not through loss.py.

Gradient check. For each parameter element w, the numeric derivative is the 5-point central difference
    n = (8 (L(w+h) - L(w-h)) - (L(w+2h) - L(w-2h))) / (12 h),   h = 1e-3,
whose error is ~h^4 (truncation) + 1e-16 |L| / h (rounding), about 1e-12 here. (The 2-point
difference with h = 1e-6 has ~3e-10 of rounding noise: too coarse to certify 1e-6 on gradients ~1e-5.)
Against the analytic a, the relative error of an element is
    rel = |a - n| / max(|a|, |n|, 1e-6)
i.e. truly relative for gradients above 1e-6, and |a - n| < 1e-12 for the (rare) tinier ones.
The check passes when max rel < 1e-6 over every element (a random subset of 200 for bigger models).
Measured (numpy 2.4.6, torch 2.13.0), max rel: 5.6e-8 over the single-layer cases, 9.5e-8 over the
bigger models, 3.2e-7 over the stacks (on a gradient of 9.1e-7 below the floor: |a - n| = 3.2e-13).
Against torch autograd, max |difference| of L and every gradient: 2.2e-16.
"""
import numpy as np
import pytest
import torch

from tinyrnn_host import reference as R
from tinyrnn_host.reference import model as reference_model
from tinyrnn_host.reference.activations import ACTIVATIONS
from tinyrnn_host.reference.gru import gru_backward
from tinyrnn_host.reference.torch_interop import TorchModel, to_numpy, to_tensors, to_torch, torch_names

H_STEP = 1e-3
FLOOR = 1e-6
TOL = 1e-6
TORCH_TOL = 1e-10
T, WINDOW = 7, 3  # windows [0,3), [3,6), [6,7): the last one partial

KINDS = ["elman", "lstm", "gru"]
HEADS = [("identity", "mse"), ("sigmoid", "mse"), ("tanh", "mse"), ("softmax", "ce"), (None, "mse")]
# (mask, window, initial state): every mask and window kind, with zero and nonzero states
SCENARIOS = [("all", None, "zero"), ("last", None, "random"), ("all", WINDOW, "random"),
             ("random", WINDOW, "zero"), ("last", WINDOW, "random"), ("random", 1, "random")]


# --- the independent side: a loss from forward outputs, and finite differences of it ---

def loss_from_outputs(desc, params, xs, ys, loss, mask, state, n):
    """L of one stretch of steps, from the recurrent stack's outputs and the head written out here."""
    hs, _ = R.forward(dict(desc, head=None), params, xs, state)  # (B,T,H) last layer's h
    head = desc.get("head")
    if head is None:
        y = hs
    else:
        a = hs @ params["head.weight"].T + params["head.bias"]  # (B,T,O) logits
        if loss == "ce":
            top = a.max(axis=-1)
            lse = top + np.log(np.exp(a - top[..., None]).sum(axis=-1))
            per_step = lse - np.take_along_axis(a, np.where(mask, ys, 0)[..., None], axis=-1)[..., 0]
            return per_step[mask].sum() / n
        y = ACTIVATIONS[head["act"]](a)
    per_step = ((y - ys) ** 2).mean(axis=-1)  # (B,T)
    return per_step[mask].sum() / n


def objective(desc, params, xs, ys, loss, mask, window, state):
    """A function of params (read when called) whose exact gradient is what BPTT with `window` computes:
    each window starts from the state the params reached when objective() was built, frozen."""
    steps = xs.shape[1]
    k = steps if window is None else window
    starts = list(range(0, steps, k))
    entry, s = [], state
    for a in starts:
        entry.append(s)
        _, s = R.forward(dict(desc, head=None), params, xs[:, a:a + k], s)
    n = mask.sum()
    return lambda: sum(loss_from_outputs(desc, params, xs[:, a:a + k], ys[:, a:a + k], loss, mask[:, a:a + k], s0, n)
                       for a, s0 in zip(starts, entry))


def elements(params, subset=None, rng=None):
    """(name, index) of every parameter element, or of a random subset of that many."""
    every = [(name, i) for name, p in params.items() for i in np.ndindex(p.shape)]
    if subset is None or subset >= len(every):
        return every
    return [every[j] for j in rng.choice(len(every), size=subset, replace=False)]


def numeric_grad(f, params, name, i):
    """5-point central difference of f() in params[name][i] (restored afterwards)."""
    p = params[name]
    w = p[i]

    def at(d):
        p[i] = w + d
        v = f()
        p[i] = w
        return v

    return (8 * (at(H_STEP) - at(-H_STEP)) - (at(2 * H_STEP) - at(-2 * H_STEP))) / (12 * H_STEP)


def grad_check(f, params, grads, subset=None, rng=None):
    """Max relative error of grads against finite differences of f, and the element where it is."""
    worst, where = 0.0, None
    for name, i in elements(params, subset, rng):
        a, n = grads[name][i], numeric_grad(f, params, name, i)
        rel = abs(a - n) / max(abs(a), abs(n), FLOOR)
        if rel >= worst:
            worst, where = rel, (name, i)
    return worst, where


# --- cases ---

def make_case(seed, kinds, head, loss, mask_kind="all", state_kind="zero", hidden=3, inputs=2, out=3, batch=3,
              steps=T, scale=2.0):
    rng = np.random.default_rng(seed)
    hidden = hidden if isinstance(hidden, list) else [hidden] * len(kinds)
    desc = {"input": inputs, "layers": [{"kind": k, "hidden": h} for k, h in zip(kinds, hidden)],
            "head": None if head is None else {"out": out, "act": head}}
    params = R.init_params(desc, rng, scale=scale)
    xs = rng.standard_normal((batch, steps, inputs))
    O = out if head is not None else hidden[-1]
    ys = rng.integers(0, O, (batch, steps)) if loss == "ce" else rng.uniform(-0.9, 0.9, (batch, steps, O))
    mask = {"all": np.ones((batch, steps), bool),
            "last": np.arange(steps)[None, :].repeat(batch, 0) == steps - 1,
            "random": rng.random((batch, steps)) < 0.5}[mask_kind]
    mask[0, 0] = True  # never empty
    state = None
    if state_kind == "random":
        state = [(rng.uniform(-1, 1, (batch, H)), rng.standard_normal((batch, H))) if k == "lstm"
                 else rng.uniform(-1, 1, (batch, H)) for k, H in zip(kinds, hidden)]
    return desc, params, xs, ys, loss, mask, state


def check_case(case, window, subset=None, seed=0):
    desc, params, xs, ys, loss, mask, state = case
    L, grads = R.loss_and_grads(desc, params, xs, ys, loss, mask, window, state)
    f = objective(desc, params, xs, ys, loss, mask, window, state)
    assert abs(L - f()) < 1e-13  # the loss itself, written twice
    assert grads.keys() == params.keys()
    assert all(grads[k].shape == params[k].shape for k in params)
    return grad_check(f, params, grads, subset, np.random.default_rng(seed))


@pytest.mark.parametrize("mask_kind, window, state_kind", SCENARIOS)
@pytest.mark.parametrize("head, loss", HEADS)
@pytest.mark.parametrize("kind", KINDS)
def test_single_layer_gradients(kind, head, loss, mask_kind, window, state_kind):
    seed = 100 * KINDS.index(kind) + 10 * HEADS.index((head, loss)) + SCENARIOS.index((mask_kind, window, state_kind))
    case = make_case(seed, [kind], head, loss, mask_kind, state_kind)
    worst, where = check_case(case, window)
    assert worst < TOL, (worst, where)


STACKS = [["gru", "gru"], ["lstm", "lstm"], ["elman", "elman", "elman"], ["lstm", "elman", "gru"],
          ["gru", "lstm"], ["elman", "gru", "lstm"]]


# every stack with both losses, in two different scenarios; each loss meets every scenario
STACK_CASES = [(kinds, head, loss) + SCENARIOS[(s + 3 * j) % len(SCENARIOS)]
               for s, kinds in enumerate(STACKS) for j, (head, loss) in enumerate([("tanh", "mse"), ("softmax", "ce")])]


@pytest.mark.parametrize("kinds, head, loss, mask_kind, window, state_kind", STACK_CASES,
                         ids=["-".join(c[0]) + "-%s-%s-%s-%s" % c[2:] for c in STACK_CASES])
def test_stack_gradients(kinds, head, loss, mask_kind, window, state_kind):
    seed = 2000 + STACK_CASES.index((kinds, head, loss, mask_kind, window, state_kind))
    case = make_case(seed, kinds, head, loss, mask_kind, state_kind, hidden=[3, 2, 4][:len(kinds)])
    worst, where = check_case(case, window)
    assert worst < TOL, (worst, where)


@pytest.mark.parametrize("kinds, head, loss", [(["gru", "lstm", "elman"], "softmax", "ce"),
                                               (["lstm", "gru"], "sigmoid", "mse")])
def test_bigger_model_random_elements(kinds, head, loss):
    """~1,000-2,000 parameters, T = 12, window 5: 200 random elements."""
    case = make_case(31, kinds, head, loss, "random", "random", hidden=[10, 8, 6][:len(kinds)], inputs=5, out=4,
                     batch=4, steps=12, scale=1.0)
    worst, where = check_case(case, 5, subset=200, seed=1)
    assert worst < TOL, (worst, where)


# --- against PyTorch autograd ---

def torch_loss_and_grads(desc, params, xs, ys, loss, mask, window, state):
    """The same loss in torch; between windows the state is detached (truncated BPTT)."""
    net = to_torch(desc, params)
    if loss == "ce":
        net.act = lambda a: a  # cross-entropy reads the logits
    m = torch.as_tensor(mask)
    steps = xs.shape[1]
    k = steps if window is None else window
    total, s = 0.0, to_tensors(state)
    for a in range(0, steps, k):
        out, s = net(to_tensors(xs[:, a:a + k]), s)
        mw = m[:, a:a + k]
        if loss == "mse":
            per_step = ((out - to_tensors(ys[:, a:a + k])) ** 2).mean(dim=-1)
        else:
            per_step = torch.nn.functional.cross_entropy(out.transpose(1, 2), torch.as_tensor(ys[:, a:a + k]),
                                                         reduction="none")
        total = total + per_step[mw].sum() / m.sum()
        s = [tuple(x.detach() for x in v) if isinstance(v, tuple) else v.detach() for v in s]
    total.backward()
    return total.item(), {name: net.get_parameter(t).grad.numpy() for name, t in torch_names(desc).items()}


@pytest.mark.parametrize("window", [None, WINDOW])
@pytest.mark.parametrize("kinds, head, loss", [(["elman"], "tanh", "mse"), (["lstm"], "softmax", "ce"),
                                               (["gru"], "identity", "mse"), (["gru", "lstm", "elman"], "softmax", "ce"),
                                               (["lstm", "gru"], "sigmoid", "mse")])
def test_matches_torch_autograd(kinds, head, loss, window):
    case = make_case(3000 + len(kinds), kinds, head, loss, "random", "random", hidden=[8, 6, 5][:len(kinds)],
                     inputs=4, out=3, batch=5, steps=20, scale=1.5)
    L, grads = R.loss_and_grads(*case[:6], window, case[6])
    t_L, t_grads = torch_loss_and_grads(*case[:6], window, case[6])
    assert abs(L - t_L) < TORCH_TOL
    for name in grads:
        assert np.abs(grads[name] - t_grads[name]).max() < TORCH_TOL, name


@pytest.mark.parametrize("kind", KINDS)
def test_backward_state_gradients_match_torch(kind):
    """model.backward with a gradient on the final state: dL/dparams and dL/d(initial state) as torch's."""
    desc, params, xs, _, _, _, state = make_case(4000 + KINDS.index(kind), [kind, kind], "softmax", "ce",
                                                 state_kind="random", hidden=[4, 4])
    rng = np.random.default_rng(5)
    _, final, cache = R.forward_with_cache(desc, params, xs, state)
    dys = rng.standard_normal((3, T, 3))  # an arbitrary upstream gradient, through softmax's Jacobian
    dfinal = [tuple(rng.standard_normal(x.shape) for x in s) if kind == "lstm" else rng.standard_normal(s.shape)
              for s in final]
    grads, dstate = R.backward(desc, params, cache, dys, dfinal)

    net = to_torch(desc, params)
    t_state = to_tensors(state)
    leaves = [x for s in t_state for x in (s if kind == "lstm" else (s,))]
    for x in leaves:
        x.requires_grad_(True)
    t_ys, t_final = net(to_tensors(xs), t_state)
    total = (t_ys * to_tensors(dys)).sum()
    for s, d in zip(t_final, to_tensors(dfinal)):
        total = total + sum((a * b).sum() for a, b in zip(s, d)) if kind == "lstm" else total + (s * d).sum()
    total.backward()
    for name, t in torch_names(desc).items():
        assert np.abs(grads[name] - net.get_parameter(t).grad.numpy()).max() < TORCH_TOL, name
    flat = [x for s in dstate for x in (s if kind == "lstm" else (s,))]
    for ours, leaf in zip(flat, leaves):
        assert np.abs(ours - leaf.grad.numpy()).max() < TORCH_TOL


@pytest.mark.parametrize("act", ["identity", "sigmoid", "tanh", "softmax"])
def test_dense_backward_matches_torch(act):
    rng = np.random.default_rng(6)
    x, w, b, dy = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 5)), rng.standard_normal(2), \
        rng.standard_normal((3, 4, 2))
    y, cache = R.dense_forward(x, w, b, act)
    dx, dw, db = R.dense_backward(dy, cache, w)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    t_y = TorchModel({"input": 5, "layers": [{"kind": "gru", "hidden": 5}], "head": {"out": 2, "act": act}}).act(
        tx @ tw.T + tb)
    (t_y * torch.as_tensor(dy)).sum().backward()
    for ours, t in ((dx, tx), (dw, tw), (db, tb)):
        assert np.abs(ours - t.grad.numpy()).max() < 1e-12


# --- the checks have teeth ---

def test_check_catches_one_wrong_element():
    desc, params, xs, ys, loss, mask, state = make_case(7, ["gru"], "tanh", "mse", state_kind="random")
    _, grads = R.loss_and_grads(desc, params, xs, ys, loss, mask, None, state)
    f = objective(desc, params, xs, ys, loss, mask, None, state)
    assert grad_check(f, params, grads)[0] < TOL
    for name, i in [("weight_hh_l0", (4, 1)), ("bias_ih_l0", (8,)), ("head.bias", (2,))]:
        wrong = {k: g.copy() for k, g in grads.items()}
        wrong[name][i] *= 1 + 1e-5  # a slip far smaller than any real bug
        worst, where = grad_check(f, params, wrong)
        assert worst > 5e-6 and where == (name, i)


def test_check_catches_b_hn_outside_reset(monkeypatch):
    """A GRU backward that treats b_hn as outside the reset (its gradient unscaled by r) fails."""
    def wrong_gru_backward(dhs, dh_final, cache, w_ih, w_hh):
        dxs, dh0, (dw_ih, dw_hh, db_ih, db_hh) = gru_backward(dhs, dh_final, cache, w_ih, w_hh)
        H = w_hh.shape[1]
        db_hh = db_hh.copy()
        db_hh[2 * H:] = db_ih[2 * H:]
        return dxs, dh0, (dw_ih, dw_hh, db_ih, db_hh)

    monkeypatch.setitem(reference_model.CELL_BACKWARD, "gru", wrong_gru_backward)
    worst, where = check_case(make_case(8, ["gru"], "tanh", "mse"), None)
    assert worst > 1e-3 and where[0] == "bias_hh_l0"


def test_truncated_window_differs_from_full_bptt():
    case = make_case(9, ["lstm", "gru"], "softmax", "ce", "all", "random", hidden=[3, 3])
    desc, params, xs, ys, loss, mask, state = case
    L_full, full = R.loss_and_grads(desc, params, xs, ys, loss, mask, None, state)
    L_win, win = R.loss_and_grads(desc, params, xs, ys, loss, mask, WINDOW, state)
    assert abs(L_full - L_win) < 1e-14  # same forward values: the state carries across windows
    diff = max(np.abs(full[k] - win[k]).max() / np.abs(full[k]).max() for k in full if not k.startswith("head."))
    assert diff > 1e-2
    # the head sees no recurrence, so truncation leaves its gradient alone
    assert np.abs(full["head.weight"] - win["head.weight"]).max() < 1e-14
    # and the finite-difference check tells them apart: truncated grads fail against the full objective
    assert grad_check(objective(desc, params, xs, ys, loss, mask, None, state), params, win)[0] > 1e-3
    assert grad_check(objective(desc, params, xs, ys, loss, mask, WINDOW + 1, state), params, win)[0] > 1e-3
    for k in (T, T + 5):  # a window covering the sequence is full BPTT, bit for bit
        _, same = R.loss_and_grads(desc, params, xs, ys, loss, mask, k, state)
        assert all(np.array_equal(same[n], full[n]) for n in full)


def test_steps_without_target_do_not_matter():
    desc, params, xs, ys, loss, mask, state = make_case(10, ["elman"], "softmax", "ce", "random")
    L, grads = R.loss_and_grads(desc, params, xs, ys, loss, mask, WINDOW, state)
    other = np.where(mask, ys, -1)  # garbage classes where there is no target
    L2, grads2 = R.loss_and_grads(desc, params, xs, other, loss, mask, WINDOW, state)
    assert L == L2 and all(np.array_equal(grads[k], grads2[k]) for k in grads)


def test_mismatched_loss_and_head_raise():
    xs, cls, tgt = np.zeros((2, 4, 2)), np.zeros((2, 4), int), np.zeros((2, 4, 3))
    for head, loss, match in [("softmax", "mse", "'mse' does not fit a softmax head"),
                              ("identity", "ce", "needs a softmax head.*'identity'"),
                              ("sigmoid", "ce", "needs a softmax head.*'sigmoid'"),
                              ("tanh", "ce", "needs a softmax head.*'tanh'"),
                              (None, "ce", "needs a softmax head.*absent")]:
        desc, params = make_case(0, ["gru"], head, "mse")[:2]
        with pytest.raises(ValueError, match=match):
            R.loss_and_grads(desc, params, xs, cls if loss == "ce" else tgt, loss)
        with pytest.raises(ValueError, match=match):
            R.loss_value(desc, params, xs, cls if loss == "ce" else tgt, loss)


def test_bad_arguments_raise():
    desc, params = make_case(0, ["gru"], "softmax", "ce")[:2]
    xs, cls = np.zeros((2, 4, 2)), np.zeros((2, 4), int)
    with pytest.raises(ValueError, match="not one of"):
        R.loss_and_grads(desc, params, xs, cls, "nll")
    with pytest.raises(ValueError, match="int class indices"):
        R.loss_and_grads(desc, params, xs, cls.astype(float), "ce")
    with pytest.raises(ValueError, match="outside"):
        R.loss_and_grads(desc, params, xs, cls + 3, "ce")
    with pytest.raises(ValueError, match="no step"):
        R.loss_and_grads(desc, params, xs, cls, "ce", mask=np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="window"):
        R.loss_and_grads(desc, params, xs, cls, "ce", window=0)
    with pytest.raises(ValueError, match="mask has shape"):
        R.loss_and_grads(desc, params, xs, cls, "ce", mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="targets have shape"):
        R.loss_and_grads(desc, params, xs, cls[:, :3], "ce")
