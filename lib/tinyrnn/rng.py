# The library's own PRNG: Marsaglia's xorshift32 (shifts 13, 17, 5).
# Spec: docs/arithmetic.md. Device and mirror draw the same numbers;
# never use `random` (it differs between ports).
#
# The 32-bit state is kept as two 16-bit halves so that every intermediate
# stays a small int (< 2^30) on a 32-bit board: no heap allocation per draw.

_DEFAULT_SEED = 2463534242      # used when the seed is 0 mod 2^32 (xorshift needs a nonzero state)


class Rng:
    """xorshift32 generator; Rng(seed) with any int seed."""

    def __init__(self, seed=1):
        self.seed(seed)

    def seed(self, seed):
        """Restart the stream from `seed` (taken mod 2^32; 0 means the default seed)."""
        if type(seed) is not int:
            raise TypeError("Rng seed must be an int, got %s" % type(seed).__name__)
        s = seed & 0xFFFFFFFF
        if s == 0:
            s = _DEFAULT_SEED
        self._hi = s >> 16
        self._lo = s & 0xFFFF

    def next16(self):
        """Advance one step; return the top 16 bits of the new state (0..65535)."""
        hi = self._hi
        lo = self._lo
        # x ^= x << 13
        hi ^= ((hi << 13) | (lo >> 3)) & 0xFFFF
        lo ^= (lo << 13) & 0xFFFF
        # x ^= x >> 17
        lo ^= hi >> 1
        # x ^= x << 5
        hi ^= ((hi << 5) | (lo >> 11)) & 0xFFFF
        lo ^= (lo << 5) & 0xFFFF
        self._hi = hi
        self._lo = lo
        return hi

    def getrandbits(self, k):
        """A uniform int of k bits, 1 <= k <= 30: one step for k <= 16, two otherwise."""
        if k <= 16:
            if k < 1:
                raise ValueError("getrandbits: k must be in 1..30")
            return self.next16() >> (16 - k)
        if k > 30:
            raise ValueError("getrandbits: k must be in 1..30")
        a = self.next16()
        # == ((a << 16) | b) >> (32 - k), without forming a 32-bit int
        return (a << (k - 16)) | (self.next16() >> (32 - k))

    def randbelow(self, n):
        """A uniform int in [0, n), 1 <= n <= 2^30, by rejection (no modulo bias)."""
        if type(n) is not int or n < 1 or n > 0x40000000:
            raise ValueError("randbelow: n must be an int in 1..2^30")
        k = 1
        while (1 << k) < n:
            k += 1
        while True:
            r = self.getrandbits(k)
            if r < n:
                return r

    def randint(self, lo, hi):
        """A uniform int in [lo, hi], both ends included."""
        return lo + self.randbelow(hi - lo + 1)

    def shuffle(self, seq):
        """Shuffle a list or array in place (Fisher-Yates, last index first)."""
        for i in range(len(seq) - 1, 0, -1):
            j = self.randbelow(i + 1)
            seq[i], seq[j] = seq[j], seq[i]
