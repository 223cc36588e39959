/* Fused element-wise passes of an RBM's Gibbs step on the CPU, float32 (see lamina/generative/fused_kernels.py).
 *
 * torch's CPU `rand` draws mt19937 numbers one at a time (about 4 ns each), and the sigmoid, the softplus of the
 * logged free energy and the column means are separate passes over the same logits. Here one pass over a row of
 * logits a gives h = sigmoid(a), optionally a Bernoulli sample s = [u < h], and the sums of softplus(a) and of h.
 * The uniforms u come from Threefry-2x32-20 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1,
 * 2, 3", SC 2011), a counter-based generator: element (r, c) of a call keyed by `seed` is one word of block
 * (c / 16 * 8 + c % 8, r) (see row_bits), so the draws do not depend on how the work is split, and the caller takes
 * a fresh 64-bit key from its torch.Generator for every call. u = (x >> 8) * 2^-24 has the 24-bit resolution of
 * torch.rand.
 *
 * Compiled at first use with -O3 -ffast-math, so that gcc vectorises expf/logf through glibc's libmvec.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Threefry-2x32 with 20 rounds (Salmon et al., 2011; the generator of JAX): additions, rotations and xors of
 * 32-bit words only. Eight blocks run side by side in one vector of gcc's vector extension (AVX2 integer ops with
 * -mavx2; pairs of SSE ops or scalar code elsewhere). */
#define LANES 8
typedef uint32_t lanes_t __attribute__((vector_size(4 * LANES)));
#define THREEFRY_PARITY 0x1BD11BDAu
#define ROUND(r) do { x0 += x1; x1 = ((x1 << (r)) | (x1 >> (32 - (r)))) ^ x0; } while (0)
#define INJECT(j) do { x0 += ks[(j) % 3]; x1 += ks[((j) + 1) % 3] + (uint32_t)(j); } while (0)

static inline void threefry2x32_20(lanes_t *p0, lanes_t *p1, uint32_t k0, uint32_t k1) {
    const uint32_t ks[3] = {k0, k1, THREEFRY_PARITY ^ k0 ^ k1};
    lanes_t x0 = *p0 + ks[0], x1 = *p1 + ks[1];
    ROUND(13); ROUND(15); ROUND(26); ROUND(6);  INJECT(1);
    ROUND(17); ROUND(29); ROUND(16); ROUND(24); INJECT(2);
    ROUND(13); ROUND(15); ROUND(26); ROUND(6);  INJECT(3);
    ROUND(17); ROUND(29); ROUND(16); ROUND(24); INJECT(4);
    ROUND(13); ROUND(15); ROUND(26); ROUND(6);  INJECT(5);
    *p0 = x0;
    *p1 = x1;
}

/* For the known-answer test: out = Threefry2x32-20(counter, key). */
void lamina_threefry2x32_20(const uint32_t *counter, const uint32_t *key, uint32_t *out) {
    lanes_t x0 = {counter[0]}, x1 = {counter[1]};
    threefry2x32_20(&x0, &x1, key[0], key[1]);
    out[0] = x0[0];
    out[1] = x1[0];
}

/* The uniforms of one row: bits[c] for c < cols (the buffer holds cols rounded up to a multiple of 2 * LANES).
 * Chunk q of 2 * LANES elements comes from blocks (q * LANES + l, r), l < LANES: element 2 q LANES + l is word 0 of
 * block l, element (2 q + 1) LANES + l its word 1. */
static void row_bits(uint32_t *bits, int64_t cols, int64_t row, uint64_t seed) {
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    lanes_t iota;
    for (int l = 0; l < LANES; l++) iota[l] = (uint32_t)l;
    for (int64_t q = 0; 2 * LANES * q < cols; q++) {
        lanes_t x0 = iota + (uint32_t)(q * LANES), x1 = iota * 0u + (uint32_t)row;
        threefry2x32_20(&x0, &x1, k0, k1);
        memcpy(bits + 2 * LANES * q, &x0, sizeof x0);
        memcpy(bits + 2 * LANES * q + LANES, &x1, sizeof x1);
    }
}

/* One pass over the (rows, cols) matrices. */
typedef struct {
    const float *a;      /* logits (sigmoid pass) or probabilities (Bernoulli pass) */
    float *h, *sample, *column_sum;
    int64_t rows, cols;
    uint64_t seed;
    int sigmoid, want_softplus;
    double softplus;     /* out: the sum of softplus(a) */
    uint32_t nonfinite;  /* out */
    int failed;          /* out: a buffer could not be allocated */
} pass_t;

static void run_pass(pass_t *t) {
    const int64_t cols = t->cols;
    uint32_t *bits = NULL;
    if (t->sample) {
        bits = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)((cols + 2 * LANES - 1) / (2 * LANES) * (2 * LANES)));
        if (!bits) { t->failed = 1; return; }
    }
    for (int64_t r = 0; r < t->rows; r++) {
        const float *ar = t->a + r * cols;
        const float *pr = ar;  /* the probabilities the sample compares with */
        if (t->sigmoid) {
            float *hr = t->h + r * cols;
            for (int64_t c = 0; c < cols; c++) {
                float x = ar[c];
                uint32_t pattern;
                memcpy(&pattern, &x, sizeof pattern);  /* integer test: fast-math folds x != x to false */
                t->nonfinite |= (pattern & 0x7f800000u) == 0x7f800000u;
                float e = expf(-fabsf(x));          /* in (0, 1]: neither branch overflows */
                float inv = 1.0f / (1.0f + e);      /* sigmoid(|x|) */
                hr[c] = x >= 0.0f ? inv : e * inv;
            }
            if (t->want_softplus) {  /* softplus(x) = max(x, 0) - log(sigmoid(|x|)); a loop of its own vectorises */
                float row_softplus = 0.0f;
                for (int64_t c = 0; c < cols; c++) {
                    float x = ar[c], top = fmaxf(hr[c], 1.0f - hr[c]);
                    row_softplus += fmaxf(x, 0.0f) - logf(top);
                }
                t->softplus += row_softplus;
            }
            if (t->column_sum)
                for (int64_t c = 0; c < cols; c++) t->column_sum[c] += hr[c];
            pr = hr;
        }
        if (t->sample) {
            float *sr = t->sample + r * cols;
            row_bits(bits, cols, r, t->seed);
            for (int64_t c = 0; c < cols; c++)
                sr[c] = (float)(bits[c] >> 8) * 0x1p-24f < pr[c] ? 1.0f : 0.0f;
        }
    }
    free(bits);
}

/* For each row r of the (rows, cols) logits a:
 *   h[r, c] = sigmoid(a[r, c]);
 *   sample != NULL: sample[r, c] = 1 if u[r, c] < h[r, c] else 0 (Threefry keyed by seed);
 *   column_sum != NULL: column_sum[c] += h[r, c]   (the caller zeroes it);
 *   returns the sum over all elements of softplus(a) when want_softplus, else 0.
 * *status: 0; 1 if some logit is NaN or infinite (-ffast-math assumes they are not, so the outputs are then
 * meaningless: the caller reports the divergence); -1 if a buffer could not be allocated.
 * One thread: between torch's parallel matrix products, a second thread of ours only contends with torch's
 * spinning OpenMP workers (measured slower than one thread inside a CD-1 loop). */
double lamina_sigmoid_pass(const float *a, float *h, float *sample, float *column_sum, int64_t rows, int64_t cols,
                           uint64_t seed, int want_softplus, int *status) {
    pass_t pass = {a, h, sample, column_sum, rows, cols, seed, 1, want_softplus, 0.0, 0u, 0};
    run_pass(&pass);
    *status = pass.failed ? -1 : (pass.nonfinite ? 1 : 0);
    return pass.softplus;
}

/* sample[r, c] = 1 if u[r, c] < p[r, c] else 0 for the (rows, cols) probabilities p, drawn as lamina_sigmoid_pass
 * draws. Returns 0, or -1 if a buffer could not be allocated. */
int lamina_bernoulli(const float *p, float *sample, int64_t rows, int64_t cols, uint64_t seed) {
    pass_t pass = {p, NULL, sample, NULL, rows, cols, seed, 0, 0, 0.0, 0u, 0};
    run_pass(&pass);
    return pass.failed ? -1 : 0;
}
