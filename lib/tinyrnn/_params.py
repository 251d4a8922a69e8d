# What runs rarely: PyTorch's parameter names and shapes (model.param_shapes(desc) and the
# bodies of Model.param(), param_shape() and param_names(); m: the model), and the messages of
# _cell's argument checks where one fails. Loaded for the call and dropped again
# (tinyrnn._once), so that a program does not keep them in the heap. (One module for both: each
# module's names stay interned in the heap once it has been loaded.)
import tinyrnn
from ._cell import SEQS, bad_type

_GATES = {"elman": 1, "lstm": 4, "gru": 3}


def get(name):
    # model.param_shapes (model.__getattr__, through _desc.get)
    if name == "param_shapes":
        return param_shapes
    raise AttributeError(name)


def param_shapes(desc):
    """[(name, shape)] in storage order, with PyTorch's names and layouts."""
    shapes = []
    for l, (kind, n_in, n_out, _) in enumerate(tinyrnn._once("_desc", "parse", desc)):
        if kind == "head":
            shapes += [("head.weight", (n_out, n_in)), ("head.bias", (n_out,))]
        elif kind == "dense":
            shapes += [("weight_l%d" % l, (n_out, n_in)), ("bias_l%d" % l, (n_out,))]
        else:
            g = _GATES[kind] * n_out
            shapes += [("weight_ih_l%d" % l, (g, n_in)), ("weight_hh_l%d" % l, (g, n_out)),
                       ("bias_ih_l%d" % l, (g,)), ("bias_hh_l%d" % l, (g,))]
    return shapes


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def param(m, name):
    at = 0
    for pname, shape in param_shapes(m.desc):
        n = _numel(shape)
        if pname == name:
            m._dirty = True      # the caller may write through the view
            return memoryview(m.params)[at:at + n]
        at += n
    raise KeyError("no parameter %r; have: %s" % (name, ", ".join(param_names(m))))


def param_shape(m, name):
    for pname, shape in param_shapes(m.desc):
        if pname == name:
            return shape
    raise KeyError("no parameter %r" % (name,))


def param_names(m):
    return [name for name, _ in param_shapes(m.desc)]


# ---- _cell.check_seq and check_q88s, where the check fails: the error naming the problem ----
def check_seq(v, name, n):
    if not isinstance(v, SEQS):
        bad_type(name, "a list, tuple or array", v)
    if n >= 0 and len(v) != n:
        raise ValueError("%s has %d values, expected %d" % (name, len(v), n))


def check_q88s(v, name, n, t):
    if t >= 0:
        name = "%s[%d]" % (name, t)
    check_seq(v, name, n)
    for j in range(n):
        q = v[j]
        if type(q) is not int:
            bad_type("%s[%d]" % (name, j), "a Q8.8 int", q)
        if q < -32768 or q > 32767:
            raise ValueError("%s[%d]=%d is outside Q8.8 range [-32768, 32767]" % (name, j, q))
