/* ops_matmul.c: linear layers, batched matmul and per-instance dynamic 1x1 convolution,
 * all on one row-major gemm helper (OpenBLAS sgemm on the CPU, cuBLAS on CUDA). */
#include <cblas.h>

#include "nn_internal.h"
#include "nn_ops.h"

/* One single-threaded sgemm per block: OpenBLAS runs with one thread and the parallelism
 * is ours (OpenMP), so no second thread pool spins against the first. A batch is split over
 * its items; one big product over column blocks of C (or row blocks when C is narrow). */
void nn_sgemm_cpu(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k == 0) {
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) c[(int64_t)r * ldc + j] *= beta;
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

typedef struct gemm_job {
    int ta, tb, m, n, k, lda, ldb, ldc, chunk, split; /* split: 0 batch, 1 columns, 2 rows */
    float alpha, beta;
    const float *a, *b;
    float *c;
    int64_t sa, sb, sc;
} gemm_job;

static void gemm_task(void *ud, size_t t, int thread) {
    const gemm_job *g = ud;
    (void)thread;
    if (g->split == 0) {
        nn_sgemm_cpu(g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a + t * g->sa, g->lda, g->b + t * g->sb,
               g->ldb, g->beta, g->c + t * g->sc, g->ldc);
    } else if (g->split == 1) {
        int j0 = (int)t * g->chunk, j1 = j0 + g->chunk < g->n ? j0 + g->chunk : g->n;
        if (j0 < j1)
            nn_sgemm_cpu(g->ta, g->tb, g->m, j1 - j0, g->k, g->alpha, g->a, g->lda,
                   g->tb ? g->b + (int64_t)j0 * g->ldb : g->b + j0, g->ldb, g->beta, g->c + j0, g->ldc);
    } else {
        int r0 = (int)t * g->chunk, r1 = r0 + g->chunk < g->m ? r0 + g->chunk : g->m;
        if (r0 < r1)
            nn_sgemm_cpu(g->ta, g->tb, r1 - r0, g->n, g->k, g->alpha, g->ta ? g->a + r0 : g->a + (int64_t)r0 * g->lda,
                   g->lda, g->b, g->ldb, g->beta, g->c + (int64_t)r0 * g->ldc, g->ldc);
    }
}

int nn_gemm_ex(nn_ctx *ctx, int ta, int tb, int m, int n, int k, float alpha, const float *a,
               int lda, int64_t sa, const float *b, int ldb, int64_t sb, float beta, float *c,
               int ldc, int64_t sc, int batch, es_error *err) {
    if (m == 0 || n == 0 || batch == 0) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_gemm_ex(ctx, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb,
                                          beta, c, ldc, sc, batch, err));
    int nt = ctx->threads;
    double work = (double)m * n * (k > 0 ? k : 1) * batch;
    gemm_job g = {ta, tb, m, n, k, lda, ldb, ldc, 0, 0, alpha, beta, a, b, c, sa, sb, sc};
    if (nt <= 1 || work < 262144.0) {
        for (int i = 0; i < batch; i++) gemm_task(&g, (size_t)i, 0);
        return ES_OK;
    }
    /* the same C written by several batch items (stride 0) must stay sequential */
    if (batch >= nt && sc != 0) {
        nn_parallel_for(ctx, (size_t)batch, gemm_task, &g);
        return ES_OK;
    }
    for (int i = 0; i < batch; i++) {
        g.a = a + i * sa;
        g.b = b + i * sb;
        g.c = c + i * sc;
        if (n >= 64 * nt || n >= m) {
            g.split = 1;
            g.chunk = ((n + nt - 1) / nt + 15) / 16 * 16;
        } else {
            g.split = 2;
            g.chunk = ((m + nt - 1) / nt + 3) / 4 * 4;
        }
        nn_parallel_for(ctx, (size_t)nt, gemm_task, &g);
    }
    return ES_OK;
}

int nn_gemm_batched(nn_ctx *ctx, int ta, int tb, int m, int n, int k, const float *a,
                    int64_t sa, const float *b, int64_t sb, float *c, int64_t sc, int batch,
                    float beta, es_error *err) {
    return nn_gemm_ex(ctx, ta, tb, m, n, k, 1.0f, a, ta ? m : k, sa, b, tb ? k : n, sb, beta, c,
                      n, sc, batch, err);
}

int nn_gemm(nn_ctx *ctx, int ta, int tb, int m, int n, int k, const float *a, const float *b,
            float *c, float beta, es_error *err) {
    return nn_gemm_batched(ctx, ta, tb, m, n, k, a, 0, b, 0, c, 0, 1, beta, err);
}

/* y (rows, n) += bias (n) broadcast over rows */
int nn_bias_rows(nn_ctx *ctx, float *y, const float *bias, int64_t rows, int n, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_bias_rows(ctx, y, bias, rows, n, err));
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) y[r * n + j] += bias[j];
    return ES_OK;
}

int nn_bias_rows_backward(nn_ctx *ctx, const float *dy, float *db, int64_t rows, int n,
                          es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_bias_rows_backward(ctx, dy, db, rows, n, err));
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int64_t r = 0; r < rows; r++) s += dy[r * n + j];
        db[j] += (float)s;
    }
    return ES_OK;
}

/* y (batch, c, hw) += bias[b * bias_batch_stride + c] */
int nn_bias_channels(nn_ctx *ctx, float *y, const float *bias, int batch, int c, int64_t hw,
                     int bias_batch_stride, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_bias_channels(ctx, y, bias, batch, c, hw, bias_batch_stride, err));
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++) {
            float v = bias[(int64_t)b * bias_batch_stride + ch];
            float *p = y + ((int64_t)b * c + ch) * hw;
            for (int64_t i = 0; i < hw; i++) p[i] += v;
        }
    return ES_OK;
}

int nn_bias_channels_backward(nn_ctx *ctx, const float *dy, float *db, int batch, int c,
                              int64_t hw, int bias_batch_stride, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_bias_channels_backward(ctx, dy, db, batch, c, hw,
                                                         bias_batch_stride, err));
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++) {
            const float *p = dy + ((int64_t)b * c + ch) * hw;
            /* 16 float lanes (vectorisable, fixed order), summed in double */
            float lane[16] = {0};
            int64_t i = 0;
            for (; i + 16 <= hw; i += 16)
                for (int l = 0; l < 16; l++) lane[l] += p[i + l];
            double s = 0;
            for (int l = 0; l < 16; l++) s += lane[l];
            for (; i < hw; i++) s += p[i];
            db[(int64_t)b * bias_batch_stride + ch] += (float)s;
        }
    return ES_OK;
}

/* ---- linear ---- */

static int linear_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                        const nn_tensor *y, int *m, int *n, int *k, es_error *err) {
    ES_CHECK(nn_check_tensor("linear", "x", x, 0, err));
    ES_CHECK(nn_check_tensor("linear", "w", w, 2, err));
    ES_CHECK(nn_check_tensor("linear", "y", y, 0, err));
    ES_CHECK(nn_check_device(ctx, "linear", x, err));
    *n = w->shape[0];
    *k = w->shape[1];
    if (*k <= 0) return es_error_set(err, ES_ERR_INVALID, "linear: w has %d input features", *k);
    if (x->shape[x->ndim - 1] != *k || y->shape[y->ndim - 1] != *n) {
        char bx[80], bw[80], by[80];
        return es_error_set(err, ES_ERR_INVALID, "linear: x %s, w %s, y %s do not fit",
                            nn_shape_str(x, bx, 80), nn_shape_str(w, bw, 80), nn_shape_str(y, by, 80));
    }
    *m = (int)(x->numel / *k);
    if (y->numel != (int64_t)*m * *n)
        return es_error_set(err, ES_ERR_INVALID, "linear: y has %lld elements, expected %lld",
                            (long long)y->numel, (long long)*m * *n);
    if (b) ES_CHECK(nn_check_numel("linear", "b", b, *n, err));
    return ES_OK;
}

int nn_linear_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                      nn_tensor *y, es_error *err) {
    int m = 0, n = 0, k = 0;
    ES_CHECK(linear_check(ctx, x, w, b, y, &m, &n, &k, err));
    ES_CHECK(nn_gemm(ctx, 0, 1, m, n, k, x->data, w->data, y->data, 0.0f, err));
    if (b) ES_CHECK(nn_bias_rows(ctx, y->data, b->data, m, n, err));
    return ES_OK;
}

int nn_linear_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *y, es_error *err) {
    int m = 0, n = 0, k = 0;
    ES_CHECK(linear_check(ctx, x, w, b, y, &m, &n, &k, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "linear backward: y has no grad");
    if (x->grad) ES_CHECK(nn_gemm(ctx, 0, 0, m, k, n, y->grad, w->data, x->grad, 1.0f, err));
    if (w->grad) ES_CHECK(nn_gemm(ctx, 1, 0, n, k, m, y->grad, x->data, w->grad, 1.0f, err));
    if (b && b->grad) ES_CHECK(nn_bias_rows_backward(ctx, y->grad, b->grad, m, n, err));
    return ES_OK;
}

/* ---- batched matmul ---- */

typedef struct bmm_dims {
    int batch, m, n, k;
    int64_t sa, sb; /* batch strides, 0 when broadcast */
} bmm_dims;

static void mat_dims(const nn_tensor *t, int *bt, int *r, int *c) {
    *r = t->shape[t->ndim - 2];
    *c = t->shape[t->ndim - 1];
    *bt = (int)(t->numel / ((int64_t)*r * *c > 0 ? (int64_t)*r * *c : 1));
}

static int bmm_check(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const nn_tensor *y,
                     int ta, int tb, bmm_dims *d, es_error *err) {
    ES_CHECK(nn_check_tensor("bmm", "a", a, 0, err));
    ES_CHECK(nn_check_tensor("bmm", "b", b, 0, err));
    ES_CHECK(nn_check_tensor("bmm", "y", y, 0, err));
    ES_CHECK(nn_check_device(ctx, "bmm", a, err));
    if (a->ndim < 2 || b->ndim < 2 || y->ndim < 2)
        return es_error_set(err, ES_ERR_INVALID, "bmm: operands need at least 2 dims");
    int ba, ar, ac, bb, br, bc, by, yr, yc;
    mat_dims(a, &ba, &ar, &ac);
    mat_dims(b, &bb, &br, &bc);
    mat_dims(y, &by, &yr, &yc);
    d->m = ta ? ac : ar;
    d->k = ta ? ar : ac;
    int kb = tb ? bc : br;
    d->n = tb ? br : bc;
    d->batch = by;
    char s1[80], s2[80], s3[80];
    if (kb != d->k || yr != d->m || yc != d->n || (ba != by && ba != 1) || (bb != by && bb != 1))
        return es_error_set(err, ES_ERR_INVALID, "bmm: a %s%s, b %s%s, y %s do not fit",
                            nn_shape_str(a, s1, 80), ta ? "^T" : "", nn_shape_str(b, s2, 80),
                            tb ? "^T" : "", nn_shape_str(y, s3, 80));
    d->sa = ba == 1 ? 0 : (int64_t)ar * ac;
    d->sb = bb == 1 ? 0 : (int64_t)br * bc;
    return ES_OK;
}

int nn_bmm_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, nn_tensor *y, int ta,
                   int tb, es_error *err) {
    bmm_dims d = {0};
    ES_CHECK(bmm_check(ctx, a, b, y, ta, tb, &d, err));
    return nn_gemm_batched(ctx, ta, tb, d.m, d.n, d.k, a->data, d.sa, b->data, d.sb, y->data,
                           (int64_t)d.m * d.n, d.batch, 0.0f, err);
}

int nn_bmm_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const nn_tensor *y,
                    int ta, int tb, es_error *err) {
    bmm_dims d = {0};
    ES_CHECK(bmm_check(ctx, a, b, y, ta, tb, &d, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "bmm backward: y has no grad");
    int64_t sy = (int64_t)d.m * d.n;
    /* a broadcast operand's grad sums over the batch: run the batch one by one into the
     * same (stride 0) output, which gemm accumulates with beta = 1 */
    for (int pass = 0; pass < 2; pass++) {
        const nn_tensor *t = pass == 0 ? a : b;
        if (!t->grad) continue;
        int64_t st = pass == 0 ? d.sa : d.sb;
        int nb = st == 0 ? 1 : d.batch;
        int loops = st == 0 ? d.batch : 1;
        for (int i = 0; i < loops; i++) {
            const float *dy = y->grad + (int64_t)i * sy;
            if (pass == 0) {
                const float *bp = b->data + (st == 0 ? (int64_t)i * d.sb : 0);
                if (!ta)
                    ES_CHECK(nn_gemm_batched(ctx, 0, !tb, d.m, d.k, d.n, dy, sy, bp, d.sb, a->grad,
                                           st, nb, 1.0f, err));
                else
                    ES_CHECK(nn_gemm_batched(ctx, tb, 1, d.k, d.m, d.n, bp, d.sb, dy, sy, a->grad,
                                           st, nb, 1.0f, err));
            } else {
                const float *ap = a->data + (st == 0 ? (int64_t)i * d.sa : 0);
                if (!tb)
                    ES_CHECK(nn_gemm_batched(ctx, !ta, 0, d.k, d.n, d.m, ap, d.sa, dy, sy, b->grad,
                                           st, nb, 1.0f, err));
                else
                    ES_CHECK(nn_gemm_batched(ctx, 1, ta, d.n, d.k, d.m, dy, sy, ap, d.sa, b->grad,
                                           st, nb, 1.0f, err));
            }
        }
    }
    return ES_OK;
}

/* ---- dynamic 1x1 convolution ---- */

static int dyn_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                     const nn_tensor *y, int *n, int *cin, int *cout, int64_t *hw, es_error *err) {
    ES_CHECK(nn_check_tensor("dynconv1x1", "x", x, 4, err));
    ES_CHECK(nn_check_tensor("dynconv1x1", "w", w, 3, err));
    ES_CHECK(nn_check_tensor("dynconv1x1", "y", y, 4, err));
    ES_CHECK(nn_check_device(ctx, "dynconv1x1", x, err));
    *n = x->shape[0];
    *cin = x->shape[1];
    *cout = w->shape[1];
    *hw = (int64_t)x->shape[2] * x->shape[3];
    if (w->shape[0] != *n || w->shape[2] != *cin || y->shape[0] != *n || y->shape[1] != *cout ||
        y->shape[2] != x->shape[2] || y->shape[3] != x->shape[3]) {
        char s1[80], s2[80], s3[80];
        return es_error_set(err, ES_ERR_INVALID, "dynconv1x1: x %s, w %s, y %s do not fit",
                            nn_shape_str(x, s1, 80), nn_shape_str(w, s2, 80), nn_shape_str(y, s3, 80));
    }
    if (b) ES_CHECK(nn_check_numel("dynconv1x1", "b", b, (int64_t)*n * *cout, err));
    return ES_OK;
}

int nn_dynconv1x1_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                          const nn_tensor *b, nn_tensor *y, es_error *err) {
    int n = 0, cin = 0, cout = 0;
    int64_t hw = 0;
    ES_CHECK(dyn_check(ctx, x, w, b, y, &n, &cin, &cout, &hw, err));
    ES_CHECK(nn_gemm_batched(ctx, 0, 0, cout, (int)hw, cin, w->data, (int64_t)cout * cin, x->data,
                           cin * hw, y->data, cout * hw, n, 0.0f, err));
    if (b) ES_CHECK(nn_bias_channels(ctx, y->data, b->data, n, cout, hw, cout, err));
    return ES_OK;
}

int nn_dynconv1x1_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                           const nn_tensor *b, const nn_tensor *y, es_error *err) {
    int n = 0, cin = 0, cout = 0;
    int64_t hw = 0;
    ES_CHECK(dyn_check(ctx, x, w, b, y, &n, &cin, &cout, &hw, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "dynconv1x1 backward: y has no grad");
    if (w->grad)
        ES_CHECK(nn_gemm_batched(ctx, 0, 1, cout, cin, (int)hw, y->grad, cout * hw, x->data,
                               cin * hw, w->grad, (int64_t)cout * cin, n, 1.0f, err));
    if (x->grad)
        ES_CHECK(nn_gemm_batched(ctx, 1, 0, cin, (int)hw, cout, w->data, (int64_t)cout * cin,
                               y->grad, cout * hw, x->grad, cin * hw, n, 1.0f, err));
    if (b && b->grad) ES_CHECK(nn_bias_channels_backward(ctx, y->grad, b->grad, n, cout, hw, cout, err));
    return ES_OK;
}
