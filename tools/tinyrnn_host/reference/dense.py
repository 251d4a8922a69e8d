"""Dense layer, as torch.nn.Linear followed by an output activation: y = act(W x + b)."""
from .activations import ACTIVATIONS, activation_backward

# I = input size, O = output size; leading axes (B, T, ...) pass through
# w (O,I), b (O,)


def dense_forward(x, w, b, act="identity"):
    """Apply to x (...,I); return y (...,O) and cache."""
    a = x @ w.T + b  # (...,O) pre-activation; cross-entropy reads these logits
    y = ACTIVATIONS[act](a)
    # every supported activation's derivative is a function of its output y
    cache = {"x": x, "a": a, "y": y, "act": act}
    return y, cache


def dense_backward(dy, cache, w, pre_activation=False):
    """From dL/dy (...,O) -- or dL/da if pre_activation -- return dx (...,I), dw (O,I), db (O,)."""
    da = dy if pre_activation else activation_backward(dy, cache["y"], cache["act"])
    x = cache["x"]
    O, I = w.shape
    dw = da.reshape(-1, O).T @ x.reshape(-1, I)  # sum over every leading position
    db = da.reshape(-1, O).sum(axis=0)
    dx = da @ w
    return dx, dw, db
