# Native (viper) twins of the inference kernels: elman_step, lstm_step, gru_step,
# dense_step, with the bytecode kernels' names and signatures (elman.py, lstm.py,
# gru.py, dense.py) and their results, bit for bit. Imported by kernels.py where
# the port compiles viper; a SyntaxError / ValueError elsewhere.
#
# Viper ints are machine words: 32 bits on a board, where a sum beyond 2^31 would
# wrap. Every sum here stays inside int32 for all Q8.8 values (docs/arithmetic.md, 10):
# a row is summed plainly when the step's own inputs bound it,
#     I * max|x| + H * max|h| <= 64512, so |sum| <= 2^24 + 2^15 * 64512 + 2^23 + 128 < 2^31,
# else split: each product p (|p| <= 2^30) adds p >> 8 to hi and p & 255 to lo,
#     |hi| <= 255 * 2^22 + 2^16 < 2^30 for rows of at most 255 terms (_cell.MAX_ROW).
# ptr16 reads are unsigned: (v ^ 0x8000) - 0x8000 sign-extends them.
import micropython
from array import array

from ._tables import EXP2, SIGMOID, TANH

_SIG = SIGMOID                     # array("H"): entries <= 32768
_TANH = TANH
_EXP2 = EXP2                       # array("i"): up to 65536


@micropython.viper
def _maxabs(v: ptr16, n: int) -> int:
    m = 0
    for j in range(n):
        a = int((v[j] ^ 0x8000) - 0x8000)
        if a < 0:
            a = 0 - a
        if a > m:
            m = a
    return m


@micropython.viper
def _rows(out: ptr16, p: ptr16, x: ptr16, h: ptr16, I: int, H: int, r0: int, r1: int, R: int, plain: int):
    # out[r] = sat(round(W_ih[r] . x + W_hh[r] . h + (b_ih[r] + b_hh[r]) * 256)), R rows in all
    w_hh = R * I
    b_ih = w_hh + R * H
    b_hh = b_ih + R
    for r in range(r0, r1):
        b = int((p[b_ih + r] ^ 0x8000) - 0x8000) + int((p[b_hh + r] ^ 0x8000) - 0x8000)
        i = r * I
        k = w_hh + r * H
        if plain:
            acc = (b << 8) + 128
            for j in range(I):
                acc += int((p[i + j] ^ 0x8000) - 0x8000) * int((x[j] ^ 0x8000) - 0x8000)
            for j in range(H):
                acc += int((p[k + j] ^ 0x8000) - 0x8000) * int((h[j] ^ 0x8000) - 0x8000)
            v = acc >> 8
        else:
            hi = b
            lo = 128
            for j in range(I):
                q = int((p[i + j] ^ 0x8000) - 0x8000) * int((x[j] ^ 0x8000) - 0x8000)
                hi += q >> 8
                lo += q & 255
            for j in range(H):
                q = int((p[k + j] ^ 0x8000) - 0x8000) * int((h[j] ^ 0x8000) - 0x8000)
                hi += q >> 8
                lo += q & 255
            v = hi + (lo >> 8)
        if v > 32767:
            v = 32767
        elif v < -32768:
            v = -32768
        out[r] = v


@micropython.viper
def _acts(src: ptr16, buf: ptr16, start: int, n: int, tanh: int):
    # buf[start:start+n] = sigmoid or tanh of src[start:start+n] (act.py's tables and interpolation)
    t = ptr16(_TANH) if tanh else ptr16(_SIG)
    end = 1024 if tanh else 2048
    for u in range(start, start + n):
        q = int((src[u] ^ 0x8000) - 0x8000)
        x = 0 - q if q < 0 else q
        if x >= end:
            s = 256
        else:
            j = x >> 4
            a = int(t[j])
            s = (a * 16 + (int(t[j + 1]) - a) * (x & 15) + 1024) >> 11
        if q < 0:
            s = 0 - s if tanh else 256 - s
        buf[u] = s


@micropython.viper
def elman_step(p, x, h, pre, I: int, H: int, flags: int):
    plain = int(I * int(_maxabs(x, I)) + H * int(_maxabs(h, H)) <= 64512)
    _rows(pre, p, x, h, I, H, 0, H, H, plain)
    _acts(pre, h, 0, H, 1)                  # h' = tanh(pre); pre kept, as the bytecode kernel keeps it


@micropython.viper
def lstm_step(p, x, hc, pre, I: int, H: int, flags: int):
    plain = int(I * int(_maxabs(x, I)) + H * int(_maxabs(hc, H)) <= 64512)
    _rows(pre, p, x, hc, I, H, 0, 4 * H, 4 * H, plain)
    w = ptr16(pre)
    s = ptr16(hc)
    sg = ptr16(_SIG)
    th = ptr16(_TANH)
    for u in range(H):
        # i, f, o = sigmoid, g = tanh of the pre-activations (as _acts, not written back:
        # the backward pass reads the pre-activations)
        k = 0
        i = 0
        f = 0
        g = 0
        o = 0
        while k < 4:
            q = int((w[k * H + u] ^ 0x8000) - 0x8000)
            x_ = 0 - q if q < 0 else q
            if k == 2:
                if x_ >= 1024:
                    y = 256
                else:
                    j = x_ >> 4
                    a = int(th[j])
                    y = (a * 16 + (int(th[j + 1]) - a) * (x_ & 15) + 1024) >> 11
                if q < 0:
                    y = 0 - y
                g = y
            else:
                if x_ >= 2048:
                    y = 256
                else:
                    j = x_ >> 4
                    a = int(sg[j])
                    y = (a * 16 + (int(sg[j + 1]) - a) * (x_ & 15) + 1024) >> 11
                if q < 0:
                    y = 256 - y
                if k == 0:
                    i = y
                elif k == 1:
                    f = y
                else:
                    o = y
            k += 1
        c = int((s[H + u] ^ 0x8000) - 0x8000)
        v = (f * c + i * g + 128) >> 8
        if v > 32767:
            v = 32767
        elif v < -32768:
            v = -32768
        s[H + u] = v
        x_ = 0 - v if v < 0 else v
        if x_ >= 1024:
            y = 256
        else:
            j = x_ >> 4
            a = int(th[j])
            y = (a * 16 + (int(th[j + 1]) - a) * (x_ & 15) + 1024) >> 11
        if v < 0:
            y = 0 - y
        s[u] = (o * y + 128) >> 8


@micropython.viper
def gru_step(p, x, h, g, I: int, H: int, flags: int):
    plain = int(I * int(_maxabs(x, I)) + H * int(_maxabs(h, H)) <= 64512)
    _rows(g, p, x, h, I, H, 0, 2 * H, 3 * H, plain)          # r, z pre-activations
    _acts(g, g, 0, 2 * H, 0)
    P = ptr16(p)
    X = ptr16(x)
    S = ptr16(h)
    W = ptr16(g)
    w_hh = 3 * H * I
    b_ih = w_hh + 3 * H * H
    b_hh = b_ih + 3 * H
    for u in range(H):
        row = 2 * H + u
        k = w_hh + row * H                                      # hn = W_hn h + b_hn
        b = int((P[b_hh + row] ^ 0x8000) - 0x8000)
        if plain:
            acc = (b << 8) + 128
            for j in range(H):
                acc += int((P[k + j] ^ 0x8000) - 0x8000) * int((S[j] ^ 0x8000) - 0x8000)
            hn = acc >> 8
        else:
            hi = b
            lo = 128
            for j in range(H):
                q = int((P[k + j] ^ 0x8000) - 0x8000) * int((S[j] ^ 0x8000) - 0x8000)
                hi += q >> 8
                lo += q & 255
            hn = hi + (lo >> 8)
        if hn > 32767:
            hn = 32767
        elif hn < -32768:
            hn = -32768
        W[3 * H + u] = hn
        k = row * I                                             # a = W_in x + b_in + r * hn
        b = int((P[b_ih + row] ^ 0x8000) - 0x8000)
        rh = int(W[u]) * hn
        if plain:
            acc = (b << 8) + rh + 128
            for j in range(I):
                acc += int((P[k + j] ^ 0x8000) - 0x8000) * int((X[j] ^ 0x8000) - 0x8000)
            a = acc >> 8
        else:
            hi = b
            lo = rh + 128
            for j in range(I):
                q = int((P[k + j] ^ 0x8000) - 0x8000) * int((X[j] ^ 0x8000) - 0x8000)
                hi += q >> 8
                lo += q & 255
            a = hi + (lo >> 8)
        if a > 32767:
            a = 32767
        elif a < -32768:
            a = -32768
        W[row] = a
    _acts(g, g, 2 * H, H, 1)                                    # n = tanh(a)
    for u in range(H):                                          # h' = (1 - z) n + z h
        z = int(W[H + u])
        n = int((W[2 * H + u] ^ 0x8000) - 0x8000)
        v = ((256 - z) * n + z * int((S[u] ^ 0x8000) - 0x8000) + 128) >> 8
        if v > 32767:
            v = 32767
        elif v < -32768:
            v = -32768
        S[u] = v


@micropython.viper
def dense_step(p, x, y, work, I: int, O: int, flags: int):
    act = flags >> 1
    plain = int(I * int(_maxabs(x, I)) <= 64512)
    P = ptr16(p)
    X = ptr16(x)
    Y = ptr16(y)
    b0 = O * I
    for o in range(O):
        k = o * I
        b = int((P[b0 + o] ^ 0x8000) - 0x8000)
        if plain:
            acc = (b << 8) + 128
            for j in range(I):
                acc += int((P[k + j] ^ 0x8000) - 0x8000) * int((X[j] ^ 0x8000) - 0x8000)
            a = acc >> 8
        else:
            hi = b
            lo = 128
            for j in range(I):
                q = int((P[k + j] ^ 0x8000) - 0x8000) * int((X[j] ^ 0x8000) - 0x8000)
                hi += q >> 8
                lo += q & 255
            a = hi + (lo >> 8)
        if a > 32767:
            a = 32767
        elif a < -32768:
            a = -32768
        Y[o] = a
    if act == 1 or act == 2:
        _acts(y, y, 0, O, act - 1)
    elif act == 3:
        _softmax(y, O)


@micropython.viper
def _softmax(y: ptr16, n: int):
    # dense.softmax: y[i] = round(exp(y[i] - max) * 256 / sum), exp as act.exp
    E = ptr32(_EXP2)
    m = int((y[0] ^ 0x8000) - 0x8000)
    for i in range(1, n):
        v = int((y[i] ^ 0x8000) - 0x8000)
        if v > m:
            m = v
    s = 0
    for i in range(n):
        q = int((y[i] ^ 0x8000) - 0x8000) - m                 # in [-65535, 0]
        if q < -1792:
            e = 0
        else:
            t = q * 378194                                      # |t| < 2^30
            k = t >> 26
            f = t & 0x3FFFFFF
            j = f >> 20
            r = (((f & 0xFFFFF) >> 9) + 1) >> 1
            a = int(E[j])
            v = (a << 10) + (int(E[j + 1]) - a) * r
            sh = 17 - k
            e = (v + (1 << (sh - 1))) >> sh
            if e > 32767:
                e = 32767
        y[i] = e
        s += e
    for i in range(n):
        y[i] = (512 * int(y[i]) + s) // (2 * s)
