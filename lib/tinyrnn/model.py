# A model: a stack of layers (Elman, LSTM, GRU, or Dense) and an optional dense head.
#
#     m = Model({"input": 2,
#                "layers": [{"kind": "gru", "hidden": 16}, {"kind": "gru", "hidden": 8}],
#                "head": {"out": 1, "act": "identity"}}, seed=1)
#     y = m.step([q0, q1])     # Q8.8 ints in; the output buffer (array 'h') out
#     m.reset()
#
# All parameters live in ONE array('h') in PyTorch's order and layout
# (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..., head.weight,
# head.bias); all state in one more, scratch in a third. Layers work on
# memoryviews into them, made once here, so step() allocates nothing.
import gc
from array import array

import tinyrnn
from . import kernels as _kernels
from ._cell import SEQS, Dense, check_q88s, check_seq


def __getattr__(name):
    # parse(desc), param_shapes(desc), KINDS and _layer_params are _desc.py's (_params.py's):
    # loaded for the lookup, kept only while the caller holds what it got
    return tinyrnn._once("_desc", "get", name)


def init_bound(fan):
    """PyTorch's init range 1/sqrt(fan) in Q8.8: floor(256 / sqrt(fan) + 1/2), integer only."""
    b = 0
    while (2 * b + 1) * (2 * b + 1) * fan <= 262144:   # (b + 1/2)^2 <= 65536 / fan
        b += 1
    return b


class Model:
    """A stack of recurrent/dense layers and an optional head; see the module comment."""

    # defaults in the class, so that a model's own attribute dict stays small (RAM)
    kernels = "bytecode"     # 'viper' or 'c' when its layers run native kernels (tinyrnn.kernels)
    _x = None                # viper, c: the input is checked and copied here (kernels take buffers)
    _run = None              # c: the kernel that checks, copies and runs the whole stack in one call
    _dirty = False           # param() handed out a writable view: re-check the weights' bounds
    norm = None              # the input normalisation (norm.Norm) a weights file brought, if any
    labels = None            # the class names of a softmax head a weights file brought, if any

    def __init__(self, desc, seed=1, kernels=None):
        # the description checked, the kernels chosen and the buffers planned by _desc.py (code
        # run once per model: loaded for it, then dropped), and a collection, before anything
        # that lasts is allocated; then the kernels' code, then the buffers and layers, by
        # _build.py (loaded and dropped the same way)
        kind, n, layers, plan = tinyrnn._once("_desc", "plan", desc, seed, kernels)
        gc.collect()
        k = _kernels.inference(kind)         # (its code stays as long as the model)
        tinyrnn._once("_build", "init", self, desc, k, kind, n, layers, plan if kind == "c" else None)
        if seed is not None:        # seed=None: all weights 0 (to be loaded)
            self.init(seed)
        else:
            self.weights_changed()

    @property
    def n_inputs(self):
        return self.layers[0].n_in

    @property
    def n_params(self):
        return len(self.params)

    @property
    def n_outputs(self):
        # a property, not an attribute: one more instance attribute grows every model's dict
        return self.layers[-1].n_hid

    def init(self, seed):
        """Re-draw every parameter from the library PRNG as PyTorch initialises them:
        uniform integers in [-b, b], b = init_bound(hidden size) for recurrent layers,
        init_bound(fan_in) for dense layers, in storage order. Clears the state."""
        rng = tinyrnn._once("rng", "Rng", seed)     # (its code dropped again after the draws)
        for L in self.layers:       # in storage order
            b = init_bound(L.n_in if L.__class__ is Dense else L.n_hid)
            p = L.p
            for i in range(len(p)):
                p[i] = rng.randint(-b, b)
        self.weights_changed()
        self.reset()

    def weights_changed(self):
        """Call after writing parameters directly (model.params, or a view from param()
        kept across steps): each layer re-checks which of its exact loops it may use.
        Loading, init() and training call it themselves. Allocates nothing."""
        if self._dirty:
            self._dirty = False
        if self.kernels != "bytecode":   # native kernels bound their sums per step themselves
            return
        _kernels.bytecode().weights_changed(self.layers)     # (_rows.weights_changed)

    def reset(self):
        """Clear hidden and cell state (start of a new sequence)."""
        s = self.state
        for i in range(len(s)):
            s[i] = 0

    def step(self, x):
        """One time step. x: n_inputs Q8.8 ints. Returns the output buffer (a view
        of Q8.8 ints) which the next step overwrites: copy it to keep it."""
        run = self._run              # c: one call checks x, copies it, runs every layer and
        if run is not None:          # returns the output (the weights' bounds are its own: no
            y = run(x, self._prog)   # _dirty check); None for any x it did not take: then
            if y is not None:        # the Python path below, with its checks and messages
                return y
        layers = self.layers
        n = layers[0].n_in
        if not isinstance(x, SEQS) or len(x) != n:
            check_seq(x, "step: x", n)
        if self._dirty:
            self.weights_changed()
        xb = self._x
        if xb is None:
            for j in range(n):
                v = x[j]
                if type(v) is not int or v < -32768 or v > 32767:
                    check_q88s(x, "step: x", n)
        else:                        # viper kernels read a buffer: check and copy in one pass
            for j in range(n):
                v = x[j]
                if type(v) is not int or v < -32768 or v > 32767:
                    check_q88s(x, "step: x", n)
                xb[j] = v
            x = xb
        for L in layers:        # each layer's kernel works in place on its views
            L.kern(L.p, x, L.h, L.work, L.n_in, L.n_hid, L.flags)
            x = L.h                  # (an LSTM's h then c: the next layer reads the first n_in)
        return self.output

    def check_inputs(self, xs, name="xs"):
        """Raise TypeError/ValueError naming the first bad value (xs[t][j]) of an input sequence."""
        check_seq(xs, name)
        n = self.layers[0].n_in
        for t in range(len(xs)):
            check_q88s(xs[t], name, n, t)

    def run(self, xs):
        """Step through a sequence (from the current state); return a list of output copies.
        Every input is checked before the first step; an empty sequence is refused."""
        self.check_inputs(xs, "run: xs")
        if not len(xs):
            raise ValueError("run: xs is empty: a sequence needs at least one step")
        out = []
        for x in xs:
            out.append(array("h", self.step(x)))
        return out

    def param(self, name):
        """A parameter by PyTorch name, as a writable flat view of Q8.8 ints."""
        return tinyrnn._once("_params", "param", self, name)

    def param_shape(self, name):
        return tinyrnn._once("_params", "param_shape", self, name)

    def param_names(self):
        return tinyrnn._once("_params", "param_names", self)
