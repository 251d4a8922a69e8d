# The board side of the host-trained classifiers (examples/japanese_vowels.py,
# examples/basic_motions.py): a weights file that carries its input normalisation and
# class names, and a loop a sensor feeds. Deployed next to the weights with
#   tinyrnn deploy --weights build/jv/jv.bin --app examples/classify_app.py --app-name classify_app.py
# then, on the board (or streamed from the host over mpremote's raw REPL):
#   from classify_app import Classifier
#   c = Classifier("jv.bin")
#   c.classify(raw)      # raw: the recording's raw int16 values, little-endian bytes, time-major
#                        # -> prints "P <class> <label> <outputs>" and returns the class
from array import array

from tinyrnn import weights


class Classifier:
    """A model from a version-2 weights file: raw sensor steps in, a named class out."""

    def __init__(self, path):
        self.model = weights.load(path)
        self.norm = self.model.norm
        self.labels = self.model.labels
        self.raw = array("h", [0] * self.model.n_inputs)    # one step of raw values

    def classify(self, data):
        """Run one recording (bytes: steps x channels int16, little-endian); print and return its class."""
        m = self.model
        C = m.n_inputs
        raw = self.raw
        m.reset()
        y = None
        for at in range(0, len(data), 2 * C):
            for c in range(C):
                v = data[at + 2 * c] | data[at + 2 * c + 1] << 8
                raw[c] = v - 65536 if v > 32767 else v
            y = m.step(self.norm.apply(raw) if self.norm is not None else raw)
        best = 0
        for k in range(1, len(y)):
            if y[k] > y[best]:
                best = k
        label = self.labels[best] if self.labels is not None else str(best)
        print("P %d %s %s" % (best, label, ",".join([str(v) for v in y])))
        return best
