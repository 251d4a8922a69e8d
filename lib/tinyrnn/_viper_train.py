# Native (viper) twins of the training kernels: the backward steps (backward.py),
# the update loops and optimizers (optim.py) and the cache copy, with the bytecode
# kernels' names and signatures and their results, bit for bit. Imported by
# kernels.py for a model whose kernels are "viper".
#
# Every intermediate stays inside int32 (docs/arithmetic.md, 9 and 10): deltas are at
# most D = 2^14 - 1, so a delta times a Q8.8 value or a derivative (<= 2^16) is below
# 2^30; a backward matvec is summed plainly when rows * max|d| <= 65532 (|sum| <= 2^31 - 2^17),
# else split with a carry as backward.col_split; r16(a b) of a hyperparameter is one
# product while |b| <= 1073709055 // a, else three 10-bit pieces as _fixed.mul16.
# ptr16 reads are unsigned and ptr32 reads are unsigned on a 64-bit port: both are
# sign-extended explicitly ((v ^ 0x8000) - 0x8000, (v ^ 2^31) - 2^31).
import micropython

from ._viper import _SIG, _TANH


@micropython.viper
def copy16(dst: ptr16, at: int, src: ptr16, n: int):
    for j in range(n):
        dst[at + j] = src[j]


@micropython.viper
def _acts32(src: ptr16, so: int, dst: ptr32, do: int, n: int, tanh: int):
    # dst[do + u] = sigmoid or tanh of src[so + u], u < n (act.py's tables)
    t = ptr16(_TANH) if tanh else ptr16(_SIG)
    end = 1024 if tanh else 2048
    for u in range(n):
        q = int((src[so + u] ^ 0x8000) - 0x8000)
        x = 0 - q if q < 0 else q
        if x >= end:
            s = 256
        else:
            j = x >> 4
            a = int(t[j])
            s = (a * 16 + (int(t[j + 1]) - a) * (x & 15) + 1024) >> 11
        if q < 0:
            s = 0 - s if tanh else 256 - s
        dst[do + u] = s


@micropython.viper
def _matvec(p: ptr16, w0: int, stride: int, d: ptr32, rows: int, out: ptr32, n: int, add: int, fast: int):
    # out[j] = dsat(add * out[j] + r8(sum_r p[w0 + j + r * stride] * d[r])), j < n
    one = 1
    sb = one << 31
    md = 0
    for r in range(rows):
        v = int(d[r])
        v = (v ^ sb) - sb
        if v < 0:
            v = 0 - v
        if v > md:
            md = v
    plain = 0
    if fast:
        plain = 1
    elif rows * md <= 65532:
        plain = 1
    for j in range(n):
        i = w0 + j
        if plain:
            v = 128
            for r in range(rows):
                e = int(d[r])
                v += int((p[i] ^ 0x8000) - 0x8000) * ((e ^ sb) - sb)
                i += stride
            v = v >> 8
        else:
            hi = 0
            lo = 128
            top = 0
            for r in range(rows):
                e = int(d[r])
                q = int((p[i] ^ 0x8000) - 0x8000) * ((e ^ sb) - sb)
                hi += q >> 8
                lo += q & 255
                i += stride
                if hi > 268435456:
                    hi -= 268435456
                    top += 1
                elif hi < -268435456:
                    hi += 268435456
                    top -= 1
            if top > 1:
                v = 16383
            elif top < -1:
                v = -16383
            else:
                v = hi + (lo >> 8) + top * 268435456
        if add:
            e = int(out[j])
            v += (e ^ sb) - sb
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        out[j] = v


@micropython.viper
def _grads(g: ptr32, at: int, d: ptr32, rows: int, c: ptr16, xo: int, n: int, b0: int):
    # g[at + r n + j] += d[r] c[xo + j]; g[b0 + r] += d[r] 256; each sum saturated at +-(2^29 - 1)
    one = 1
    sb = one << 31
    for r in range(rows):
        e = int(d[r])
        e = (e ^ sb) - sb
        if e:
            i = at + r * n
            for j in range(n):
                v = int(g[i])
                v = (v ^ sb) - sb + e * int((c[xo + j] ^ 0x8000) - 0x8000)
                if v > 536870911:
                    v = 536870911
                elif v < -536870911:
                    v = -536870911
                g[i] = v
                i += 1
            v = int(g[b0 + r])
            v = (v ^ sb) - sb + (e << 8)
            if v > 536870911:
                v = 536870911
            elif v < -536870911:
                v = -536870911
            g[b0 + r] = v


@micropython.viper
def dense_backward(p, g, n_in: int, n_out: int, act: int, cc, xo: int, s1: int, dyy, daa, dx, fast: int):
    # da = dsat(deriv(y) dy) (softmax: dy, the CE delta), then backward.accumulate's two parts
    dy = ptr32(dyy)
    da = ptr32(daa)
    c = ptr16(cc)
    if act == 3:
        act = 0
    one = 1
    sb = one << 31
    for o in range(n_out):
        d = int(dy[o])
        d = (d ^ sb) - sb
        y = int((c[s1 + o] ^ 0x8000) - 0x8000)
        if act == 1:
            v = (d * (y * (256 - y)) + 32768) >> 16
        elif act == 2:
            v = (d * (65536 - y * y) + 32768) >> 16
        else:
            v = d
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[o] = v
    _grads(g, 0, daa, n_out, cc, xo, n_in, n_out * n_in)
    _matvec(p, 0, n_in, daa, n_out, dx, n_in, 0, fast & 1)


@micropython.viper
def elman_backward(p, g, n_in: int, H: int, cc, xo: int, s0: int, s1: int, dhh, dupp, daa, dx, fast: int):
    c = ptr16(cc)
    dh = ptr32(dhh)
    dup = ptr32(dupp)
    da = ptr32(daa)
    one = 1
    sb = one << 31
    for u in range(H):
        h = int((c[s1 + u] ^ 0x8000) - 0x8000)
        a = int(dh[u])
        b = int(dup[u])
        d = ((a ^ sb) - sb) + ((b ^ sb) - sb)
        if d > 16383:
            d = 16383
        elif d < -16383:
            d = -16383
        v = (d * (65536 - h * h) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[u] = v
        dh[u] = 0
    _grads(g, 0, daa, H, cc, xo, n_in, H * (n_in + H))
    _matvec(p, 0, n_in, daa, H, dx, n_in, 0, fast & 1)
    _grads(g, H * n_in, daa, H, cc, s0, H, H * (n_in + H) + H)
    _matvec(p, H * n_in, H, daa, H, dhh, H, 1, fast & 2)


@micropython.viper
def lstm_backward(p, g, n_in: int, H: int, cc, xo: int, s0: int, wk: int, s1: int, dhh, dupp, daa, dx, fast: int):
    # da holds i, f, g, o (from _acts32) on the way in and the row deltas on the way out
    _acts32(cc, wk, daa, 0, 2 * H, 0)                  # i, f
    _acts32(cc, wk + 2 * H, daa, 2 * H, H, 1)          # g
    _acts32(cc, wk + 3 * H, daa, 3 * H, H, 0)          # o
    c = ptr16(cc)
    dh = ptr32(dhh)
    dup = ptr32(dupp)
    da = ptr32(daa)
    one = 1
    sb = one << 31
    th = ptr16(_TANH)
    for u in range(H):
        i = int(da[u])
        f = int(da[H + u])
        gg = int(da[2 * H + u])
        gg = (gg ^ sb) - sb
        o = int(da[3 * H + u])
        q = int((c[s1 + H + u] ^ 0x8000) - 0x8000)             # tc = tanh(c')
        x = 0 - q if q < 0 else q
        if x >= 1024:
            tc = 256
        else:
            j = x >> 4
            a = int(th[j])
            tc = (a * 16 + (int(th[j + 1]) - a) * (x & 15) + 1024) >> 11
        if q < 0:
            tc = 0 - tc
        a = int(dh[u])
        b = int(dup[u])
        d = ((a ^ sb) - sb) + ((b ^ sb) - sb)
        if d > 16383:
            d = 16383
        elif d < -16383:
            d = -16383
        do = (d * tc + 128) >> 8
        a = int(dh[H + u])
        v = ((a ^ sb) - sb) + ((((d * o + 128) >> 8) * (65536 - tc * tc) + 32768) >> 16)
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        dc = v
        di = (dc * gg + 128) >> 8
        v = (dc * int((c[s0 + H + u] ^ 0x8000) - 0x8000) + 128) >> 8
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        df = v
        dg = (dc * i + 128) >> 8
        dh[H + u] = (dc * f + 128) >> 8
        dh[u] = 0
        v = (di * (i * (256 - i)) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[u] = v
        v = (df * (f * (256 - f)) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[H + u] = v
        v = (dg * (65536 - gg * gg) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[2 * H + u] = v
        v = (do * (o * (256 - o)) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        da[3 * H + u] = v
    R = 4 * H
    _grads(g, 0, daa, R, cc, xo, n_in, R * (n_in + H))
    _matvec(p, 0, n_in, daa, R, dx, n_in, 0, fast & 1)
    _grads(g, R * n_in, daa, R, cc, s0, H, R * (n_in + H) + R)
    _matvec(p, R * n_in, H, daa, R, dhh, H, 1, fast & 2)


@micropython.viper
def gru_backward(p, g, n_in: int, H: int, cc, xo: int, s0: int, wk: int, dhh, dupp, daxx, dahh, dx, fast: int):
    c = ptr16(cc)
    dh = ptr32(dhh)
    dup = ptr32(dupp)
    dax = ptr32(daxx)
    dah = ptr32(dahh)
    one = 1
    sb = one << 31
    for u in range(H):
        row = 2 * H + u
        hn = int((c[wk + 3 * H + u] ^ 0x8000) - 0x8000)
        a = int(dh[u])
        b = int(dup[u])
        d = ((a ^ sb) - sb) + ((b ^ sb) - sb)
        if d > 16383:
            d = 16383
        elif d < -16383:
            d = -16383
        r = int(c[wk + u])
        z = int(c[wk + H + u])
        n = int((c[wk + row] ^ 0x8000) - 0x8000)
        dn = (d * (256 - z) + 128) >> 8
        v = (d * (int((c[s0 + u] ^ 0x8000) - 0x8000) - n) + 128) >> 8
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        dz = v
        dh[u] = (d * z + 128) >> 8
        v = (dn * (65536 - n * n) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        dan = v
        v = (dan * hn + 128) >> 8
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        v = (v * (r * (256 - r)) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        dax[u] = v
        dah[u] = v
        v = (dz * (z * (256 - z)) + 32768) >> 16
        if v > 16383:
            v = 16383
        elif v < -16383:
            v = -16383
        dax[H + u] = v
        dah[H + u] = v
        dax[row] = dan
        dah[row] = (dan * r + 128) >> 8
    R = 3 * H
    _grads(g, 0, daxx, R, cc, xo, n_in, R * (n_in + H))
    _matvec(p, 0, n_in, daxx, R, dx, n_in, 0, fast & 1)
    _grads(g, R * n_in, dahh, R, cc, s0, H, R * (n_in + H) + R)
    _matvec(p, R * n_in, H, dahh, R, dhh, H, 1, fast & 2)


# ---- updates ----------------------------------------------------------------

@micropython.viper
def _mul16(a: int, b: int) -> int:
    # _fixed.mul16: r16(a b) for 0 <= a <= 65536, |b| < 2^30, in 10-bit pieces of b
    if -16384 < b and b < 16384:
        return (a * b + 32768) >> 16
    return ((a * (b >> 20)) << 4) + ((a * ((b >> 10) & 1023) + ((a * (b & 1023) + 32768) >> 10)) >> 6)


@micropython.viper
def _sq8(g: int) -> int:
    # optim.sq8: min(S, r8(g^2))
    if -32768 < g and g < 32768:
        return (g * g + 128) >> 8
    if g < 0:
        g = 0 - g
    if g > 370727:
        return 536870911
    h = g >> 8
    lo = g & 255
    v = ((h * h) << 8) + 2 * h * lo + ((lo * lo + 128) >> 8)
    return 536870911 if v > 536870911 else v


@micropython.viper
def sgd_update(w: ptr32, g: ptr32, n: int, a: int):
    one = 1
    sb = one << 31
    la = 1073709055 // a
    for i in range(n):
        b = int(g[i])
        b = (b ^ sb) - sb
        g[i] = 0
        if -la <= b and b <= la:
            u = (a * b + 32768) >> 16
        else:
            u = int(_mul16(a, b))
        v = int(w[i])
        v = (v ^ sb) - sb - u
        if v > 8388607:
            v = 8388607
        elif v < -8388608:
            v = -8388608
        w[i] = v


@micropython.viper
def momentum_update(w: ptr32, g: ptr32, vel: ptr32, n: int, a: int, mu: int):
    one = 1
    sb = one << 31
    la = 1073709055 // a
    d = 65536 - mu
    ld = 1073709055 // d
    for i in range(n):
        b = int(vel[i])
        b = (b ^ sb) - sb
        if -ld <= b and b <= ld:
            m = b + ((32768 - d * b) >> 16)
        else:
            m = int(_mul16(mu, b))
        e = int(g[i])
        m += (e ^ sb) - sb
        g[i] = 0
        if m > 536870911:
            m = 536870911
        elif m < -536870911:
            m = -536870911
        vel[i] = m
        if -la <= m and m <= la:
            u = (a * m + 32768) >> 16
        else:
            u = int(_mul16(a, m))
        v = int(w[i])
        v = (v ^ sb) - sb - u
        if v > 8388607:
            v = 8388607
        elif v < -8388608:
            v = -8388608
        w[i] = v


@micropython.viper
def rmsprop_update(w: ptr32, g: ptr32, s: ptr32, n: int, a: int, c: int, eps: int):
    one = 1
    sb = one << 31
    la = 1073709055 // a
    lc = 1073709055 // c
    for i in range(n):
        gi = int(g[i])
        gi = (gi ^ sb) - sb
        g[i] = 0
        si = int(s[i])                                  # in [0, 2^29): no sign to extend
        if -32768 < gi and gi < 32768:
            b = ((gi * gi + 128) >> 8) - si
        else:
            b = int(_sq8(gi)) - si
        if -lc <= b and b <= lc:
            si += (c * b + 32768) >> 16
        else:
            si += int(_mul16(c, b))
        s[i] = si
        # isqrt(si), digit by digit; then the normalised step, as adam_update
        x = si
        r = 0
        bit = 1 << 28
        while bit > x:
            bit >>= 2
        while bit:
            if x >= r + bit:
                x -= r + bit
                r = (r >> 1) + bit
            else:
                r >>= 1
            bit >>= 2
        d = r + eps
        q = gi // d
        if q >= 131072:
            t = 536870911
        elif q < -131072:
            t = -536870911
        else:
            t = (q << 12) + (((gi - q * d) * 8192 + d) // (2 * d))
            if t > 536870911:
                t = 536870911
            elif t < -536870911:
                t = -536870911
        if -la <= t and t <= la:
            u = (a * t + 32768) >> 16
        else:
            u = int(_mul16(a, t))
        x = int(w[i])
        x = (x ^ sb) - sb - u
        if x > 8388607:
            x = 8388607
        elif x < -8388608:
            x = -8388608
        w[i] = x


@micropython.viper
def adam_update(w: ptr32, g: ptr32, m: ptr32, v: ptr32, n: int, a: int, c1: int, c2: int, eps: int):
    one = 1
    sb = one << 31
    l1 = 1073709055 // c1
    l2 = 1073709055 // c2
    la = 1073709055 // a
    for i in range(n):
        gi = int(g[i])
        gi = (gi ^ sb) - sb
        g[i] = 0
        mi = int(m[i])
        mi = (mi ^ sb) - sb
        b = gi - mi
        if -l1 <= b and b <= l1:
            mi += (c1 * b + 32768) >> 16
        else:
            mi += int(_mul16(c1, b))
        m[i] = mi
        vi = int(v[i])                                  # in [0, 2^29)
        if -32768 < gi and gi < 32768:
            b = ((gi * gi + 128) >> 8) - vi
        else:
            b = int(_sq8(gi)) - vi
        if -l2 <= b and b <= l2:
            vi += (c2 * b + 32768) >> 16
        else:
            vi += int(_mul16(c2, b))
        v[i] = vi
        # isqrt(vi), digit by digit, inline
        x = vi
        r = 0
        bit = 1 << 28
        while bit > x:
            bit >>= 2
        while bit:
            if x >= r + bit:
                x -= r + bit
                r = (r >> 1) + bit
            else:
                r >>= 1
            bit >>= 2
        d = r + eps
        q = mi // d
        if q >= 131072:
            t = 536870911
        elif q < -131072:
            t = -536870911
        else:
            t = (q << 12) + (((mi - q * d) * 8192 + d) // (2 * d))
            if t > 536870911:
                t = 536870911
            elif t < -536870911:
                t = -536870911
        if -la <= t and t <= la:
            u = (a * t + 32768) >> 16
        else:
            u = int(_mul16(a, t))
        x = int(w[i])
        x = (x ^ sb) - sb - u
        if x > 8388607:
            x = 8388607
        elif x < -8388608:
            x = -8388608
        w[i] = x


@micropython.viper
def grad_mean(g: ptr32, n: int, N: int, cv: int):
    one = 1
    sb = one << 31
    half = 8 * N
    den = 16 * N
    for i in range(n):
        v = int(g[i])
        v = ((v ^ sb) - sb + half) // den
        if cv:
            if v > cv:
                v = cv
            elif v < 0 - cv:
                v = 0 - cv
        g[i] = v


@micropython.viper
def max_abs(g: ptr32, n: int) -> int:
    one = 1
    sb = one << 31
    big = 0
    for i in range(n):
        v = int(g[i])
        v = (v ^ sb) - sb
        if v < 0:
            v = 0 - v
        if v > big:
            big = v
    return big


@micropython.viper
def sum_sq(g: ptr32, n: int, s: int) -> int:
    one = 1
    sb = one << 31
    ss = 0
    for i in range(n):
        v = int(g[i])
        v = (v ^ sb) - sb
        if v < 0:
            v = 0 - v
        v = v >> s
        ss += v * v
    return ss


@micropython.viper
def scale_q15(g: ptr32, n: int, f: int):
    one = 1
    sb = one << 31
    for i in range(n):
        v = int(g[i])
        v = (v ^ sb) - sb
        g[i] = (v >> 15) * f + (((v & 32767) * f + 16384) >> 15)


@micropython.viper
def add_decay(g: ptr32, w: ptr32, n: int, wd: int):
    one = 1
    sb = one << 31
    for i in range(n):
        b = int(w[i])
        b = (b ^ sb) - sb
        v = int(g[i])
        g[i] = (v ^ sb) - sb + int(_mul16(wd, b))


@micropython.viper
def to_q88(p: ptr16, w: ptr32, n: int):
    one = 1
    sb = one << 31
    for i in range(n):
        v = int(w[i])
        v = ((v ^ sb) - sb + 128) >> 8
        if v > 32767:
            v = 32767
        p[i] = v


@micropython.viper
def from_q88(w: ptr32, p: ptr16, n: int):
    for i in range(n):
        w[i] = int((p[i] ^ 0x8000) - 0x8000) << 8
