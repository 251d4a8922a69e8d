# The argument checks of training code, run once per call and not kept in the heap (tinyrnn._once
# loads this module for the call and drops it): Trainer(...)'s (trainer), the optimizers' and
# schedules' int arguments (check_int, check_flag and q16 are also optim's API; q16 is _fixed's), fit()'s
# and a dataset's (check_fit, check_data), and the message naming what is wrong with a pair that
# Trainer.check found wrong (check). Inference never loads them; _cell has the shared ones.
import tinyrnn
from ._cell import SEQS, SOFTMAX, bad_type, check_q88s, check_seq

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

_G = const(536870911)        # clip bounds saturate here (2^29 - 1), as in train.py


def check_int(v, name, lo, hi=None):
    """TypeError unless v is an int (bool is not), ValueError unless lo <= v (<= hi)."""
    if type(v) is not int:
        bad_type(name, "an int", v)
    if v < lo or (hi is not None and v > hi):
        raise ValueError("%s=%d is out of range %d..%s" % (name, v, lo, "" if hi is None else hi))


def check_flag(v, name):
    if v is not True and v is not False:
        bad_type(name, "True or False", v)


def q16(value, name, lo=0, hi=None):
    """A hyperparameter as a Q.16 int, range-checked (_fixed.q16: loaded for the call)."""
    return tinyrnn._once("_fixed", "q16", value, name, lo, hi)


def get(name):
    # optim.check_int, check_flag and q16 (optim.__getattr__: loaded for the lookup)
    if name not in ("check_int", "check_flag", "q16"):
        raise AttributeError(name)
    return globals()[name]


def check(t, xs, ys):
    """Raise ValueError/TypeError naming what is wrong with one (xs, ys) pair of trainer t
    (Trainer.check, where its own pass found something wrong)."""
    check_seq(xs, "xs")
    T = len(xs)
    if T == 0:
        raise ValueError("xs is empty: a sequence needs at least one step")
    if t.window is None and T > t.steps:
        raise ValueError("xs has %d steps, the trainer's cache holds max_steps=%d" % (T, t.steps))
    t.model.check_inputs(xs)
    if t.targets == "last":
        _check_target(t, ys, "ys")
        return
    check_seq(ys, "ys")
    if len(ys) != T:
        raise ValueError("sequence lengths differ: xs has %d steps, ys has %d" % (T, len(ys)))
    for i in range(T):
        _check_target(t, ys[i], "ys", i)


def _check_target(tr, y, name, t=-1):
    O = tr.model.n_outputs
    if tr.loss != "ce":
        check_q88s(y, name, O, t)
    elif type(y) is not int or y < 0 or y >= O:
        raise (TypeError if type(y) is not int else ValueError)(
            "%s=%r: a class target must be an int in 0..%d" % (name if t < 0 else "ys[%d]" % t, y, O - 1))


def check_data(t, data, name):
    # a dataset: a non-empty list or tuple of (xs, ys) pairs, each checked; or an object
    # of the program's own with len() and [i] (e.g. recordings read from flash on demand)
    if not isinstance(data, SEQS) and (isinstance(data, (dict, str, bytes)) or not (
            hasattr(data, "__len__") and hasattr(data, "__getitem__"))):
        check_seq(data, name)
    if not len(data):
        raise ValueError("%s is empty" % name)
    for i in range(len(data)):
        pair = data[i]
        if not isinstance(pair, SEQS) or len(pair) != 2:
            raise TypeError("%s[%d] must be an (xs, ys) pair" % (name, i))
        try:
            t.check(pair[0], pair[1])
        except (TypeError, ValueError) as e:
            raise e.__class__("%s[%d]: %s" % (name, i, e))


def check_fit(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
              callback, verbose):
    """fit()'s and epochs()'s arguments, each sequence of dataset and val checked (t.check)."""
    check_data(t, dataset, "dataset")
    check_int(epochs, "epochs", 1)
    check_int(batch_size, "batch_size", 1)
    check_flag(shuffle, "shuffle")
    if val is not None:
        check_data(t, val, "val")
    if patience is not None:
        check_int(patience, "patience", 1)
    check_flag(restore_best, "restore_best")
    if restore_best and patience is None:
        raise ValueError("restore_best needs patience")
    if schedule is not None and (isinstance(schedule, type) or not hasattr(schedule, "lr")):
        bad_type("schedule", "StepDecay or ExpDecay", schedule)
    if callback is not None and not callable(callback):
        bad_type("callback", "callable", callback)
    check_flag(verbose, "verbose")



def trainer(model, loss, optimizer, targets, window, max_steps, stateful, clip_value, clip_norm,
            weight_decay, seed):
    """(clip_value, clip_norm, weight_decay) as Q.16 ints (or None): Trainer(...)'s arguments
    checked (but train=: _budget.fits), ValueError/TypeError naming the first that is wrong."""
    # a Model by what it is (its class is not imported: training code costs no more heap than it must)
    if type(model).__name__ != "Model" or not hasattr(model, "layers"):
        bad_type("model", "a tinyrnn Model", model)
    if loss not in ("mse", "ce"):
        raise ValueError("loss must be 'mse' or 'ce', got %r" % (loss,))
    if targets not in ("all", "last"):
        raise ValueError("targets must be 'all' or 'last', got %r" % (targets,))
    last = model.layers[-1]
    softmax_out = last.__class__.__name__ == "Dense" and last.act == SOFTMAX
    if loss == "ce" and not softmax_out:
        raise ValueError("loss 'ce' (softmax cross-entropy) needs a softmax head; this model's output is not softmax")
    if loss == "mse" and softmax_out:
        raise ValueError("loss 'mse' on a softmax head: use loss='ce' for classification")
    for layer in model.layers[:-1]:
        if layer.__class__.__name__ == "Dense" and layer.act == SOFTMAX:
            raise ValueError("softmax is only trainable as the output layer")
    if optimizer is not None and (isinstance(optimizer, type) or not hasattr(optimizer, "bind")):
        bad_type("optimizer", "SGD, Momentum, RMSprop or Adam", optimizer)
    if window is not None:
        check_int(window, "window", 1)
    check_int(max_steps, "max_steps", 1)
    check_flag(stateful, "stateful")
    if type(seed) is not int:
        bad_type("seed", "an int", seed)
    cv = None if clip_value is None else q16(clip_value, "clip_value", 1, _G)
    cn = None if clip_norm is None else q16(clip_norm, "clip_norm", 1, _G)
    wd = None if weight_decay is None else q16(weight_decay, "weight_decay", 0, 65536)
    return cv, cn, wd
