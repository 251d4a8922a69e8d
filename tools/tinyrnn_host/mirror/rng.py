"""xorshift32 (13, 17, 5) on a plain 32-bit state: mirrors lib/tinyrnn/rng.py.

The lib keeps the state as two 16-bit halves (small ints on a board); here it
is one int, so the two are independent implementations of the same spec.
"""
import numpy as np

_DEFAULT_SEED = 2463534242
_M32 = 0xFFFFFFFF


class Rng:
    def __init__(self, seed=1):
        self.seed(seed)

    def seed(self, seed):
        s = int(seed) & _M32
        self.state = s if s else _DEFAULT_SEED

    def next32(self):
        x = self.state
        x ^= (x << 13) & _M32
        x ^= x >> 17
        x ^= (x << 5) & _M32
        self.state = x
        return x

    def next16(self):
        return self.next32() >> 16

    def getrandbits(self, k):
        if not 1 <= k <= 30:
            raise ValueError("getrandbits: k must be in 1..30")
        if k <= 16:
            return self.next16() >> (16 - k)
        a = self.next16()
        return ((a << 16) | self.next16()) >> (32 - k)

    def randbelow(self, n):
        if not 1 <= n <= 1 << 30:
            raise ValueError("randbelow: n must be an int in 1..2^30")
        k = max(1, (n - 1).bit_length())
        while True:
            r = self.getrandbits(k)
            if r < n:
                return r

    def randint(self, lo, hi):
        return lo + self.randbelow(hi - lo + 1)

    def shuffle(self, seq):
        for i in range(len(seq) - 1, 0, -1):
            j = self.randbelow(i + 1)
            seq[i], seq[j] = seq[j], seq[i]

    def stream16(self, n):
        """The next n next16() draws as an int64 array."""
        return np.array([self.next16() for _ in range(n)], dtype=np.int64)
