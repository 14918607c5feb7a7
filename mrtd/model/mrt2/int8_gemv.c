/* Weight-only int8 matrix-vector products for the language model on the CPU.
 *
 *   y[m, n] = bf16(scale[n] * sum_k x[m, k] * w[n, k])
 *
 * x: bfloat16 [M, K] (M <= MRTD_MAX_ROWS), w: int8 [N, K] row-major, scale: bfloat16 [N],
 * y: bfloat16 [M, N]. The sum is float32; the result is rounded to bfloat16 to nearest even.
 * mrtd_gemv_f32 is the same product for float32 x and float32 y, unrounded: what lm_step.c's
 * native frame calls between its float32 layers.
 *
 * Why this file exists: at one frame per call the language model is a chain of matrix-
 * vector products whose cost is reading the weights. torch._weight_int8pack_mm reads them
 * at 5-6 GB/s on one core of the project's Xeon, well below what the core can stream;
 * this loop (int8 widened to float32 in registers, four independent sums per row, a
 * software prefetch into L2) reads about 12 GB/s from memory and 15 GB/s from the shared cache
 * (benchmarks/int8_kernel.py). It is compiled on the user's machine with -march=native by
 * mrtd/model/mrt2/int8_kernel.py, which falls back to PyTorch's kernel when it cannot be.
 *
 * The order of every sum is fixed by the code, so a given machine gives the same bits on
 * every run (replay stays exact); machines with different vector widths may differ in the
 * last bit.
 */
#include "lm_native.h"
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#define MRTD_MAX_SCRATCH 32768 /* floats of x widened on the stack: M * K */
/* Into L2 (locality 2: prefetcht1), 6 KB ahead: 9.3 -> 12.5 GB/s from memory against 512 bytes into
 * L1 (the temporal stack's shapes cycled through 183 MB, one core of the project's Xeon). */
#define PREFETCH_BYTES 6144

/* 2: AVX-512, 1: AVX2 + FMA, 0: plain C (PyTorch's kernel is used instead). */
int mrtd_int8_isa(void) {
#if defined(__AVX512F__)
    return 2;
#elif defined(__AVX2__) && defined(__FMA__)
    return 1;
#else
    return 0;
#endif
}

#if defined(__AVX512F__)
#define LANES 16
typedef __m512 vec;
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VWIDEN(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
#define VSUM(a) _mm512_reduce_add_ps(a)
#elif defined(__AVX2__) && defined(__FMA__)
#define LANES 8
typedef __m256 vec;
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VWIDEN(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
static inline float VSUM(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#ifdef LANES
#define STEP (4 * LANES)

/* One weight row against M rows of x: the row is widened once per chunk and used M times. */
static inline __attribute__((always_inline)) void dot_rows(const float *xf, int M, int K, const int8_t *wr,
                                                           float *out) {
    vec a[MRTD_MAX_ROWS][4];
    for (int m = 0; m < M; m++)
        for (int j = 0; j < 4; j++) a[m][j] = VZERO();
    int k = 0;
    for (; k + STEP <= K; k += STEP) {
        __builtin_prefetch(wr + k + PREFETCH_BYTES, 0, 2);
        vec w0 = VWIDEN(wr + k), w1 = VWIDEN(wr + k + LANES);
        vec w2 = VWIDEN(wr + k + 2 * LANES), w3 = VWIDEN(wr + k + 3 * LANES);
        for (int m = 0; m < M; m++) {
            const float *xr = xf + (long)m * K + k;
            a[m][0] = VFMA(VLOAD(xr), w0, a[m][0]);
            a[m][1] = VFMA(VLOAD(xr + LANES), w1, a[m][1]);
            a[m][2] = VFMA(VLOAD(xr + 2 * LANES), w2, a[m][2]);
            a[m][3] = VFMA(VLOAD(xr + 3 * LANES), w3, a[m][3]);
        }
    }
    for (; k + LANES <= K; k += LANES) {
        vec w0 = VWIDEN(wr + k);
        for (int m = 0; m < M; m++) a[m][0] = VFMA(VLOAD(xf + (long)m * K + k), w0, a[m][0]);
    }
    for (int m = 0; m < M; m++) {
        float s = VSUM(VADD(VADD(a[m][0], a[m][1]), VADD(a[m][2], a[m][3])));
        for (int r = k; r < K; r++) s += xf[(long)m * K + r] * (float)wr[r];
        out[m] = s;
    }
}

static inline __attribute__((always_inline)) void rows(const float *xf, int M, const int8_t *w,
                                                       const uint16_t *scale, uint16_t *y, float *yf, int N, int K) {
    float s[MRTD_MAX_ROWS];
    for (int n = 0; n < N; n++) {
        dot_rows(xf, M, K, w + (long)n * K, s);
        float sc = bf16_to_f32(scale[n]);
        if (yf)
            for (int m = 0; m < M; m++) yf[(long)m * N + n] = s[m] * sc;
        else
            for (int m = 0; m < M; m++) y[(long)m * N + n] = f32_to_bf16(s[m] * sc);
    }
}

/* Both products: a constant row count per call keeps the sums in registers (one instance per
 * count); y (bfloat16) or yf (float32) receives the result. -1 when the shape is not taken,
 * or where this build has no vector path (then PyTorch's kernel runs instead). */
static int product(const float *xf, const int8_t *w, const uint16_t *scale, uint16_t *y, float *yf, int M, int N,
                   int K) {
    if (M < 1 || M > MRTD_MAX_ROWS || N < 1 || K < 1) return -1;
    switch (M) {
    case 1: rows(xf, 1, w, scale, y, yf, N, K); break;
    case 2: rows(xf, 2, w, scale, y, yf, N, K); break;
    case 3: rows(xf, 3, w, scale, y, yf, N, K); break;
    default: rows(xf, 4, w, scale, y, yf, N, K); break;
    }
    return 0;
}
#else
static int product(const float *xf, const int8_t *w, const uint16_t *scale, uint16_t *y, float *yf, int M, int N,
                   int K) {
    (void)xf; (void)w; (void)scale; (void)y; (void)yf; (void)M; (void)N; (void)K;
    return -1;
}
#endif

/* 0 on success; -1 when the shape is not taken here (the caller uses PyTorch's kernel). */
int mrtd_int8_gemv(const uint16_t *x, const int8_t *w, const uint16_t *scale, uint16_t *y, int M, int N, int K) {
    if (M < 1 || M > MRTD_MAX_ROWS || K < 1 || (long)M * K > MRTD_MAX_SCRATCH) return -1;
    float xf[MRTD_MAX_SCRATCH];
    for (long i = 0; i < (long)M * K; i++) xf[i] = bf16_to_f32(x[i]);
    return product(xf, w, scale, y, NULL, M, N, K);
}

/* The same product for float32 activations, unrounded float32 out (lm_step.c's layers). */
int mrtd_gemv_f32(const float *x, const int8_t *w, const uint16_t *scale, float *y, int M, int N, int K) {
    return product(x, w, scale, NULL, y, M, N, K);
}
