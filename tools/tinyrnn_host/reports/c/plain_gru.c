// The baseline of `tinyrnn bench`: the Q8.8 GRU step of docs/arithmetic.md (PyTorch's
// GRU, one identity dense head) as plain C, sizes at run time, compiled with gcc -O2.
// No MicroPython: what the same integers cost on this machine without an interpreter.
//     plain_gru I H O STEPS   -> prints "ns_per_step checksum"
// tables.h: the activation tables, written from lib/tinyrnn/_tables.py (board/natmod.py).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tables.h"

static int32_t sat16(int32_t v) { return v > 32767 ? 32767 : (v < -32768 ? -32768 : v); }

static int32_t act(int32_t q, int tanh) {
    const uint16_t *t = tanh ? TANH : SIGMOID;
    int32_t x = q < 0 ? -q : q, s;
    if (x >= (tanh ? 1024 : 2048)) {
        s = 256;
    } else {
        int32_t a = t[x >> 4];
        s = (a * 16 + (t[(x >> 4) + 1] - a) * (x & 15) + 1024) >> 11;
    }
    return q < 0 ? (tanh ? -s : 256 - s) : s;
}

// w: W_ih (3H x I), W_hh (3H x H), b_ih, b_hh (3H), then the head (O x H) and its bias (O)
static void step(const int16_t *w, const int16_t *x, int16_t *h, int16_t *g, int16_t *y, int I, int H, int O) {
    const int16_t *whh = w + 3 * H * I, *bih = whh + 3 * H * H, *bhh = bih + 3 * H, *wo = bhh + 3 * H;
    for (int r = 0; r < 3 * H; r++) {                    // the x part of every row, the h part of r and z
        int32_t a = ((int32_t)bih[r] << 8) + 128, b = 0;
        for (int j = 0; j < I; j++) a += w[r * I + j] * x[j];
        for (int j = 0; j < H; j++) b += whh[r * H + j] * h[j];
        if (r < 2 * H) {
            g[r] = act(sat16((a + b + ((int32_t)bhh[r] << 8)) >> 8), 0);
        } else {                                          // n = tanh(W_in x + b_in + r (W_hn h + b_hn))
            int32_t hn = sat16((b + ((int32_t)bhh[r] << 8) + 128) >> 8);
            g[r] = act(sat16((a + g[r - 2 * H] * hn) >> 8), 1);
        }
    }
    for (int u = 0; u < H; u++) {
        int32_t z = g[H + u];
        h[u] = sat16(((256 - z) * g[2 * H + u] + z * h[u] + 128) >> 8);
    }
    for (int o = 0; o < O; o++) {
        int32_t a = ((int32_t)wo[O * H + o] << 8) + 128;
        for (int j = 0; j < H; j++) a += wo[o * H + j] * h[j];
        y[o] = sat16(a >> 8);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: plain_gru I H O STEPS\n");
        return 2;
    }
    int I = atoi(argv[1]), H = atoi(argv[2]), O = atoi(argv[3]), n = atoi(argv[4]);
    int nw = 3 * H * (I + H + 2) + O * (H + 1);
    int16_t *w = malloc(2 * nw), *x = malloc(2 * I), *h = calloc(H, 2), *g = malloc(6 * H), *y = malloc(2 * O);
    for (int i = 0; i < nw; i++) w[i] = (i * 7) % 200 - 100;
    for (int j = 0; j < I; j++) x[j] = 100;
    long best = -1;
    uint32_t sum = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int s = 0; s < n; s++) {
            step(w, x, h, g, y, I, H, O);
            sum = sum * 31 + (uint16_t)y[0];          // keeps the steps from being optimised away
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long d = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
        if (best < 0 || d < best) best = d;
    }
    printf("%.1f %u\n", (double)best / n, sum);
    return 0;
}
