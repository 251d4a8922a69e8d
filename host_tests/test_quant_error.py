"""Quantisation error of the Q8.8 cells against the float64 reference on the same
quantised weights (`tinyrnn quant-error` prints the table quoted in the README).

Measured (seed 1, 32 x 100 steps): max 0.72..1.46 LSB, mean 0.26..0.32 LSB.
Bounds: every Q8.8 op adds at most 0.5 LSB of rounding and the tables at most
0.58 LSB; at PyTorch's init the recurrence contracts, so errors do not build up
over the 100 steps. We assert max <= 2.5 LSB and mean <= 0.4 LSB for three
seeds: a model whose error grew with sequence length or a rounding bug worth
one LSB per step would break them.
"""
import pytest

import readme_figures as rf
from tinyrnn_host.reports import quant_error


@pytest.mark.parametrize("kind", quant_error.KINDS)
@pytest.mark.parametrize("hidden", quant_error.HIDDEN)
def test_quantisation_error_bounded(kind, hidden):
    for seed in (1, 2, 3):
        mx, mean = quant_error.measure(kind, hidden, seed)
        assert mx <= 2.5, (kind, hidden, seed, mx)
        assert mean <= 0.4, (kind, hidden, seed, mean)
        if seed == 1:               # what `make quant-error` prints, and the README's table
            row = rf.row("max err (LSB)", kind)
            at = [int(h) for h in row["hidden"].split(" / ")].index(hidden)
            assert row["max err (LSB)"].split(" / ")[at] == "%.2f" % mx, (kind, hidden, mx)
            assert row["mean err (LSB)"].split(" / ")[at] == "%.3f" % mean, (kind, hidden, mean)


def test_error_measure_detects_a_wrong_model(monkeypatch):
    # the same measurement must see a real mistake: here, a GRU whose update is z * n + (1 - z) * h
    from tinyrnn_host.mirror import cells
    from tinyrnn_host.mirror.act import sigmoid, tanh

    def swapped_gru(x, h, w_ih, w_hh, b_ih, b_hh):
        H = h.shape[1]
        rz = sigmoid(cells.gates(x, h, w_ih[:2 * H], w_hh[:2 * H], b_ih[:2 * H], b_hh[:2 * H]))
        r, z = rz[:, :H], rz[:, H:]
        hn = cells.rnd(h @ w_hh[2 * H:].T + (b_hh[2 * H:] << 8))
        n = tanh(cells.rnd(x @ w_ih[2 * H:].T + (b_ih[2 * H:] << 8) + r * hn))
        return cells.rnd(z * n + (256 - z) * h)
    monkeypatch.setattr(cells, "gru_step", swapped_gru)
    from tinyrnn_host.mirror import fast                  # Model.run: the step-by-step path (cells.py)
    monkeypatch.setattr(fast, "exact", lambda spec: False)
    mx, _ = quant_error.measure("gru", 16, 1)
    assert mx > 10
