"""README figures that restate other README figures stay consistent with them.

Figures printed by commands are checked where the suite already runs the
command: test_sizes.py (`make sizes`), test_real_data.py (examples/real_data.py).
"""
import readme_figures as rf


def test_native_speedup_range_is_the_bench_tables():
    lo, hi = rf.find(r"native code, ([\d.]+)-([\d.]+)x faster")
    rows = rf.table("C speedup")
    speedups = [round(float(r["bytecode us"]) / float(r["viper us"]), 1) for r in rows]
    assert (float(lo), float(hi)) == (min(speedups), max(speedups)), speedups
