"""Headroom under the unix port's caps. `make test` runs every device test at 64 KB, or at the
heap its file states for a kernel set (`# unix-heap: c 73728, ...`, run_device_tests.unix_heap);
here the heaviest ones (the training tests, Adam holding the most state) must pass with 4 KB
less than that, with each kernel set, one fresh interpreter per run as `make test` runs them.

A tripwire: memory that creeps into the library's training path or into the test support
modules fails here before the stated heap starts failing on another machine (the unix port's
figures move by a few KB between machines: an AMD EPYC needed 2-3 KB more than an Intel Xeon).
`tinyrnn device-test --min-heap` prints what each file needs on this machine."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from tinyrnn_host import paths
from tinyrnn_host.board import mpunix, run_device_tests

import needs

HEAVIEST = [("test_train", "test_adam_digest"), ("test_train", "test_gru_231_adam_steps_allocate_nothing"),
            ("test_train_locked", "test_adam_update_allocates_nothing_heap_locked"),
            ("test_train_locked", "test_adam_update_at_the_rails_allocates_nothing"),
            ("test_train_errors", "test_bad_input_changes_nothing"),
            ("test_train_errors", "test_bad_loss_and_hyperparameters_refused"),
            ("test_kernels_train", "test_training_equals_the_mirror"),
            ("test_train_atomic", "test_adam_memory_error_mid_update_changes_nothing"),
            ("test_train_fresh", "test_fresh_adam_trainer_every_combination_heap_locked")]
KINDS = run_device_tests.KERNEL_SETS["unix"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    needs.unix_port()
    tmp = tmp_path_factory.mktemp("headroom")
    full = mpunix.compiled_lib_dir(tmp / "lib")
    lib = {k: run_device_tests.lib_variant(full, k, tmp / ("lib-" + k)) for k in KINDS}
    tests = run_device_tests.compile_tests([paths.device_tests() / (f + ".py") for f in {f for f, _ in HEAVIEST}],
                                           tmp / "tests")
    return lib, tests


def fails_below_margin(compiled, stem, name, kind):
    lib, tests = compiled
    heap = run_device_tests.unix_heap(paths.device_tests() / (stem + ".py"), kind, 65536) - run_device_tests.MARGIN
    res = mpunix.run_unix(run_device_tests.unix_script(stem, name), heap_bytes=heap, compiled_lib=lib[kind],
                          extra_dirs=[tests], check=False, timeout=300)
    if not res.error and run_device_tests.count(res.stdout) == (1, 0):
        return None
    return "%s.%s with %s kernels fails at %d bytes, 4 KB below its stated heap:\n%s" % (
        stem, name, kind, heap, (res.error or res.stdout)[-400:])


def test_the_heaviest_device_tests_pass_4_kb_below_their_stated_heap(compiled):
    jobs = [(f, n, k) for f, n in HEAVIEST for k in KINDS]
    with ThreadPoolExecutor(2) as ex:
        found = list(ex.map(lambda t: fails_below_margin(compiled, *t), jobs))
    report = [r for r in found if r]
    assert not report, "\n".join(report)
