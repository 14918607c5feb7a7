/* Shared by the native language-model files (int8_gemv.c, lm_step.c): bfloat16 <-> float32
 * and the int8 product both use. MRTD_MAX_ROWS bounds the rows (streams) one call takes. */
#ifndef MRTD_LM_NATIVE_H
#define MRTD_LM_NATIVE_H
#include <stdint.h>
#include <string.h>

#define MRTD_MAX_ROWS 4

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f) { /* round to nearest even, as PyTorch */
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* y[m, n] = scale[n] * sum_k x[m, k] * w[n, k], float32 in and out; -1 when not built for AVX2/AVX-512. */
int mrtd_gemv_f32(const float *x, const int8_t *w, const uint16_t *scale, float *y, int M, int N, int K);

#endif
