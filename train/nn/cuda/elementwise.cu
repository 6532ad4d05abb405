/* elementwise.cu: activations, softmax (plain and attention's masked form) and the
 * broadcast binary ops. One block per softmax row; reductions in fixed order. */
#include "nn_cuda_internal.cuh"

__global__ static void act_fwd_kernel(int kind, const float *x, float *y, int64_t n) {
    CUDA_FOR(i, n) {
        float v = x[i];
        if (kind == 0)
            y[i] = v > 0.0f ? v : 0.0f;
        else if (kind == 1)
            y[i] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
        else
            y[i] = 1.0f / (1.0f + expf(-v));
    }
}

__global__ static void act_bwd_kernel(int kind, const float *x, const float *y, const float *dy, float *dx,
                                      int64_t n) {
    CUDA_FOR(i, n) {
        if (kind == 0) {
            dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
        } else if (kind == 1) {
            float v = x[i];
            float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
            float pdf = 0.3989422804014327f * expf(-0.5f * v * v);
            dx[i] += dy[i] * (cdf + v * pdf);
        } else {
            dx[i] += dy[i] * y[i] * (1.0f - y[i]);
        }
    }
}

extern "C" int nn_cuda_act_forward(nn_ctx *ctx, int kind, const float *x, float *y, int64_t n, es_error *err) {
    if (n <= 0) return ES_OK;
    act_fwd_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(kind, x, y, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_act_backward(nn_ctx *ctx, int kind, const float *x, const float *y, const float *dy,
                                    float *dx, int64_t n, es_error *err) {
    if (n <= 0) return ES_OK;
    act_bwd_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(kind, x, y, dy, dx, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

__device__ static float block_max(float v, float *sh) {
    int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = NN_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] = fmaxf(sh[t], sh[t + s]);
        __syncthreads();
    }
    float r = sh[0];
    __syncthreads();
    return r;
}

/* one block per row; mask (rows of lk, row index = mask_row(r)) may be NULL */
__global__ static void softmax_kernel(const float *x, float *y, int d, const float *mask, int heads, int lq) {
    __shared__ float shf[NN_THREADS];
    __shared__ double shd[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *in = x + r * d;
    float *out = y + r * d;
    const float *m = NULL;
    if (mask) {
        int64_t b = r / ((int64_t)heads * lq), q = r % lq;
        m = mask + (b * lq + q) * d;
        /* a row with every key masked attends to all keys */
        double open = 0;
        for (int j = threadIdx.x; j < d; j += NN_THREADS) open += m[j] == 0.0f;
        if (block_sum(open, shd) == 0) m = NULL;
    }
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < d; j += NN_THREADS)
        if (!(m && m[j] != 0.0f)) mx = fmaxf(mx, in[j]);
    mx = block_max(mx, shf);
    double s = 0;
    for (int j = threadIdx.x; j < d; j += NN_THREADS) s += (m && m[j] != 0.0f) ? 0.0 : (double)expf(in[j] - mx);
    float inv = (float)(1.0 / block_sum(s, shd));
    for (int j = threadIdx.x; j < d; j += NN_THREADS)
        out[j] = (m && m[j] != 0.0f) ? 0.0f : expf(in[j] - mx) * inv;
}

__global__ static void softmax_bwd_kernel(const float *y, const float *dy, float *dx, int d) {
    __shared__ double shd[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *p = y + r * d, *g = dy + r * d;
    double dot = 0;
    for (int j = threadIdx.x; j < d; j += NN_THREADS) dot += (double)p[j] * g[j];
    float dt = (float)block_sum(dot, shd);
    for (int j = threadIdx.x; j < d; j += NN_THREADS) dx[r * d + j] += p[j] * (g[j] - dt);
}

extern "C" int nn_cuda_softmax_forward(nn_ctx *ctx, const float *x, float *y, int64_t rows, int d, es_error *err) {
    if (rows <= 0 || d <= 0) return ES_OK;
    softmax_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(x, y, d, NULL, 1, 1);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_softmax_backward(nn_ctx *ctx, const float *y, const float *dy, float *dx, int64_t rows,
                                        int d, es_error *err) {
    if (rows <= 0 || d <= 0) return ES_OK;
    softmax_bwd_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(y, dy, dx, d);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_masked_softmax(nn_ctx *ctx, float *scores, const float *mask, int batch, int heads,
                                      int lq, int lk, es_error *err) {
    int64_t rows = (int64_t)batch * heads * lq;
    if (rows <= 0 || lk <= 0) return ES_OK;
    softmax_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(scores, scores, lk, mask, heads, lq);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- broadcast binary ops: b's dims are a's or 1 ---- */

typedef struct bshape {
    int a[NN_MAX_DIMS];
    int b[NN_MAX_DIMS];
} bshape;

static bshape make_bshape(const nn_tensor *a, const nn_tensor *b) {
    bshape s;
    for (int i = 0; i < NN_MAX_DIMS; i++) {
        s.a[i] = i < a->ndim ? a->shape[i] : 1;
        s.b[i] = (b->numel == a->numel) ? s.a[i] : (i < b->ndim ? b->shape[i] : 1);
    }
    return s;
}

__device__ static int64_t b_index(const bshape &s, int64_t ai) {
    int64_t bi = 0, stride = 1;
    for (int d = NN_MAX_DIMS - 1; d >= 0; d--) {
        int idx = (int)(ai % s.a[d]);
        ai /= s.a[d];
        if (s.b[d] != 1) bi += idx * stride;
        stride *= s.b[d];
    }
    return bi;
}

__global__ static void binary_fwd_kernel(int op, const float *a, const float *b, float alpha, float *y, int64_t n,
                                         bshape s) {
    CUDA_FOR(i, n) {
        float bv = b[b_index(s, i)];
        y[i] = op == 0 ? a[i] + alpha * bv : a[i] * bv;
    }
}

__global__ static void binary_bwd_a_kernel(int op, const float *b, const float *dy, float *da, int64_t n, bshape s) {
    CUDA_FOR(i, n) da[i] += op == 0 ? dy[i] : dy[i] * b[b_index(s, i)];
}

/* one thread per element of b: sums, in a fixed order, every a element mapping to it */
__global__ static void binary_bwd_b_kernel(int op, const float *a, const float *dy, float alpha, float *db,
                                           int64_t nb, bshape s) {
    CUDA_FOR(bi, nb) {
        int idx[NN_MAX_DIMS];
        int64_t rem = bi;
        for (int d = NN_MAX_DIMS - 1; d >= 0; d--) {
            idx[d] = (int)(rem % s.b[d]);
            rem /= s.b[d];
        }
        int64_t reps = 1;
        for (int d = 0; d < NN_MAX_DIMS; d++)
            if (s.b[d] == 1) reps *= s.a[d];
        double acc = 0;
        for (int64_t r = 0; r < reps; r++) {
            int64_t rr = r, ai = 0;
            int full[NN_MAX_DIMS];
            for (int d = NN_MAX_DIMS - 1; d >= 0; d--) {
                if (s.b[d] == 1) {
                    full[d] = (int)(rr % s.a[d]);
                    rr /= s.a[d];
                } else {
                    full[d] = idx[d];
                }
            }
            for (int d = 0; d < NN_MAX_DIMS; d++) ai = ai * s.a[d] + full[d];
            acc += op == 0 ? (double)alpha * dy[ai] : (double)dy[ai] * a[ai];
        }
        db[bi] += (float)acc;
    }
}

extern "C" int nn_cuda_binary_forward(nn_ctx *ctx, int op, const nn_tensor *a, const nn_tensor *b, float alpha,
                                      nn_tensor *y, es_error *err) {
    if (a->numel <= 0) return ES_OK;
    binary_fwd_kernel<<<nn_blocks(a->numel), NN_THREADS, 0, cst(ctx)->stream>>>(op, a->data, b->data, alpha, y->data,
                                                                                a->numel, make_bshape(a, b));
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_binary_backward(nn_ctx *ctx, int op, const nn_tensor *a, const nn_tensor *b, float alpha,
                                       const nn_tensor *y, es_error *err) {
    if (a->numel <= 0) return ES_OK;
    bshape s = make_bshape(a, b);
    cudaStream_t st = cst(ctx)->stream;
    if (a->grad) {
        binary_bwd_a_kernel<<<nn_blocks(a->numel), NN_THREADS, 0, st>>>(op, b->data, y->grad, a->grad, a->numel, s);
        CU_LAUNCHED(err);
    }
    if (b->grad) {
        binary_bwd_b_kernel<<<nn_blocks(b->numel), NN_THREADS, 0, st>>>(op, a->data, y->grad, alpha, b->grad,
                                                                         b->numel, s);
        CU_LAUNCHED(err);
    }
    return ES_OK;
}

/* ---- row gather / scatter-add ---- */

__global__ static void index_select_kernel(const float *x, const int32_t *idx, int k, int64_t row, float *y) {
    CUDA_FOR(i, (int64_t)k * row) y[i] = x[(int64_t)idx[i / row] * row + i % row];
}

/* one thread per column: walks the k rows in order (deterministic, repeats accumulate) */
__global__ static void index_add_kernel(const float *dy, const int32_t *idx, int k, int64_t row, float *dx) {
    CUDA_FOR(j, row) {
        for (int i = 0; i < k; i++) dx[(int64_t)idx[i] * row + j] += dy[(int64_t)i * row + j];
    }
}

extern "C" int nn_cuda_index_select(nn_ctx *ctx, const float *x, const int32_t *idx, int k, int64_t row, float *y,
                                    es_error *err) {
    if ((int64_t)k * row <= 0) return ES_OK;
    index_select_kernel<<<nn_blocks((int64_t)k * row), NN_THREADS, 0, cst(ctx)->stream>>>(x, idx, k, row, y);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_index_select_backward(nn_ctx *ctx, const float *dy, const int32_t *idx, int k, int64_t row,
                                             float *dx, es_error *err) {
    if ((int64_t)k * row <= 0) return ES_OK;
    index_add_kernel<<<nn_blocks(row), NN_THREADS, 0, cst(ctx)->stream>>>(dy, idx, k, row, dx);
    CU_LAUNCHED(err);
    return ES_OK;
}
