# What Model(...) runs once, apart from model.py so that a program does not keep its code in the
# heap: model.py loads it for the call and drops it again (tinyrnn._once), before it allocates
# anything that lasts. The checks of a model description (parse), the kernels' choice (the
# bodies of kernels.available and kernels.name) and the model's layout (plan). PyTorch's
# parameter names and shapes are _params.py's, the buffers and layers _build.py's.
import tinyrnn
from . import kernels as _kernels
from ._cell import ACTS, MAX_ROW, bad_type

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


def _layer_params(kind, n_in, n_out):
    if kind in _GATES:
        return _GATES[kind] * n_out * (n_in + n_out + 2)
    return n_out * (n_in + 1)


def get(name):
    # tinyrnn.model's module attributes that live here or in _params.py (model.__getattr__)
    if name in ("parse", "KINDS", "_layer_params"):
        return globals()[name]
    if name == "param_shapes":
        return tinyrnn._once("_params", "get", name)
    raise AttributeError(name)


# ---- kernels.available() and kernels.name() (kernels.py) ----
def available(kind="viper"):
    """True if the `kind` kernels ('c' or 'viper') import on this port (a kind whose code found
    no heap block is tried again)."""
    if kind == "bytecode":
        return True
    got = _kernels._has[kind]
    if got is None or isinstance(got, MemoryError):
        try:
            if kind == "c":
                from . import _c  # noqa: F401
            else:
                from . import _viper  # noqa: F401
            got = True
        except _kernels.ERRS as e:
            got = e
            import sys               # (ERRS: a name left bound to nothing; drop it)
            sys.modules.pop("tinyrnn._c" if kind == "c" else "tinyrnn._viper", None)
        _kernels._has[kind] = got
    return got is True


def name(kind=None):
    """The kernel set a new model gets: `kind` if given, else what use() set, else the best."""
    if kind is None:
        kind = _kernels._default
    _kernels._check(kind)
    if kind is None:
        for kind in _kernels.KINDS:
            if available(kind):
                return kind
    if available(kind):
        return kind
    e = _kernels._has[kind]
    if isinstance(e, MemoryError):   # what to do, in _nomem.py's words (loaded only here)
        import sys
        m = "kernels: no heap for their code; gc.collect() first"    # (no heap even for that)
        try:
            from . import _nomem
            m = _nomem.no_block(kind, e)
        except Exception:
            pass
        tinyrnn._unload("_nomem")
        sys.modules.pop("tinyrnn._nomem", None)     # (train.py's _drop)
        raise MemoryError(m)
    raise ImportError("kernels: %s kernels do not run on this port (%s)" % (kind, "no _c module for its arch"
                      if kind == "c" else "no native emitter, or no _viper module"))


def plan(desc, seed, kernels):
    """Model(desc, seed, kernels)'s checks and plan, before anything that lasts is allocated:
    (the kernels' kind, (params, state, work, input copy) sizes, per layer (class index, n_in,
    n_out, act, params at, params count, state at, state count), the C kernels' plan: _c.run's
    kind, n_in, n_hid, flags and offsets per layer)."""
    spec = parse(desc)
    if seed is not None and type(seed) is not int:
        bad_type("seed", "an int or None", seed)
    kind = name(kernels)         # checked before anything is built
    n_state = 0
    n_work = 0
    at = 0
    layers = []
    plan = []
    for k, n_in, n_out, act in spec:
        n = _layer_params(k, n_in, n_out)
        m = 2 * n_out if k == "lstm" else n_out     # a dense layer's output counts as state; an LSTM's c too
        if k in _GATES:
            n_work = max(n_work, _WORK[k] * n_out)
        c = 3 if k == "head" else KINDS.index(k)     # _build's classes, and _c.run's codes
        layers.append((c, n_in, n_out, act, at, n, n_state, m))
        plan += [c, n_in, n_out, act << 1 if c == 3 else 0, at, n_state]
        at += n
        n_state += m
    return kind, (at, n_state, n_work, spec[0][1]), layers, plan
