/* core.cu: device discovery, the per-context state, memory, cuBLAS gemm, the small
 * elementwise helpers every op uses, and the optimiser kernels. */
#include "nn_cuda_internal.cuh"

extern "C" int nn_cuda_probe(char *why, size_t size) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        snprintf(why, size, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
        cudaGetLastError();
        return 0;
    }
    if (n == 0) snprintf(why, size, "cudaGetDeviceCount returned 0 devices");
    return n;
}

extern "C" int nn_cuda_state_create(nn_ctx *ctx, es_error *err) {
    nn_cuda_state *s = (nn_cuda_state *)calloc(1, sizeof *s);
    if (!s) return es_error_set(err, ES_ERR_NOMEM, "CUDA state: out of memory");
    ctx->cuda = s;
    CU_TRY(cudaSetDevice(0), err);
    CU_TRY(cudaStreamCreate(&s->stream), err);
    CUBLAS_TRY(cublasCreate(&s->cublas), err);
    CUBLAS_TRY(cublasSetStream(s->cublas, s->stream), err);
    /* plain fp32 (no TF32) so results track the CPU reference */
    CUBLAS_TRY(cublasSetMathMode(s->cublas, CUBLAS_DEFAULT_MATH), err);
    CUDNN_TRY(cudnnCreate(&s->cudnn), err);
    CUDNN_TRY(cudnnSetStream(s->cudnn, s->stream), err);
    CU_TRY(cudaMalloc(&s->reduce, 64 * sizeof(double)), err);
    CU_TRY(cudaMallocHost(&s->reduce_host, 64 * sizeof(double)), err);
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
        snprintf(ctx->note, sizeof ctx->note, "entseg: using CUDA device 0 (%.180s)", prop.name);
    return ES_OK;
}

extern "C" void nn_cuda_state_free(nn_ctx *ctx) {
    nn_cuda_state *s = cst(ctx);
    if (!s) return;
    cudaStreamSynchronize(s->stream);
    for (int i = 0; i < 4; i++) cudaFree(s->ws[i]);
    cudaFree(s->conv_ws);
    cudaFree(s->reduce);
    cudaFreeHost(s->reduce_host);
    if (s->cudnn) cudnnDestroy(s->cudnn);
    if (s->cublas) cublasDestroy(s->cublas);
    if (s->stream) cudaStreamDestroy(s->stream);
    free(s);
    ctx->cuda = NULL;
}

extern "C" void *nn_cuda_malloc(size_t bytes, es_error *err) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
    if (e != cudaSuccess) {
        es_error_set(err, ES_ERR_NOMEM, "CUDA: cannot allocate %zu bytes: %s", bytes, cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

extern "C" void nn_cuda_free(void *p) {
    if (p) cudaFree(p);
}

extern "C" int nn_cuda_memcpy(void *dst, const void *src, size_t bytes, int kind, es_error *err) {
    if (!bytes) return ES_OK;
    cudaMemcpyKind k = kind == NN_CUDA_H2D ? cudaMemcpyHostToDevice
                       : kind == NN_CUDA_D2H ? cudaMemcpyDeviceToHost
                                             : cudaMemcpyDeviceToDevice;
    /* synchronous on the legacy stream: orders after all queued work (our stream is
     * blocking with respect to it) */
    CU_TRY(cudaMemcpy(dst, src, bytes, k), err);
    return ES_OK;
}

__global__ static void fill_kernel(float *p, int64_t n, float v) {
    CUDA_FOR(i, n) p[i] = v;
}

extern "C" int nn_cuda_fill(nn_ctx *ctx, float *p, int64_t n, float value, es_error *err) {
    if (n <= 0) return ES_OK;
    fill_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(p, n, value);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_sync(nn_ctx *ctx, es_error *err) {
    CU_TRY(cudaStreamSynchronize(cst(ctx)->stream), err);
    return ES_OK;
}

extern "C" void *nn_cuda_workspace(nn_ctx *ctx, int slot, size_t bytes, es_error *err) {
    nn_cuda_state *s = cst(ctx);
    if (bytes > s->ws_bytes[slot]) {
        cudaStreamSynchronize(s->stream);
        cudaFree(s->ws[slot]);
        size_t grow = bytes + bytes / 4;
        s->ws[slot] = NULL;
        s->ws_bytes[slot] = 0;
        if (cudaMalloc(&s->ws[slot], grow) != cudaSuccess) {
            s->ws[slot] = NULL;
            es_error_set(err, ES_ERR_NOMEM, "CUDA workspace: cannot allocate %zu bytes", grow);
            return NULL;
        }
        s->ws_bytes[slot] = grow;
    }
    return s->ws[slot];
}

double *nn_cuda_dscratch(nn_ctx *ctx, int64_t n, es_error *err) {
    return (double *)nn_cuda_workspace(ctx, 3, (size_t)(n > 0 ? n : 1) * sizeof(double), err);
}

__global__ static void sum_kernel(const double *x, int64_t n, double *out) {
    __shared__ double sh[NN_THREADS];
    double v = 0;
    for (int64_t i = threadIdx.x; i < n; i += NN_THREADS) v += x[i];
    double t = block_sum(v, sh);
    if (threadIdx.x == 0) *out = t;
}

int nn_cuda_sum_to_host(nn_ctx *ctx, const double *x, int64_t n, double *host, es_error *err) {
    nn_cuda_state *s = cst(ctx);
    sum_kernel<<<1, NN_THREADS, 0, s->stream>>>(x, n, s->reduce);
    CU_LAUNCHED(err);
    CU_TRY(cudaMemcpyAsync(s->reduce_host, s->reduce, sizeof(double), cudaMemcpyDeviceToHost, s->stream), err);
    CU_TRY(cudaStreamSynchronize(s->stream), err);
    *host = s->reduce_host[0];
    return ES_OK;
}

/* ---- gemm: row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T ---- */

extern "C" int nn_cuda_gemm_ex(nn_ctx *ctx, int ta, int tb, int m, int n, int k, float alpha,
                               const float *a, int lda, int64_t sa, const float *b, int ldb,
                               int64_t sb, float beta, float *c, int ldc, int64_t sc, int batch,
                               es_error *err) {
    nn_cuda_state *s = cst(ctx);
    if (k == 0) {
        /* C *= beta: a 1-column gemm is awkward; scale rows with cuBLAS */
        for (int i = 0; i < batch; i++)
            for (int r = 0; r < m; r++)
                CUBLAS_TRY(cublasSscal(s->cublas, n, &beta, c + i * sc + (int64_t)r * ldc, 1), err);
        return ES_OK;
    }
    CUBLAS_TRY(cublasSgemmStridedBatched(s->cublas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                         ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, sb, a,
                                         lda, sa, &beta, c, ldc, sc, batch),
               err);
    return ES_OK;
}

/* ---- bias ---- */

__global__ static void bias_rows_kernel(float *y, const float *bias, int64_t rows, int n) {
    CUDA_FOR(i, rows * n) y[i] += bias[i % n];
}

/* one block per column j: fixed-order sum over rows */
__global__ static void bias_rows_bwd_kernel(const float *dy, float *db, int64_t rows, int n) {
    __shared__ double sh[NN_THREADS];
    int j = blockIdx.x;
    double v = 0;
    for (int64_t r = threadIdx.x; r < rows; r += NN_THREADS) v += dy[r * n + j];
    double t = block_sum(v, sh);
    if (threadIdx.x == 0) db[j] += (float)t;
}

extern "C" int nn_cuda_bias_rows(nn_ctx *ctx, float *y, const float *bias, int64_t rows, int n,
                                 es_error *err) {
    bias_rows_kernel<<<nn_blocks(rows * n), NN_THREADS, 0, cst(ctx)->stream>>>(y, bias, rows, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_bias_rows_backward(nn_ctx *ctx, const float *dy, float *db, int64_t rows,
                                          int n, es_error *err) {
    if (n <= 0) return ES_OK;
    bias_rows_bwd_kernel<<<n, NN_THREADS, 0, cst(ctx)->stream>>>(dy, db, rows, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

__global__ static void bias_ch_kernel(float *y, const float *bias, int batch, int c, int64_t hw,
                                      int bstride) {
    CUDA_FOR(i, (int64_t)batch * c * hw) {
        int64_t bc = i / hw;
        int b = (int)(bc / c), ch = (int)(bc % c);
        y[i] += bias[(int64_t)b * bstride + ch];
    }
}

/* one block per (b, ch) when bstride != 0, per ch (summing the batch) when 0 */
__global__ static void bias_ch_bwd_kernel(const float *dy, float *db, int batch, int c, int64_t hw,
                                          int bstride) {
    __shared__ double sh[NN_THREADS];
    int blk = blockIdx.x;
    double v = 0;
    if (bstride) {
        const float *p = dy + (int64_t)blk * hw;
        for (int64_t i = threadIdx.x; i < hw; i += NN_THREADS) v += p[i];
    } else {
        for (int b = 0; b < batch; b++) {
            const float *p = dy + ((int64_t)b * c + blk) * hw;
            for (int64_t i = threadIdx.x; i < hw; i += NN_THREADS) v += p[i];
        }
    }
    double t = block_sum(v, sh);
    if (threadIdx.x == 0) {
        if (bstride)
            db[(int64_t)(blk / c) * bstride + blk % c] += (float)t;
        else
            db[blk] += (float)t;
    }
}

extern "C" int nn_cuda_bias_channels(nn_ctx *ctx, float *y, const float *bias, int batch, int c,
                                     int64_t hw, int bstride, es_error *err) {
    int64_t n = (int64_t)batch * c * hw;
    if (n <= 0) return ES_OK;
    bias_ch_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(y, bias, batch, c, hw, bstride);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_bias_channels_backward(nn_ctx *ctx, const float *dy, float *db, int batch,
                                              int c, int64_t hw, int bstride, es_error *err) {
    int blocks = bstride ? batch * c : c;
    if (blocks <= 0) return ES_OK;
    bias_ch_bwd_kernel<<<blocks, NN_THREADS, 0, cst(ctx)->stream>>>(dy, db, batch, c, hw, bstride);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- small elementwise helpers ---- */

__global__ static void axpy_kernel(float alpha, const float *x, float *y, int64_t n) {
    CUDA_FOR(i, n) y[i] += alpha * x[i];
}

extern "C" int nn_cuda_axpy(nn_ctx *ctx, float alpha, const float *dy, float *dx, int64_t n,
                            es_error *err) {
    if (n <= 0) return ES_OK;
    axpy_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(alpha, dy, dx, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

__global__ static void scale_kernel(const float *x, float a, float b, float *y, int64_t n) {
    CUDA_FOR(i, n) y[i] = a * x[i] + b;
}

extern "C" int nn_cuda_scale_forward(nn_ctx *ctx, const float *x, float alpha, float beta, float *y,
                                     int64_t n, es_error *err) {
    if (n <= 0) return ES_OK;
    scale_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(x, alpha, beta, y, n);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_scale_inplace(nn_ctx *ctx, float *x, int64_t n, float s, es_error *err) {
    return nn_cuda_scale_forward(ctx, x, s, 0.0f, x, n, err);
}

__global__ static void copy_blocks_kernel(float *dst, int64_t dst_stride, int64_t dst_off,
                                          const float *src, int64_t src_stride, int64_t src_off,
                                          int64_t outer, int64_t inner, int acc) {
    CUDA_FOR(i, outer * inner) {
        int64_t o = i / inner, j = i % inner;
        float v = src[o * src_stride + src_off + j];
        float *d = dst + o * dst_stride + dst_off + j;
        if (acc)
            *d += v;
        else
            *d = v;
    }
}

extern "C" int nn_cuda_copy_blocks(nn_ctx *ctx, float *dst, int64_t dst_stride, int64_t dst_off,
                                   const float *src, int64_t src_stride, int64_t src_off,
                                   int64_t outer, int64_t inner, int accumulate, es_error *err) {
    if (outer * inner <= 0) return ES_OK;
    copy_blocks_kernel<<<nn_blocks(outer * inner), NN_THREADS, 0, cst(ctx)->stream>>>(
        dst, dst_stride, dst_off, src, src_stride, src_off, outer, inner, accumulate);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* ---- optimiser ---- */

__global__ static void sgd_kernel(float *p, const float *g, float *buf, int64_t n, float lr,
                                  float momentum, float wd, int first) {
    CUDA_FOR(i, n) {
        float d = g[i] + wd * p[i];
        if (momentum != 0.0f) {
            buf[i] = first ? d : momentum * buf[i] + d;
            d = buf[i];
        }
        p[i] -= lr * d;
    }
}

extern "C" int nn_cuda_sgd_step(nn_ctx *ctx, float *p, const float *g, float *buf, int64_t n,
                                float lr, float momentum, float wd, int first, es_error *err) {
    if (n <= 0) return ES_OK;
    sgd_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(p, g, buf, n, lr, momentum, wd, first);
    CU_LAUNCHED(err);
    return ES_OK;
}

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, int64_t n,
                                    float lr, float b1, float b2, float eps, float wd, float bc1,
                                    float bc2) {
    float step = lr / bc1, sbc2 = sqrtf(bc2);
    CUDA_FOR(i, n) {
        p[i] *= 1.0f - lr * wd;
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
    }
}

extern "C" int nn_cuda_adamw_step(nn_ctx *ctx, float *p, const float *g, float *m, float *v,
                                  int64_t n, float lr, float beta1, float beta2, float eps,
                                  float wd, float bc1, float bc2, es_error *err) {
    if (n <= 0) return ES_OK;
    adamw_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(p, g, m, v, n, lr, beta1, beta2, eps,
                                                                    wd, bc1, bc2);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* sum of squares: per-block partials (fixed grid), then one fixed-order sum */
__global__ static void sumsq_kernel(const float *x, int64_t n, double *partial) {
    __shared__ double sh[NN_THREADS];
    double v = 0;
    for (int64_t i = blockIdx.x * (int64_t)NN_THREADS + threadIdx.x; i < n; i += (int64_t)NN_THREADS * gridDim.x)
        v += (double)x[i] * x[i];
    double t = block_sum(v, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = t;
}

extern "C" int nn_cuda_sumsq(nn_ctx *ctx, const float *x, int64_t n, double *out, es_error *err) {
    int blocks = 256;
    double *part = nn_cuda_dscratch(ctx, blocks, err);
    if (!part) return ES_ERR_NOMEM;
    sumsq_kernel<<<blocks, NN_THREADS, 0, cst(ctx)->stream>>>(x, n, part);
    CU_LAUNCHED(err);
    return nn_cuda_sum_to_host(ctx, part, blocks, out, err);
}
