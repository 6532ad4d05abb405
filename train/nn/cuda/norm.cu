/* norm.cu: frozen BatchNorm, GroupNorm and LayerNorm. One block per normalised row;
 * parameter gradients go through per-row partials reduced in a fixed order. */
#include "nn_cuda_internal.cuh"

__global__ static void fbn_kernel(const float *x, const float *w, const float *b, const float *m, const float *v,
                                  float eps, float *y, const float *dy, float *dx, int c, int64_t hw, int64_t n,
                                  int backward) {
    CUDA_FOR(i, n) {
        int ch = (int)((i / hw) % c);
        float scale = w[ch] / sqrtf(v[ch] + eps);
        if (backward)
            dx[i] += dy[i] * scale;
        else
            y[i] = x[i] * scale + (b[ch] - m[ch] * scale);
    }
}

extern "C" int nn_cuda_frozen_bn_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                                         const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                                         float eps, nn_tensor *y, es_error *err) {
    if (x->numel <= 0) return ES_OK;
    fbn_kernel<<<nn_blocks(x->numel), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, weight->data, bias->data, mean->data, var->data, eps, y->data, NULL, NULL, x->shape[1],
        (int64_t)x->shape[2] * x->shape[3], x->numel, 0);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_frozen_bn_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                                          const nn_tensor *mean, const nn_tensor *var, float eps, const nn_tensor *y,
                                          es_error *err) {
    if (x->numel <= 0) return ES_OK;
    fbn_kernel<<<nn_blocks(x->numel), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, weight->data, NULL, mean->data, var->data, eps, NULL, y->grad, x->grad, x->shape[1],
        (int64_t)x->shape[2] * x->shape[3], x->numel, 1);
    CU_LAUNCHED(err);
    return ES_OK;
}

/* mean and 1/std of row [p, p + d), two passes in double */
__device__ static void row_stats(const float *p, int64_t d, float eps, double *sh, float *mean, float *rstd) {
    double s = 0;
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) s += p[j];
    double m = block_sum(s, sh) / (double)d;
    double s2 = 0;
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) {
        double t = p[j] - m;
        s2 += t * t;
    }
    double var = block_sum(s2, sh) / (double)d;
    *mean = (float)m;
    *rstd = (float)(1.0 / sqrt(var + eps));
}

/* group norm: block r = (n, g); channels g*cg .. of `inner` elements each */
__global__ static void gn_fwd_kernel(const float *x, const float *gamma, const float *beta, int groups, int cg,
                                     int64_t inner, float eps, float *y) {
    __shared__ double sh[NN_THREADS];
    int64_t r = blockIdx.x, d = cg * inner;
    const float *in = x + r * d;
    float mean, rstd;
    row_stats(in, d, eps, sh, &mean, &rstd);
    int g = (int)(r % groups);
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) {
        int ch = g * cg + (int)(j / inner);
        float a = rstd * (gamma ? gamma[ch] : 1.0f), b = (beta ? beta[ch] : 0.0f) - mean * a;
        y[r * d + j] = in[j] * a + b;
    }
}

/* partial[(r*cg + cc)*2 + {0,1}] = (sum dy*xhat, sum dy) per channel of the row */
__global__ static void gn_bwd_kernel(const float *x, const float *gamma, const float *dy, float *dx, int groups,
                                     int cg, int64_t inner, float eps, float *partial) {
    __shared__ double sh[NN_THREADS];
    int64_t r = blockIdx.x, d = cg * inner;
    const float *in = x + r * d, *g = dy + r * d;
    float mean, rstd;
    row_stats(in, d, eps, sh, &mean, &rstd);
    int grp = (int)(r % groups);
    double s1 = 0, s2 = 0;
    for (int cc = 0; cc < cg; cc++) {
        int ch = grp * cg + cc;
        float ga = gamma ? gamma[ch] : 1.0f;
        double a = 0, b = 0;
        for (int64_t k = threadIdx.x; k < inner; k += NN_THREADS) {
            float xh = (in[cc * inner + k] - mean) * rstd;
            float v = g[cc * inner + k];
            a += v * xh;
            b += v;
        }
        a = block_sum(a, sh);
        b = block_sum(b, sh);
        s1 += ga * b;
        s2 += ga * a;
        if (partial && threadIdx.x == 0) {
            partial[(r * cg + cc) * 2] = (float)a;
            partial[(r * cg + cc) * 2 + 1] = (float)b;
        }
    }
    if (!dx) return;
    float m1 = (float)(s1 / d), m2 = (float)(s2 / d);
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) {
        float ga = gamma ? gamma[grp * cg + (int)(j / inner)] : 1.0f;
        float xh = (in[j] - mean) * rstd;
        dx[r * d + j] += rstd * (g[j] * ga - m1 - xh * m2);
    }
}

/* thread per channel: sum the per-row partials over the batch, in order */
__global__ static void gn_param_kernel(const float *partial, int n, int groups, int cg, float *dgamma, float *dbeta) {
    int c = groups * cg;
    CUDA_FOR(ch, c) {
        int g = (int)(ch / cg), cc = (int)(ch % cg);
        double a = 0, b = 0;
        for (int i = 0; i < n; i++) {
            int64_t r = (int64_t)i * groups + g;
            a += partial[(r * cg + cc) * 2];
            b += partial[(r * cg + cc) * 2 + 1];
        }
        if (dgamma) dgamma[ch] += (float)a;
        if (dbeta) dbeta[ch] += (float)b;
    }
}

extern "C" int nn_cuda_groupnorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                                         const nn_tensor *beta, int groups, float eps, nn_tensor *y, es_error *err) {
    int n = x->shape[0], cg = x->shape[1] / groups;
    int64_t inner = nn_tensor_dims(x, 2, x->ndim);
    if ((int64_t)n * groups <= 0) return ES_OK;
    gn_fwd_kernel<<<(unsigned)(n * groups), NN_THREADS, 0, cst(ctx)->stream>>>(
        x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, groups, cg, inner, eps, y->data);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_groupnorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                                          const nn_tensor *beta, int groups, float eps, const nn_tensor *y,
                                          es_error *err) {
    int n = x->shape[0], cg = x->shape[1] / groups;
    int64_t inner = nn_tensor_dims(x, 2, x->ndim);
    if ((int64_t)n * groups <= 0) return ES_OK;
    float *dgamma = gamma ? gamma->grad : NULL, *dbeta = beta ? beta->grad : NULL;
    float *partial = NULL;
    if (dgamma || dbeta) {
        partial = (float *)nn_cuda_workspace(ctx, 0, (size_t)n * groups * cg * 2 * sizeof(float), err);
        if (!partial) return ES_ERR_NOMEM;
    }
    cudaStream_t st = cst(ctx)->stream;
    gn_bwd_kernel<<<(unsigned)(n * groups), NN_THREADS, 0, st>>>(x->data, gamma ? gamma->data : NULL, y->grad,
                                                                 x->grad, groups, cg, inner, eps, partial);
    CU_LAUNCHED(err);
    if (partial) {
        gn_param_kernel<<<nn_blocks(groups * cg), NN_THREADS, 0, st>>>(partial, n, groups, cg, dgamma, dbeta);
        CU_LAUNCHED(err);
    }
    return ES_OK;
}

__global__ static void ln_fwd_kernel(const float *x, const float *gamma, const float *beta, int d, float eps,
                                     float *y) {
    __shared__ double sh[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *in = x + r * d;
    float mean, rstd;
    row_stats(in, d, eps, sh, &mean, &rstd);
    for (int j = threadIdx.x; j < d; j += NN_THREADS)
        y[r * d + j] = (in[j] - mean) * rstd * (gamma ? gamma[j] : 1.0f) + (beta ? beta[j] : 0.0f);
}

/* partial (rows, d, 2): dy*xhat and dy, reduced over rows by ln_param_kernel */
__global__ static void ln_bwd_kernel(const float *x, const float *gamma, const float *dy, float *dx, int d, float eps,
                                     float *partial) {
    __shared__ double sh[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *in = x + r * d, *g = dy + r * d;
    float mean, rstd;
    row_stats(in, d, eps, sh, &mean, &rstd);
    double s1 = 0, s2 = 0;
    for (int j = threadIdx.x; j < d; j += NN_THREADS) {
        float xh = (in[j] - mean) * rstd;
        float gg = g[j] * (gamma ? gamma[j] : 1.0f);
        s1 += gg;
        s2 += gg * xh;
        if (partial) {
            partial[(r * d + j) * 2] = g[j] * xh;
            partial[(r * d + j) * 2 + 1] = g[j];
        }
    }
    float m1 = (float)(block_sum(s1, sh) / d), m2 = (float)(block_sum(s2, sh) / d);
    if (!dx) return;
    for (int j = threadIdx.x; j < d; j += NN_THREADS) {
        float xh = (in[j] - mean) * rstd;
        dx[r * d + j] += rstd * (g[j] * (gamma ? gamma[j] : 1.0f) - m1 - xh * m2);
    }
}

__global__ static void ln_param_kernel(const float *partial, int64_t rows, int d, float *dgamma, float *dbeta) {
    CUDA_FOR(j, d) {
        double a = 0, b = 0;
        for (int64_t r = 0; r < rows; r++) {
            a += partial[(r * d + j) * 2];
            b += partial[(r * d + j) * 2 + 1];
        }
        if (dgamma) dgamma[j] += (float)a;
        if (dbeta) dbeta[j] += (float)b;
    }
}

extern "C" int nn_cuda_layernorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                                         const nn_tensor *beta, float eps, nn_tensor *y, es_error *err) {
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    if (rows <= 0) return ES_OK;
    ln_fwd_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(x->data, gamma ? gamma->data : NULL,
                                                                      beta ? beta->data : NULL, d, eps, y->data);
    CU_LAUNCHED(err);
    return ES_OK;
}

extern "C" int nn_cuda_layernorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                                          const nn_tensor *beta, float eps, const nn_tensor *y, es_error *err) {
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    if (rows <= 0) return ES_OK;
    float *dgamma = gamma ? gamma->grad : NULL, *dbeta = beta ? beta->grad : NULL;
    float *partial = NULL;
    if (dgamma || dbeta) {
        partial = (float *)nn_cuda_workspace(ctx, 0, (size_t)x->numel * 2 * sizeof(float), err);
        if (!partial) return ES_ERR_NOMEM;
    }
    cudaStream_t st = cst(ctx)->stream;
    ln_bwd_kernel<<<(unsigned)rows, NN_THREADS, 0, st>>>(x->data, gamma ? gamma->data : NULL, y->grad, x->grad, d,
                                                        eps, partial);
    CU_LAUNCHED(err);
    if (partial) {
        ln_param_kernel<<<nn_blocks(d), NN_THREADS, 0, st>>>(partial, rows, d, dgamma, dbeta);
        CU_LAUNCHED(err);
    }
    return ES_OK;
}
