/* One frame of the int8 language model in two calls, for up to MRTD_MAX_ROWS streams on one
 * core: the temporal step, then the 12 depth levels with their sampling.
 *
 * Why this file exists: with the weights int8 and read by mrtd_gemv_f32, what is left of an
 * eager PyTorch frame is ~3,000 small operators (norms, casts, attention over a few dozen
 * keys, the sampler), each costing microseconds of dispatch: ~30 of the ~70 ms a frame took on
 * one core of the project's Xeon, and each handing the interpreter lock to the codec thread
 * and back. Here those are plain loops over float32 activations.
 *
 * Numerics: the weights are the same int8 codes and bfloat16 row scales PyTorch's int8 path
 * reads; the activations stay float32 from the inputs to the outputs (the PyTorch path
 * rounds every operator's result to bfloat16), so this is closer to the float32 model, not
 * further. Keys and values are rounded to bfloat16 where they are stored (the caches are the
 * stream state's bfloat16 tensors). Each sum's order is fixed by the code: a given machine
 * gives the same bits on every run.
 *
 * Layouts (all row-major, checked by mrtd/model/mrt2/native_step.py before any call):
 *   temporal caches [L, B, S, H, Dh] bfloat16, validity [B, S] bytes;
 *   depth caches [Ld, B, levels, H, Dh] bfloat16;
 *   every small vector (norm scales, biases, query scales, sinks) float32.
 */
#include <math.h>
#include <stdlib.h>

#include "lm_native.h"

typedef struct {
    const int8_t *w;
    const uint16_t *s;
} qmat;

static inline qmat Q(const void *const *p) { return (qmat){(const int8_t *)p[0], (const uint16_t *)p[1]}; }
static inline const float *F(const void *p) { return (const float *)p; }

static int gemv(qmat m, const float *x, float *y, int B, int N, int K) {
    return mrtd_gemv_f32(x, m.w, m.s, y, B, N, K);
}

static float inv_rms(const float *x, int D, float eps) {
    float ss = 0.0f;
    for (int i = 0; i < D; i++) ss += x[i] * x[i];
    return 1.0f / sqrtf(ss / (float)D + eps);
}

static void rms_norm(const float *x, const float *scale, float *y, int D, float eps) {
    float r = inv_rms(x, D, eps);
    for (int i = 0; i < D; i++) y[i] = x[i] * r * scale[i];
}

/* x += post_norm(o): the residual end of every "primer hybrid" branch. */
static void add_post_norm(float *x, const float *o, const float *scale, int D, float eps) {
    float r = inv_rms(o, D, eps);
    for (int i = 0; i < D; i++) x[i] += o[i] * r * scale[i];
}

static void layer_norm(const float *x, const float *scale, const float *bias, float *y, int D, float eps) {
    float mean = 0.0f, var = 0.0f;
    for (int i = 0; i < D; i++) mean += x[i];
    mean /= (float)D;
    for (int i = 0; i < D; i++) var += (x[i] - mean) * (x[i] - mean);
    float r = 1.0f / sqrtf(var / (float)D + eps);
    for (int i = 0; i < D; i++) y[i] = (x[i] - mean) * r * scale[i] + bias[i];
}

static inline float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* The scratch width every per-row buffer gets: the widest of the model, the attention heads
 * (times three for Q, K and V together) and the FFN. */
static long widest(int D, int HD, int Fh) {
    long w = 3L * HD;
    if (w < Fh) w = Fh;
    if (w < D) w = D;
    return w;
}

static void store_bf16(uint16_t *dst, const float *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

/* One query row against S key slots (bfloat16, [S, H, Dh] with slot stride `stride`), the
 * slots with valid[s] == 0 skipped (valid NULL: all). The query is scaled per dim by
 * qscale; the optional sink's logit uses the unscaled query, as the official code does. */
static void attend(const float *q, const float *qscale, const uint16_t *K, const uint16_t *V, const uint8_t *valid,
                   int S, int H, int Dh, const float *sink_k, const float *sink_v, float *ctx, float *logit) {
    long stride = (long)H * Dh;
    for (int h = 0; h < H; h++) {
        const float *qh = q + (long)h * Dh;
        float m = -INFINITY, sink = 0.0f;
        if (sink_k) {
            for (int d = 0; d < Dh; d++) sink += qh[d] * sink_k[(long)h * Dh + d];
            m = sink;
        }
        for (int s = 0; s < S; s++) {
            if (valid && !valid[s]) continue;
            const uint16_t *kr = K + s * stride + (long)h * Dh;
            float l = 0.0f;
            for (int d = 0; d < Dh; d++) l += qh[d] * qscale[d] * bf16_to_f32(kr[d]);
            logit[s] = l;
            if (l > m) m = l;
        }
        float total = 0.0f, p_sink = 0.0f;
        if (sink_k) total = p_sink = expf(sink - m);
        for (int s = 0; s < S; s++) {
            if (valid && !valid[s]) continue;
            logit[s] = expf(logit[s] - m);
            total += logit[s];
        }
        float inv = 1.0f / total;
        float *c = ctx + (long)h * Dh;
        for (int d = 0; d < Dh; d++) c[d] = sink_v ? p_sink * inv * sink_v[(long)h * Dh + d] : 0.0f;
        for (int s = 0; s < S; s++) {
            if (valid && !valid[s]) continue;
            const uint16_t *vr = V + s * stride + (long)h * Dh;
            float p = logit[s] * inv;
            for (int d = 0; d < Dh; d++) c[d] += p * bf16_to_f32(vr[d]);
        }
    }
}

/* The self-attention branch for B rows, x += post(wo attend(wqkv pre(x))). a: pre, post,
 * wqkv (2), wo (2), qscale, then the sink key and value when `sinks`. Row b's key and value
 * go to position slot[b] of its cache (K, V + b * row; positions H * Dh apart), and it
 * attends over the first `seen` positions, those with valid[b * seen + s] set (NULL: all). */
static int self_attention(const void *const *a, int sinks, float *x, float *h, float *u, float *ctx, float *o,
                          float *logit, int B, int D, int H, int Dh, uint16_t *K, uint16_t *V, long row,
                          const int *slot, const uint8_t *valid, int seen, float eps) {
    int HD = H * Dh;
    for (int b = 0; b < B; b++) rms_norm(x + (long)b * D, F(a[0]), h + (long)b * D, D, eps);
    if (gemv(Q(a + 2), h, u, B, 3 * HD, D)) return -1;
    for (int b = 0; b < B; b++) {
        const float *qkv = u + (long)b * 3 * HD;
        uint16_t *kb = K + b * row, *vb = V + b * row;
        store_bf16(kb + (long)slot[b] * HD, qkv + HD, HD);
        store_bf16(vb + (long)slot[b] * HD, qkv + 2 * HD, HD);
        attend(qkv, F(a[6]), kb, vb, valid ? valid + (long)b * seen : NULL, seen, H, Dh, sinks ? F(a[7]) : NULL,
               sinks ? F(a[8]) : NULL, ctx + (long)b * HD, logit);
    }
    if (gemv(Q(a + 4), ctx, o, B, D, HD)) return -1;
    for (int b = 0; b < B; b++) add_post_norm(x + (long)b * D, o + (long)b * D, F(a[1]), D, eps);
    return 0;
}

/* The FFN branch for B rows: x += post(w2 gelu(w1 pre(x) + b1) + b2). Pointers: pre, post,
 * w1 (2), b1, w2 (2), b2. */
static int ffn(const void *const *p, float *x, float *h, float *u, float *o, int B, int D, int Fh, float eps) {
    for (int b = 0; b < B; b++) rms_norm(x + (long)b * D, F(p[0]), h + (long)b * D, D, eps);
    if (gemv(Q(p + 2), h, u, B, Fh, D)) return -1;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < Fh; i++) u[(long)b * Fh + i] = gelu_tanh(u[(long)b * Fh + i] + F(p[4])[i]);
    if (gemv(Q(p + 5), u, o, B, D, Fh)) return -1;
    for (int b = 0; b < B; b++) {
        float *ob = o + (long)b * D;
        for (int i = 0; i < D; i++) ob[i] += F(p[7])[i];
        add_post_norm(x + (long)b * D, ob, F(p[1]), D, eps);
    }
    return 0;
}

#define T_SELF 0   /* pre, post, wqkv (2), wo (2), qscale, sink_k, sink_v */
#define T_CROSS 9  /* pre, post, wq (2), wkv (2), wo (2), qscale, sink_k, sink_v */
#define T_FFN 20   /* pre, post, w1 (2), b1, w2 (2), b2 */
#define T_PER_LAYER 28

/* The temporal stack for one frame of B streams. dims: L, D, H, Dh, F, E, S_self, S_cross.
 * Writes this frame's keys/values into ring slot pos[b] % S of every layer, marks the
 * slots valid, and the output [B, D] (bfloat16). 0 on success, -1 on a shape not taken. */
int mrtd_temporal_step(const void *const *p, const int *dims, float eps, int B, const uint16_t *x_in,
                       const uint16_t *src, const int64_t *pos, uint16_t *self_k, uint16_t *self_v,
                       uint8_t *self_valid, uint16_t *cross_k, uint16_t *cross_v, uint8_t *cross_valid,
                       uint16_t *out) {
    int L = dims[0], D = dims[1], H = dims[2], Dh = dims[3], Fh = dims[4], E = dims[5], S1 = dims[6], S2 = dims[7];
    int HD = H * Dh, S = S1 > S2 ? S1 : S2;
    if (B < 1 || B > MRTD_MAX_ROWS || S1 < 1 || S2 < 1) return -1;
    long w = widest(D, HD, Fh);
    float *mem = malloc(sizeof(float) * ((long)B * (D + 4 * w + E) + S));
    if (!mem) return -1;
    float *x = mem, *h = x + (long)B * D, *o = h + B * w, *u = o + B * w, *ctx = u + B * w;
    float *srcf = ctx + B * w, *logit = srcf + (long)B * E;
    int slot1[MRTD_MAX_ROWS], slot2[MRTD_MAX_ROWS];
    for (int b = 0; b < B; b++) {
        slot1[b] = (int)(((pos[b] % S1) + S1) % S1); /* in range for any position */
        slot2[b] = (int)(((pos[b] % S2) + S2) % S2);
        self_valid[(long)b * S1 + slot1[b]] = 1;
        cross_valid[(long)b * S2 + slot2[b]] = 1;
    }
    for (long i = 0; i < (long)B * D; i++) x[i] = bf16_to_f32(x_in[i]);
    for (long i = 0; i < (long)B * E; i++) srcf[i] = bf16_to_f32(src[i]);
    int rc = 0;
    for (int l = 0; l < L && rc == 0; l++) {
        const void *const *pl = p + (long)l * T_PER_LAYER;
        long layer = (long)l * B;
        /* windowed self-attention */
        long ring = (long)S1 * HD;
        if ((rc = self_attention(pl + T_SELF, 1, x, h, u, ctx, o, logit, B, D, H, Dh, self_k + layer * ring,
                                 self_v + layer * ring, ring, slot1, self_valid, S1, eps)))
            break;
        /* windowed cross-attention over the conditioning source */
        const void *const *a = pl + T_CROSS;
        for (int b = 0; b < B; b++) rms_norm(x + (long)b * D, F(a[0]), h + (long)b * D, D, eps);
        if ((rc = gemv(Q(a + 2), h, u, B, HD, D))) break;
        if ((rc = gemv(Q(a + 4), srcf, ctx, B, 2 * HD, E))) break;
        for (int b = 0; b < B; b++) {
            long at = (layer + b) * S2 * HD;
            const float *kv = ctx + (long)b * 2 * HD;
            store_bf16(cross_k + at + (long)slot2[b] * HD, kv, HD);
            store_bf16(cross_v + at + (long)slot2[b] * HD, kv + HD, HD);
            attend(u + (long)b * HD, F(a[8]), cross_k + at, cross_v + at, cross_valid + (long)b * S2, S2, H, Dh,
                   F(a[9]), F(a[10]), h + (long)b * HD, logit);
        }
        if ((rc = gemv(Q(a + 6), h, o, B, D, HD))) break;
        for (int b = 0; b < B; b++) add_post_norm(x + (long)b * D, o + (long)b * D, F(a[1]), D, eps);
        rc = ffn(pl + T_FFN, x, h, u, o, B, D, Fh, eps);
    }
    if (rc == 0) store_bf16(out, x, B * D);
    free(mem);
    return rc;
}

#define D_HEAD 7    /* adapter (2), ln scale, ln bias, to_logits (2), logits bias */
#define D_SELF 0    /* per layer: pre, post, wqkv (2), wo (2), qscale */
#define D_FFN 7     /* per layer: pre, post, w1 (2), b1, w2 (2), b2 */
#define D_PER_LAYER 15

/* One depth level for B streams from float32 inputs xin [B, Dt]: writes this level's keys and
 * values at position `level` and the level's own C logits [B, C] (before the soft cap). */
static int depth_level(const void *const *p, const int *dims, float eps, int B, const float *xin, int level,
                       uint16_t *cache_k, uint16_t *cache_v, float *logits, float *mem) {
    int Ld = dims[0], Dt = dims[1], D = dims[2], H = dims[3], Dh = dims[4], Fh = dims[5], levels = dims[6];
    int C = dims[7], reserved = dims[8], HD = H * Dh;
    long w = widest(D, HD, Fh);
    float *x = mem, *h = x + (long)B * D, *o = h + B * w, *u = o + B * w, *ctx = u + B * w, *logit = ctx + B * w;
    int rc = gemv(Q(p), xin, x, B, D, Dt);
    const void *const *layers = p + D_HEAD;
    int slot[MRTD_MAX_ROWS];
    for (int b = 0; b < B; b++) slot[b] = level;
    long row = (long)levels * HD;
    for (int l = 0; l < Ld && rc == 0; l++) {
        if ((rc = self_attention(layers + (long)l * D_PER_LAYER + D_SELF, 0, x, h, u, ctx, o, logit, B, D, H, Dh,
                                 cache_k + (long)l * B * row, cache_v + (long)l * B * row, row, slot, NULL,
                                 level + 1, eps)))
            break;
        rc = ffn(layers + (long)l * D_PER_LAYER + D_FFN, x, h, u, o, B, D, Fh, eps);
    }
    if (rc == 0) {
        for (int b = 0; b < B; b++) layer_norm(x + (long)b * D, F(p[2]), F(p[3]), h + (long)b * D, D, eps);
        long lo = reserved + (long)level * C;
        qmat head = Q(p + 4);
        head.w += lo * D;
        head.s += lo;
        rc = gemv(head, h, logits, B, C, D);
        for (int b = 0; rc == 0 && b < B; b++)
            for (int i = 0; i < C; i++) logits[(long)b * C + i] += F(p[6])[lo + i];
    }
    return rc;
}

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* The official sampler on one level's soft-capped logits (mrtd/model/mrt2/sampler.py's
 * sample_prepared): top-k keeps every logit >= the k-th largest (ties kept), the rest get
 * MASKED; then logits + t * gumbel noise (none: greedy), and the first index of the maximum. */
static int sample(float *l, int C, long k_idx, float t, const float *noise, float *sorted) {
    if (k_idx >= 0) {
        memcpy(sorted, l, sizeof(float) * C);
        qsort(sorted, C, sizeof(float), cmp_desc);
        float thr = sorted[k_idx];
        for (int i = 0; i < C; i++)
            if (l[i] < thr) l[i] = -0.7f * 3.4028234663852886e38f;
    }
    if (noise)
        for (int i = 0; i < C; i++) l[i] = l[i] + t * noise[i];
    int best = 0;
    for (int i = 1; i < C; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

/* The 12 levels of one frame for B streams in one call: each level's logits, its token
 * (sampled, or forced[b, q] when forced is given), and the scaled embedding of that token as
 * the next level's input. x_in [B, Dt] bfloat16 (the temporal output); emb [V, Dt] bfloat16;
 * temperature [B] and k_idx [B] (k - 1; NULL: no top-k) as sampler.sampling_params makes
 * them; noise [B, levels, C] (NULL: greedy); tokens [B, levels] and logits [B, levels, C]
 * (before the soft cap) written. -1: a shape not taken; -2: a forced token outside the
 * vocabulary. */
int mrtd_depth_frame(const void *const *p, const int *dims, float eps, int B, const uint16_t *x_in,
                     const uint16_t *emb, float emb_scale, float cap, uint16_t *cache_k, uint16_t *cache_v,
                     const float *temperature, const int64_t *k_idx, const float *noise, const int64_t *forced,
                     int64_t *tokens, float *logits) {
    int Dt = dims[1], D = dims[2], HD = dims[3] * dims[4], Fh = dims[5], levels = dims[6], C = dims[7];
    int reserved = dims[8];
    long V = reserved + (long)levels * C;
    if (B < 1 || B > MRTD_MAX_ROWS || C < 1) return -1;
    long w = widest(D, HD, Fh);
    float *mem = malloc(sizeof(float) * ((long)B * (Dt + D + 4 * w + C) + levels + 2L * C));
    if (!mem) return -1;
    float *xin = mem, *lv = xin + (long)B * Dt, *capped = lv + (long)B * C, *sorted = capped + C;
    float *scratch = sorted + C;
    for (long i = 0; i < (long)B * Dt; i++) xin[i] = bf16_to_f32(x_in[i]);
    int rc = 0;
    for (int q = 0; q < levels && rc == 0; q++) {
        if ((rc = depth_level(p, dims, eps, B, xin, q, cache_k, cache_v, lv, scratch))) break;
        for (int b = 0; b < B; b++) {
            const float *row = lv + (long)b * C;
            memcpy(logits + ((long)b * levels + q) * C, row, sizeof(float) * C);
            int64_t tok;
            if (forced) {
                tok = forced[(long)b * levels + q];
            } else {
                for (int i = 0; i < C; i++) capped[i] = tanhf(row[i] / cap) * cap;
                long k = k_idx ? k_idx[b] : -1;
                if (k >= C) k = C - 1;
                float t = temperature ? temperature[b] : 0.0f;
                const float *nz = noise ? noise + ((long)b * levels + q) * C : NULL;
                tok = sample(capped, C, k, t, nz, sorted) + reserved + (int64_t)q * C;
            }
            if (tok < 0 || tok >= V) {
                rc = -2;
                break;
            }
            tokens[(long)b * levels + q] = tok;
            const uint16_t *e = emb + tok * Dt;
            for (int i = 0; i < Dt; i++) xin[(long)b * Dt + i] = bf16_to_f32(e[i]) * emb_scale;
        }
    }
    free(mem);
    return rc;
}
