# The loops of training: fit() and epochs() over a dataset, evaluate(), early stopping,
# schedules, restore_best. Trainer's fit(), epochs() and evaluate() (train.py) load this
# module for the call and drop it when it returns (tinyrnn._once: a generator of epochs()
# keeps its code while it lives), so a program keeps only what one training step runs in
# the heap; train.py holds one sequence's forward, backward and update.
# Spec: docs/arithmetic.md, 7.

import tinyrnn
from ._cell import SEQS, zeros

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

_ERR = const(32767)          # an output error counts at most this much in the loss figure


def _flag(v):
    return v is True or v is False


def _data_ok(t, data):
    # whether a dataset passes _args.check_data (each pair checked by t.check): the same checks,
    # without their messages
    if not isinstance(data, SEQS) and (isinstance(data, (dict, str, bytes)) or not (
            hasattr(data, "__len__") and hasattr(data, "__getitem__"))):
        return False
    if not len(data):
        return False
    for i in range(len(data)):
        pair = data[i]
        if not isinstance(pair, SEQS) or len(pair) != 2:
            return False
        try:
            t.check(pair[0], pair[1])
        except (TypeError, ValueError):
            return False
    return True


def _check(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule, callback, verbose):
    # the arguments of fit() or epochs(): what is right passes here; anything wrong is named by
    # _args.check_fit (the same checks in the same order, with the messages: loaded only then, so
    # that a training run does not hold that module's code beside its own at its start)
    if not (_data_ok(t, dataset) and type(epochs) is int and epochs >= 1 and type(batch_size) is int
            and batch_size >= 1 and _flag(shuffle) and (val is None or _data_ok(t, val))
            and (patience is None or (type(patience) is int and patience >= 1)) and _flag(restore_best)
            and (patience is not None or not restore_best)
            and (schedule is None or (not isinstance(schedule, type) and hasattr(schedule, "lr")))
            and (callback is None or callable(callback)) and _flag(verbose)):
        tinyrnn._once("_args", "check_fit", t, dataset, epochs, batch_size, shuffle, val, patience, restore_best,
                      schedule, callback, verbose)


def evaluate(t, dataset):
    """Mean loss (Q8.8) over a dataset, no gradients kept."""
    if not _data_ok(t, dataset):
        tinyrnn._once("_args", "check_data", t, dataset, "dataset")
    keep = t.n_targets
    t.take_loss()
    for xs, ys in dataset:
        if not t.stateful:
            t.model.reset()
        for i in range(len(xs)):
            y = t.model.step(xs[i])
            if t.targets == "all" or i == len(xs) - 1:
                yt = ys[i] if t.targets == "all" else ys
                _eval_loss(t, y, yt)
    t.n_targets = keep
    return t.take_loss()


def _eval_loss(t, y, yt):
    if t.loss == "ce":
        t._add_loss(t._neg_ln[y[yt]], 1)
        return
    se = 0
    for o in range(len(y)):
        err = y[o] - yt[o]
        err = -err if err < 0 else err
        err = _ERR if err > _ERR else err
        se += (err * err + 128) >> 8
    t._add_loss(se, len(y))


def fit(t, dataset, epochs, args, kw):
    # Trainer.fit(dataset, epochs, *args, **kw)
    return _fit(t, dataset, epochs, *args, **kw)


def _fit(t, dataset, epochs, batch_size=1, shuffle=True, val=None, patience=None, restore_best=False,
         schedule=None, callback=None, verbose=True):
    """Train for `epochs` over dataset [(xs, ys), ...] in mini-batches whose gradients
    are averaged before one update. Prints one line per epoch (verbose). callback(epoch,
    loss, val_loss) may return True to stop. With patience, stops when the validation
    loss (or the training loss without val) has not improved for that many epochs
    (restore_best: then go back to the best weights). schedule: optim.StepDecay/ExpDecay.
    Returns [(loss, val_loss)] per epoch, Q8.8 ints (val_loss None without val).
    Every argument and every sequence is checked before the first update."""
    _check(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule, callback, verbose)
    # a plain loop, not the epochs() generator: a generator's frame is one more heap block
    history = []
    run = _start(t, restore_best)
    try:
        for epoch in range(epochs):
            stop = _epoch(t, run, epoch, dataset, epochs, batch_size, shuffle, val, patience,
                          restore_best, schedule, callback, verbose)
            history.append((run[6], run[7]))
            if stop:
                break
    finally:
        t.opt.lr = run[1]
    return history


def epochs(t, dataset, epochs, args, kw):
    # Trainer.epochs(dataset, epochs, *args, **kw)
    return _epochs(t, dataset, epochs, *args, **kw)


def _epochs(t, dataset, epochs, batch_size=1, shuffle=True, val=None, patience=None, restore_best=False,
            schedule=None, callback=None, verbose=True):
    """fit() as a generator of (epoch, loss, val_loss), one per epoch; the arguments are
    checked here, before it starts. At every yield the trainer is consistent: the
    optimizer's lr is its own (a schedule sets it per epoch), and with restore_best the
    model and master weights are the best so far, so a loop may simply break."""
    _check(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule, callback, verbose)
    return _gen(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule, callback, verbose)


def _gen(t, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule, callback, verbose):
    run = _start(t, restore_best)
    try:
        for epoch in range(epochs):
            stop = _epoch(t, run, epoch, dataset, epochs, batch_size, shuffle, val, patience,
                          restore_best, schedule, callback, verbose)
            yield epoch, run[6], run[7]
            if stop:
                break
    finally:
        t.opt.lr = run[1]


def _start(t, restore_best):
    # what an epoch carries to the next: [order, lr0, best, best_w, parked, waited, loss, vloss,
    # the array best_w will be]; restore_best's copy of the master weights is allocated here,
    # before the first update (MemoryError in the budget's words where it does not fit: the
    # trainer's budget does not know fit()'s arguments)
    spare = None
    if restore_best:
        try:
            spare = zeros("i", len(t.master))
        except MemoryError:
            raise MemoryError("fit(restore_best=True) needs %d bytes for a copy of the master weights: "
                              "gc.collect() earlier, or restore_best=False" % (4 * len(t.master)))
    t.take_loss()
    return [None, t.opt.lr, None, None, False, 0, 0, None, spare]


def _str(v):
    # a loss (Q8.8) as fit() prints it (_fixed.fixed_str: loaded for it); where the heap has no
    # room for that code, the Q8.8 int itself: a progress line never stops the training
    try:
        return tinyrnn._once("_fixed", "fixed_str", v, 8)
    except MemoryError:
        return "%d/256" % v


def _epoch(t, run, epoch, dataset, epochs, batch_size, shuffle, val, patience, restore_best,
           schedule, callback, verbose):
    """One epoch of fit(): train, evaluate, report, callback, patience. Returns True to stop.
    Leaves the trainer consistent (its own lr; with restore_best, the best weights in place)."""
    n = len(dataset)
    if run[0] is None:
        run[0] = list(range(n))
    order = run[0]
    lr0 = run[1]
    best = run[2]
    best_w = run[3]         # restore_best: the best master weights so far
    parked = run[4]         # True while t.master IS best_w's array (between epochs)
    waited = run[5]
    if parked:              # back to the weights being trained
        t.master, best_w = best_w, t.master
        t._sync_to_model()
        parked = False
    if schedule is not None:
        t.opt.lr = schedule.lr(lr0, epoch)
    if shuffle:
        t.rng.shuffle(order)
    k = 0
    while k < n:
        xs, ys = dataset[order[k]]
        t.accumulate(xs, ys, check=False)
        k += 1
        if k % batch_size == 0 or k == n:
            t.update()
    t.opt.lr = lr0
    loss = t.take_loss()
    vloss = evaluate(t, val) if val is not None else None
    if verbose:
        print("epoch %d/%d loss %s%s" % (epoch + 1, epochs, _str(loss), "" if vloss is None else " val " + _str(vloss)))
    stop = callback is not None and callback(epoch, loss, vloss)
    improved = False
    if not stop and patience is not None:
        score = loss if vloss is None else vloss
        if best is None or score < best:
            best = score
            waited = 0
            improved = True
            if restore_best:
                if best_w is None:
                    best_w = run[8]
                for i in range(len(t.master)):
                    best_w[i] = t.master[i]
        else:
            waited += 1
            if waited >= patience:
                if verbose:
                    print("early stop: no improvement for %d epochs" % patience)
                stop = True
    if best_w is not None and not improved:
        # between epochs the model and master show the best weights (restore_best)
        t.master, best_w = best_w, t.master
        t._sync_to_model()
        parked = True
    run[2] = best
    run[3] = best_w
    run[4] = parked
    run[5] = waited
    run[6] = loss
    run[7] = vloss
    return stop
