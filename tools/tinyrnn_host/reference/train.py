"""A small batched float64 trainer: shuffle, split into batches, BPTT, optimizer step, per epoch.

    params, history = fit(desc, params, xs, ys, "mse", optim.Adam(lr=1e-2), epochs=50, batch_size=32)

Each batch's loss and gradients are model.loss_and_grads' (the mean over the batch's target steps).
"""
import numpy as np

from .model import check_params, loss_and_grads, loss_value

# S = number of sequences in the data set, T = time, I = input size


def _data(xs, ys, mask):
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys)
    mask = np.ones(xs.shape[:2], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if not (len(xs) == len(ys) == len(mask)):
        raise ValueError("xs, ys and mask must hold the same number of sequences, got %d, %d, %d"
                         % (len(xs), len(ys), len(mask)))
    return xs, ys, mask


def fit(desc, params, xs, ys, loss, optimizer, epochs, batch_size, window=None, mask=None, seed=0,
        val=None, patience=None, callback=None):
    """Train a copy of params on xs (S,T,I), ys, mask (S,T) (None: every step); return (params, history).

    Every epoch shuffles the S sequences (np.random.default_rng(seed)), steps the optimizer once per
    batch of batch_size sequences (the last batch may be smaller), with truncated BPTT if window is set.
    history["train"][e]: epoch e's training loss, the batches' losses weighted by their target counts.
    history["val"][e]: the loss on val = (xs, ys) or (xs, ys, mask) after epoch e (if val is given).
    patience: stop once the watched loss (val's if given, else train's) has not improved for `patience`
    epochs in a row; with patience the params of the watched loss's best epoch (history["best_epoch"])
    are returned, early stop or not; without it, the params after the last epoch.
    callback(epoch, train_loss): called after each epoch (a progress bar).
    """
    check_params(desc, params)
    if patience is not None and patience < 1:
        raise ValueError("patience must be None or at least 1, got %r" % (patience,))
    xs, ys, mask = _data(xs, ys, mask)
    if val is not None:
        val_xs, val_ys, val_mask = _data(*(tuple(val) + (None,) * (3 - len(val))))
    params = {name: np.array(p, dtype=np.float64) for name, p in params.items()}  # the caller's stay as they are
    rng = np.random.default_rng(seed)
    history = {"train": [], "val": [], "best_epoch": None}
    best, best_params, since_best = np.inf, None, 0
    S = len(xs)
    for epoch in range(epochs):
        order = rng.permutation(S)
        total, count = 0.0, 0
        for start in range(0, S, batch_size):
            idx = order[start:start + batch_size]
            n = int(mask[idx].sum())
            if n == 0:
                continue  # no target in this batch: nothing to learn
            L, grads = loss_and_grads(desc, params, xs[idx], ys[idx], loss, mask[idx], window)
            optimizer.step(params, grads)
            total, count = total + L * n, count + n
        history["train"].append(total / count if count else float("nan"))
        if val is not None:
            history["val"].append(loss_value(desc, params, val_xs, val_ys, loss, val_mask))
        if callback is not None:
            callback(epoch, history["train"][-1])
        watched = history["val" if val is not None else "train"][-1]
        if watched < best:
            best, since_best = watched, 0
            history["best_epoch"] = epoch
            if patience is not None:
                best_params = {name: p.copy() for name, p in params.items()}
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                return best_params, history
    if patience is not None and best_params is not None:
        return best_params, history
    return params, history
