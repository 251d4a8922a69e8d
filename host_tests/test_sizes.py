"""The size report runs and the inference-only heap of each 2-3-1 model stays
within the bound we commit to: under 3x the C++ anchor's bytes (tinymind,
non-trainable Q8.8). Measured (make sizes): Elman 544 (2.83x), LSTM 672
(1.75x), GRU 640 (1.90x), MLP 2-3-1 480 bytes."""
from tinyrnn_host.reports import sizes

INFERENCE = ["tinyrnn", "tinyrnn._bytecode", "tinyrnn._cell", "tinyrnn._rows", "tinyrnn._tables",
             "tinyrnn.act", "tinyrnn.dense", "tinyrnn.elman", "tinyrnn.gru", "tinyrnn.kernels",
             "tinyrnn.lstm", "tinyrnn.model", "tinyrnn.rng"]


def test_model_heap_within_bounds():
    rows, modules = sizes.measure()
    by_name = {name: (n, pb, heap, anchor) for name, n, pb, heap, anchor in rows}
    for name in ("Elman 2-3-1", "LSTM 2-3-1", "GRU 2-3-1"):
        n, pb, heap, anchor = by_name[name]
        assert pb <= heap < 3 * anchor, (name, heap, anchor)
    assert by_name["MLP 2-3-1"][2] <= 512
    # parameter counts as PyTorch counts them (nn.GRU(2, 3) + nn.Linear(3, 1): 3*3*(2+3+2) + 4)
    assert by_name["GRU 2-3-1"][0] == 67 and by_name["LSTM 2-3-1"][0] == 88 and by_name["Elman 2-3-1"][0] == 25
    # the heap of a big model is its parameters plus a small fixed overhead
    n, pb, heap, _ = by_name["GRU 8-32-8-1"]
    assert pb < heap < pb + 1024
    # an inference-only program loads no training code
    assert modules == repr(INFERENCE)
