# Fine-tuning a deployed model on the board: a weights file (from the host, or imported
# from PyTorch) is loaded, part of it trained on the board's own recordings, and saved
# back atomically, or left as it was when the run made things worse.
#
#     from tinyrnn.finetune import finetune
#     from tinyrnn.optim import Adam
#     kept, before, after = finetune("model.bin", mine, my_val, 5, train="head",
#                                    loss="ce", targets="last", optimizer=Adam(lr="0.01"))
#
# mine, my_val: datasets as Trainer.fit takes them, e.g. tinyrnn.recordings files. The
# file's normalisation and labels travel with the model (weights.load keeps them on
# model.norm / model.labels, weights.save writes them back). Training code: an
# inference-only program never imports this module.
import tinyrnn
from . import weights
from .train import Trainer


def finetune(path, data, val, epochs, train="head", model=None, batch_size=1, verbose=False, **options):
    """Load `path` (into `model` when given, shapes checked, else a new model), train what
    `train` names (Trainer's train=; options: the other Trainer arguments) for `epochs` over
    data, and compare the mean loss on val before and after. Not worse (after <= before):
    the model is saved back to `path` (via path.tmp and a rename; its norm and labels kept).
    Worse: the file is left as it was and the model is loaded back from it, so the model is
    the one it started from. Returns (kept, before, after): kept True when saved; the losses
    Q8.8. Every argument and every sequence is checked before anything changes."""
    if model is None:
        model = weights.load(path)
    else:
        weights.load_into(model, path)
    t = Trainer(model, train=train, **options)
    tinyrnn._once("_args", "check_fit", t, data, epochs, batch_size, True, val, None, False, None, None, verbose)
    before = t.evaluate(val)
    t.fit(data, epochs, batch_size=batch_size, verbose=verbose)
    after = t.evaluate(val)
    if after <= before:
        weights.save(model, path)
        return True, before, after
    weights.load_into(model, path)
    return False, before, after
