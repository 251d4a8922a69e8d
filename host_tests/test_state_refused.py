"""Bad states refused, nothing changed: device_tests/test_state_errors.py holds the cases;
each runs here under CPython as its own test (on MicroPython: `tinyrnn device-test
test_state_errors`, both runtimes). The board's refusals are the mirror's too."""
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
    dev.files()
    yield
    dev.cleanup()
    os.chdir(here)


@pytest.mark.parametrize("group, i, case", CASES, ids=["%s-%d" % (g, i) for g, i, _ in CASES])
def test_refused_and_nothing_changed(group, i, case, folder):
    why = dev.check_case(dev.World(), case)
    assert why is None, why


def test_every_flipped_bit_and_every_cut_refused(folder):
    dev.flips(True)
    dev.cuts()


def test_a_save_cut_before_its_rename_is_recovered(folder):
    dev.test_a_save_cut_before_its_rename_is_recovered()


@pytest.mark.parametrize("group", sorted(dev.DATA_GROUPS))
def test_the_mirror_refuses_the_same_states(group):
    """The corrupt and foreign states the board refuses, refused by the mirror's loader in the
    same words, its model untouched."""
    w = dev.World()
    m = MModel(dev.DESC, seed=3)
    before = m.state().copy()
    for exc, words, make in dev.DATA_GROUPS[group]():
        with pytest.raises(mstate.StateError) as e:
            mstate.loads(m, make(w))
        assert words in str(e.value)
        assert np.array_equal(m.state(), before)
