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
from array import array

from . import kernels as _kernels
from ._cell import ACTS, GRU, LSTM, MAX_ROW, SEQS, Dense, Elman, bad_type, check_q88s, check_seq, zeros
from .rng import Rng

KINDS = ("elman", "lstm", "gru", "dense")
_GATES = {"elman": 1, "lstm": 4, "gru": 3}
_WORK = {"elman": 1, "lstm": 4, "gru": 4}      # work buffer per hidden unit (GRU keeps hn too)


def _size(d, key, where):
    v = d.get(key)
    if type(v) is not int or v < 1:
        raise ValueError("%s: '%s' must be a positive int, got %r" % (where, key, v))
    return v


def _act(d, where, default):
    a = d.get("act", default)
    if a not in ACTS:
        raise ValueError("%s: act %r is not one of %s" % (where, a, ", ".join(ACTS)))
    return ACTS.index(a)


def _keys(d, where, allowed):
    for key in d:
        if key not in allowed:
            raise ValueError("%s: unknown key %r (it takes %s)" % (where, key, ", ".join(allowed)))


def parse(desc):
    """Check a description; return [(kind, n_in, n_out, act index)] for the layers then the head.

    Raises ValueError naming the layer and key that is wrong.
    """
    if not isinstance(desc, dict):
        raise TypeError("model description must be a dict, got %s" % type(desc).__name__)
    _keys(desc, "model description", ("input", "layers", "head"))
    n = _size(desc, "input", "model description")
    layers = desc.get("layers") or []
    if not isinstance(layers, (list, tuple)):
        raise ValueError("model description: 'layers' must be a list")
    head = desc.get("head")
    if not layers and head is None:
        raise ValueError("model description: needs at least one layer or a head")
    out = []
    for l, d in enumerate(layers):
        where = "layer %d" % l
        if not isinstance(d, dict):
            raise ValueError("%s: must be a dict like {'kind': 'gru', 'hidden': 8}" % where)
        kind = d.get("kind")
        if kind not in KINDS:
            raise ValueError("%s: kind %r is not one of %s" % (where, kind, ", ".join(KINDS)))
        if "input" in d and d["input"] != n:
            raise ValueError("%s: input size %r does not match the %d values coming in" % (where, d["input"], n))
        _keys(d, where, ("kind", "out", "act", "input") if kind == "dense" else ("kind", "hidden", "input"))
        if kind == "dense":
            m = _size(d, "out", where)
            out.append((kind, n, m, _act(d, where, "tanh")))
            row = n
        else:
            m = _size(d, "hidden", where)
            out.append((kind, n, m, 0))
            row = n + m
        if row > MAX_ROW:
            raise ValueError("%s: rows of %d terms (inputs + hidden); at most %d are supported"
                             % (where, row, MAX_ROW))
        n = m
    if head is not None:
        if not isinstance(head, dict):
            raise ValueError("head: must be a dict like {'out': 1, 'act': 'identity'}")
        _keys(head, "head", ("out", "act", "input"))
        if "input" in head and head["input"] != n:
            raise ValueError("head: input size %r does not match the %d values coming in" % (head["input"], n))
        if n > MAX_ROW:
            raise ValueError("head: rows of %d inputs; at most %d are supported" % (n, MAX_ROW))
        out.append(("head", n, _size(head, "out", "head"), _act(head, "head", "identity")))
    return out


def param_shapes(desc):
    """[(name, shape)] in storage order, with PyTorch's names and layouts."""
    shapes = []
    for l, (kind, n_in, n_out, _) in enumerate(parse(desc)):
        if kind == "head":
            shapes += [("head.weight", (n_out, n_in)), ("head.bias", (n_out,))]
        elif kind == "dense":
            shapes += [("weight_l%d" % l, (n_out, n_in)), ("bias_l%d" % l, (n_out,))]
        else:
            g = _GATES[kind] * n_out
            shapes += [("weight_ih_l%d" % l, (g, n_in)), ("weight_hh_l%d" % l, (g, n_out)),
                       ("bias_ih_l%d" % l, (g,)), ("bias_hh_l%d" % l, (g,))]
    return shapes


def init_bound(fan):
    """PyTorch's init range 1/sqrt(fan) in Q8.8: floor(256 / sqrt(fan) + 1/2), integer only."""
    b = 0
    while (2 * b + 1) * (2 * b + 1) * fan <= 262144:   # (b + 1/2)^2 <= 65536 / fan
        b += 1
    return b


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


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
        spec = parse(desc)
        if seed is not None and type(seed) is not int:
            bad_type("seed", "an int or None", seed)
        kernel_kind = _kernels.name(kernels)        # checked before anything is built
        k = _kernels.inference(kernel_kind)
        self.desc = desc
        n_params = 0
        n_state = 0
        n_work = 0
        for kind, n_in, n_out, _ in spec:
            n_params += _layer_params(kind, n_in, n_out)
            n_state += 2 * n_out if kind == "lstm" else n_out   # a dense layer's output counts as state
            if kind in _GATES:
                n_work = max(n_work, _WORK[kind] * n_out)
        self.params = zeros("h", n_params)      # each buffer in one allocation of its final size
        self.state = zeros("h", n_state)
        self.work = zeros("h", n_work)
        if kernel_kind != "bytecode":
            self.kernels = kernel_kind
            self._x = zeros("h", spec[0][1])
        pv = memoryview(self.params)
        sv = memoryview(self.state)
        wv = memoryview(self.work)
        layers = []
        at = 0
        s = 0
        for kind, n_in, n_out, act in spec:
            n = _layer_params(kind, n_in, n_out)
            p = pv[at:at + n]
            at += n
            if kind == "head" or kind == "dense":
                layers.append(Dense(n_in, n_out, act, p, sv[s:s + n_out], k.dense_step))
            elif kind == "lstm":
                layers.append(LSTM(n_in, n_out, p, sv[s:s + 2 * n_out], wv, k.lstm_step))
                s += n_out                     # the cell state
            elif kind == "gru":
                layers.append(GRU(n_in, n_out, p, sv[s:s + n_out], wv, k.gru_step))
            else:
                layers.append(Elman(n_in, n_out, p, sv[s:s + n_out], wv, k.elman_step))
            s += n_out
        self.layers = layers
        last = layers[-1]
        # what step() returns: the last layer's h (for an LSTM, without its c)
        self.output = last.h if len(last.h) == last.n_hid else last.h[:last.n_hid]
        if kernel_kind == "c":
            self._plan(k)
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
        rng = Rng(seed)
        p = self.params
        i = 0
        for kind, n_in, n_out, _ in parse(self.desc):
            b = init_bound(n_out if kind in _GATES else n_in)
            for _ in range(_layer_params(kind, n_in, n_out)):
                p[i] = rng.randint(-b, b)
                i += 1
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
        fits = _kernels.bytecode().fits
        x_max = 32768                 # the model's input: any Q8.8 value
        for layer in self.layers:
            layer.bound(x_max, fits)
            # what the next layer gets: a cell's h, or a squashed dense output, is within
            # [-1.0, 1.0]; an identity dense output can be anything
            x_max = 32768 if layer.__class__ is Dense and layer.act == 0 else 256

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

    def _plan(self, k):
        # for _c.run: per layer kind, n_in, n_hid, flags and its offsets into params and state
        kinds = {"Elman": 0, "LSTM": 1, "GRU": 2, "Dense": 3}
        plan = zeros("i", 6 * len(self.layers))
        at = 0
        s = 0
        i = 0
        for L in self.layers:
            for v in (kinds[L.__class__.__name__], L.n_in, L.n_hid, L.flags, at, s):
                plan[i] = v
                i += 1
            at += len(L.p)
            s += len(L.h)
        self._run = k.run
        self._prog = (self._x, self.params, self.state, self.work, plan, self.output)

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
        at = 0
        for pname, shape in param_shapes(self.desc):
            n = _numel(shape)
            if pname == name:
                self._dirty = True      # the caller may write through the view
                return memoryview(self.params)[at:at + n]
            at += n
        raise KeyError("no parameter %r; have: %s" % (name, ", ".join(self.param_names())))

    def param_shape(self, name):
        for pname, shape in param_shapes(self.desc):
            if pname == name:
                return shape
        raise KeyError("no parameter %r" % (name,))

    def param_names(self):
        return [name for name, _ in param_shapes(self.desc)]


def _layer_params(kind, n_in, n_out):
    if kind in _GATES:
        return _GATES[kind] * n_out * (n_in + n_out + 2)
    return n_out * (n_in + 1)

