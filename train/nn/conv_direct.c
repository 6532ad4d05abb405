/* conv_direct.c: stride-1 convolution without im2col, for x86-64 CPUs with AVX2 + FMA.
 *
 * The input is copied once into a zero-padded buffer. With stride 1, consecutive output
 * pixels read consecutive input pixels, so for every (input channel, kernel tap) a 16-pixel
 * strip of an output row is a plain load from the padded input row: the image is already
 * the B panel of an sgemm, and the inner kernel (6 output channels x 16 pixels in 12 AVX
 * registers, one broadcast weight per channel and tap) reads it in place. No column matrix
 * is written and none is packed, which is where im2col + sgemm loses most of its time on
 * the small channel counts of light heads and test nets.
 *
 * The weight gradient is the mirror image: 4 output channels x 3 consecutive (channel, tap)
 * pairs accumulate dy x shifted input over the pixels in 8-wide lanes, over all images,
 * summed across lanes once per band of rows; dy is first copied to the padded input's row
 * stride (zeros past the output width) so that a band is one flat run of vectors. A thread
 * owns a block of output channels, so every weight is summed in one fixed order whatever
 * the thread count.
 *
 * Strided convolutions stay with im2col + sgemm (ops_conv.c): a phase-split input that
 * makes their reads consecutive was built and measured no faster (docs/bench-nn.md). */
#include <stdint.h>

#include "conv_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CONV_DIRECT_X86 1
#include <immintrin.h>
#endif

#define FWD_MR 6          /* output channels per forward tile */
#define FWD_NR 16         /* pixels per forward tile (two AVX registers) */
#define WG_MR 4           /* output channels per weight-gradient tile */
#define WG_NT 3           /* (channel, tap) pairs per weight-gradient tile */
#define FWD_CHUNK_K 144   /* channel x tap steps per pass: 16 channels' rows + 6 x 144 weights
                             stay in L1 (576 measured about 10% slower) */
#define WG_BAND_PIXELS 1024

/* a zero-padded copy of an (n, c, h, w) tensor: rows of ws floats (no rounding: the
 * weight gradient's flat runs end in a masked vector) */
typedef struct padded {
    float *data;
    int hp, ws;           /* padded height and row stride */
    int64_t plane, image; /* floats per channel and per image */
} padded;

typedef struct pad_job {
    const float *x;
    int c, h, w, ph, pw;
    padded p;
} pad_job;

/* plane i = (image, channel) of x into its zero-bordered place in the padded buffer */
static void pad_plane(void *ud, size_t i, int thread) {
    const pad_job *j = ud;
    (void)thread;
    int img = (int)(i / (size_t)j->c), ch = (int)(i % (size_t)j->c);
    const float *src = j->x + (int64_t)i * j->h * j->w;
    float *dst = j->p.data + img * j->p.image + ch * j->p.plane;
    int ws = j->p.ws;
    memset(dst, 0, (size_t)j->ph * ws * sizeof(float));
    for (int y = 0; y < j->h; y++) {
        float *row = dst + (int64_t)(j->ph + y) * ws;
        memset(row, 0, (size_t)j->pw * sizeof(float));
        memcpy(row + j->pw, src + (int64_t)y * j->w, (size_t)j->w * sizeof(float));
        memset(row + j->pw + j->w, 0, (size_t)(ws - j->pw - j->w) * sizeof(float));
    }
    float *bottom = dst + (int64_t)(j->ph + j->h) * ws;
    memset(bottom, 0, (size_t)(j->p.hp - j->ph - j->h) * ws * sizeof(float));
}

static int pad_input(nn_ctx *ctx, const conv_geom *g, const nn_conv2d_opts *o, const float *x,
                     padded *p, es_error *err) {
    p->hp = g->h + 2 * o->pad_h;
    p->ws = g->w + 2 * o->pad_w;
    p->plane = (int64_t)p->hp * p->ws;
    p->image = p->plane * g->cin;
    /* strips and runs may read up to a vector plus the kernel's reach past the last row */
    size_t slack = (size_t)FWD_NR + 8 + (size_t)(g->kw - 1) * o->dil_w;
    size_t floats = (size_t)(p->image * g->n) + slack;
    p->data = nn_scratch(ctx, 4, floats * sizeof(float), err);
    if (!p->data) return ES_ERR_NOMEM;
    memset(p->data + floats - slack, 0, slack * sizeof(float));
    pad_job j = {x, g->cin, g->h, g->w, o->pad_h, o->pad_w, *p};
    nn_parallel_for(ctx, (size_t)g->n * g->cin, pad_plane, &j);
    return ES_OK;
}

/* offset of tap (ki, kj) of channel c from the output pixel's place in the padded input */
static int32_t tap_offset(const padded *p, const nn_conv2d_opts *o, int c, int ki, int kj) {
    return (int32_t)(c * p->plane + (int64_t)ki * o->dil_h * p->ws + kj * o->dil_w);
}

#ifdef CONV_DIRECT_X86

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

/* lanes 0..n-1 on (n may be <= 0 or >= 8) */
AVX2_INLINE __m256i lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* out[r][0..nvalid) (rows ld apart) = init + sum_i wp[i][r] * xrow[off[i] + 0..15], r < mr.
 * init: out itself when load, else bias[r] (bias may be NULL: 0). mr is a constant after
 * inlining, so the accumulators stay in registers. */
AVX2_INLINE void fwd_tile(const int mr, const float *wp, const float *xrow, const int32_t *off,
                          int k, float *out, int64_t ld, int nvalid, const float *bias, int load) {
    __m256 a0[FWD_MR], a1[FWD_MR];
    __m256i m0 = lane_mask(nvalid), m1 = lane_mask(nvalid - 8);
    for (int r = 0; r < mr; r++) {
        if (load && nvalid == FWD_NR) {
            a0[r] = _mm256_loadu_ps(out + r * ld);
            a1[r] = _mm256_loadu_ps(out + r * ld + 8);
        } else if (load) {
            a0[r] = _mm256_maskload_ps(out + r * ld, m0);
            a1[r] = _mm256_maskload_ps(out + r * ld + 8, m1);
        } else {
            a0[r] = a1[r] = _mm256_set1_ps(bias ? bias[r] : 0.0f);
        }
    }
    for (int i = 0; i < k; i++) {
        const float *p = xrow + off[i];
        __m256 b0 = _mm256_loadu_ps(p), b1 = _mm256_loadu_ps(p + 8);
        const float *wk = wp + (int64_t)i * FWD_MR;
        for (int r = 0; r < mr; r++) {
            __m256 a = _mm256_broadcast_ss(wk + r);
            a0[r] = _mm256_fmadd_ps(a, b0, a0[r]);
            a1[r] = _mm256_fmadd_ps(a, b1, a1[r]);
        }
    }
    for (int r = 0; r < mr; r++) {
        if (nvalid == FWD_NR) {
            _mm256_storeu_ps(out + r * ld, a0[r]);
            _mm256_storeu_ps(out + r * ld + 8, a1[r]);
        } else {
            _mm256_maskstore_ps(out + r * ld, m0, a0[r]);
            _mm256_maskstore_ps(out + r * ld + 8, m1, a1[r]);
        }
    }
}

AVX2 static void fwd_tile_mr(int mr, const float *wp, const float *xrow, const int32_t *off, int k,
                             float *out, int64_t ld, int nvalid, const float *bias, int load) {
    switch (mr) {
    case 6: fwd_tile(6, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    case 5: fwd_tile(5, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    case 4: fwd_tile(4, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    case 3: fwd_tile(3, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    case 2: fwd_tile(2, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    default: fwd_tile(1, wp, xrow, off, k, out, ld, nvalid, bias, load); break;
    }
}

/* dw[r * dw_ld + t] += sum over images i < n and q < len of dy_i[r][q] * x_i[t][q], r < mr,
 * t < nt: the taps are nt consecutive (channel, tap) pairs, x[t] their input runs, images
 * dy_step and x_step floats apart. dy rows are in the padded layout of x (zeros past the
 * output width), so a band of rows is one flat run and the accumulators stay in registers
 * over all images; the run's last partial vector is a masked load of dy. */
AVX2_INLINE void wg_tile(const int mr, const int nt, const float *dy, int64_t dy_ld,
                         const float *const *x, int64_t len, int n, int64_t dy_step,
                         int64_t x_step, float *dw, int64_t dw_ld) {
    __m256 acc[WG_MR][WG_NT];
    for (int r = 0; r < mr; r++)
        for (int t = 0; t < nt; t++) acc[r][t] = _mm256_setzero_ps();
    __m256i tail = lane_mask((int)(len % 8));
    for (int i = 0; i < n; i++) {
        const float *d = dy + i * dy_step, *xi[WG_NT];
        for (int t = 0; t < nt; t++) xi[t] = x[t] + i * x_step;
        int64_t q = 0;
        for (; q + 8 <= len; q += 8) {
            __m256 xv[WG_NT];
            for (int t = 0; t < nt; t++) xv[t] = _mm256_loadu_ps(xi[t] + q);
            for (int r = 0; r < mr; r++) {
                __m256 dv = _mm256_loadu_ps(d + r * dy_ld + q);
                for (int t = 0; t < nt; t++) acc[r][t] = _mm256_fmadd_ps(dv, xv[t], acc[r][t]);
            }
        }
        if (q < len) {
            __m256 xv[WG_NT];
            for (int t = 0; t < nt; t++) xv[t] = _mm256_loadu_ps(xi[t] + q);
            for (int r = 0; r < mr; r++) {
                __m256 dv = _mm256_maskload_ps(d + r * dy_ld + q, tail);
                for (int t = 0; t < nt; t++) acc[r][t] = _mm256_fmadd_ps(dv, xv[t], acc[r][t]);
            }
        }
    }
    for (int r = 0; r < mr; r++)
        for (int t = 0; t < nt; t++) dw[r * dw_ld + t] += hsum(acc[r][t]);
}

#define WG_ARGS dy, dy_ld, x, len, n, dy_step, x_step, dw, dw_ld
#define WG_CASE(MR)                                          \
    case MR:                                                 \
        if (nt == 3) wg_tile(MR, 3, WG_ARGS);                \
        else if (nt == 2) wg_tile(MR, 2, WG_ARGS);           \
        else wg_tile(MR, 1, WG_ARGS);                        \
        break;

AVX2 static void wg_tile_mr(int mr, int nt, const float *dy, int64_t dy_ld, const float *const *x,
                            int64_t len, int n, int64_t dy_step, int64_t x_step, float *dw,
                            int64_t dw_ld) {
    switch (mr) {
        WG_CASE(4)
        WG_CASE(3)
        WG_CASE(2)
        WG_CASE(1)
    }
}

static int cpu_has_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

#else /* not x86-64: ops_conv.c keeps its im2col path */

static int cpu_has_avx2_fma(void) { return 0; }
static void fwd_tile_mr(int mr, const float *wp, const float *xrow, const int32_t *off, int k,
                        float *out, int64_t ld, int nvalid, const float *bias, int load) {
    (void)mr, (void)wp, (void)xrow, (void)off, (void)k, (void)out, (void)ld, (void)nvalid;
    (void)bias, (void)load;
}
static void wg_tile_mr(int mr, int nt, const float *dy, int64_t dy_ld, const float *const *x,
                       int64_t len, int n, int64_t dy_step, int64_t x_step, float *dw,
                       int64_t dw_ld) {
    (void)mr, (void)nt, (void)dy, (void)dy_ld, (void)x, (void)len, (void)n, (void)dy_step;
    (void)x_step, (void)dw, (void)dw_ld;
}

#endif

/* ENTSEG_NN_CONV=im2col turns the direct kernels off (comparisons, debugging) */
static int direct_allowed(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("ENTSEG_NN_CONV");
        cached = !(v && !strcmp(v, "im2col")) && cpu_has_avx2_fma();
    }
    return cached;
}

int nn_conv2d_cpu_direct(void) { return direct_allowed(); }

int conv_direct_applies(const conv_geom *g, const nn_conv2d_opts *o) {
    /* unpadded 1x1 convolutions need no columns: ops_conv.c hands them to sgemm as they are;
     * strided ones stay with im2col + sgemm, which measured as fast (docs/bench-nn.md) */
    if (g->input_is_cols || g->groups != 1 || o->stride_h != 1 || o->stride_w != 1 || g->ow < FWD_NR) return 0;
    int64_t plane = (int64_t)(g->h + 2 * o->pad_h) * (g->w + 2 * o->pad_w);
    if (plane * g->cin > INT32_MAX) return 0; /* tap offsets are int32 */
    return direct_allowed();
}

/* ---- forward: output tiles of FWD_MR channels x FWD_NR pixels ---- */

typedef struct fwd_job {
    const conv_geom *g; /* the output: n, cout, oh, ow, ohw */
    padded p;
    const float *wp;    /* (blocks, k, FWD_MR) */
    const int32_t *off; /* (k): offset of step i's input run from the output pixel's origin */
    const float *bias;
    float *y;
    int accumulate, k, rows, bands, blocks;
    const int *block_start, *block_size;
} fwd_job;

/* Output channels in blocks of FWD_MR; a remainder of 1..3 shares the last full block
 * (7 -> 4 + 3, 8 -> 4 + 4, 9 -> 5 + 4): a block of 1 or 2 channels has too few
 * accumulators to hide the FMA latency. Block b starts at channel start[b]. */
static int fwd_blocks(int cout, int *start, int *size) {
    int n = 0, co = 0;
    while (co < cout) {
        int left = cout - co, mr = left < FWD_MR ? left : FWD_MR;
        if (left > FWD_MR && left < FWD_MR + 4) mr = (left + 1) / 2;
        start[n] = co;
        size[n++] = mr;
        co += mr;
    }
    return n;
}

/* task = (image, band of output rows); passes over K in chunks that stay in L1 */
static void fwd_task(void *ud, size_t t, int thread) {
    const fwd_job *j = ud;
    const conv_geom *g = j->g;
    (void)thread;
    int img = (int)(t / (size_t)j->bands), oy0 = (int)(t % (size_t)j->bands) * j->rows;
    int oy1 = oy0 + j->rows < g->oh ? oy0 + j->rows : g->oh;
    const float *xi = j->p.data + img * j->p.image;
    float *yi = j->y + (int64_t)img * g->cout * g->ohw;
    for (int k0 = 0; k0 < j->k; k0 += FWD_CHUNK_K) {
        int kn = j->k - k0 < FWD_CHUNK_K ? j->k - k0 : FWD_CHUNK_K;
        int load = j->accumulate || k0 > 0;
        for (int oy = oy0; oy < oy1; oy++)
            for (int bl = 0; bl < j->blocks; bl++) {
                int co = j->block_start[bl];
                const float *wp = j->wp + ((int64_t)bl * j->k + k0) * FWD_MR;
                const float *bias = !load && j->bias ? j->bias + co : NULL;
                for (int ox = 0; ox < g->ow; ox += FWD_NR) {
                    int nvalid = g->ow - ox < FWD_NR ? g->ow - ox : FWD_NR;
                    fwd_tile_mr(j->block_size[bl], wp, xi + (int64_t)oy * j->p.ws + ox, j->off + k0, kn,
                                yi + co * g->ohw + (int64_t)oy * g->ow + ox, g->ohw, nvalid, bias, load);
                }
            }
    }
}

int conv_direct_forward(nn_ctx *ctx, const conv_geom *g, const nn_conv2d_opts *o, const float *x,
                        const float *w, const float *b, float *y, int accumulate, es_error *err) {
    padded p;
    ES_CHECK(pad_input(ctx, g, o, x, &p, err));
    int kk = g->kh * g->kw, k = g->cin * kk, max_blocks = g->cout / 4 + 1;
    /* workspace: packed weights (blocks, k, FWD_MR), then int32 tap offsets (k) and the
     * block table (2 x max_blocks) */
    size_t wfloats = (size_t)max_blocks * k * FWD_MR;
    float *wp = nn_scratch(ctx, 5, (wfloats + (size_t)k + 2 * (size_t)max_blocks) * sizeof(float), err);
    if (!wp) return ES_ERR_NOMEM;
    int32_t *off = (int32_t *)(wp + wfloats);
    int *block_start = (int *)(off + k), *block_size = block_start + max_blocks;
    int blocks = fwd_blocks(g->cout, block_start, block_size);
    /* pack: wp[block][k][r] = w[start + r][k], zero past the block's size */
    for (int bl = 0; bl < blocks; bl++)
        for (int i = 0; i < k; i++)
            for (int r = 0; r < FWD_MR; r++)
                wp[((size_t)bl * k + i) * FWD_MR + r] =
                    r < block_size[bl] ? w[(int64_t)(block_start[bl] + r) * k + i] : 0.0f;
    for (int c = 0; c < g->cin; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) off[(c * g->kh + ki) * g->kw + kj] = tap_offset(&p, o, c, ki, kj);
    fwd_job j = {g, p, wp, off, b, y, accumulate, k, g->oh, 1, blocks, block_start, block_size};
    /* enough bands for every thread to get several; a band's rows share the weights */
    int want = (4 * ctx->threads + g->n - 1) / g->n;
    if (want > 1) {
        j.rows = (g->oh + want - 1) / want;
        j.bands = (g->oh + j.rows - 1) / j.rows;
    }
    nn_parallel_for(ctx, (size_t)g->n * j.bands, fwd_task, &j);
    return ES_OK;
}

/* ---- weight gradient: WG_MR output channels x WG_NT (channel, tap) pairs per tile ---- */

typedef struct wg_job {
    const conv_geom *g;
    padded p;
    const float *dy;
    float *dyp; /* dy with rows p.ws apart (zeros past ow), planes dy_plane apart */
    int64_t dy_plane;
    const int32_t *off; /* (cin * kh * kw): input run of each (channel, tap) pair */
    float *dw;
    int rows;
} wg_job;

/* plane i = (image, channel) of dy into the padded-width layout */
static void widen_dy_plane(void *ud, size_t i, int thread) {
    const wg_job *j = ud;
    const conv_geom *g = j->g;
    (void)thread;
    const float *src = j->dy + (int64_t)i * g->ohw;
    float *dst = j->dyp + (int64_t)i * j->dy_plane;
    for (int y = 0; y < g->oh; y++) {
        memcpy(dst + (int64_t)y * j->p.ws, src + (int64_t)y * g->ow, (size_t)g->ow * sizeof(float));
        memset(dst + (int64_t)y * j->p.ws + g->ow, 0, (size_t)(j->p.ws - g->ow) * sizeof(float));
    }
}

/* task = a block of WG_MR output channels, over every band, (channel, tap) pair and image */
static void wg_task(void *ud, size_t t, int thread) {
    const wg_job *j = ud;
    const conv_geom *g = j->g;
    (void)thread;
    int co = (int)t * WG_MR, mr = g->cout - co < WG_MR ? g->cout - co : WG_MR;
    int pairs = g->cin * g->kh * g->kw, ws = j->p.ws;
    for (int oy0 = 0; oy0 < g->oh; oy0 += j->rows) {
        int rows = g->oh - oy0 < j->rows ? g->oh - oy0 : j->rows;
        const float *dy = j->dyp + (int64_t)co * j->dy_plane + (int64_t)oy0 * ws;
        const float *x = j->p.data + (int64_t)oy0 * ws;
        for (int i = 0; i < pairs; i += WG_NT) {
            int nt = pairs - i < WG_NT ? pairs - i : WG_NT;
            const float *xs[WG_NT] = {x + j->off[i], x + j->off[i + (nt > 1)], x + j->off[i + (nt > 2) * 2]};
            wg_tile_mr(mr, nt, dy, j->dy_plane, xs, (int64_t)rows * ws, g->n, j->dy_plane * g->cout, j->p.image,
                       j->dw + (int64_t)co * pairs + i, pairs);
        }
    }
}

int conv_direct_wgrad(nn_ctx *ctx, const conv_geom *g, const nn_conv2d_opts *o, const float *x,
                      const float *dy, float *dw, es_error *err) {
    wg_job j = {g, {0}, dy, NULL, 0, NULL, dw, 1};
    ES_CHECK(pad_input(ctx, g, o, x, &j.p, err));
    int pairs = g->cin * g->kh * g->kw;
    j.dy_plane = (int64_t)g->oh * j.p.ws;
    size_t dy_floats = (size_t)(j.dy_plane * g->n * g->cout);
    j.dyp = nn_scratch(ctx, 5, (dy_floats + (size_t)pairs) * sizeof(float), err);
    if (!j.dyp) return ES_ERR_NOMEM;
    int32_t *off = (int32_t *)(j.dyp + dy_floats);
    for (int c = 0; c < g->cin; c++)
        for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) off[(c * g->kh + ki) * g->kw + kj] = tap_offset(&j.p, o, c, ki, kj);
    j.off = off;
    nn_parallel_for(ctx, (size_t)g->n * g->cout, widen_dy_plane, &j);
    /* a band of WG_MR channels' dy stays in L1 while every (channel, tap) passes over it */
    j.rows = conv_band_rows(g->oh, WG_BAND_PIXELS / j.p.ws);
    nn_parallel_for(ctx, (size_t)(g->cout + WG_MR - 1) / WG_MR, wg_task, &j);
    return ES_OK;
}
