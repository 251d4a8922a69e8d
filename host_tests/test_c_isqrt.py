"""The C kernels' isqrt (Adam's and RMSprop's sqrt(v)) is floor(sqrt(x)) for every x the
updates can give it, as the board library's digit-by-digit one is.

_c.c finds the first digit with clz instead of walking down to it from 4**14 (what took
the C training update from 4.9x to 5.5x fewer Cortex-M3 instructions than viper's). The
function is taken out of _c.c as it is, compiled with the host's gcc, and run over every
x below 2**20, every power of 4 and its neighbours below 2**30 (its domain: the old walk started at 4**14), and 300,000 random x up
to 2**29 (v is saturated at 2**29 - 1 before it is rooted). The golden is math.isqrt,
independent of the C code and of tinyrnn._fixed.
"""
import math
import random
import re
import subprocess

import numpy as np

from tinyrnn_host import paths

HARNESS = """#include <stdio.h>
#include <stdlib.h>
typedef long I;
%s
int main(void) {
    long x;
    while (scanf("%%ld", &x) == 1) {
        printf("%%ld\\n", isqrt(x));
    }
    return 0;
}
"""


def c_isqrt_source():
    src = (paths.board_lib() / "tinyrnn_c" / "_c.c").read_text()
    m = re.search(r"^static I isqrt\(I x\) \{.*?^\}$", src, re.S | re.M)
    assert m, "isqrt not found in _c.c"
    return m.group(0)


def inputs():
    xs = set(range(1 << 20))
    for k in range(16):
        for d in range(-3, 4):
            xs.add(max(0, 4 ** k + d))
    for k in range(20, 31):                    # squares and their neighbours, high up
        r = int(math.isqrt((1 << k) - 1))
        for s in (r - 1, r, r + 1):
            xs.update((s * s - 1, s * s, s * s + 1))
    xs.add((1 << 29) - 1)
    rng = random.Random(20)
    xs.update(rng.randrange(1 << 29) for _ in range(300_000))
    return sorted(x for x in xs if 0 <= x < (1 << 30))


def test_c_isqrt_is_floor_sqrt(tmp_path):
    (tmp_path / "isqrt.c").write_text(HARNESS % c_isqrt_source())
    exe = tmp_path / "isqrt"
    subprocess.run(["gcc", "-O1", "-fwrapv", "-o", str(exe), str(tmp_path / "isqrt.c")], check=True)
    xs = inputs()
    out = subprocess.run([str(exe)], input="\n".join(map(str, xs)) + "\n", capture_output=True,
                         text=True, check=True).stdout.split()
    got = np.array(out, dtype=np.int64)
    want = np.array([math.isqrt(x) for x in xs], dtype=np.int64)
    assert len(got) == len(xs)
    bad = np.nonzero(got != want)[0]
    assert bad.size == 0, [(xs[i], int(got[i]), int(want[i])) for i in bad[:5]]
