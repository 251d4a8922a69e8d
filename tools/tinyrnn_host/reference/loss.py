"""Losses over masked steps, each returning the loss and its gradient with respect to what it reads.

    L = (1/N) * sum over (b, t) with mask[b, t] of l(b, t),     N = mask.sum()
    mse:           l = (1/O) * sum_o (y_o - target_o)^2       y = the model's output
    cross_entropy: l = -log softmax(a)[k]                     a = softmax head's logits, k = class

Gradients at steps without a target are zero. n overrides N, for a window of a longer
sequence whose loss is normalised by the whole sequence batch's count.
"""
import numpy as np

# B = batch, T = time, O = output size


def _count(mask, n):
    n = int(mask.sum()) if n is None else n
    if n <= 0:
        raise ValueError("loss: the mask selects no step with a target")
    return n


def mse(y, target, mask, n=None):
    """y, target (B,T,O), mask (B,T) bool -> (L, dL/dy (B,T,O))."""
    if np.shape(target) != y.shape:
        raise ValueError("mse: targets have shape %s, outputs %s" % (np.shape(target), y.shape))
    n = _count(mask, n)
    O = y.shape[-1]
    diff = np.where(mask[..., None], y - target, 0.0)  # (B,T,O), zero where no target
    return float((diff * diff).sum()) / (n * O), diff * (2.0 / (n * O))


def cross_entropy(a, classes, mask, n=None):
    """Logits a (B,T,O), classes (B,T) int, mask (B,T) bool -> (L, dL/da (B,T,O))."""
    if np.shape(classes) != a.shape[:-1]:
        raise ValueError("cross_entropy: classes have shape %s, expected %s" % (np.shape(classes), a.shape[:-1]))
    n = _count(mask, n)
    O = a.shape[-1]
    k = np.where(mask, classes, 0).astype(np.int64)  # steps without a target may hold anything
    if ((k < 0) | (k >= O)).any():
        raise ValueError("cross_entropy: a class index is outside [0, %d)" % O)
    shifted = a - a.max(axis=-1, keepdims=True)  # log softmax, stable for any logits
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (B,T,O)
    log_p_k = np.take_along_axis(log_p, k[..., None], axis=-1)[..., 0]  # (B,T)
    L = -float(np.where(mask, log_p_k, 0.0).sum()) / n
    da = np.exp(log_p)  # softmax(a) - onehot(k), over N
    np.put_along_axis(da, k[..., None], np.take_along_axis(da, k[..., None], axis=-1) - 1.0, axis=-1)
    return L, np.where(mask[..., None], da, 0.0) / n
