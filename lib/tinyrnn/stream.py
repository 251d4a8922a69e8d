# A running classification over the last `window` steps of a stream of inputs.
#
#     from tinyrnn.stream import Stream
#     s = Stream(model, window=25)        # model: e.g. a GRU with a softmax head
#     while True:
#         k = s.push(read_sensor())       # one model step; the class with the highest score
#         if s.count == s.window: print(model.labels[k], s.scores[k])
#
# scores[k] is the sum of output k over the last min(count, window) steps (the
# oldest step drops out as a new one comes in); push() returns the lowest k of
# the highest score. For a softmax head that is the class the window's mean
# probability favours (scores[k] // count is that mean, in Q8.8). Any head works
# (sums of sigmoid outputs, of logits). The model's state runs on across pushes;
# reset() starts a new stream (the window and the model's state cleared).
# push() allocates nothing; the window costs 2 bytes per output per step.
from ._cell import bad_type, zeros
from .model import Model

MAX_WINDOW = 32767           # window * 32768 < 2^30: a score stays a small int on a 32-bit board


class Stream:
    """The last `window` outputs of a model, summed per output as they come."""

    def __init__(self, model, window):
        if not isinstance(model, Model):
            bad_type("Stream: model", "a tinyrnn Model", model)
        if type(window) is not int:
            bad_type("Stream: window", "an int", window)
        if window < 1 or window > MAX_WINDOW:
            raise ValueError("Stream: window=%d is out of range 1..%d" % (window, MAX_WINDOW))
        n = model.n_outputs
        self.model = model
        self.window = window
        self.scores = zeros("i", n)          # the sums over the window
        self.ring = zeros("h", window * n)    # the window's outputs, one row per step, oldest at `_at`
        self.count = 0                       # steps in the window (window once it is full)
        self._at = 0                         # the row the next output goes into

    def push(self, x):
        """One model step on x (n_inputs Q8.8 ints); returns the index of the highest score
        (the lowest such index on a tie). A bad x raises and changes nothing."""
        y = self.model.step(x)
        scores = self.scores
        ring = self.ring
        n = len(scores)
        at = self._at * n
        best = 0
        top = 0
        for k in range(n):
            v = y[k]
            s = scores[k] + v - ring[at + k]   # the row leaving the window (0 until it is full)
            scores[k] = s
            ring[at + k] = v
            if k == 0 or s > top:
                best = k
                top = s
        self._at = 0 if self._at + 1 == self.window else self._at + 1
        if self.count < self.window:
            self.count += 1
        return best

    def reset(self):
        """Start a new stream: the window emptied and the model's state cleared."""
        for a in (self.scores, self.ring):
            for i in range(len(a)):
                a[i] = 0
        self.count = 0
        self._at = 0
        self.model.reset()
