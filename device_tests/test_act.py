# Activation tables on the board: fixed points, symmetry, monotonicity, and a
# CRC32 of the outputs for all 65,536 inputs against the NumPy mirror's (host_tests/test_device_goldens.py).
import harness
import measure
from harness import eq
from tinyrnn import act

GOLDEN = {'sigmoid': 2594818989, 'tanh': 3063648401, 'exp': 936912301}


def full_digest(fn):
    h = measure.Crc()
    q = -32768
    while q < 32768:
        h.add(fn(q))
        q += 1
    return h.value()


def test_known_values():
    eq(act.sigmoid(0), 128, "sigmoid(0) = 0.5")
    eq(act.sigmoid(32767), 256, "sigmoid(+inf)")
    eq(act.sigmoid(-32768), 0, "sigmoid(-inf)")
    eq(act.tanh(0), 0, "tanh(0)")
    eq(act.tanh(-32768), -256, "tanh(-inf)")
    eq(act.exp(0), 256, "exp(0) = 1")
    eq(act.exp(256), 696, "e = 2.71828 (695.88 LSB)")
    eq(act.exp(-256), 94, "1/e = 0.36788 (94.18 LSB)")
    eq(act.exp(32767), 32767, "exp saturates")
    eq(act.exp(-32768), 0, "exp underflows to 0")


def test_symmetry_and_monotonic():
    prev_s, prev_t = -1, -257
    q = -4096
    while q <= 4096:
        s, t = act.sigmoid(q), act.tanh(q)
        eq(s + act.sigmoid(-q), 256, "sigmoid(x) + sigmoid(-x)")
        eq(t, -act.tanh(-q), "tanh odd")
        assert s >= prev_s and t >= prev_t, "not monotonic at %d" % q
        prev_s, prev_t = s, t
        q += 1


def test_no_allocation():
    f = act.tanh
    eq(measure.alloc_bytes(lambda: f(1000), 500), 0, "tanh allocates")


def test_digest_sigmoid():
    eq(full_digest(act.sigmoid), GOLDEN["sigmoid"], "sigmoid digest")


def test_digest_tanh():
    eq(full_digest(act.tanh), GOLDEN["tanh"], "tanh digest")


def test_digest_exp():
    eq(full_digest(act.exp), GOLDEN["exp"], "exp digest")


if __name__ == "__main__":
    harness.run_all(globals())
