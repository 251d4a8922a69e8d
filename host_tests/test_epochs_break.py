"""Breaking out of Trainer.epochs() leaves the trainer as fit() would after that many
epochs: the optimizer's own lr back (not the schedule's), and with restore_best the
best weights in the model and the master weights. MicroPython runs no finaliser for
an abandoned generator, so this must hold at every yield: checked on the VM and the
unix port, and against the mirror's fit() of the same number of epochs."""
import json

import numpy as np

from tinyrnn_host.board import mpunix, mpvm
from tinyrnn_host.mirror import optim as m_optim
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.mirror.train import Trainer as MirrorTrainer

DESC = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1, "act": "identity"}}
rng = np.random.default_rng(5)
DATA = [[rng.integers(-300, 300, (5, 2)).tolist(), rng.integers(-200, 200, (5, 1)).tolist()] for _ in range(6)]
VAL = [[rng.integers(-300, 300, (5, 2)).tolist(), rng.integers(-200, 200, (5, 1)).tolist()] for _ in range(3)]
EPOCHS = 12

SCRIPT = r"""
import json
from tinyrnn.model import Model
from tinyrnn.optim import Adam, StepDecay
from tinyrnn.train import Trainer
c = json.loads(%r)

def run(stop):
    m = Model(c['desc'], 7)
    opt = Adam(lr='0.05')
    t = Trainer(m, optimizer=opt, max_steps=5)
    seen = []
    for epoch, loss, vloss in t.epochs(c['data'], c['epochs'], batch_size=2, val=c['val'], patience=20,
                                       restore_best=True, schedule=StepDecay(1, "0.7"), verbose=False):
        seen.append(vloss)
        if epoch == stop:
            break              # abandoned: no finaliser runs on MicroPython
    return [stop, opt.lr, list(m.params), list(t.master), seen]

print('OUT', json.dumps([run(s) for s in c['stops']]))
"""


def board_script(stops):
    return SCRIPT % json.dumps({"desc": DESC, "data": DATA, "val": VAL, "epochs": EPOCHS, "stops": stops})


def mirror(epochs):
    m = MirrorModel(DESC, 7)
    opt = m_optim.Adam(lr="0.05")
    t = MirrorTrainer(m, optimizer=opt)
    hist = t.fit(DATA, epochs, batch_size=2, val=VAL, patience=20, restore_best=True,
                 schedule=m_optim.StepDecay(1, "0.7"))
    master = np.concatenate([t.master[n].ravel() for n in t.names]).tolist()
    return opt.lr, m.flat_params().tolist(), master, [v for _, v in hist]


def lib_run(stop):
    from tinyrnn.model import Model
    from tinyrnn.optim import Adam, StepDecay
    from tinyrnn.train import Trainer
    m = Model(DESC, 7)
    opt = Adam(lr="0.05")
    t = Trainer(m, optimizer=opt, max_steps=5)
    seen = []
    for epoch, _, vloss in t.epochs(DATA, EPOCHS, batch_size=2, val=VAL, patience=20, restore_best=True,
                                    schedule=StepDecay(1, "0.7"), verbose=False):
        seen.append(vloss)
        if epoch == stop:
            break
    return [stop, opt.lr, list(m.params), list(t.master), seen]


def stops():
    """Epochs to break at whose val loss is not the best so far (restore_best must act there)."""
    _, _, _, vals = mirror(EPOCHS)
    out = [e for e in range(1, EPOCHS - 1) if vals[e] > min(vals[:e + 1])]
    assert out, "no epoch after which restore_best has anything to restore"
    return out[:3]


def check(results):
    for stop, lr, params, master, seen in results:
        want_lr, want_params, want_master, vals = mirror(stop + 1)
        assert lr == want_lr == m_optim.parse_q16("0.05"), "the schedule's lr was left applied"
        assert seen == vals
        assert master == want_master and params == want_params, "not the best weights after break at %d" % stop
        last = MirrorModel(DESC, 7)
        assert params != last.flat_params().tolist()


def test_break_under_cpython():
    check([lib_run(s) for s in stops()])


def test_break_on_the_vm():
    out = mpvm.run_vm(board_script(stops()), heap_bytes=1 << 20, allow_growth=True, mpy=True).stdout
    check(json.loads(out.split("OUT ", 1)[1]))


def test_break_on_the_unix_port():
    out = mpunix.run_unix(board_script(stops()), heap_bytes=131072).stdout
    check(json.loads(out.split("OUT ", 1)[1]))
