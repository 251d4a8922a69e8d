// The C twins of the viper kernels (lib/tinyrnn/_viper.py, _viper_train.py): the same
// names, signatures and integers, compiled per architecture into a MicroPython dynamic
// native module (tinyrnn/_c.mpy; see Makefile). Spec: docs/arithmetic.md, 9 and 10.
//
// Ints are machine words (mp_int_t), as viper's are: 32 bits on a board, 64 on the unix
// port, so every intermediate is the one the viper kernel computes. One difference is
// allowed by the spec: a forward row sum whose inputs do not bound it below 2^31 is summed
// in 64 bits (one smlal on a Cortex-M3) instead of viper's split hi/lo sums; both are the
// exact sum, rounded once, so the integers are the same.
// Buffers come in through the buffer protocol (arrays and memoryviews, as viper's ptr16/32).
// One source, two modules (as _viper.py and _viper_train.py): built with TRAIN=0 it is
// tinyrnn/_c.mpy (inference), with TRAIN=1 tinyrnn/_c_train.mpy (backward, updates,
// copies), so a board that only runs models never loads the training code.
#include "py/dynruntime.h"
#include "tables.h"          // SIGMOID, TANH, EXP2: generated from lib/tinyrnn/_tables.py

typedef mp_int_t I;
#define SAT16(v) ((v) > 32767 ? 32767 : ((v) < -32768 ? -32768 : (v)))
#define DSAT(v) ((v) > 16383 ? 16383 : ((v) < -16383 ? -16383 : (v)))
#define GSAT(v) ((v) > 536870911 ? 536870911 : ((v) < -536870911 ? -536870911 : (v)))
#define WSAT(v) ((v) > 8388607 ? 8388607 : ((v) < -8388608 ? -8388608 : (v)))
#define LIM16(a) ((a) ? 1073709055 / (a) : 536870911)     // a > 0 here: / is //

static inline I num(mp_obj_t o) {
    return mp_obj_is_small_int(o) ? MP_OBJ_SMALL_INT_VALUE(o) : mp_obj_get_int(o);
}

static inline void *buf(mp_obj_t o) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(o, &b, MP_BUFFER_RW);
    return b.buf;
}

static inline I fdiv(I a, I b) {     // Python's //, b != 0
    I q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q -= 1;
    }
    return q;
}

// sigmoid and tanh of docs/arithmetic.md 3: table step 1/16, linear interpolation
static inline __attribute__((always_inline)) I lerp(const uint16_t *t, I x) {
    I j = x >> 4;
    I a = t[j];
    return (a * 16 + ((I)t[j + 1] - a) * (x & 15) + 1024) >> 11;
}

static inline __attribute__((always_inline)) I sig(I q) {
    I x = q < 0 ? -q : q;
    I s = x >= 2048 ? 256 : lerp(SIGMOID, x);
    return q < 0 ? 256 - s : s;
}

static inline __attribute__((always_inline)) I tnh(I q) {
    I x = q < 0 ? -q : q;
    I t = x >= 1024 ? 256 : lerp(TANH, x);
    return q < 0 ? -t : t;
}

#if !TRAIN
// ---- inference (_viper.py) ------------------------------------------------------

// ---- row sums (docs/arithmetic.md 11) --------------------------------------------------
// The plain sums run BLOCK rows at a time: each v[j] is loaded once for all of them (the
// rows' partial sums are other orders of the same exact terms, each one bounded as the
// row's whole sum is: |partial| <= sum of |terms| < 2^31). With PAIRS (the DSP extension
// of armv7em: Cortex-M4, M7) two neighbouring int16s of a row and of v are loaded as one
// 32-bit word and SMLAD adds both products to the sum in one instruction.
#define INLINE static inline __attribute__((always_inline))

#ifndef PAIRS
#ifdef __ARM_FEATURE_DSP
#define PAIRS 1
#else
#define PAIRS 0
#endif
#endif

#if defined(__ARM_ARCH_6M__)
#define BLOCK 2          // Cortex-M0: ldrsh and muls take low registers only (r0-r7)
#else
#define BLOCK 4
#endif

#if PAIRS
INLINE int32_t ld2(const int16_t *p) {    // p[0] in the low half, p[1] in the high half
    int32_t v;                            // (an unaligned ldr: armv7-m allows it)
    __builtin_memcpy(&v, p, 4);
    return v;
}

INLINE I mac2(I acc, int32_t a, int32_t b) {   // acc + a.lo * b.lo + a.hi * b.hi
    #ifdef __ARM_FEATURE_DSP
    __asm__ ("smlad %0, %1, %2, %0" : "+r" (acc) : "r" (a), "r" (b));
    return acc;
    #else                                 // the same integers in C (a test build on x64)
    return acc + (I)(int16_t)a * (int16_t)b + (I)(a >> 16) * (I)(b >> 16);
    #endif
}
#endif

// a[0] += w . v over n terms
INLINE void sum1(const int16_t *w, const int16_t *v, I n, I *a) {
    I a0 = a[0];
    const int16_t *e = v + n;
    #if PAIRS
    for (; v + 2 <= e; v += 2, w += 2) {
        a0 = mac2(a0, ld2(w), ld2(v));
    }
    #endif
    for (; v < e; v++) {
        a0 += (I)*w++ * *v;
    }
    a[0] = a0;
}

// a[k] += (row k of w) . v over n terms, k < 2; row k starts at w + k * s
INLINE void sum2(const int16_t *w, I s, const int16_t *v, I n, I *a) {
    const int16_t *w0 = w, *w1 = w + s;
    I a0 = a[0], a1 = a[1];
    const int16_t *e = v + n;
    #if PAIRS
    for (; v + 2 <= e; v += 2, w0 += 2, w1 += 2) {
        int32_t x = ld2(v);
        a0 = mac2(a0, ld2(w0), x);
        a1 = mac2(a1, ld2(w1), x);
    }
    #endif
    for (; v < e; v++) {
        I x = *v;
        a0 += (I)*w0++ * x;
        a1 += (I)*w1++ * x;
    }
    a[0] = a0;
    a[1] = a1;
}

// a[k] += (row k of w) . v over n terms, k < 4; row k starts at w + k * s
INLINE void sum4(const int16_t *w, I s, const int16_t *v, I n, I *a) {
    const int16_t *w0 = w, *w1 = w0 + s, *w2 = w1 + s, *w3 = w2 + s;
    I a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const int16_t *e = v + n;
    #if PAIRS
    for (; v + 2 <= e; v += 2, w0 += 2, w1 += 2, w2 += 2, w3 += 2) {
        int32_t x = ld2(v);
        a0 = mac2(a0, ld2(w0), x);
        a1 = mac2(a1, ld2(w1), x);
        a2 = mac2(a2, ld2(w2), x);
        a3 = mac2(a3, ld2(w3), x);
    }
    #endif
    for (; v < e; v++) {
        I x = *v;
        a0 += (I)*w0++ * x;
        a1 += (I)*w1++ * x;
        a2 += (I)*w2++ * x;
        a3 += (I)*w3++ * x;
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

// the BLOCK rows starting at w, row stride s
INLINE void sums(const int16_t *w, I s, const int16_t *v, I n, I *a) {
    #if BLOCK == 4
    sum4(w, s, v, n, a);
    #else
    sum2(w, s, v, n, a);
    #endif
}

// a + w . x over n terms, exact in 64 bits: for inputs that do not bound the 32-bit sum
// (section 11's wide path)
static int64_t dot_wide(const int16_t *w, const int16_t *x, I n, int64_t a) {
    for (I j = 0; j < n; j++) {
        a += (int32_t)w[j] * x[j];
    }
    return a;
}

// row r's bias part and the rounding half: (b1[r] + b2[r]) * 256 + e1[r] * e2[r] + 128
INLINE I start(I r, const int16_t *b1, const int16_t *b2, const int16_t *e1, const int16_t *e2) {
    I a = ((I)b1[r] << 8) + 128;
    if (b2) {
        a += (I)b2[r] << 8;
    }
    if (e1) {
        a += (I)e1[r] * e2[r];
    }
    return a;
}

// out[r] = sat(round(Wx[r] . x + Wh[r] . h + (b1[r] + b2[r]) * 256 + e1[r] * e2[r])), r < n:
// Wx the rows of nI terms (weights from wx on), Wh of H terms (from wh on); b2, e1 NULL: no
// such term. The plain sums (the caller proved they fit 32 bits) BLOCK rows at a time, then
// one at a time; else each row exactly in 64 bits.
static void rows(int16_t *out, I n, const int16_t *wx, I nI, const int16_t *x, const int16_t *wh,
    I H, const int16_t *h, const int16_t *b1, const int16_t *b2, const int16_t *e1,
    const int16_t *e2, int plain) {
    I r = 0;
    if (plain) {
        for (; r + BLOCK <= n; r += BLOCK) {
            I a[BLOCK];
            #pragma GCC unroll 4
            for (int i = 0; i < BLOCK; i++) {
                a[i] = start(r + i, b1, b2, e1, e2);
            }
            sums(wx + r * nI, nI, x, nI, a);
            if (H) {
                sums(wh + r * H, H, h, H, a);
            }
            #pragma GCC unroll 4
            for (int i = 0; i < BLOCK; i++) {
                I v = a[i] >> 8;
                out[r + i] = SAT16(v);
            }
        }
        for (; r < n; r++) {
            I a = start(r, b1, b2, e1, e2);
            sum1(wx + r * nI, x, nI, &a);
            sum1(wh + r * H, h, H, &a);
            a = a >> 8;
            out[r] = SAT16(a);
        }
    } else {
        for (; r < n; r++) {
            int64_t v = dot_wide(wx + r * nI, x, nI, start(r, b1, b2, e1, e2));
            v = dot_wide(wh + r * H, h, H, v) >> 8;
            out[r] = SAT16(v);
        }
    }
}

static I maxabs16(const int16_t *v, I n) {
    I m = 0;
    for (I j = 0; j < n; j++) {
        I a = v[j];
        if (a < 0) {
            a = -a;
        }
        if (a > m) {
            m = a;
        }
    }
    return m;
}

// the plain path's condition (section 10): every row sum of a cell fits 32 bits
static int plain_ok(const int16_t *x, I nI, const int16_t *h, I H) {
    return nI * maxabs16(x, nI) + H * maxabs16(h, H) <= 64512;
}

static I act(I q, int tanh) {
    return tanh ? tnh(q) : sig(q);
}

// y[u] = f(y[u]), u < n, f sigmoid or tanh
static void acts(int16_t *y, I n, int tanh) {
    if (tanh) {
        for (I u = 0; u < n; u++) {
            y[u] = tnh(y[u]);
        }
    } else {
        for (I u = 0; u < n; u++) {
            y[u] = sig(y[u]);
        }
    }
}

// pre = the R gate pre-activations of a cell: weights p (W_ih, W_hh), then b_ih, b_hh
static void cell_rows(int16_t *pre, I R, const int16_t *p, const int16_t *x, const int16_t *h, I nI, I H) {
    const int16_t *b_ih = p + R * (nI + H);
    rows(pre, R, p, nI, x, p + R * nI, H, h, b_ih, b_ih + R, NULL, NULL, plain_ok(x, nI, h, H));
}

static void elman(int16_t *p, int16_t *x, int16_t *h, int16_t *pre, I nI, I H) {
    cell_rows(pre, H, p, x, h, nI, H);
    for (I u = 0; u < H; u++) {                                 // h' = tanh(pre); pre kept (backward)
        h[u] = pre[u];
    }
    acts(h, H, 1);
}

static void lstm(int16_t *p, int16_t *x, int16_t *hc, int16_t *pre, I nI, I H) {
    cell_rows(pre, 4 * H, p, x, hc, nI, H);
    for (I u = 0; u < H; u++) {
        I i = act(pre[u], 0);
        I f = act(pre[H + u], 0);
        I g = act(pre[2 * H + u], 1);
        I o = act(pre[3 * H + u], 0);
        I v = (f * hc[H + u] + i * g + 128) >> 8;
        v = SAT16(v);
        hc[H + u] = v;
        hc[u] = (o * act(v, 1) + 128) >> 8;
    }
}

static void gru(int16_t *p, int16_t *x, int16_t *h, int16_t *w, I nI, I H) {
    int plain = plain_ok(x, nI, h, H);
    I R = 3 * H;
    const int16_t *w_hh = p + R * nI;
    const int16_t *b_ih = w_hh + R * H;
    const int16_t *b_hh = b_ih + R;
    // r, z = sigmoid(rnd(W_ih x + W_hh h + b_ih + b_hh)), the first 2H rows
    rows(w, 2 * H, p, nI, x, w_hh, H, h, b_ih, b_hh, NULL, NULL, plain);
    acts(w, 2 * H, 0);
    // hn = rnd(W_hn h + b_hn) into w[3H..4H); n = tanh(rnd(W_in x + b_in + r hn))
    rows(w + 3 * H, H, NULL, 0, NULL, w_hh + 2 * H * H, H, h, b_hh + 2 * H, NULL, NULL, NULL, plain);
    rows(w + 2 * H, H, p + 2 * H * nI, nI, x, NULL, 0, NULL, b_ih + 2 * H, NULL, w, w + 3 * H, plain);
    acts(w + 2 * H, H, 1);
    for (I u = 0; u < H; u++) {                                 // h' = (1 - z) n + z h
        I z = w[H + u];
        I v = ((256 - z) * w[2 * H + u] + z * h[u] + 128) >> 8;
        h[u] = SAT16(v);
    }
}

static void softmax(int16_t *y, I n) {
    I m = y[0];
    for (I i = 1; i < n; i++) {
        if (y[i] > m) {
            m = y[i];
        }
    }
    I s = 0;
    for (I i = 0; i < n; i++) {
        I q = (I)y[i] - m;                                      // in [-65535, 0]
        I e;
        if (q < -1792) {
            e = 0;
        } else {
            I t = q * 378194;                                   // |t| < 2^30
            I k = t >> 26;
            I f = t & 0x3FFFFFF;
            I j = f >> 20;
            I r = (((f & 0xFFFFF) >> 9) + 1) >> 1;
            I a = EXP2[j];
            I v = (a << 10) + ((I)EXP2[j + 1] - a) * r;
            I sh = 17 - k;
            e = (v + ((I)1 << (sh - 1))) >> sh;
            if (e > 32767) {
                e = 32767;
            }
        }
        y[i] = e;
        s += e;
    }
    for (I i = 0; i < n; i++) {
        y[i] = fdiv(512 * (I)(uint16_t)y[i] + s, 2 * s);
    }
}

static void dense(int16_t *p, int16_t *x, int16_t *y, I nI, I O, I flags) {
    I a = flags >> 1;                  // 0 identity, 1 sigmoid, 2 tanh, 3 softmax
    rows(y, O, p, nI, x, NULL, 0, NULL, p + O * nI, NULL, NULL, NULL, nI * maxabs16(x, nI) <= 64512);
    if (a == 1 || a == 2) {
        acts(y, O, a - 1);
    } else if (a == 3) {
        softmax(y, O);
    }
}

enum { ELMAN = 0, LSTM = 1, GRU = 2, DENSE = 3 };

static void layer(I kind, int16_t *p, int16_t *x, int16_t *h, int16_t *w, I nI, I nH, I flags) {
    if (kind == GRU) {
        gru(p, x, h, w, nI, nH);
    } else if (kind == LSTM) {
        lstm(p, x, h, w, nI, nH);
    } else if (kind == ELMAN) {
        elman(p, x, h, w, nI, nH);
    } else {
        dense(p, x, h, nI, nH, flags);
    }
}

// kernel(p, x, h, work, I, H, flags), as the viper ones
static mp_obj_t step_of(I kind, const mp_obj_t *a) {
    layer(kind, buf(a[0]), buf(a[1]), buf(a[2]), kind == DENSE ? NULL : buf(a[3]), num(a[4]), num(a[5]), num(a[6]));
    return mp_const_none;
}
static mp_obj_t elman_step(size_t n, const mp_obj_t *a) { return step_of(ELMAN, a); }
static mp_obj_t lstm_step(size_t n, const mp_obj_t *a) { return step_of(LSTM, a); }
static mp_obj_t gru_step(size_t n, const mp_obj_t *a) { return step_of(GRU, a); }
static mp_obj_t dense_step(size_t n, const mp_obj_t *a) { return step_of(DENSE, a); }
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(elman_step_obj, 7, 7, elman_step);
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lstm_step_obj, 7, 7, lstm_step);
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(gru_step_obj, 7, 7, gru_step);
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(dense_step_obj, 7, 7, dense_step);

// run(x, prog): Model.step's check, copy and whole stack in one call.
// prog = (xb, params, state, work, plan, output); plan an array('i') of 6 per layer:
// kind, n_in, n_hid, flags, offset in params, offset in state. x must be a list or tuple
// of small ints or an array('h') / memoryview of one, of len(xb) Q8.8 values: then xb gets
// x, every layer steps, and run returns output. Anything else returns None before any
// change, and Model.step takes its Python path (the same checks, the same messages).
static mp_obj_t run(mp_obj_t x_in, mp_obj_t prog_in) {
    mp_obj_tuple_t *prog = MP_OBJ_TO_PTR(prog_in);
    mp_buffer_info_t xbi;
    mp_get_buffer_raise(prog->items[0], &xbi, MP_BUFFER_RW);
    int16_t *xb = xbi.buf;
    size_t n = xbi.len / 2;
    if (mp_obj_is_type(x_in, &mp_type_list) || mp_obj_is_type(x_in, &mp_type_tuple)) {
        size_t len;
        mp_obj_t *items;
        if (mp_obj_is_type(x_in, &mp_type_list)) {
            mp_obj_list_t *l = MP_OBJ_TO_PTR(x_in);
            len = l->len;
            items = l->items;
        } else {
            mp_obj_tuple_t *t = MP_OBJ_TO_PTR(x_in);
            len = t->len;
            items = t->items;
        }
        if (len != n) {
            return mp_const_none;
        }
        for (size_t j = 0; j < n; j++) {
            mp_obj_t v = items[j];
            if (!mp_obj_is_small_int(v)) {
                return mp_const_none;
            }
            I q = MP_OBJ_SMALL_INT_VALUE(v);
            if (q < -32768 || q > 32767) {
                return mp_const_none;
            }
        }
        for (size_t j = 0; j < n; j++) {
            xb[j] = MP_OBJ_SMALL_INT_VALUE(items[j]);
        }
    } else {
        mp_buffer_info_t b;
        if (!mp_get_buffer(x_in, &b, MP_BUFFER_READ) || b.typecode != 'h' || b.len != 2 * n) {
            return mp_const_none;
        }
        const int16_t *s = b.buf;
        for (size_t j = 0; j < n; j++) {
            xb[j] = s[j];
        }
    }
    int16_t *params = buf(prog->items[1]);
    int16_t *state = buf(prog->items[2]);
    int16_t *work = buf(prog->items[3]);
    mp_buffer_info_t pl;
    mp_get_buffer_raise(prog->items[4], &pl, MP_BUFFER_READ);
    const int32_t *plan = pl.buf;
    size_t n_layers = pl.len / 24;
    int16_t *x = xb;
    for (size_t l = 0; l < n_layers; l++, plan += 6) {
        int16_t *h = state + plan[5];
        layer(plan[0], params + plan[4], x, h, work, plan[1], plan[2], plan[3]);
        x = h;
    }
    return prog->items[5];
}
static MP_DEFINE_CONST_FUN_OBJ_2(run_obj, run);

#else

static I act(I q, int tanh) {
    return tanh ? tnh(q) : sig(q);
}

// ---- training (_viper_train.py) ---------------------------------------------------

static mp_obj_t copy16(size_t n_args, const mp_obj_t *a) {
    int16_t *dst = buf(a[0]);
    I at = num(a[1]);
    const int16_t *src = buf(a[2]);
    I n = num(a[3]);
    for (I j = 0; j < n; j++) {
        dst[at + j] = src[j];
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(copy16_obj, 4, 4, copy16);

static void acts32(const int16_t *src, I so, int32_t *dst, I d0, I n, int tanh) {
    for (I u = 0; u < n; u++) {
        dst[d0 + u] = act(src[so + u], tanh);
    }
}

// out[j] = dsat(add * out[j] + r8(sum_r p[w0 + j + r * stride] * d[r])), j < n
static inline void matvec_put(int32_t *out, I j, I v, int add) {
    if (add) {
        v += out[j];
    }
    out[j] = DSAT(v);
}

static void matvec(const int16_t *p, I w0, I stride, const int32_t *d, I nrows, int32_t *out, I n, int add, int fast) {
    I md = 0;
    for (I r = 0; r < nrows; r++) {
        I v = d[r];
        if (v < 0) {
            v = -v;
        }
        if (v > md) {
            md = v;
        }
    }
    int plain = fast || nrows * md <= 65532;
    I j = 0;
    if (plain) {            // two columns share each load of d[r]: each column's sum as it was
        for (; j + 2 <= n; j += 2) {
            const int16_t *q = p + w0 + j;
            I v0 = 128, v1 = 128;
            for (I r = 0; r < nrows; r++) {
                I e = d[r];
                v0 += (I)q[0] * e;
                v1 += (I)q[1] * e;
                q += stride;
            }
            matvec_put(out, j, v0 >> 8, add);
            matvec_put(out, j + 1, v1 >> 8, add);
        }
    }
    for (; j < n; j++) {
        I i = w0 + j;
        I v;
        if (plain) {
            v = 128;
            for (I r = 0; r < nrows; r++) {
                v += (I)p[i] * d[r];
                i += stride;
            }
            v = v >> 8;
        } else {
            I hi = 0, lo = 128, top = 0;
            for (I r = 0; r < nrows; r++) {
                I q = (I)p[i] * d[r];
                hi += q >> 8;
                lo += q & 255;
                i += stride;
                if (hi > 268435456) {
                    hi -= 268435456;
                    top += 1;
                } else if (hi < -268435456) {
                    hi += 268435456;
                    top -= 1;
                }
            }
            if (top > 1) {
                v = 16383;
            } else if (top < -1) {
                v = -16383;
            } else {
                v = hi + (lo >> 8) + top * 268435456;
            }
        }
        matvec_put(out, j, v, add);
    }
}

// g[at + r n + j] += d[r] c[xo + j]; g[b0 + r] += d[r] 256; each sum saturated at +-(2^29 - 1)
static void grads(int32_t *g, I at, const int32_t *d, I nrows, const int16_t *c, I xo, I n, I b0) {
    for (I r = 0; r < nrows; r++) {
        I e = d[r];
        if (e) {
            int32_t *gi = g + at + r * n;
            const int16_t *cx = c + xo;
            for (I j = 0; j < n; j++) {
                I v = gi[j] + e * cx[j];                 // |v| < 2^30: one compare finds |v| > G
                if ((mp_uint_t)(v + 536870911) > 1073741822u) {
                    v = GSAT(v);
                }
                gi[j] = v;
            }
            I v = g[b0 + r] + (e << 8);
            g[b0 + r] = GSAT(v);
        }
    }
}

static inline I r16d(I d, I m) {               // dsat(r16(d m))
    I v = (d * m + 32768) >> 16;
    return DSAT(v);
}

// dense_backward(p, g, n_in, n_out, act, cc, xo, s1, dyy, daa, dx, fast)
static mp_obj_t dense_backward(size_t n_args, const mp_obj_t *a) {
    const int16_t *p = buf(a[0]);
    int32_t *g = buf(a[1]);
    I nI = num(a[2]), nO = num(a[3]), ac = num(a[4]);
    const int16_t *c = buf(a[5]);
    I xo = num(a[6]), s1 = num(a[7]);
    const int32_t *dy = buf(a[8]);
    int32_t *da = buf(a[9]);
    int32_t *dx = buf(a[10]);
    I fast = num(a[11]);
    if (ac == 3) {
        ac = 0;
    }
    for (I o = 0; o < nO; o++) {
        I d = dy[o];
        I y = c[s1 + o];
        I v;
        if (ac == 1) {
            v = (d * (y * (256 - y)) + 32768) >> 16;
        } else if (ac == 2) {
            v = (d * (65536 - y * y) + 32768) >> 16;
        } else {
            v = d;
        }
        da[o] = DSAT(v);
    }
    grads(g, 0, da, nO, c, xo, nI, nO * nI);
    matvec(p, 0, nI, da, nO, dx, nI, 0, fast & 1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(dense_backward_obj, 12, 12, dense_backward);

// elman_backward(p, g, n_in, H, cc, xo, s0, s1, dhh, dupp, daa, dx, fast)
static mp_obj_t elman_backward(size_t n_args, const mp_obj_t *a) {
    const int16_t *p = buf(a[0]);
    int32_t *g = buf(a[1]);
    I nI = num(a[2]), H = num(a[3]);
    const int16_t *c = buf(a[4]);
    I xo = num(a[5]), s0 = num(a[6]), s1 = num(a[7]);
    int32_t *dh = buf(a[8]);
    const int32_t *dup = buf(a[9]);
    int32_t *da = buf(a[10]);
    int32_t *dx = buf(a[11]);
    I fast = num(a[12]);
    for (I u = 0; u < H; u++) {
        I h = c[s1 + u];
        I d = (I)dh[u] + dup[u];
        d = DSAT(d);
        da[u] = r16d(d, 65536 - h * h);
        dh[u] = 0;
    }
    grads(g, 0, da, H, c, xo, nI, H * (nI + H));
    matvec(p, 0, nI, da, H, dx, nI, 0, fast & 1);
    grads(g, H * nI, da, H, c, s0, H, H * (nI + H) + H);
    matvec(p, H * nI, H, da, H, dh, H, 1, fast & 2);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(elman_backward_obj, 13, 13, elman_backward);

// lstm_backward(p, g, n_in, H, cc, xo, s0, wk, s1, dhh, dupp, daa, dx, fast)
static mp_obj_t lstm_backward(size_t n_args, const mp_obj_t *a) {
    const int16_t *p = buf(a[0]);
    int32_t *g = buf(a[1]);
    I nI = num(a[2]), H = num(a[3]);
    const int16_t *c = buf(a[4]);
    I xo = num(a[5]), s0 = num(a[6]), wk = num(a[7]), s1 = num(a[8]);
    int32_t *dh = buf(a[9]);
    const int32_t *dup = buf(a[10]);
    int32_t *da = buf(a[11]);
    int32_t *dx = buf(a[12]);
    I fast = num(a[13]);
    acts32(c, wk, da, 0, 2 * H, 0);                  // i, f
    acts32(c, wk + 2 * H, da, 2 * H, H, 1);          // g
    acts32(c, wk + 3 * H, da, 3 * H, H, 0);          // o
    for (I u = 0; u < H; u++) {
        I i = da[u], f = da[H + u], gg = da[2 * H + u], o = da[3 * H + u];
        I tc = act(c[s1 + H + u], 1);                // tanh(c')
        I d = (I)dh[u] + dup[u];
        d = DSAT(d);
        I dO = (d * tc + 128) >> 8;
        I v = (I)dh[H + u] + ((((d * o + 128) >> 8) * (65536 - tc * tc) + 32768) >> 16);
        I dc = DSAT(v);
        I di = (dc * gg + 128) >> 8;
        v = (dc * c[s0 + H + u] + 128) >> 8;
        I df = DSAT(v);
        I dg = (dc * i + 128) >> 8;
        dh[H + u] = (dc * f + 128) >> 8;
        dh[u] = 0;
        da[u] = r16d(di, i * (256 - i));
        da[H + u] = r16d(df, f * (256 - f));
        da[2 * H + u] = r16d(dg, 65536 - gg * gg);
        da[3 * H + u] = r16d(dO, o * (256 - o));
    }
    I R = 4 * H;
    grads(g, 0, da, R, c, xo, nI, R * (nI + H));
    matvec(p, 0, nI, da, R, dx, nI, 0, fast & 1);
    grads(g, R * nI, da, R, c, s0, H, R * (nI + H) + R);
    matvec(p, R * nI, H, da, R, dh, H, 1, fast & 2);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lstm_backward_obj, 14, 14, lstm_backward);

// gru_backward(p, g, n_in, H, cc, xo, s0, wk, dhh, dupp, daxx, dahh, dx, fast)
static mp_obj_t gru_backward(size_t n_args, const mp_obj_t *a) {
    const int16_t *p = buf(a[0]);
    int32_t *g = buf(a[1]);
    I nI = num(a[2]), H = num(a[3]);
    const int16_t *c = buf(a[4]);
    I xo = num(a[5]), s0 = num(a[6]), wk = num(a[7]);
    int32_t *dh = buf(a[8]);
    const int32_t *dup = buf(a[9]);
    int32_t *dax = buf(a[10]);
    int32_t *dah = buf(a[11]);
    int32_t *dx = buf(a[12]);
    I fast = num(a[13]);
    for (I u = 0; u < H; u++) {
        I row = 2 * H + u;
        I hn = c[wk + 3 * H + u];
        I d = (I)dh[u] + dup[u];
        d = DSAT(d);
        I r = (uint16_t)c[wk + u];
        I z = (uint16_t)c[wk + H + u];
        I n = c[wk + row];
        I dn = (d * (256 - z) + 128) >> 8;
        I v = (d * ((I)c[s0 + u] - n) + 128) >> 8;
        I dz = DSAT(v);
        dh[u] = (d * z + 128) >> 8;
        I dan = r16d(dn, 65536 - n * n);
        v = (dan * hn + 128) >> 8;
        v = DSAT(v);
        v = r16d(v, r * (256 - r));
        dax[u] = v;
        dah[u] = v;
        v = r16d(dz, z * (256 - z));
        dax[H + u] = v;
        dah[H + u] = v;
        dax[row] = dan;
        dah[row] = (dan * r + 128) >> 8;
    }
    I R = 3 * H;
    grads(g, 0, dax, R, c, xo, nI, R * (nI + H));
    matvec(p, 0, nI, dax, R, dx, nI, 0, fast & 1);
    grads(g, R * nI, dah, R, c, s0, H, R * (nI + H) + R);
    matvec(p, R * nI, H, dah, R, dh, H, 1, fast & 2);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(gru_backward_obj, 14, 14, gru_backward);

// ---- updates ------------------------------------------------------------------------

static I mul16(I a, I b) {          // _fixed.mul16: r16(a b) for 0 <= a <= 65536, |b| < 2^30
    if (-16384 < b && b < 16384) {
        return (a * b + 32768) >> 16;
    }
    return ((a * (b >> 20)) << 4) + ((a * ((b >> 10) & 1023) + ((a * (b & 1023) + 32768) >> 10)) >> 6);
}

static inline I r16(I a, I b, I la) {   // r16(a b): one product while |b| <= la
    return (-la <= b && b <= la) ? (a * b + 32768) >> 16 : mul16(a, b);
}

static I sq8(I g) {                 // optim.sq8: min(S, r8(g^2))
    if (-32768 < g && g < 32768) {
        return (g * g + 128) >> 8;
    }
    if (g < 0) {
        g = -g;
    }
    if (g > 370727) {
        return 536870911;
    }
    I h = g >> 8, lo = g & 255;
    I v = ((h * h) << 8) + 2 * h * lo + ((lo * lo + 128) >> 8);
    return v > 536870911 ? 536870911 : v;
}

static I isqrt(I x) {               // floor(sqrt(x)) for 0 <= x < 2^30 (v is at most S = 2^29 - 1)
    if (x <= 0) {
        return 0;
    }
    #if defined(__ARM_ARCH_6M__)
    // digit by digit, as the viper kernels (the Cortex-M0 has no divide instruction). The
    // first digit: the largest power of 4 <= x, capped at 4**14 (the viper kernels walk down
    // to it from 4**14 one digit at a time; clz finds it at once). x < 2**29 here.
    I r = 0, bit = x >= ((I)1 << 28) ? (I)1 << 28 : (I)1 << ((31 - __builtin_clz((unsigned)x)) & ~1);
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
    #else
    // Newton's method from above (one divide instruction a step; the same floor(sqrt(x))):
    // with 4^k <= x, r = ((x >> k) + 2^k) // 2 + 1 > (x / 2^k + 2^k) / 2 >= sqrt(x); while
    // r > floor(sqrt(x)), y = (r + x // r) // 2 is below r and not below floor(sqrt(x)); at
    // r = floor(sqrt(x)), y >= r: r is the root.
    I k = (31 - __builtin_clz((unsigned)x)) >> 1;
    I r = (((x >> k) + ((I)1 << k)) >> 1) + 1;
    for (;;) {
        I y = (r + x / r) >> 1;
        if (y >= r) {
            return r;
        }
        r = y;
    }
    #endif
}

static I ratio(I m, I d) {          // _update.step_ratio
    I q = fdiv(m, d);
    if (q >= 131072) {
        return 536870911;
    }
    if (q < -131072) {
        return -536870911;
    }
    I t = (q << 12) + ((m - q * d) * 8192 + d) / (2 * d);   // 0 <= m - q d < d: / is //
    return GSAT(t);
}

static inline int32_t wstep(int32_t w, I u) {
    I v = (I)w - u;
    return WSAT(v);
}

static mp_obj_t sgd_update(size_t n_args, const mp_obj_t *args) {
    int32_t *w = buf(args[0]), *g = buf(args[1]);
    I n = num(args[2]), a = num(args[3]);
    I la = LIM16(a);
    for (I i = 0; i < n; i++) {
        I b = g[i];
        g[i] = 0;
        w[i] = wstep(w[i], r16(a, b, la));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sgd_update_obj, 4, 4, sgd_update);

static mp_obj_t momentum_update(size_t n_args, const mp_obj_t *args) {
    int32_t *w = buf(args[0]), *g = buf(args[1]), *vel = buf(args[2]);
    I n = num(args[3]), a = num(args[4]), mu = num(args[5]);
    I la = LIM16(a);
    I d = 65536 - mu;
    I ld = LIM16(d);
    for (I i = 0; i < n; i++) {
        I b = vel[i];
        I m;
        if (-ld <= b && b <= ld) {
            m = b + ((32768 - d * b) >> 16);
        } else {
            m = mul16(mu, b);
        }
        m += g[i];
        g[i] = 0;
        m = GSAT(m);
        vel[i] = m;
        w[i] = wstep(w[i], r16(a, m, la));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(momentum_update_obj, 6, 6, momentum_update);

static mp_obj_t rmsprop_update(size_t n_args, const mp_obj_t *args) {
    int32_t *w = buf(args[0]), *g = buf(args[1]), *s = buf(args[2]);
    I n = num(args[3]), a = num(args[4]), c = num(args[5]), eps = num(args[6]);
    I la = LIM16(a), lc = LIM16(c);
    for (I i = 0; i < n; i++) {
        I gi = g[i];
        g[i] = 0;
        I si = s[i];
        si += r16(c, sq8(gi) - si, lc);
        s[i] = si;
        I t = ratio(gi, isqrt(si) + eps);
        w[i] = wstep(w[i], r16(a, t, la));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(rmsprop_update_obj, 7, 7, rmsprop_update);

static mp_obj_t adam_update(size_t n_args, const mp_obj_t *args) {
    int32_t *w = buf(args[0]), *g = buf(args[1]), *m = buf(args[2]), *v = buf(args[3]);
    I n = num(args[4]), a = num(args[5]), c1 = num(args[6]), c2 = num(args[7]), eps = num(args[8]);
    I l1 = LIM16(c1), l2 = LIM16(c2), la = LIM16(a);
    for (I i = 0; i < n; i++) {
        I gi = g[i];
        g[i] = 0;
        I mi = m[i];
        mi += r16(c1, gi - mi, l1);
        m[i] = mi;
        I vi = v[i];
        vi += r16(c2, sq8(gi) - vi, l2);
        v[i] = vi;
        I t = ratio(mi, isqrt(vi) + eps);
        w[i] = wstep(w[i], r16(a, t, la));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(adam_update_obj, 9, 9, adam_update);

static mp_obj_t grad_mean(size_t n_args, const mp_obj_t *args) {
    int32_t *g = buf(args[0]);
    I n = num(args[1]), N = num(args[2]), cv = num(args[3]);
    I half = 8 * N, den = 16 * N;
    for (I i = 0; i < n; i++) {
        I v = fdiv((I)g[i] + half, den);
        if (cv) {
            if (v > cv) {
                v = cv;
            } else if (v < -cv) {
                v = -cv;
            }
        }
        g[i] = v;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(grad_mean_obj, 4, 4, grad_mean);

static mp_obj_t max_abs(mp_obj_t g_in, mp_obj_t n_in) {
    const int32_t *g = buf(g_in);
    I n = num(n_in), big = 0;
    for (I i = 0; i < n; i++) {
        I v = g[i];
        if (v < 0) {
            v = -v;
        }
        if (v > big) {
            big = v;
        }
    }
    return mp_obj_new_int(big);
}
static MP_DEFINE_CONST_FUN_OBJ_2(max_abs_obj, max_abs);

static mp_obj_t sum_sq(mp_obj_t g_in, mp_obj_t n_in, mp_obj_t s_in) {
    const int32_t *g = buf(g_in);
    I n = num(n_in), s = num(s_in), ss = 0;
    for (I i = 0; i < n; i++) {
        I v = g[i];
        if (v < 0) {
            v = -v;
        }
        v = v >> s;
        ss += v * v;
    }
    return mp_obj_new_int(ss);
}
static MP_DEFINE_CONST_FUN_OBJ_3(sum_sq_obj, sum_sq);

static mp_obj_t scale_q15(mp_obj_t g_in, mp_obj_t n_in, mp_obj_t f_in) {
    int32_t *g = buf(g_in);
    I n = num(n_in), f = num(f_in);
    for (I i = 0; i < n; i++) {
        I v = g[i];
        g[i] = (v >> 15) * f + (((v & 32767) * f + 16384) >> 15);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(scale_q15_obj, scale_q15);

static mp_obj_t add_decay(size_t n_args, const mp_obj_t *args) {
    int32_t *g = buf(args[0]);
    const int32_t *w = buf(args[1]);
    I n = num(args[2]), wd = num(args[3]);
    for (I i = 0; i < n; i++) {
        g[i] = (I)g[i] + mul16(wd, w[i]);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(add_decay_obj, 4, 4, add_decay);

static mp_obj_t to_q88(mp_obj_t p_in, mp_obj_t w_in, mp_obj_t n_in) {
    int16_t *p = buf(p_in);
    const int32_t *w = buf(w_in);
    I n = num(n_in);
    for (I i = 0; i < n; i++) {
        I v = ((I)w[i] + 128) >> 8;
        p[i] = v > 32767 ? 32767 : v;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(to_q88_obj, to_q88);

static mp_obj_t from_q88(mp_obj_t w_in, mp_obj_t p_in, mp_obj_t n_in) {
    int32_t *w = buf(w_in);
    const int16_t *p = buf(p_in);
    I n = num(n_in);
    for (I i = 0; i < n; i++) {
        w[i] = (I)p[i] << 8;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(from_q88_obj, from_q88);

#endif

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    #if !TRAIN
    mp_store_global(MP_QSTR_elman_step, MP_OBJ_FROM_PTR(&elman_step_obj));
    mp_store_global(MP_QSTR_lstm_step, MP_OBJ_FROM_PTR(&lstm_step_obj));
    mp_store_global(MP_QSTR_gru_step, MP_OBJ_FROM_PTR(&gru_step_obj));
    mp_store_global(MP_QSTR_dense_step, MP_OBJ_FROM_PTR(&dense_step_obj));
    mp_store_global(MP_QSTR_run, MP_OBJ_FROM_PTR(&run_obj));
    #else
    mp_store_global(MP_QSTR_copy16, MP_OBJ_FROM_PTR(&copy16_obj));
    mp_store_global(MP_QSTR_dense_backward, MP_OBJ_FROM_PTR(&dense_backward_obj));
    mp_store_global(MP_QSTR_elman_backward, MP_OBJ_FROM_PTR(&elman_backward_obj));
    mp_store_global(MP_QSTR_lstm_backward, MP_OBJ_FROM_PTR(&lstm_backward_obj));
    mp_store_global(MP_QSTR_gru_backward, MP_OBJ_FROM_PTR(&gru_backward_obj));
    mp_store_global(MP_QSTR_sgd_update, MP_OBJ_FROM_PTR(&sgd_update_obj));
    mp_store_global(MP_QSTR_momentum_update, MP_OBJ_FROM_PTR(&momentum_update_obj));
    mp_store_global(MP_QSTR_rmsprop_update, MP_OBJ_FROM_PTR(&rmsprop_update_obj));
    mp_store_global(MP_QSTR_adam_update, MP_OBJ_FROM_PTR(&adam_update_obj));
    mp_store_global(MP_QSTR_grad_mean, MP_OBJ_FROM_PTR(&grad_mean_obj));
    mp_store_global(MP_QSTR_max_abs, MP_OBJ_FROM_PTR(&max_abs_obj));
    mp_store_global(MP_QSTR_sum_sq, MP_OBJ_FROM_PTR(&sum_sq_obj));
    mp_store_global(MP_QSTR_scale_q15, MP_OBJ_FROM_PTR(&scale_q15_obj));
    mp_store_global(MP_QSTR_add_decay, MP_OBJ_FROM_PTR(&add_decay_obj));
    mp_store_global(MP_QSTR_to_q88, MP_OBJ_FROM_PTR(&to_q88_obj));
    mp_store_global(MP_QSTR_from_q88, MP_OBJ_FROM_PTR(&from_q88_obj));
    #endif
    MP_DYNRUNTIME_INIT_EXIT
}
