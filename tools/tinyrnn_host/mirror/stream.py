"""A running classification over a window of steps: mirrors lib/tinyrnn/stream.py, vectorised
over a batch and over time (prefix sums) where the board keeps a ring of the last outputs."""
import numpy as np


def run(model, xs, window):
    """xs (B,T,I) from the model's current state -> (classes (B,T), scores (B,T,O)): after step t,
    scores the sum of the outputs of steps max(0, t - window + 1)..t, the class the first index of
    the highest score."""
    outs, _ = model.run(np.asarray(xs, np.int64))
    total = np.cumsum(outs, axis=1)
    left = np.zeros_like(total)
    left[:, window:] = total[:, :-window]
    scores = total - left
    return np.argmax(scores, axis=2), scores
