# Trainer's train= (what learns) parsed: loaded by _budget.check for a train= other than
# "all", then dropped again. The host's estimate (reports/budget.py) parses it with it too.


def trained_layers(train, n):
    """The layers a Trainer's train= names, as a range lo..hi-1 of layer indices (n layers).
    "all": every layer; "head": the last one; a list or tuple of layer indices (negative ones
    count from the end), which must be consecutive: [1], [-1] (the head), [1, 2]. Frozen
    layers below lo take no cache, no gradients and no backward; frozen ones above hi-1 pass
    the deltas down through one shared scratch gradient buffer."""
    if train == "all":
        return 0, n
    if train == "head":
        return n - 1, n
    if not isinstance(train, (list, tuple)) or not train:
        raise (ValueError if isinstance(train, (str, list, tuple)) else TypeError)(
            "train must be 'all', 'head' or a list of layer indices, got %r" % (train,))
    got = []
    for i in train:
        if type(i) is not int:
            raise TypeError("train=%r: a layer index must be an int, got %r" % (train, i))
        if i < -n or i >= n:
            raise ValueError("train=%r: layer %d does not exist (the model has %d layers)" % (train, i, n))
        got.append(i + n if i < 0 else i)
    got.sort()
    for j in range(1, len(got)):
        if got[j] != got[j - 1] + 1:
            raise ValueError("train=%r: the layers must be consecutive and each named once" % (train,))
    return got[0], got[-1] + 1
