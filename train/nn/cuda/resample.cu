/* resample.cu: bilinear resize, max pooling, point sampling and top-k. Backward passes
 * scatter with atomicAdd, or, in deterministic mode, gather plane by plane on one thread
 * per plane (slow, fixed order). */
#include "nn_cuda_internal.cuh"

typedef struct tap {
    int i0, i1;
    float l1;
} tap;

/* the CPU's axis_map (ops_resize.c), line for line */
__device__ static tap axis_map(int o, int in, int out, int mode) {
    tap t;
    if (mode == 2) {
        int f = out / in, p = o - f / 2;
        if (p < 0) p = 0;
        t.i0 = p / f;
        t.l1 = (float)(p % f) / (float)f;
        if (t.i0 >= in - 1) {
            t.i0 = in - 1;
            t.l1 = 0.0f;
        }
        t.i1 = t.i0 + (t.i0 < in - 1);
        return t;
    }
    float src;
    if (mode == 1) {
        float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        src = scale * (float)o;
    } else {
        float scale = (float)in / (float)out;
        src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
    }
    t.i0 = (int)src;
    if (t.i0 > in - 1) t.i0 = in - 1;
    t.i1 = t.i0 + (t.i0 < in - 1);
    t.l1 = src - (float)t.i0;
    if (t.i1 == t.i0) t.l1 = 0.0f;
    return t;
}

__global__ static void resize_fwd_kernel(const float *x, float *y, int64_t planes, int h, int w, int oh, int ow,
                                         int mode) {
    CUDA_FOR(i, planes * oh * ow) {
        int64_t p = i / ((int64_t)oh * ow);
        int oy = (int)((i / ow) % oh), ox = (int)(i % ow);
        tap ty = axis_map(oy, h, oh, mode), tx = axis_map(ox, w, ow, mode);
        const float *in = x + p * h * w;
        const float *r0 = in + (int64_t)ty.i0 * w, *r1 = in + (int64_t)ty.i1 * w;
        float top = r0[tx.i0] * (1.0f - tx.l1) + r0[tx.i1] * tx.l1;
        float bot = r1[tx.i0] * (1.0f - tx.l1) + r1[tx.i1] * tx.l1;
        y[i] = top * (1.0f - ty.l1) + bot * ty.l1;
    }
}

__device__ static void resize_scatter(float *dx, int w, tap ty, tap tx, float g, int atomic) {
    float gt = g * (1.0f - ty.l1), gb = g * ty.l1;
    float *r0 = dx + (int64_t)ty.i0 * w, *r1 = dx + (int64_t)ty.i1 * w;
    if (atomic) {
        atomicAdd(&r0[tx.i0], gt * (1.0f - tx.l1));
        atomicAdd(&r0[tx.i1], gt * tx.l1);
        atomicAdd(&r1[tx.i0], gb * (1.0f - tx.l1));
        atomicAdd(&r1[tx.i1], gb * tx.l1);
    } else {
        r0[tx.i0] += gt * (1.0f - tx.l1);
        r0[tx.i1] += gt * tx.l1;
        r1[tx.i0] += gb * (1.0f - tx.l1);
        r1[tx.i1] += gb * tx.l1;
    }
}

__global__ static void resize_bwd_atomic(float *dx, const float *dy, int64_t planes, int h, int w, int oh, int ow,
                                         int mode) {
    CUDA_FOR(i, planes * oh * ow) {
        int64_t p = i / ((int64_t)oh * ow);
        int oy = (int)((i / ow) % oh), ox = (int)(i % ow);
        resize_scatter(dx + p * h * w, w, axis_map(oy, h, oh, mode), axis_map(ox, w, ow, mode), dy[i], 1);
    }
}

__global__ static void resize_bwd_plane(float *dx, const float *dy, int64_t planes, int h, int w, int oh, int ow,
                                        int mode) {
    CUDA_FOR(p, planes) {
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                resize_scatter(dx + p * h * w, w, axis_map(oy, h, oh, mode), axis_map(ox, w, ow, mode),
                               dy[(p * oh + oy) * ow + ox], 0);
    }
}

extern "C" int nn_cuda_resize_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, int mode, es_error *err) {
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    if (y->numel <= 0) return ES_OK;
    resize_fwd_kernel<<<nn_blocks(y->numel), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, y->data, planes, x->shape[2], x->shape[3], y->shape[2], y->shape[3], mode);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_resize_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, int mode,
                                       es_error *err) {
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    if (y->numel <= 0) return ES_OK;
    cudaStream_t st = cst(ctx)->stream;
    if (ctx->deterministic)
        resize_bwd_plane<<<nn_blocks(planes), NN_THREADS, 0, st>>>(x->grad, y->grad, planes, x->shape[2], x->shape[3],
                                                                   y->shape[2], y->shape[3], mode);
    else
        resize_bwd_atomic<<<nn_blocks(y->numel), NN_THREADS, 0, st>>>(x->grad, y->grad, planes, x->shape[2],
                                                                      x->shape[3], y->shape[2], y->shape[3], mode);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- max pool ---- */

__device__ static int64_t window_argmax(const float *in, int h, int w, int y0, int x0, int k) {
    int64_t best = -1;
    float bv = -INFINITY;
    for (int ky = 0; ky < k; ky++) {
        int iy = y0 + ky;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < k; kx++) {
            int ix = x0 + kx;
            if (ix < 0 || ix >= w) continue;
            float v = in[(int64_t)iy * w + ix];
            if (best < 0 || v > bv || isnan(v)) {
                best = (int64_t)iy * w + ix;
                bv = v;
                if (isnan(v)) return best;
            }
        }
    }
    return best;
}

__global__ static void maxpool_kernel(const float *x, float *y, const float *dy, float *dx, int64_t planes, int h,
                                      int w, int oh, int ow, int k, int s, int pad, int mode) {
    /* mode 0 forward, 1 backward with atomics, 2 backward plane-serial */
    int64_t n = mode == 2 ? planes : planes * oh * ow;
    CUDA_FOR(i, n) {
        if (mode == 2) {
            const float *in = x + i * h * w;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    int64_t a = window_argmax(in, h, w, oy * s - pad, ox * s - pad, k);
                    if (a >= 0) dx[i * h * w + a] += dy[(i * oh + oy) * ow + ox];
                }
            continue;
        }
        int64_t p = i / ((int64_t)oh * ow);
        int oy = (int)((i / ow) % oh), ox = (int)(i % ow);
        const float *in = x + p * h * w;
        int64_t a = window_argmax(in, h, w, oy * s - pad, ox * s - pad, k);
        if (mode == 0)
            y[i] = a >= 0 ? in[a] : -INFINITY;
        else if (a >= 0)
            atomicAdd(&dx[p * h * w + a], dy[i]);
    }
}

extern "C" int nn_cuda_maxpool_forward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                                       nn_tensor *y, es_error *err) {
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    if (y->numel <= 0) return ES_OK;
    maxpool_kernel<<<nn_blocks(y->numel), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, y->data, NULL, NULL, planes, x->shape[2], x->shape[3], y->shape[2], y->shape[3], kernel, stride, pad,
        0);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_maxpool_backward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                                        const nn_tensor *y, es_error *err) {
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    if (y->numel <= 0) return ES_OK;
    int mode = ctx->deterministic ? 2 : 1;
    maxpool_kernel<<<nn_blocks(mode == 2 ? planes : y->numel), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, NULL, y->grad, x->grad, planes, x->shape[2], x->shape[3], y->shape[2], y->shape[3], kernel, stride,
        pad, mode);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- point sample ---- */

__device__ static void point_taps(float px, float py, int h, int w, int64_t *idx, float *wt) {
    if (!isfinite(px) || !isfinite(py) || fabsf(px) > 1e6f || fabsf(py) > 1e6f) {
        for (int k = 0; k < 4; k++) {
            idx[k] = 0;
            wt[k] = 0.0f;
        }
        return;
    }
    float fx = px * (float)w - 0.5f, fy = py * (float)h - 0.5f;
    float x0f = floorf(fx), y0f = floorf(fy);
    int x0 = (int)x0f, y0 = (int)y0f;
    float lx = fx - x0f, ly = fy - y0f;
    int xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
    float wx[2] = {1.0f - lx, lx}, wy[2] = {1.0f - ly, ly};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            int k = a * 2 + b;
            bool in = ys[a] >= 0 && ys[a] < h && xs[b] >= 0 && xs[b] < w;
            idx[k] = in ? (int64_t)ys[a] * w + xs[b] : 0;
            wt[k] = in ? wy[a] * wx[b] : 0.0f;
        }
}

__global__ static void ps_kernel(const float *x, const float *pts, float *y, const float *dy, float *dx, int n, int c,
                                 int h, int w, int p, int mode) {
    /* mode 0 forward, 1 backward atomics, 2 backward serial per (n, c) plane */
    int64_t total = mode == 2 ? (int64_t)n * c : (int64_t)n * c * p;
    CUDA_FOR(i, total) {
        int64_t idx[4];
        float wt[4];
        if (mode == 2) {
            int img = (int)(i / c);
            float *plane = dx + i * h * w;
            for (int j = 0; j < p; j++) {
                const float *pt = pts + ((int64_t)img * p + j) * 2;
                point_taps(pt[0], pt[1], h, w, idx, wt);
                for (int k = 0; k < 4; k++) plane[idx[k]] += wt[k] * dy[i * p + j];
            }
            continue;
        }
        int64_t nc = i / p;
        int j = (int)(i % p), img = (int)(nc / c);
        const float *pt = pts + ((int64_t)img * p + j) * 2;
        point_taps(pt[0], pt[1], h, w, idx, wt);
        if (mode == 0) {
            const float *plane = x + nc * h * w;
            float v = 0.0f;
            for (int k = 0; k < 4; k++) v += wt[k] * plane[idx[k]];
            y[i] = v;
        } else {
            float *plane = dx + nc * h * w;
            for (int k = 0; k < 4; k++)
                if (wt[k] != 0.0f) atomicAdd(&plane[idx[k]], wt[k] * dy[i]);
        }
    }
}

extern "C" int nn_cuda_point_sample_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points, nn_tensor *y,
                                            es_error *err) {
    if (y->numel <= 0) return ES_OK;
    ps_kernel<<<nn_blocks(y->numel), NN_THREADS, 0, cst(ctx)->stream>>>(x->data, points->data, y->data, NULL, NULL,
                                                                       x->shape[0], x->shape[1], x->shape[2],
                                                                       x->shape[3], points->shape[1], 0);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_point_sample_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                                             const nn_tensor *y, es_error *err) {
    if (y->numel <= 0) return ES_OK;
    int mode = ctx->deterministic ? 2 : 1;
    int64_t total = mode == 2 ? (int64_t)x->shape[0] * x->shape[1] : y->numel;
    ps_kernel<<<nn_blocks(total), NN_THREADS, 0, cst(ctx)->stream>>>(x->data, points->data, NULL, y->grad, x->grad,
                                                                    x->shape[0], x->shape[1], x->shape[2],
                                                                    x->shape[3], points->shape[1], mode);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- top-k: one block per row, k rounds of a block arg-max over untaken entries ---- */

__device__ static bool better(float a, int ia, float b, int ib) {
    /* NaN above everything, larger value, then lower index */
    bool an = isnan(a), bn = isnan(b);
    if (ib < 0) return ia >= 0;
    if (ia < 0) return false;
    if (an != bn) return an;
    if (!an && a != b) return a > b;
    return ia < ib;
}

__global__ static void topk_kernel(const float *x, int d, int k, float *values, int32_t *indices,
                                   unsigned char *taken) {
    __shared__ float sv[NN_THREADS];
    __shared__ int si[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *in = x + r * d;
    unsigned char *tk = taken + r * d;
    for (int j = threadIdx.x; j < d; j += NN_THREADS) tk[j] = 0;
    __syncthreads();
    for (int round = 0; round < k; round++) {
        float bv = 0.0f;
        int bi = -1;
        for (int j = threadIdx.x; j < d; j += NN_THREADS)
            if (!tk[j] && better(in[j], j, bv, bi)) {
                bv = in[j];
                bi = j;
            }
        sv[threadIdx.x] = bv;
        si[threadIdx.x] = bi;
        __syncthreads();
        for (int s = NN_THREADS / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s && better(sv[threadIdx.x + s], si[threadIdx.x + s], sv[threadIdx.x], si[threadIdx.x])) {
                sv[threadIdx.x] = sv[threadIdx.x + s];
                si[threadIdx.x] = si[threadIdx.x + s];
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            values[r * k + round] = sv[0];
            indices[r * k + round] = si[0];
            tk[si[0]] = 1;
        }
        __syncthreads();
    }
}

__global__ static void topk_bwd_kernel(const float *dv, const int32_t *indices, float *dx, int64_t rows, int d, int k) {
    CUDA_FOR(i, rows * k) {
        int64_t r = i / k;
        int32_t j = indices[i];
        if (j >= 0 && j < d) dx[r * d + j] += dv[i]; /* indices of a row are distinct */
    }
}

extern "C" int nn_cuda_topk_forward(nn_ctx *ctx, const nn_tensor *x, int k, nn_tensor *values, int32_t *indices,
                                    es_error *err) {
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    if (rows <= 0) return ES_OK;
    unsigned char *taken = (unsigned char *)nn_cuda_workspace(ctx, 0, (size_t)x->numel, err);
    if (!taken) return ES_ERR_NOMEM;
    topk_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(x->data, d, k, values->data, indices, taken);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_topk_backward(nn_ctx *ctx, const nn_tensor *x, int k, const nn_tensor *values,
                                     const int32_t *indices, es_error *err) {
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    if (rows <= 0) return ES_OK;
    topk_bwd_kernel<<<nn_blocks(rows * k), NN_THREADS, 0, cst(ctx)->stream>>>(values->grad, indices, x->grad, rows, d,
                                                                              k);
    CU_LAUNCHED(err);
    return ES_OK;
}
