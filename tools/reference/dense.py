"""Dense layer, as torch.nn.Linear followed by an output activation: y = act(W x + b)."""
from .activations import ACTIVATIONS

# I = input size, O = output size; leading axes (B, T, ...) pass through
# w (O,I), b (O,)


def dense_forward(x, w, b, act="identity"):
    """Apply to x (...,I); return y (...,O) and cache."""
    y = ACTIVATIONS[act](x @ w.T + b)
    # every supported activation's derivative is a function of its output y
    cache = {"x": x, "y": y, "act": act}
    return y, cache
