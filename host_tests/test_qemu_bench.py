"""`make bench` on the Cortex-M3: instruction counts under QEMU -icount shift=0 are the same on
two boards started afresh (so they may be asserted), and stay under upper bounds that catch a
kernel gone slow (a speed tripwire that cannot flake: no wall time involved)."""
import pytest

import needs
from tinyrnn_host.reports import bench

GRU = bench.GRU
MODELS = [("GRU 2-3-1", GRU(2, 3), 30), ("GRU 8-32-1", GRU(8, 32), 10)]
TRAINING = [("GRU 2-3-1", GRU(2, 3), 3)]
# instructions per MAC (GRU 8-32-1) and per update: measured here, with about 30 % headroom
BOUNDS = {"viper": 100, "bytecode": 1200, "bare_viper": 70, "train_viper": 1_000_000}


@pytest.fixture(scope="module")
def two_runs():
    needs.qemu_toolchain()
    return [bench.measure_qemu(MODELS, TRAINING) for _ in range(2)]


def test_instruction_counts_agree_across_runs(two_runs):
    (rows1, train1), (rows2, train2) = two_runs
    assert len(rows1) == 2 and len(train1) == 1
    # the naive float GRU allocates a float object per operation, so where the collector runs
    # (and its count) varies with the heap's history: every other figure is exact
    # and the rest is read off time.ticks_us(): one tick is 1,000 instructions, and where the run
    # starts against a tick still varies between boards (host I/O), so a figure over n calls can
    # differ by a tick / n. Measured: up to 1% on the shortest rows. Not yet identical (issue 15).
    exact = [[{k: v for k, v in r.items() if k != "float"} for r in rows] for rows in (rows1, rows2)]
    for a, b in zip(exact[0] + train1, exact[1] + train2):
        assert a.keys() == b.keys()
        for k in a:
            if isinstance(a[k], float):
                assert abs(a[k] - b[k]) <= 0.02 * max(a[k], b[k]), (k, a, b)
            else:
                assert a[k] == b[k], (k, a, b)


def test_instruction_counts_under_upper_bounds(two_runs):
    rows, train = two_runs[0]
    big = rows[1]
    per_mac = {k: big[k] * 1000 / big["macs"] for k in ("viper", "bytecode", "bare_viper")}
    assert per_mac["viper"] < BOUNDS["viper"], per_mac
    assert per_mac["bytecode"] < BOUNDS["bytecode"], per_mac
    assert per_mac["bare_viper"] < BOUNDS["bare_viper"], per_mac
    assert per_mac["viper"] * 5 < per_mac["bytecode"], per_mac       # the viper kernels are native code
    assert train[0]["viper"] * 1000 < BOUNDS["train_viper"], train
