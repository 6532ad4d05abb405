/* ops_conv.c: 2-D convolution. CPU: stride-1 convolutions go to the direct AVX2 kernels of
 * conv_direct.c when the CPU has them; the rest (and every convolution on other CPUs) runs
 * per image and group as im2col into a workspace and one OpenBLAS sgemm (1x1 stride-1
 * unpadded convolutions use the input directly); backward uses the same columns for the
 * weight gradient and col2im for the input gradient. CUDA: cuDNN (cuda/conv.cu). */
#include "conv_internal.h"
#include "nn_ops.h"

nn_conv2d_opts nn_conv2d_opts_make(int stride, int pad, int dilation, int groups) {
    nn_conv2d_opts o = {stride, stride, pad, pad, dilation, dilation, groups};
    return o;
}

int nn_conv2d_out_size(int in, int kernel, int stride, int pad, int dilation) {
    if (stride <= 0) return 0;
    int span = dilation * (kernel - 1) + 1;
    int n = in + 2 * pad - span;
    return n < 0 ? 0 : n / stride + 1;
}

static int conv_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                      const nn_tensor *y, const nn_conv2d_opts *o, conv_geom *g, es_error *err) {
    ES_CHECK(nn_check_tensor("conv2d", "x", x, 4, err));
    ES_CHECK(nn_check_tensor("conv2d", "w", w, 4, err));
    ES_CHECK(nn_check_tensor("conv2d", "y", y, 4, err));
    ES_CHECK(nn_check_device(ctx, "conv2d", x, err));
    if (o->groups < 1 || o->stride_h < 1 || o->stride_w < 1 || o->dil_h < 1 || o->dil_w < 1 ||
        o->pad_h < 0 || o->pad_w < 0)
        return es_error_set(err, ES_ERR_INVALID,
                            "conv2d: stride %dx%d, dilation %dx%d, padding %dx%d, groups %d invalid",
                            o->stride_h, o->stride_w, o->dil_h, o->dil_w, o->pad_h, o->pad_w, o->groups);
    g->n = x->shape[0];
    g->cin = x->shape[1];
    g->h = x->shape[2];
    g->w = x->shape[3];
    g->cout = w->shape[0];
    g->kh = w->shape[2];
    g->kw = w->shape[3];
    g->groups = o->groups;
    g->oh = nn_conv2d_out_size(g->h, g->kh, o->stride_h, o->pad_h, o->dil_h);
    g->ow = nn_conv2d_out_size(g->w, g->kw, o->stride_w, o->pad_w, o->dil_w);
    char s1[80], s2[80], s3[80];
    if (g->cin % g->groups || g->cout % g->groups || w->shape[1] != g->cin / g->groups ||
        y->shape[0] != g->n || y->shape[1] != g->cout || y->shape[2] != g->oh ||
        y->shape[3] != g->ow)
        return es_error_set(err, ES_ERR_INVALID,
                            "conv2d: x %s, w %s, y %s do not fit (groups %d; expected y (%d, %d, %d, %d))",
                            nn_shape_str(x, s1, 80), nn_shape_str(w, s2, 80), nn_shape_str(y, s3, 80),
                            g->groups, g->n, g->cout, g->oh, g->ow);
    if (b) ES_CHECK(nn_check_numel("conv2d", "b", b, g->cout, err));
    g->cg = g->cin / g->groups;
    g->coutg = g->cout / g->groups;
    g->ckk = (int64_t)g->cg * g->kh * g->kw;
    g->ohw = (int64_t)g->oh * g->ow;
    g->input_is_cols = g->kh == 1 && g->kw == 1 && o->stride_h == 1 && o->stride_w == 1 &&
                o->pad_h == 0 && o->pad_w == 0;
    return ES_OK;
}

typedef struct col_job {
    const float *x;
    float *cols;
    const float *dcols;
    float *dx;
    const conv_geom *g;
    const nn_conv2d_opts *o;
} col_job;

/* [lo, hi): the output columns ox whose input column x0 + ox * stride lies inside 0..w-1 */
static void valid_range(int x0, int stride, int w, int ow, int *lo, int *hi) {
    int l = x0 >= 0 ? 0 : (-x0 + stride - 1) / stride;
    int h = (w - 1 - x0) < 0 ? 0 : (w - 1 - x0) / stride + 1;
    if (h > ow) h = ow;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* channel c of dx (cg, h, w) += col2im(dcols); channels write disjoint memory */
static void col2im_channel(void *ud, size_t ci, int thread) {
    const col_job *j = ud;
    const conv_geom *g = j->g;
    const nn_conv2d_opts *o = j->o;
    int c = (int)ci;
    (void)thread;
    float *xc = j->dx + (int64_t)c * g->h * g->w;
    for (int k = 0; k < g->kh * g->kw; k++) {
        int ki = k / g->kw, kj = k % g->kw;
        const float *row = j->dcols + ((int64_t)c * g->kh * g->kw + k) * g->ohw;
        int x0 = -o->pad_w + kj * o->dil_w, lo, hi;
        valid_range(x0, o->stride_w, g->w, g->ow, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++) {
            int iy = oy * o->stride_h - o->pad_h + ki * o->dil_h;
            if (iy < 0 || iy >= g->h) continue;
            const float *r = row + (int64_t)oy * g->ow;
            float *xr = xc + (int64_t)iy * g->w + x0;
            if (o->stride_w == 1)
                for (int ox = lo; ox < hi; ox++) xr[ox] += r[ox];
            else
                for (int ox = lo; ox < hi; ox++) xr[ox * o->stride_w] += r[ox];
        }
    }
}

static void col2im_add(nn_ctx *ctx, const float *dcols, const conv_geom *g,
                       const nn_conv2d_opts *o, float *dx) {
    col_job j = {NULL, NULL, dcols, dx, g, o};
    if (g->ckk * g->ohw < 32768) {
        for (int c = 0; c < g->cg; c++) col2im_channel(&j, (size_t)c, 0);
    } else {
        nn_parallel_for(ctx, (size_t)g->cg, col2im_channel, &j);
    }
}

/* For stride 1 the input gradient is itself a stride-1 convolution of dy with the kernels
 * flipped and in/out swapped, padding dil*(k-1) - pad: im2col of dy feeds one gemm with
 * K = coutg*kh*kw instead of a K = coutg gemm plus col2im. Returns 0 when not applicable. */
static int transposed_geom(const conv_geom *g, const nn_conv2d_opts *o, conv_geom *t,
                           nn_conv2d_opts *to) {
    if (o->stride_h != 1 || o->stride_w != 1) return 0;
    int ph = o->dil_h * (g->kh - 1) - o->pad_h, pw = o->dil_w * (g->kw - 1) - o->pad_w;
    if (ph < 0 || pw < 0) return 0;
    *to = *o;
    to->pad_h = ph;
    to->pad_w = pw;
    *t = *g;
    t->cin = g->cout;
    t->cout = g->cin;
    t->cg = g->coutg;
    t->coutg = g->cg;
    t->h = g->oh;
    t->w = g->ow;
    t->oh = g->h;
    t->ow = g->w;
    t->ckk = (int64_t)g->coutg * g->kh * g->kw;
    t->ohw = (int64_t)g->h * g->w;
    t->input_is_cols = 0;
    return 1;
}

/* wt (groups, cg, coutg*kh*kw): wt[gr][ci][co][k'] = w[gr*coutg + co][ci][kk - 1 - k'] */
static void flip_weights(const float *w, const conv_geom *g, float *wt) {
    int kk = g->kh * g->kw;
    for (int gr = 0; gr < g->groups; gr++)
        for (int co = 0; co < g->coutg; co++)
            for (int ci = 0; ci < g->cg; ci++) {
                const float *src = w + (((int64_t)gr * g->coutg + co) * g->cg + ci) * kk;
                float *dst = wt + (((int64_t)gr * g->cg + ci) * g->coutg + co) * kk;
                for (int k = 0; k < kk; k++) dst[k] = src[kk - 1 - k];
            }
}

/* ---- tiled engine: a task is a band of output rows of one (image, group); its columns
 * are built into a per-thread buffer that stays in cache for the gemm that follows ---- */

#ifndef CONV_TILE_FLOATS
#define CONV_TILE_FLOATS (512 * 1024)
#endif

/* im2col of output rows [oy0, oy1) into cols (ckk, (oy1 - oy0) * ow) */
static void im2col_rows(const float *x, const conv_geom *g, const nn_conv2d_opts *o, int oy0,
                        int oy1, float *cols) {
    int64_t nc = (int64_t)(oy1 - oy0) * g->ow;
    for (int c = 0; c < g->cg; c++) {
        const float *xc = x + (int64_t)c * g->h * g->w;
        for (int k = 0; k < g->kh * g->kw; k++) {
            int ki = k / g->kw, kj = k % g->kw;
            float *row = cols + ((int64_t)c * g->kh * g->kw + k) * nc;
            int x0 = -o->pad_w + kj * o->dil_w, lo, hi;
            valid_range(x0, o->stride_w, g->w, g->ow, &lo, &hi);
            for (int oy = oy0; oy < oy1; oy++) {
                int iy = oy * o->stride_h - o->pad_h + ki * o->dil_h;
                float *r = row + (int64_t)(oy - oy0) * g->ow;
                if (iy < 0 || iy >= g->h) {
                    memset(r, 0, (size_t)g->ow * sizeof(float));
                    continue;
                }
                const float *xr = xc + (int64_t)iy * g->w + x0;
                if (lo > 0) memset(r, 0, (size_t)lo * sizeof(float));
                if (o->stride_w == 1)
                    memcpy(r + lo, xr + lo, (size_t)(hi - lo) * sizeof(float));
                else
                    for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * o->stride_w];
                if (hi < g->ow) memset(r + hi, 0, (size_t)(g->ow - hi) * sizeof(float));
            }
        }
    }
}

typedef struct tile_job {
    const conv_geom *g;
    const nn_conv2d_opts *o;
    const float *in;   /* (n, groups * g->cg, g->h, g->w) */
    const float *wmat; /* (groups, m, ckk) */
    float *out;        /* (n, groups * m, g->oh, g->ow) */
    const float *dy;   /* weight-gradient mode: (n, groups * m, oh, ow) */
    float *partial;    /* weight-gradient mode: (tasks, groups, m, ckk) */
    int m, rows, tiles, tasks;
    float beta;
    float *scratch;
    int64_t scratch_floats;
} tile_job;

static void tile_bounds(const tile_job *j, int64_t t, int *img, int *gr, int *oy0, int *oy1) {
    int64_t plane = t / j->tiles;
    int tile = (int)(t % j->tiles);
    *img = (int)(plane / j->g->groups);
    *gr = (int)(plane % j->g->groups);
    *oy0 = tile * j->rows;
    *oy1 = *oy0 + j->rows < j->g->oh ? *oy0 + j->rows : j->g->oh;
}

/* columns of tile t: cols buffer or, for an unpadded stride-1 1x1, the input itself (ld = ohw) */
static const float *tile_cols(const tile_job *j, int img, int gr, int oy0, int oy1, float *buf,
                              int *ld) {
    const conv_geom *g = j->g;
    const float *xin = j->in + ((int64_t)img * g->groups + gr) * g->cg * g->h * g->w;
    if (g->input_is_cols) {
        *ld = (int)g->ohw;
        return xin + (int64_t)oy0 * g->ow;
    }
    im2col_rows(xin, g, j->o, oy0, oy1, buf);
    *ld = (oy1 - oy0) * g->ow;
    return buf;
}

/* out tile = W cols (+ beta out) */
static void fwd_tile_task(void *ud, size_t t, int thread) {
    const tile_job *j = ud;
    const conv_geom *g = j->g;
    int img, gr, oy0, oy1, ld;
    tile_bounds(j, (int64_t)t, &img, &gr, &oy0, &oy1);
    const float *cols = tile_cols(j, img, gr, oy0, oy1, j->scratch + thread * j->scratch_floats, &ld);
    float *out = j->out + ((int64_t)img * g->groups + gr) * j->m * g->ohw + (int64_t)oy0 * g->ow;
    nn_sgemm_cpu(0, 0, j->m, (oy1 - oy0) * g->ow, (int)g->ckk, 1.0f, j->wmat + (int64_t)gr * j->m * g->ckk,
                 (int)g->ckk, cols, ld, j->beta, out, (int)g->ohw);
}

/* task k accumulates tiles k, k + tasks, ... into its own partial (fixed order per task) */
static void wgrad_task(void *ud, size_t k, int thread) {
    const tile_job *j = ud;
    const conv_geom *g = j->g;
    int64_t wn = (int64_t)g->groups * j->m * g->ckk;
    float *part = j->partial + (int64_t)k * wn;
    int64_t total = (int64_t)g->n * g->groups * j->tiles;
    for (int64_t t = (int64_t)k; t < total; t += j->tasks) {
        int img, gr, oy0, oy1, ld;
        tile_bounds(j, t, &img, &gr, &oy0, &oy1);
        const float *cols = tile_cols(j, img, gr, oy0, oy1, j->scratch + thread * j->scratch_floats, &ld);
        const float *dy = j->dy + ((int64_t)img * g->groups + gr) * j->m * g->ohw + (int64_t)oy0 * g->ow;
        nn_sgemm_cpu(0, 1, j->m, (int)g->ckk, (oy1 - oy0) * g->ow, 1.0f, dy, (int)g->ohw, cols, ld, 1.0f,
                     part + (int64_t)gr * j->m * g->ckk, (int)g->ckk);
    }
}

static int tile_setup(nn_ctx *ctx, tile_job *j, const conv_geom *g, const nn_conv2d_opts *o, int m,
                      es_error *err) {
    memset(j, 0, sizeof *j);
    j->g = g;
    j->o = o;
    j->m = m;
    int64_t per_row = g->ckk * g->ow;
    /* equal bands: the weight gradient deals tiles to its tasks round robin */
    j->rows = conv_band_rows(g->oh, per_row > 0 ? (int)(CONV_TILE_FLOATS / per_row) : 1);
    j->tiles = g->oh > 0 ? (g->oh + j->rows - 1) / j->rows : 0;
    j->scratch_floats = (g->input_is_cols ? 0 : (int64_t)j->rows * per_row) + 16;
    j->scratch = nn_scratch(ctx, 0, (size_t)(j->scratch_floats * ctx->threads) * sizeof(float), err);
    return j->scratch ? ES_OK : ES_ERR_NOMEM;
}

static void run_tiles(nn_ctx *ctx, tile_job *j) {
    int64_t total = (int64_t)j->g->n * j->g->groups * j->tiles;
    nn_parallel_for(ctx, (size_t)total, fwd_tile_task, j);
}

int nn_conv2d_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                      nn_tensor *y, const nn_conv2d_opts *o, es_error *err) {
    conv_geom g = {0};
    ES_CHECK(conv_check(ctx, x, w, b, y, o, &g, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_conv2d_forward(ctx, x, w, b, y, o, err));
    if (conv_direct_applies(&g, o))
        return conv_direct_forward(ctx, &g, o, x->data, w->data, b ? b->data : NULL, y->data, 0, err);
    tile_job j;
    ES_CHECK(tile_setup(ctx, &j, &g, o, g.coutg, err));
    j.in = x->data;
    j.wmat = w->data;
    j.out = y->data;
    j.beta = 0.0f;
    run_tiles(ctx, &j);
    if (b) ES_CHECK(nn_bias_channels(ctx, y->data, b->data, g.n, g.cout, g.ohw, 0, err));
    return ES_OK;
}

int nn_conv2d_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *y, const nn_conv2d_opts *o, es_error *err) {
    conv_geom g = {0};
    ES_CHECK(conv_check(ctx, x, w, b, y, o, &g, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "conv2d backward: y has no grad");
    NN_CUDA_DISPATCH(ctx, nn_cuda_conv2d_backward(ctx, x, w, b, y, o, err));
    if (b && b->grad) ES_CHECK(nn_bias_channels_backward(ctx, y->grad, b->grad, g.n, g.cout, g.ohw, 0, err));
    if (w->grad && conv_direct_applies(&g, o)) {
        ES_CHECK(conv_direct_wgrad(ctx, &g, o, x->data, y->grad, w->grad, err));
    } else if (w->grad) {
        /* per-task partial sums, reduced in task order: deterministic for a thread count */
        tile_job j;
        ES_CHECK(tile_setup(ctx, &j, &g, o, g.coutg, err));
        j.in = x->data;
        j.dy = y->grad;
        int64_t total = (int64_t)g.n * g.groups * j.tiles;
        j.tasks = (int)(total < ctx->threads ? (total > 0 ? total : 1) : ctx->threads);
        if (j.tasks == 1) {
            j.partial = w->grad;
            wgrad_task(&j, 0, 0);
        } else {
            j.partial = nn_scratch(ctx, 3, (size_t)(w->numel * j.tasks) * sizeof(float), err);
            if (!j.partial) return ES_ERR_NOMEM;
            memset(j.partial, 0, (size_t)(w->numel * j.tasks) * sizeof(float));
            nn_parallel_for(ctx, (size_t)j.tasks, wgrad_task, &j);
            for (int k = 0; k < j.tasks; k++)
                for (int64_t i = 0; i < w->numel; i++) w->grad[i] += j.partial[k * w->numel + i];
        }
    }
    if (!x->grad) return ES_OK;
    conv_geom tg;
    nn_conv2d_opts to;
    if (g.input_is_cols) {
        /* dx (cg, hw) += W^T dy, per image and group */
        int64_t wg = (int64_t)g.coutg * g.ckk;
        for (int i = 0; i < g.n; i++)
            for (int gr = 0; gr < g.groups; gr++) {
                int64_t xoff = ((int64_t)i * g.cin + (int64_t)gr * g.cg) * g.h * g.w;
                const float *dy = y->grad + ((int64_t)i * g.cout + (int64_t)gr * g.coutg) * g.ohw;
                ES_CHECK(nn_gemm(ctx, 1, 0, (int)g.ckk, (int)g.ohw, g.coutg, w->data + gr * wg, dy,
                               x->grad + xoff, 1.0f, err));
            }
        return ES_OK;
    }
    if (transposed_geom(&g, o, &tg, &to)) {
        float *wt = nn_scratch(ctx, 2, (size_t)w->numel * sizeof(float), err);
        if (!wt) return ES_ERR_NOMEM;
        flip_weights(w->data, &g, wt);
        if (conv_direct_applies(&tg, &to))
            return conv_direct_forward(ctx, &tg, &to, y->grad, wt, NULL, x->grad, 1, err);
        tile_job j;
        ES_CHECK(tile_setup(ctx, &j, &tg, &to, g.cg, err));
        j.in = y->grad;
        j.wmat = wt;
        j.out = x->grad;
        j.beta = 1.0f;
        run_tiles(ctx, &j);
        return ES_OK;
    }
    /* strided: dcols = W^T dy, then col2im */
    float *dcols = nn_scratch(ctx, 1, (size_t)(g.ckk * g.ohw) * sizeof(float), err);
    if (!dcols) return ES_ERR_NOMEM;
    int64_t wg = (int64_t)g.coutg * g.ckk;
    for (int i = 0; i < g.n; i++)
        for (int gr = 0; gr < g.groups; gr++) {
            int64_t xoff = ((int64_t)i * g.cin + (int64_t)gr * g.cg) * g.h * g.w;
            const float *dy = y->grad + ((int64_t)i * g.cout + (int64_t)gr * g.coutg) * g.ohw;
            ES_CHECK(nn_gemm(ctx, 1, 0, (int)g.ckk, (int)g.ohw, g.coutg, w->data + gr * wg, dy, dcols,
                           0.0f, err));
            col2im_add(ctx, dcols, &g, o, x->grad + xoff);
        }
    return ES_OK;
}
