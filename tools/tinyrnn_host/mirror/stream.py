"""A running classification over a window of steps: mirrors lib/tinyrnn/stream.py, vectorised
over a batch and over time (prefix sums) where the board keeps a ring of the last outputs."""
from collections import namedtuple

import numpy as np

Window = namedtuple("Window", "size count next ring")
Window.__doc__ = """A stream's window as the board keeps it: ring (size, O) rows, the output of step t
since the stream began in row t % size; count the steps in it, next the row the next step goes to."""


def run(model, xs, window, past=None):
    """xs (B,T,I) from the model's current state -> (classes (B,T), scores (B,T,O)): after step t,
    scores the sum of the outputs of the last `window` steps, the class the first index of the
    highest score. past (P,O): the outputs of the steps before xs, oldest first (a restored window)."""
    outs, _ = model.run(np.asarray(xs, np.int64))
    p = 0 if past is None else len(past)
    if p:
        outs = np.concatenate([np.broadcast_to(np.asarray(past, np.int64), (outs.shape[0],) + np.shape(past)), outs], 1)
    total = np.cumsum(outs, axis=1)
    left = np.zeros_like(total)
    left[:, window:] = total[:, :-window]
    scores = (total - left)[:, p:]
    return np.argmax(scores, axis=2), scores


def window_of(outputs, size):
    """The Window a stream of `size` steps holds after these outputs (T,O) of one stream, oldest first."""
    outputs = np.asarray(outputs, np.int64)
    t = len(outputs)
    ring = np.zeros((size, outputs.shape[1]), np.int64)
    for i in range(max(0, t - size), t):
        ring[i % size] = outputs[i]
    return Window(size, min(t, size), t % size, ring)


def past(window):
    """A Window's outputs, oldest first (for run's past)."""
    if window.count < window.size:
        return window.ring[:window.count]
    return np.concatenate([window.ring[window.next:], window.ring[:window.next]])
