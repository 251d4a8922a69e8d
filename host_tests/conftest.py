"""The host package (tinyrnn_host) is imported as installed: `make setup` installs it
editable into .venv. Tests that run the board library under CPython `import tinyrnn`:
that is lib/, not the host package; paths.import_board puts its folder on sys.path."""
import gc
import os
import sys

import pytest

from tinyrnn_host import paths

paths.import_board("tinyrnn")

# The board library drops code it runs once (tinyrnn._once: unload, re-import on the next call).
# Under CPython each re-import compiled the source again where PYTHONDONTWRITEBYTECODE is set (as
# here and in CI): 2 ms a call, thousands of models. Bytecode caches go to build/pycache, never
# beside lib/'s sources.
sys.pycache_prefix = str(paths.build_dir() / "pycache")
sys.dont_write_bytecode = False


@pytest.fixture(scope="module")
def bad_input_files(tmp_path_factory):
    """A working folder holding the files device_tests/bad_input.py's weights cases read."""
    sys.path.insert(0, str(paths.device_tests()))
    import bad_input
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("bad_input"))
    bad_input.files()
    yield
    bad_input.cleanup()
    os.chdir(here)


# The slowest files, slowest first (seconds of one full `make test` run, summed per file). `make test`
# gives pytest-xdist whole files (--dist loadfile) in the collection's order (--no-loadscope-reorder:
# by default xdist orders files by their NUMBER of tests, which put these few-test, long files last,
# so one worker ran them alone at the end). Longest first lets the two workers finish together.
SLOW_FIRST = (
    "test_qemu_bitexact.py", "test_loso.py", "test_cells_bitexact.py", "test_qemu_m0_m7.py",
    "test_qemu_rv32.py", "test_natmod_prebuilt.py", "test_real_data.py", "test_int32_kernels.py",
    "test_convergence.py", "test_c_mutants.py", "test_memory_board.py", "test_deploy_atomic.py",
    "test_doc_samples.py", "test_bitexact_unix.py", "test_core_bitexact.py", "test_qemu_board.py",
    "test_train_bitexact.py", "test_deploy.py", "test_city_names.py", "test_sizes.py",
    "test_mirror_speed.py", "test_host_train.py", "test_keras_import.py", "test_qemu_bench.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))     # stable: the rest keep their order


def pytest_runtest_setup(item):
    # The board library collects before it allocates (gc.collect() in Model(), weights.load, ...):
    # on a board that is what keeps a 64 KB heap whole. Under CPython, in a worker that has
    # imported torch, one full collection takes about 125 ms, and the weights fuzz alone makes
    # 6,000 of them. What is alive when a test starts goes to the permanent generation, so a
    # collection scans only what the test made: the library's behaviour is unchanged (CPython
    # frees by reference counting; collecting finds cycles only).
    gc.freeze()
