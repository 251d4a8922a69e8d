"""Output and gate nonlinearities in float64, named as in a model description."""
import numpy as np


def sigmoid(a):
    """1 / (1 + exp(-a)), without overflow for large |a|."""
    return np.exp(-np.logaddexp(0.0, -a))


def tanh(a):
    """Hyperbolic tangent."""
    return np.tanh(a)


def identity(a):
    """The value itself."""
    return a


def softmax(a):
    """Softmax over the last axis (shifted by the max so exp cannot overflow)."""
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS = {"identity": identity, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax}


def activation_backward(dy, y, act):
    """dL/da from dL/dy and the output y = act(a); softmax's Jacobian acts along the last axis."""
    if act == "identity":
        return dy
    if act == "sigmoid":
        return dy * y * (1 - y)
    if act == "tanh":
        return dy * (1 - y * y)
    if act == "softmax":  # da_j = y_j * (dy_j - sum_k dy_k y_k)
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    raise ValueError("activation %r is not one of %s" % (act, sorted(ACTIVATIONS)))
