# Q8.8 core on the board: known values, saturation, exact long sums, errors,
# and CRC32s of the results of 20,000 seeded operations against the NumPy mirror's.
# Golden CRCs: host_tests/test_device_goldens.py recomputes them with the mirror.
from array import array

import harness
import measure
from harness import eq, expect_error
from tinyrnn import q88
from tinyrnn.rng import Rng

N_OPS = 20000
GOLDEN = {'add': 3433570361, 'sub': 920196325, 'mul': 1042085721, 'div': 1971144185, 'dot': 1528161650}


def operand(r):
    # a third of draws hit the ends of the range, where saturation happens
    c = r.randbelow(3)
    if c == 0:
        return r.randint(-32768, -32000) if r.randbelow(2) else r.randint(32000, 32767)
    return r.getrandbits(16) - 32768


def op_digest(name):
    # preallocated buffers: the VM collects garbage only between tests
    r = Rng(2024)
    fn = getattr(q88, name)
    vecs = [(array("h", [0] * n), array("h", [0] * n)) for n in range(9)]
    h = measure.Crc()
    i = 0
    while i < N_OPS:
        a = operand(r)
        b = operand(r)
        if name == "div" and b == 0:
            b = 1
        if name == "dot":
            ws, xs = vecs[1 + r.randbelow(8)]
            for k in range(len(ws)):   # +-16.0: sums stay small ints (long sums: test above)
                ws[k] = r.randint(-4096, 4096)
                xs[k] = r.randint(-4096, 4096)
            v = fn(ws, xs, a)
        else:
            v = fn(a, b)
        h.add(v)
        i += 1
    return h.value()


def test_known_values():
    eq(q88.mul(384, 384), 576, "1.5 * 1.5")
    eq(q88.mul(-1, 128), 0, "-1/256 * 0.5 rounds half up to 0")
    eq(q88.mul(-1, 129), -1, "just below -1/2 LSB")
    eq(q88.mul(-32768, -32768), 32767, "-128 * -128 saturates")
    eq(q88.mul(32767, -32768), -32768, "saturates low")
    eq(q88.add(32767, 1), 32767, "add saturates high")
    eq(q88.sub(-32768, 1), -32768, "sub saturates low")
    eq(q88.div(256, 768), 85, "1/3")
    eq(q88.div(-256, 768), -85, "-1/3")
    eq(q88.div(1, -512), 0, "-0.5 LSB rounds half up to 0")
    eq(q88.div(32767, 1), 32767, "saturates")
    eq(q88.dot([256, 512], [384, -128], 64), 192, "0.25 + 1.5 - 0.5")
    eq(q88.from_int(1), 256, "from_int")
    eq(q88.sat(40000), 32767, "sat")


def test_dot_exact_beyond_small_ints():
    # 20 * 2^30 leaves the 30-bit small-int range (and 32 bits): the sum must stay exact
    ws = [-32768] * 20 + [32767] * 20
    xs = [-32768] * 40
    eq(q88.dot(ws, xs), 2560, "long exact sum")
    eq(q88.dot([-32768] * 64, [-32768] * 64), 32767, "2^36 saturates")


def test_saturation_survives_array_store():
    # array('h') wraps silently on MicroPython (40000 -> -25536): every result must be saturated first
    a = array("h", [0])
    for v, want in ((q88.mul(32767, 32767), 32767), (q88.add(30000, 30000), 32767),
                    (q88.sub(-30000, 30000), -32768), (q88.mul(-32768, 32767), -32768),
                    (q88.div(-32768, 1), -32768), (q88.dot([32767] * 4, [32767] * 4), 32767)):
        a[0] = v
        eq(a[0], want, "stored value")


def test_decimal_text():
    eq(q88.to_str(180), "0.7031", "to_str")
    eq(q88.to_str(-320), "-1.2500", "to_str negative")
    eq(q88.to_str(32767, 8), "127.99609375", "exact")
    eq(q88.to_str(-32768, 0), "-128", "no places")
    eq(q88.to_str(-1, 2), "0.00", "rounds to zero, no sign")
    eq(q88.to_str(-2, 2), "-0.01", "rounds away from zero")
    eq(q88.from_str("-1.25"), -320, "from_str")
    eq(q88.from_str(".5"), 128, "no integer part")
    eq(q88.from_str(" +0.703125 "), 180, "sign and spaces")
    eq(q88.from_str("127.998"), 32767, "rounds into range")
    eq(q88.from_str("-0.001953125"), 0, "-1/2 LSB rounds half up")


def test_errors_name_the_problem():
    assert "Q8.8 int" in expect_error(TypeError, q88.mul, "1", 2)
    assert "outside" in expect_error(ValueError, q88.add, 40000, 1)
    assert "decimal" in expect_error(ValueError, q88.from_str, "1.2.3")
    assert "decimal" in expect_error(ValueError, q88.from_str, "abc")
    assert "decimal" in expect_error(ValueError, q88.from_str, "-")
    assert "outside" in expect_error(ValueError, q88.from_str, "127.999")
    assert "zero" in expect_error(ZeroDivisionError, q88.div, 1, 0)
    assert "weights" in expect_error(ValueError, q88.dot, [1, 2], [1])


def test_digest_add():
    eq(op_digest("add"), GOLDEN["add"], "add digest")


def test_digest_sub():
    eq(op_digest("sub"), GOLDEN["sub"], "sub digest")


def test_digest_mul():
    eq(op_digest("mul"), GOLDEN["mul"], "mul digest")


def test_digest_div():
    eq(op_digest("div"), GOLDEN["div"], "div digest")


def test_digest_dot():
    eq(op_digest("dot"), GOLDEN["dot"], "dot digest")


if __name__ == "__main__":
    harness.run_all(globals())
