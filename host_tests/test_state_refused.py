"""Bad states refused, nothing changed: device_tests/test_state_errors.py holds the corrupt
cases, each run here under CPython as its own test; device_tests/test_state_foreign.py (other
architectures, bad arguments and files) runs here test by test (on MicroPython: `tinyrnn
device-test test_state_errors test_state_foreign`, both runtimes). The board's refusals are
the mirror's too, in the same words."""
import os

import numpy as np
import pytest

from tinyrnn_host.mirror import state as mstate
from tinyrnn_host.mirror.model import Model as MModel

from test_state_bitexact import device_module

dev = device_module("test_state_errors")
CASES = [(group, i, case) for group, make in dev.GROUPS.items() for i, case in enumerate(make())]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("state_errors"))
    yield
    os.chdir(here)


@pytest.mark.parametrize("group, i, case", CASES, ids=["%s-%d" % (g, i) for g, i, _ in CASES])
def test_refused_and_nothing_changed(group, i, case, folder):
    why = dev.check_case(dev.World(), case)
    assert why is None, why


def test_every_flipped_bit_and_every_cut_refused(folder):
    dev.flips(True)
    dev.cuts()


foreign = device_module("test_state_foreign")


@pytest.mark.parametrize("name", [n for n in sorted(vars(foreign)) if n.startswith("test_")])
def test_foreign_states_and_bad_files_under_cpython(name, folder):
    getattr(foreign, name)()


def test_the_mirror_refuses_other_architectures():
    m = MModel(foreign.DESC, seed=3)
    before = m.state().copy()
    for words, desc in foreign.size_cases() + foreign.kind_cases():
        with pytest.raises(mstate.StateError) as e:
            mstate.loads(m, mstate.dumps(MModel(desc, seed=1)))
        assert foreign.MISMATCH % words in str(e.value)
    assert np.array_equal(m.state(), before)


@pytest.mark.parametrize("group", sorted(dev.DATA_GROUPS))
def test_the_mirror_refuses_the_same_states(group):
    """The corrupt states the board refuses, refused by the mirror's loader in the same words,
    its model untouched."""
    w = dev.World()
    m = MModel(dev.DESC, seed=3)
    before = m.state().copy()
    for exc, words, make in dev.DATA_GROUPS[group]():
        with pytest.raises(mstate.StateError) as e:
            mstate.loads(m, make(w))
        assert words in str(e.value)
        assert np.array_equal(m.state(), before)
