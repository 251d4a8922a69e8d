"""Float optimizers against torch.optim, and the trainer: its mechanics and that it really learns.

Measured (numpy 2.4.6, torch 2.13.0), clipping and weight decay included: params vs torch.optim differ
by at most 2.2e-16 after 8 steps on given gradients, 4.3e-15 (losses too) after 6 training steps.
The tasks below are deterministic (seeded): delayed XOR reaches val cross-entropy 7.2e-4 and 100%
accuracy (0.697 and 57% with one-step windows), the sinusoid train MSE 5.5e-3.
"""
import numpy as np
import pytest
import torch

from tinyrnn_host import reference as R
from tinyrnn_host.reference import optim, train
from tinyrnn_host.reference.torch_interop import to_tensors, to_torch, torch_names

TOL = 1e-10

# (name, our keyword arguments, clip_value, clip_norm); torch gets the same (see torch_optimizer)
CONFIGS = [
    ("sgd", dict(lr=0.1), None, None),
    ("sgd", dict(lr=0.1, momentum=0.9), None, None),
    ("sgd", dict(lr=0.05, momentum=0.5, weight_decay=1e-2), 0.3, 1.0),
    ("rmsprop", dict(lr=1e-2), None, None),
    ("rmsprop", dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=1e-3), None, 0.5),
    ("adam", dict(lr=1e-2), None, None),
    ("adam", dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-2), None, None),
    ("adam", dict(lr=1e-2), 0.05, None),
    ("adam", dict(lr=1e-2, weight_decay=1e-2), 0.2, 0.5),
]
IDS = ["%s-%d" % (c[0], i) for i, c in enumerate(CONFIGS)]


def ours(config):
    name, kw, clip_value, clip_norm = config
    return optim.make(name, clip_value=clip_value, clip_norm=clip_norm, **kw)


def torch_optimizer(config, tensors):
    name, kw, _, _ = config
    return {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}[name](tensors, **kw)


def torch_clip(config, tensors):
    """As our step does before the rule: by value, then by global norm (torch.nn.utils)."""
    _, _, clip_value, clip_norm = config
    if clip_value is not None:
        torch.nn.utils.clip_grad_value_(tensors, clip_value)
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(tensors, clip_norm)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_optimizer_matches_torch_on_given_grads(config):
    """Same gradient sequence in, same parameters out, step after step."""
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal(5)}
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt, t_opt = ours(config), torch_optimizer(config, list(tensors.values()))
    for step in range(8):
        scale = [0.01, 1.0, 0.1, 3.0][step % 4]  # clipping on some steps, not on others
        grads = {k: scale * rng.standard_normal(v.shape) for k, v in params.items()}
        opt.step(params, grads)
        for k, t in tensors.items():
            t.grad = torch.tensor(grads[k])
        torch_clip(config, list(tensors.values()))
        t_opt.step()
        for k in params:
            assert np.abs(params[k] - tensors[k].detach().numpy()).max() < TOL, (step, k)


def torch_loss(net, xs, ys, mask):
    out, _ = net(to_tensors(xs))
    m = torch.as_tensor(mask)
    return (((out - to_tensors(ys)) ** 2).mean(dim=-1))[m].sum() / m.sum()


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_training_steps_match_torch(config):
    """loss_and_grads + our optimizer vs torch autograd + torch.optim, on a small GRU-LSTM model."""
    rng = np.random.default_rng(1)
    desc = {"input": 2, "layers": [{"kind": "gru", "hidden": 5}, {"kind": "lstm", "hidden": 4}],
            "head": {"out": 2, "act": "tanh"}}
    params = R.init_params(desc, rng)
    xs, ys = rng.standard_normal((4, 9, 2)), rng.uniform(-1, 1, (4, 9, 2))
    mask = rng.random((4, 9)) < 0.7
    net = to_torch(desc, params)
    names = torch_names(desc)
    opt, t_opt = ours(config), torch_optimizer(config, list(net.parameters()))
    for step in range(6):
        L, grads = R.loss_and_grads(desc, params, xs, ys, "mse", mask)
        opt.step(params, grads)
        t_opt.zero_grad()
        t_L = torch_loss(net, xs, ys, mask)
        t_L.backward()
        torch_clip(config, list(net.parameters()))
        t_opt.step()
        assert abs(L - t_L.item()) < TOL
        for name in params:
            assert np.abs(params[name] - net.get_parameter(names[name]).detach().numpy()).max() < TOL, (step, name)


def test_clip_grads():
    grads = {"a": np.array([3.0, -4.0]), "b": np.array([[0.5]])}
    clipped = optim.clip_grads(grads, clip_value=1.0)
    assert np.array_equal(clipped["a"], [1.0, -1.0]) and np.array_equal(clipped["b"], [[0.5]])
    clipped = optim.clip_grads(grads, clip_norm=1.0)
    norm = np.sqrt(sum((g ** 2).sum() for g in clipped.values()))
    assert abs(norm - 1.0) < 1e-6 and abs(clipped["a"][0] / clipped["a"][1] + 0.75) < 1e-15  # direction kept
    assert optim.clip_grads(grads, clip_norm=100.0)["a"][0] == 3.0  # under the limit: unchanged
    assert grads["a"][0] == 3.0  # the input is left alone


def test_optimizer_arguments():
    with pytest.raises(ValueError, match="not one of"):
        optim.make("adagrad", lr=0.1)
    with pytest.raises(ValueError, match="lr must be positive"):
        optim.SGD(lr=0.0)


# --- the trainer ---

def delayed_xor(rng, sequences, steps):
    """Bits in as -1/+1; at step t >= 2 the class is bit[t-1] XOR bit[t-2] (no target at steps 0, 1)."""
    bits = rng.integers(0, 2, (sequences, steps))
    classes = np.zeros((sequences, steps), dtype=np.int64)
    classes[:, 2:] = bits[:, 1:-1] ^ bits[:, :-2]
    mask = np.zeros((sequences, steps), dtype=bool)
    mask[:, 2:] = True
    return 2.0 * bits[..., None] - 1, classes, mask


XOR_DESC = {"input": 1, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 2, "act": "softmax"}}


def train_xor(window):
    rng = np.random.default_rng(0)
    xs, ys, mask = delayed_xor(rng, 256, 16)
    val = delayed_xor(rng, 256, 16)
    params, history = train.fit(XOR_DESC, R.init_params(XOR_DESC, 1), xs, ys, "ce", optim.Adam(lr=0.03),
                                epochs=20, batch_size=32, window=window, mask=mask, val=val)
    out, _ = R.forward(XOR_DESC, params, val[0])
    accuracy = (out.argmax(axis=-1) == val[1])[val[2]].mean()
    return history, accuracy


def test_gru_learns_delayed_xor():
    """Chance is cross-entropy log 2 = 0.693 and accuracy 1/2; 20 epochs (~0.6 s) reach 7.2e-4 and 100%."""
    history, accuracy = train_xor(window=None)
    assert history["val"][0] > 0.3
    assert history["val"][-1] < 0.01
    assert accuracy == 1.0


def test_one_step_windows_cannot_learn_delayed_xor():
    """With window=1 no gradient crosses a step, so the two-step memory is never learnt (val stays ~0.69)."""
    history, accuracy = train_xor(window=1)
    assert history["val"][-1] > 0.4
    assert accuracy < 0.75


def test_elman_learns_next_sample_of_sinusoids():
    """Predict x[t+1] of sin(f t + p), f and p random per sequence, after a 4-step warm-up."""
    rng = np.random.default_rng(0)
    S, steps = 128, 24
    phase, freq = rng.uniform(0, 2 * np.pi, (S, 1)), rng.uniform(0.2, 0.6, (S, 1))
    signal = np.sin(freq * np.arange(steps + 1) + phase)  # (S, steps+1)
    xs, ys = signal[:, :-1, None], signal[:, 1:, None]
    mask = np.zeros((S, steps), dtype=bool)
    mask[:, 4:] = True
    desc = {"input": 1, "layers": [{"kind": "elman", "hidden": 8}], "head": {"out": 1, "act": "tanh"}}
    _, history = train.fit(desc, R.init_params(desc, 2), xs, ys, "mse", optim.Adam(lr=0.02), epochs=40,
                           batch_size=16, mask=mask)
    assert history["train"][0] > 0.1  # the signal's variance is 0.5
    assert history["train"][-1] < 0.01


def small_problem():
    rng = np.random.default_rng(3)
    desc = {"input": 2, "layers": [{"kind": "lstm", "hidden": 4}], "head": {"out": 1, "act": "identity"}}
    return desc, R.init_params(desc, rng), rng.standard_normal((10, 6, 2)), rng.standard_normal((10, 6, 1))


def test_fit_leaves_input_alone_and_is_deterministic():
    desc, params, xs, ys = small_problem()
    before = {k: v.copy() for k, v in params.items()}
    a, hist_a = train.fit(desc, params, xs, ys, "mse", optim.Adam(lr=0.01), epochs=3, batch_size=4, window=2)
    b, hist_b = train.fit(desc, params, xs, ys, "mse", optim.Adam(lr=0.01), epochs=3, batch_size=4, window=2)
    c, _ = train.fit(desc, params, xs, ys, "mse", optim.Adam(lr=0.01), epochs=3, batch_size=4, window=2, seed=1)
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert hist_a == hist_b and all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)  # another seed shuffles otherwise
    assert len(hist_a["train"]) == 3 and hist_a["val"] == []


def test_one_full_batch_epoch_is_one_step():
    desc, params, xs, ys = small_problem()
    trained, history = train.fit(desc, params, xs, ys, "mse", optim.SGD(lr=0.1), epochs=1, batch_size=len(xs))
    L, grads = R.loss_and_grads(desc, params, xs, ys, "mse")
    assert history["train"] == [L]
    for k in params:
        assert np.allclose(trained[k], params[k] - 0.1 * grads[k], rtol=0, atol=1e-15)


def test_patience_stops_and_returns_the_best_epoch():
    """A validation set with the opposite targets gets worse as training improves: stop, keep the best."""
    desc, params, xs, ys = small_problem()
    trained, history = train.fit(desc, params, xs, ys, "mse", optim.Adam(lr=0.05), epochs=50, batch_size=5,
                                 val=(xs, -ys), patience=3)
    best = history["best_epoch"]
    assert len(history["val"]) == best + 4 < 50
    assert min(history["val"]) == history["val"][best]
    assert R.loss_value(desc, trained, xs, -ys, "mse") == history["val"][best]
