# Model(...)'s buffers and layers, from _desc.plan's (the model's kernels k loaded):
# code run once per model, loaded for it and dropped again (tinyrnn._once), so that a program
# does not keep it in the heap (about 800 bytes on the Cortex-M3, .mpy in /lib).
from array import array

from ._cell import GRU, LSTM, Dense, Elman, zeros


def init(self, desc, k, kind, n, layers, plan):
    # self: the model; n: its buffers' sizes; layers, plan: _desc.plan's
    self.desc = desc
    self.params = zeros("h", n[0])      # each buffer in one allocation of its final size
    self.state = zeros("h", n[1])
    self.work = zeros("h", n[2])
    if kind != "bytecode":
        self.kernels = kind
        self._x = zeros("h", n[3])
    pv = memoryview(self.params)
    sv = memoryview(self.state)
    wv = memoryview(self.work)
    out = []
    for c, n_in, n_out, act, at, np, s, w in layers:     # (np: its parameters, w: its state's width)
        cls = (Elman, LSTM, GRU, Dense)[c]
        kern = getattr(k, cls.KERNEL)
        if c == 3:
            out.append(Dense(n_in, n_out, act, pv[at:at + np], sv[s:s + w], kern))
        else:                      # (an LSTM's state: h then c)
            out.append(cls(n_in, n_out, pv[at:at + np], sv[s:s + w], wv, kern))
    self.layers = out
    last = out[-1]
    # what step() returns: the last layer's h (for an LSTM, without its c)
    self.output = last.h if len(last.h) == last.n_hid else last.h[:last.n_hid]
    if plan is not None:           # c: _c.run runs the whole stack in one call
        self._run = k.run
        self._prog = (self._x, self.params, self.state, self.work, array("i", plan), self.output)
