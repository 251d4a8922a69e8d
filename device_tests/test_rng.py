# The library PRNG on the board: the same stream as the NumPy mirror, no allocation per draw.
import harness
import measure
from harness import eq, expect_error
from tinyrnn.rng import Rng

SEED = 7
FIRST16 = [28, 7177, 59237, 46844, 43561, 32015, 3949, 12123]
N_DRAWS = 20000
GOLDEN_RANDBELOW = 4135042342


def test_first_draws():
    r = Rng(SEED)
    eq([r.next16() for _ in range(8)], FIRST16, "first next16 draws")


def test_randbelow_stream():
    r = Rng(SEED)
    h = measure.Crc()
    for _ in range(N_DRAWS):
        h.add(r.randbelow(1000))
    eq(h.value(), GOLDEN_RANDBELOW, "randbelow CRC32")


def test_ranges_and_shuffle():
    r = Rng(99)
    for _ in range(2000):
        v = r.randint(-5, 5)
        assert -5 <= v <= 5
        assert 0 <= r.getrandbits(30) < (1 << 30)
    xs = list(range(50))
    r.shuffle(xs)
    eq(sorted(xs), list(range(50)), "shuffle is a permutation")
    assert xs != list(range(50))


def test_seed_zero_and_reseed():
    a, b = Rng(0), Rng(2463534242)
    eq(a.next16(), b.next16(), "seed 0 means the default seed")
    a.seed(SEED)
    eq(a.next16(), FIRST16[0], "reseed restarts the stream")


def test_errors():
    assert "int" in expect_error(TypeError, Rng, "7")
    assert "1..2^30" in expect_error(ValueError, Rng(1).randbelow, 0)
    assert "1..30" in expect_error(ValueError, Rng(1).getrandbits, 31)


def test_no_allocation():
    r = Rng(3)
    eq(measure.alloc_bytes(r.next16, 1000), 0, "next16 allocates")
    eq(measure.alloc_bytes(lambda: r.getrandbits(30), 1000), 0, "getrandbits(30) allocates")


if __name__ == "__main__":
    harness.run_all(globals())
