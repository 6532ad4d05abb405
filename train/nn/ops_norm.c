/* ops_norm.c: frozen BatchNorm (an affine map), GroupNorm and LayerNorm. GroupNorm and
 * LayerNorm keep no saved statistics: backward recomputes mean and 1/std in double (one
 * extra read of x, and no buffers for the model to carry). */
#include <math.h>

#include "nn_internal.h"

/* ---- frozen batch norm ---- */

static int fbn_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                     const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                     const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("frozen_bn", "x", x, 4, err));
    ES_CHECK(nn_check_device(ctx, "frozen_bn", x, err));
    ES_CHECK(nn_check_same("frozen_bn", x, y, err));
    int c = x->shape[1];
    ES_CHECK(nn_check_numel("frozen_bn", "weight", weight, c, err));
    ES_CHECK(nn_check_numel("frozen_bn", "bias", bias, c, err));
    ES_CHECK(nn_check_numel("frozen_bn", "running_mean", mean, c, err));
    ES_CHECK(nn_check_numel("frozen_bn", "running_var", var, c, err));
    return ES_OK;
}

/* plane i = (image, channel): out = in * scale[ch] + shift[ch] (forward), or
 * dx += dy * scale[ch] (backward, shift NULL); planes write disjoint memory */
typedef struct fbn_job {
    const float *in;
    float *out;
    const float *weight, *bias, *mean, *var;
    float eps;
    int c;
    int64_t hw;
} fbn_job;

static void fbn_plane(void *ud, size_t i, int thread) {
    const fbn_job *j = ud;
    (void)thread;
    int ch = (int)(i % (size_t)j->c);
    float scale = j->weight[ch] / sqrtf(j->var[ch] + j->eps);
    const float *in = j->in + (int64_t)i * j->hw;
    float *out = j->out + (int64_t)i * j->hw;
    if (j->bias) {
        float shift = j->bias[ch] - j->mean[ch] * scale;
        for (int64_t k = 0; k < j->hw; k++) out[k] = in[k] * scale + shift;
    } else {
        for (int64_t k = 0; k < j->hw; k++) out[k] += in[k] * scale;
    }
}

int nn_frozen_bn_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                         const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                         float eps, nn_tensor *y, es_error *err) {
    ES_CHECK(fbn_check(ctx, x, weight, bias, mean, var, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_frozen_bn_forward(ctx, x, weight, bias, mean, var, eps, y, err));
    fbn_job j = {x->data, y->data, weight->data, bias->data, mean->data, var->data, eps, x->shape[1],
                 (int64_t)x->shape[2] * x->shape[3]};
    nn_parallel_for(ctx, (size_t)x->shape[0] * x->shape[1], fbn_plane, &j);
    return ES_OK;
}

int nn_frozen_bn_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                          const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                          float eps, const nn_tensor *y, es_error *err) {
    ES_CHECK(fbn_check(ctx, x, weight, bias, mean, var, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "frozen_bn backward: y has no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_frozen_bn_backward(ctx, x, weight, mean, var, eps, y, err));
    fbn_job j = {y->grad, x->grad, weight->data, NULL, mean->data, var->data, eps, x->shape[1],
                 (int64_t)x->shape[2] * x->shape[3]};
    nn_parallel_for(ctx, (size_t)x->shape[0] * x->shape[1], fbn_plane, &j);
    return ES_OK;
}

/* ---- shared row normalisation: rows of length d; affine per "channel" = (j / inner) %
 * channels for group norm, j for layer norm ---- */

/* Mean and 1/std of a row: 16 float lanes (vectorisable, fixed order) summed in double. */
static void row_stats(const float *x, int64_t d, float eps, float *mean_out, float *rstd_out) {
    float lane[16] = {0};
    int64_t j = 0;
    for (; j + 16 <= d; j += 16)
        for (int l = 0; l < 16; l++) lane[l] += x[j + l];
    double s = 0;
    for (int l = 0; l < 16; l++) s += lane[l];
    for (; j < d; j++) s += x[j];
    float m = (float)(s / (double)d);
    float lane2[16] = {0};
    for (j = 0; j + 16 <= d; j += 16)
        for (int l = 0; l < 16; l++) {
            float t = x[j + l] - m;
            lane2[l] += t * t;
        }
    double s2 = 0;
    for (int l = 0; l < 16; l++) s2 += lane2[l];
    for (; j < d; j++) s2 += (double)(x[j] - m) * (x[j] - m);
    *mean_out = m;
    *rstd_out = (float)(1.0 / sqrt(s2 / (double)d + eps));
}

/* sum(dy) and sum(dy * (x - mean) * rstd) over n floats, the same lane scheme; with a
 * mask, dy counts only where mask > 0 (a ReLU after the norm) */
static void dot_stats(const float *x, const float *dy, const float *mask, int64_t n, float mean,
                      float rstd, double *sdy, double *sdyx) {
    float a[16] = {0}, b[16] = {0};
    int64_t j = 0;
    if (mask) { /* two loops, so that each vectorises */
        for (; j + 16 <= n; j += 16)
            for (int l = 0; l < 16; l++) {
                float dv = dy[j + l], mv = mask[j + l]; /* both loaded: the select vectorises */
                float d = mv > 0.0f ? dv : 0.0f;
                a[l] += d;
                b[l] += d * ((x[j + l] - mean) * rstd);
            }
    } else {
        for (; j + 16 <= n; j += 16)
            for (int l = 0; l < 16; l++) {
                a[l] += dy[j + l];
                b[l] += dy[j + l] * ((x[j + l] - mean) * rstd);
            }
    }
    double sa = 0, sb = 0;
    for (int l = 0; l < 16; l++) {
        sa += a[l];
        sb += b[l];
    }
    for (; j < n; j++) {
        float d = !mask || mask[j] > 0.0f ? dy[j] : 0.0f;
        sa += d;
        sb += d * ((x[j] - mean) * rstd);
    }
    *sdy = sa;
    *sdyx = sb;
}

/* ---- group norm ---- */

static int gn_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                    const nn_tensor *beta, int groups, const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("groupnorm", "x", x, 0, err));
    ES_CHECK(nn_check_device(ctx, "groupnorm", x, err));
    ES_CHECK(nn_check_same("groupnorm", x, y, err));
    if (x->ndim < 2 || groups < 1 || x->shape[1] % groups)
        return es_error_set(err, ES_ERR_INVALID, "groupnorm: %d channels not divisible into %d groups",
                            x->ndim >= 2 ? x->shape[1] : 0, groups);
    if (gamma) ES_CHECK(nn_check_numel("groupnorm", "gamma", gamma, x->shape[1], err));
    if (beta) ES_CHECK(nn_check_numel("groupnorm", "beta", beta, x->shape[1], err));
    return ES_OK;
}

typedef struct gn_job {
    const float *x, *gamma, *beta, *dy;
    float *y, *dx, *pg;
    int groups, cg;
    int64_t inner;
    float eps;
    const float *relu_out; /* backward of groupnorm + relu: its output, masking dy */
    int relu;              /* forward: clamp at 0 */
} gn_job;

static void gn_fwd_row(void *ud, size_t r, int thread) {
    const gn_job *j = ud;
    (void)thread;
    int64_t d = j->cg * j->inner;
    const float *in = j->x + (int64_t)r * d;
    float *out = j->y + (int64_t)r * d;
    float mean, rstd;
    row_stats(in, d, j->eps, &mean, &rstd);
    int g = (int)(r % (size_t)j->groups);
    for (int cc = 0; cc < j->cg; cc++) {
        int ch = g * j->cg + cc;
        float a = rstd * (j->gamma ? j->gamma[ch] : 1.0f);
        float b = (j->beta ? j->beta[ch] : 0.0f) - mean * a;
        const float *restrict pi = in + cc * j->inner;
        float *restrict po = out + cc * j->inner;
        if (j->relu)
            for (int64_t k = 0; k < j->inner; k++) {
                float v = pi[k] * a + b;
                po[k] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int64_t k = 0; k < j->inner; k++) po[k] = pi[k] * a + b;
    }
}

/* xhat = (x - mean) rstd; dxhat = dy * gamma; dx = rstd (dxhat - mean(dxhat) - xhat
 * mean(dxhat xhat)); per-channel sums of dy xhat and dy go to pg for gamma and beta */
static void gn_bwd_row(void *ud, size_t r, int thread) {
    const gn_job *j = ud;
    (void)thread;
    int cg = j->cg;
    int64_t inner = j->inner, d = cg * inner;
    const float *in = j->x + (int64_t)r * d, *dy = j->dy + (int64_t)r * d;
    const float *mask = j->relu_out ? j->relu_out + (int64_t)r * d : NULL;
    float mean, rstd;
    row_stats(in, d, j->eps, &mean, &rstd);
    int g = (int)(r % (size_t)j->groups);
    double s1 = 0, s2 = 0;
    for (int cc = 0; cc < cg; cc++) {
        float ga = j->gamma ? j->gamma[g * cg + cc] : 1.0f;
        double sdy, sdyx;
        dot_stats(in + cc * inner, dy + cc * inner, mask ? mask + cc * inner : NULL, inner, mean, rstd,
                  &sdy, &sdyx);
        s1 += ga * sdy;
        s2 += ga * sdyx;
        if (j->pg) {
            j->pg[((int64_t)r * cg + cc) * 2] = (float)sdyx;
            j->pg[((int64_t)r * cg + cc) * 2 + 1] = (float)sdy;
        }
    }
    if (!j->dx) return;
    float m1 = (float)(s1 / d), m2 = (float)(s2 / d);
    for (int cc = 0; cc < cg; cc++) {
        float ga = j->gamma ? j->gamma[g * cg + cc] : 1.0f;
        const float *restrict pi = in + cc * inner, *restrict pdy = dy + cc * inner;
        float *restrict pdx = j->dx + (int64_t)r * d + cc * inner;
        if (mask) {
            const float *restrict pm = mask + cc * inner;
            for (int64_t k = 0; k < inner; k++) {
                float dv = pdy[k], mv = pm[k];
                float xh = (pi[k] - mean) * rstd, dyk = mv > 0.0f ? dv : 0.0f;
                pdx[k] += rstd * (dyk * ga - m1 - xh * m2);
            }
        } else {
            for (int64_t k = 0; k < inner; k++) {
                float xh = (pi[k] - mean) * rstd;
                pdx[k] += rstd * (pdy[k] * ga - m1 - xh * m2);
            }
        }
    }
}

static int gn_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma, const nn_tensor *beta,
                      int groups, float eps, nn_tensor *y, int relu, es_error *err) {
    ES_CHECK(gn_check(ctx, x, gamma, beta, groups, y, err));
#ifdef ENTSEG_NN_CUDA
    if (NN_ON_CUDA(ctx)) {
        ES_CHECK(nn_cuda_groupnorm_forward(ctx, x, gamma, beta, groups, eps, y, err));
        return relu ? nn_relu_forward(ctx, y, y, err) : ES_OK;
    }
#endif
    gn_job j = {x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, NULL, y->data, NULL, NULL,
                groups, x->shape[1] / groups, nn_tensor_dims(x, 2, x->ndim), eps, NULL, relu};
    size_t rows = (size_t)x->shape[0] * groups;
    if (x->numel < 32768) {
        for (size_t r = 0; r < rows; r++) gn_fwd_row(&j, r, 0);
    } else {
        nn_parallel_for(ctx, rows, gn_fwd_row, &j);
    }
    return ES_OK;
}

int nn_groupnorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                         const nn_tensor *beta, int groups, float eps, nn_tensor *y,
                         es_error *err) {
    return gn_forward(ctx, x, gamma, beta, groups, eps, y, 0, err);
}

int nn_groupnorm_relu_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                              const nn_tensor *beta, int groups, float eps, nn_tensor *y,
                              es_error *err) {
    return gn_forward(ctx, x, gamma, beta, groups, eps, y, 1, err);
}

/* relu_out: the forward's output when it was groupnorm + relu (masks y->grad), else NULL */
static int gn_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma, const nn_tensor *beta,
                       int groups, float eps, const nn_tensor *y, const float *relu_out, es_error *err) {
    int n = x->shape[0], cg = x->shape[1] / groups;
    int rows = n * groups;
    float *pg = NULL;
    if ((gamma && gamma->grad) || (beta && beta->grad)) {
        pg = nn_scratch(ctx, 0, (size_t)rows * cg * 2 * sizeof(float), err);
        if (!pg) return ES_ERR_NOMEM;
    }
    gn_job j = {x->data, gamma ? gamma->data : NULL, NULL, y->grad, NULL, x->grad, pg,
                groups, cg, nn_tensor_dims(x, 2, x->ndim), eps, relu_out, 0};
    if (x->numel < 32768) {
        for (int r = 0; r < rows; r++) gn_bwd_row(&j, (size_t)r, 0);
    } else {
        nn_parallel_for(ctx, (size_t)rows, gn_bwd_row, &j);
    }
    /* parameter grads: the per-row partials reduced in row order (deterministic) */
    if (pg) {
        for (int r = 0; r < rows; r++) {
            int g = r % groups;
            for (int cc = 0; cc < cg; cc++) {
                int ch = g * cg + cc;
                if (gamma && gamma->grad) gamma->grad[ch] += pg[((int64_t)r * cg + cc) * 2];
                if (beta && beta->grad) beta->grad[ch] += pg[((int64_t)r * cg + cc) * 2 + 1];
            }
        }
    }
    return ES_OK;
}

int nn_groupnorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                          const nn_tensor *beta, int groups, float eps, const nn_tensor *y,
                          es_error *err) {
    ES_CHECK(gn_check(ctx, x, gamma, beta, groups, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "groupnorm backward: y has no grad");
    NN_CUDA_DISPATCH(ctx, nn_cuda_groupnorm_backward(ctx, x, gamma, beta, groups, eps, y, err));
    return gn_backward(ctx, x, gamma, beta, groups, eps, y, NULL, err);
}

int nn_groupnorm_relu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                               const nn_tensor *beta, int groups, float eps, const nn_tensor *y,
                               es_error *err) {
    ES_CHECK(gn_check(ctx, x, gamma, beta, groups, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "groupnorm_relu backward: y has no grad");
    if (NN_ON_CUDA(ctx)) {
        /* composed from the CUDA ops: masked gradient into a workspace, then GroupNorm's */
        nn_tensor pre = *y;
        pre.grad = nn_scratch(ctx, 1, (size_t)y->numel * sizeof(float), err);
        if (!pre.grad) return ES_ERR_NOMEM;
        ES_CHECK(nn_zero_grad(ctx, &pre, err));
        ES_CHECK(nn_relu_backward(ctx, &pre, y, err));
        return nn_groupnorm_backward(ctx, x, gamma, beta, groups, eps, &pre, err);
    }
    return gn_backward(ctx, x, gamma, beta, groups, eps, y, y->data, err);
}

/* ---- layer norm ---- */

static int ln_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                    const nn_tensor *beta, const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("layernorm", "x", x, 0, err));
    ES_CHECK(nn_check_device(ctx, "layernorm", x, err));
    ES_CHECK(nn_check_same("layernorm", x, y, err));
    int d = x->shape[x->ndim - 1];
    if (gamma) ES_CHECK(nn_check_numel("layernorm", "gamma", gamma, d, err));
    if (beta) ES_CHECK(nn_check_numel("layernorm", "beta", beta, d, err));
    return ES_OK;
}

int nn_layernorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                         const nn_tensor *beta, float eps, nn_tensor *y, es_error *err) {
    ES_CHECK(ln_check(ctx, x, gamma, beta, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_layernorm_forward(ctx, x, gamma, beta, eps, y, err));
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *in = x->data + r * d;
        float *out = y->data + r * d;
        float mean, rstd;
        row_stats(in, d, eps, &mean, &rstd);
        for (int j = 0; j < d; j++) {
            float v = (in[j] - mean) * rstd;
            out[j] = v * (gamma ? gamma->data[j] : 1.0f) + (beta ? beta->data[j] : 0.0f);
        }
    }
    return ES_OK;
}

int nn_layernorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                          const nn_tensor *beta, float eps, const nn_tensor *y, es_error *err) {
    ES_CHECK(ln_check(ctx, x, gamma, beta, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "layernorm backward: y has no grad");
    NN_CUDA_DISPATCH(ctx, nn_cuda_layernorm_backward(ctx, x, gamma, beta, eps, y, err));
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    /* sequential over rows: gamma/beta grads accumulate in row order (deterministic) */
    for (int64_t r = 0; r < rows; r++) {
        const float *in = x->data + r * d, *dy = y->grad + r * d;
        float mean, rstd;
        row_stats(in, d, eps, &mean, &rstd);
        double s1 = 0, s2 = 0;
        for (int j = 0; j < d; j++) {
            float xh = (in[j] - mean) * rstd;
            float g = dy[j] * (gamma ? gamma->data[j] : 1.0f);
            s1 += g;
            s2 += g * xh;
            if (gamma && gamma->grad) gamma->grad[j] += dy[j] * xh;
            if (beta && beta->grad) beta->grad[j] += dy[j];
        }
        if (x->grad) {
            float m1 = (float)(s1 / d), m2 = (float)(s2 / d);
            float *dx = x->grad + r * d;
            for (int j = 0; j < d; j++) {
                float xh = (in[j] - mean) * rstd;
                dx[j] += rstd * (dy[j] * (gamma ? gamma->data[j] : 1.0f) - m1 - xh * m2);
            }
        }
    }
    return ES_OK;
}
