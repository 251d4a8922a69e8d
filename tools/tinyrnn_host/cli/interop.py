"""Interop subcommands: import-torch, export-torch, torch-error, import-keras, keras-error, train."""
import argparse

from .common import command

HEAD_ACTS = ("identity", "sigmoid", "tanh", "softmax")
TASKS = ("sine", "tones")


def add(sub):
    p = command(sub, "import-torch", "PyTorch state_dict (torch.save'd) -> tinyrnn weights file",
                "PyTorch -> tinyrnn: one nn.RNN/LSTM/GRU stack (or several chained) and an optional nn.Linear\n"
                "head, quantised to Q8.8 (round half up, saturated), with a rounding and saturation report.\n"
                "See docs/pytorch.md.")
    p.add_argument("src", help="the .pt file")
    p.add_argument("out", help="the weights file to write")
    p.add_argument("--head-act", choices=HEAD_ACTS,
                   help="the activation after the nn.Linear (needed: a state_dict does not record it)")
    p.add_argument("--kind", help="elman|lstm|gru (or one per module, comma separated); "
                                  "checked against the shapes, which tell it anyway")
    p.add_argument("--rnn-prefix", action="append",
                   help="key prefix of a recurrent module, e.g. 'rnn.'; repeat for chained modules, in order")
    p.add_argument("--linear-prefix", help="key prefix of the nn.Linear head, e.g. 'fc.'")
    p.add_argument("--no-head", action="store_true", help="the model has no nn.Linear: import the stack alone")
    p.add_argument("--allow-extra", action="store_true", help="leave out keys that map to nothing")
    p.add_argument("--unsafe-pickle", action="store_true",
                   help="allow a whole pickled nn.Module (runs code from the file: trusted files only)")
    p.set_defaults(run=import_torch)

    p = command(sub, "export-torch", "tinyrnn weights file -> PyTorch state_dict",
                "tinyrnn weights file -> torch.save'd state_dict (floats = q / 256).")
    p.add_argument("src", help="the weights file")
    p.add_argument("out", help="the .pt file to write")
    p.add_argument("--rnn-prefix", action="append",
                   help="key prefix of the recurrent module (default 'rnn.'; 'rnn.0.', 'rnn.1.' ... when the "
                        "stack needs several modules), or one per module")
    p.add_argument("--linear-prefix", default="fc.", help="key prefix of the nn.Linear head (default fc.)")
    p.add_argument("--float64", action="store_true", help="float64 tensors (default float32)")
    p.set_defaults(run=export_torch)

    p = command(sub, "torch-error", "Q8.8 outputs vs the PyTorch models they came from, in LSB")
    p.set_defaults(run=torch_error)

    p = command(sub, "import-keras", "Keras 3 Sequential model (.keras) -> tinyrnn weights file",
                "Keras -> tinyrnn: SimpleRNN, LSTM, GRU (reset_after=True) and Dense layers of a Sequential model,\n"
                "quantised to Q8.8, with the rounding report and the Keras-vs-board output error. Keras runs on\n"
                "its PyTorch backend (no TensorFlow). See docs/pytorch.md.")
    p.add_argument("src", help="the .keras file (keras.saving.save_model)")
    p.add_argument("out", help="the weights file to write")
    p.set_defaults(run=import_keras)

    p = command(sub, "keras-error", "Q8.8 outputs vs the Keras models they came from, in LSB")
    p.set_defaults(run=keras_error)

    p = command(sub, "train", "train on the host (float64), write a Q8.8 weights file",
                "Train a model on the host in float64 (NumPy, BPTT, Adam), quantise it to Q8.8, write a weights\n"
                "file, and measure what quantisation costs on held-out data. Tasks: sine (next-sample\n"
                "prediction), tones (which of 4 tones). See docs/pytorch.md.")
    p.add_argument("--task", choices=TASKS + ("all",), default="sine")
    p.add_argument("--kind", choices=("elman", "lstm", "gru"), default="gru")
    p.add_argument("--hidden", type=sizes, default=(32,), help="hidden sizes of the stack, comma separated (default 32)")
    p.add_argument("--epochs", type=int, help="default: the task's (sine 20, tones 15)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="weights file to write (default host_<task>.bin; not with --task all)")
    p.add_argument("--plot", metavar="PNG", help="sine: also write the forecast-vs-truth plot of a held-out sequence")
    p.set_defaults(run=train, parser=p)


def sizes(text):
    try:
        return tuple(int(h) for h in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("sizes like 32 or 32,16, got %r" % text)


def _torch_import():
    try:
        from ..interop import torch_import
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        raise SystemExit("tinyrnn: this command needs PyTorch: pip install 'tinyrnn[torch]'")
    return torch_import


def import_torch(a):
    return _torch_import().import_command(a.src, a.out, a.head_act, a.kind, a.rnn_prefix, a.linear_prefix,
                                       a.no_head, a.allow_extra, a.unsafe_pickle)


def export_torch(a):
    return _torch_import().export_command(a.src, a.out, a.rnn_prefix, a.linear_prefix, a.float64)


def torch_error(a):
    _torch_import().print_error_table()
    return 0


def import_keras(a):
    from ..interop import keras_import
    return keras_import.import_command(a.src, a.out)


def keras_error(a):
    from ..interop import keras_import
    keras_import.print_error_table()
    return 0


def train(a):
    tasks = TASKS if a.task == "all" else (a.task,)
    if a.out and len(tasks) > 1:
        a.parser.error("--out names one file; --task all writes host_<task>.bin for each task")
    from ..interop import host_train
    return host_train.main(tasks, a.kind, a.hidden, a.epochs, a.seed, a.out, a.lr, a.plot)
