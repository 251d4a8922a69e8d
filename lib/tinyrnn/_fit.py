# The loops of training: fit() and epochs() over a dataset, evaluate(), early stopping,
# the argument checks of training code,
# schedules, restore_best. Trainer (train.py) inherits them; split from it by
# responsibility: train.py holds one sequence's forward, backward and update.
# Spec: docs/arithmetic.md, 7.
from array import array

from ._cell import SEQS, bad_type, check_seq
from ._fixed import fixed_str, parse_fixed

try:
    from micropython import const
except ImportError:          # CPython: const() is just the value
    def const(x):
        return x

_G = const(536870911)        # the loss sum saturates here (2^29 - 1), as in train.py
_ERR = const(32767)          # an output error counts at most this much in the loss figure


# ---- argument checks of training code (inference never loads them; _cell has the shared
# ones): here, not in optim, so that importing the trainer does not load the optimizers
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
    """A hyperparameter as a Q.16 int, from a decimal string or a raw int, range-checked."""
    if type(value) is str:
        v = parse_fixed(value, 16, name)
    elif type(value) is int:
        v = value
    else:
        raise TypeError("%s must be a decimal string like '0.01' or a raw Q.16 int, got %s"
                        % (name, type(value).__name__))
    if v < lo or (hi is not None and v > hi):
        raise ValueError("%s=%r is out of range: %s .. %s" % (name, value, _dec(lo), "" if hi is None else _dec(hi)))
    return v


def _dec(v):
    # a Q.16 bound as short decimal text: 0.0000153 .. 1
    s = fixed_str(v, 16, 7)
    while s[-1] == "0":
        s = s[:-1]
    return s[:-1] if s[-1] == "." else s


class Loops:
    """fit(), epochs() and evaluate() of a Trainer (train.py): the per-sequence work is its own."""

    def _check_data(self, data, name):
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
                self.check(pair[0], pair[1])
            except (TypeError, ValueError) as e:
                raise e.__class__("%s[%d]: %s" % (name, i, e))

    def evaluate(self, dataset):
        """Mean loss (Q8.8) over a dataset, no gradients kept."""
        self._check_data(dataset, "dataset")
        keep = self.n_targets
        self.take_loss()
        for xs, ys in dataset:
            if not self.stateful:
                self.model.reset()
            for t in range(len(xs)):
                y = self.model.step(xs[t])
                if self.targets == "all" or t == len(xs) - 1:
                    yt = ys[t] if self.targets == "all" else ys
                    self._eval_loss(y, yt)
        self.n_targets = keep
        return self.take_loss()

    def _eval_loss(self, y, yt):
        if self.loss == "ce":
            self._add_loss(self._neg_ln[y[yt]], 1)
            return
        se = 0
        for o in range(len(y)):
            err = y[o] - yt[o]
            err = -err if err < 0 else err
            err = _ERR if err > _ERR else err
            se += (err * err + 128) >> 8
        self._add_loss(se, len(y))

    def fit(self, dataset, epochs, batch_size=1, shuffle=True, val=None, patience=None,
            restore_best=False, schedule=None, callback=None, verbose=True):
        """Train for `epochs` over dataset [(xs, ys), ...] in mini-batches whose gradients
        are averaged before one update. Prints one line per epoch (verbose). callback(epoch,
        loss, val_loss) may return True to stop. With patience, stops when the validation
        loss (or the training loss without val) has not improved for that many epochs
        (restore_best: then go back to the best weights). schedule: optim.StepDecay/ExpDecay.
        Returns [(loss, val_loss)] per epoch, Q8.8 ints (val_loss None without val).
        Every argument and every sequence is checked before the first update."""
        self._check_fit(dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
                        callback, verbose)
        # a plain loop, not the epochs() generator: a generator's frame is one more heap block
        history = []
        run = self._start()
        try:
            for epoch in range(epochs):
                stop = self._epoch(run, epoch, dataset, epochs, batch_size, shuffle, val, patience,
                                   restore_best, schedule, callback, verbose)
                history.append((run[6], run[7]))
                if stop:
                    break
        finally:
            self.opt.lr = run[1]
        return history

    def epochs(self, dataset, epochs, batch_size=1, shuffle=True, val=None, patience=None,
               restore_best=False, schedule=None, callback=None, verbose=True):
        """fit() as a generator of (epoch, loss, val_loss), one per epoch; the arguments are
        checked here, before it starts. At every yield the trainer is consistent: the
        optimizer's lr is its own (a schedule sets it per epoch), and with restore_best the
        model and master weights are the best so far, so a loop may simply break."""
        self._check_fit(dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
                        callback, verbose)
        return self._epochs(dataset, epochs, batch_size, shuffle, val, patience, restore_best,
                            schedule, callback, verbose)

    def _check_fit(self, dataset, epochs, batch_size, shuffle, val, patience, restore_best, schedule,
                   callback, verbose):
        self._check_data(dataset, "dataset")
        check_int(epochs, "epochs", 1)
        check_int(batch_size, "batch_size", 1)
        check_flag(shuffle, "shuffle")
        if val is not None:
            self._check_data(val, "val")
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

    def _epochs(self, dataset, epochs, batch_size, shuffle, val, patience, restore_best,
                schedule, callback, verbose):
        run = self._start()
        try:
            for epoch in range(epochs):
                stop = self._epoch(run, epoch, dataset, epochs, batch_size, shuffle, val, patience,
                                   restore_best, schedule, callback, verbose)
                yield epoch, run[6], run[7]
                if stop:
                    break
        finally:
            self.opt.lr = run[1]

    def _start(self):
        # what an epoch carries to the next: [order, lr0, best, best_w, parked, waited, loss, vloss]
        self.take_loss()
        return [None, self.opt.lr, None, None, False, 0, 0, None]

    def _epoch(self, run, epoch, dataset, epochs, batch_size, shuffle, val, patience, restore_best,
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
        parked = run[4]         # True while self.master IS best_w's array (between epochs)
        waited = run[5]
        if parked:              # back to the weights being trained
            self.master, best_w = best_w, self.master
            self._sync_to_model()
            parked = False
        if schedule is not None:
            self.opt.lr = schedule.lr(lr0, epoch)
        if shuffle:
            self.rng.shuffle(order)
        k = 0
        while k < n:
            xs, ys = dataset[order[k]]
            self.accumulate(xs, ys, check=False)
            k += 1
            if k % batch_size == 0 or k == n:
                self.update()
        self.opt.lr = lr0
        loss = self.take_loss()
        vloss = self.evaluate(val) if val is not None else None
        if verbose:
            print("epoch %d/%d loss %s%s" % (epoch + 1, epochs, fixed_str(loss, 8),
                                             "" if vloss is None else " val " + fixed_str(vloss, 8)))
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
                        best_w = array("i", self.master)
                    else:
                        for i in range(len(self.master)):
                            best_w[i] = self.master[i]
            else:
                waited += 1
                if waited >= patience:
                    if verbose:
                        print("early stop: no improvement for %d epochs" % patience)
                    stop = True
        if best_w is not None and not improved:
            # between epochs the model and master show the best weights (restore_best)
            self.master, best_w = best_w, self.master
            self._sync_to_model()
            parked = True
        run[2] = best
        run[3] = best_w
        run[4] = parked
        run[5] = waited
        run[6] = loss
        run[7] = vloss
        return stop
