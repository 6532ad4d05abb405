/* losses.cu: the fused losses (value + gradient) of losses.c on the device. Per-element or
 * per-row values go to a double scratch and are summed in a fixed order. */
#include "nn_cuda_internal.cuh"

__device__ static double bce_logits(double x, double t) {
    return (x > 0 ? x : 0.0) - x * t + log1p(exp(-fabs(x)));
}

__global__ static void sigmoid_loss_kernel(int focal, const float *x, const float *t, const float *w, float alpha,
                                           float gamma, float scale, double *out, float *grad, int64_t n) {
    CUDA_FOR(i, n) {
        double xv = x[i], tv = t[i], wt = w ? w[i] : 1.0;
        double p = 1.0 / (1.0 + exp(-xv));
        double bce = bce_logits(xv, tv);
        if (!focal) {
            out[i] = wt * bce;
            if (grad) grad[i] += (float)(scale * wt * (p - tv));
            continue;
        }
        double pt = tv + p * (1.0 - 2.0 * tv);
        double at = alpha * tv + (1.0 - alpha) * (1.0 - tv);
        double ptg = pow(pt, (double)gamma);
        out[i] = wt * bce * at * ptg;
        if (grad) {
            double dpt = (1.0 - 2.0 * tv) * p * (1.0 - p);
            double ptg1 = pt > 0 ? gamma * pow(pt, gamma - 1.0) : (gamma == 1.0f ? 1.0 : 0.0);
            grad[i] += (float)(scale * wt * at * ((p - tv) * ptg + bce * ptg1 * dpt));
        }
    }
}

extern "C" int nn_cuda_sigmoid_loss(nn_ctx *ctx, int focal, const nn_tensor *logits, const nn_tensor *targets,
                                    const nn_tensor *weight, float alpha, float gamma, float scale, float *loss,
                                    es_error *err) {
    int64_t n = logits->numel;
    double *part = nn_cuda_dscratch(ctx, n, err);
    if (!part) return ES_ERR_NOMEM;
    if (n > 0) {
        sigmoid_loss_kernel<<<nn_blocks(n), NN_THREADS, 0, cst(ctx)->stream>>>(
            focal, logits->data, targets->data, weight ? weight->data : NULL, alpha, gamma, scale, part, logits->grad,
            n);
        CU_LAUNCHED(err);
    }
    double total = 0;
    if (n > 0) ES_CHECK(nn_cuda_sum_to_host(ctx, part, n, &total, err));
    *loss = (float)(scale * total);
    return ES_OK;
}

/* one block per row */
__global__ static void dice_kernel(const float *x, const float *t, int64_t d, int variant, float scale, double *out,
                                   float *grad) {
    __shared__ double sh[NN_THREADS];
    int64_t r = blockIdx.x;
    const float *xr = x + r * d, *tr = t + r * d;
    double a = 0, sp = 0, sp2 = 0, st = 0, st2 = 0;
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) {
        double p = 1.0 / (1.0 + exp(-(double)xr[j]));
        a += p * tr[j];
        sp += p;
        sp2 += p * p;
        st += tr[j];
        st2 += (double)tr[j] * tr[j];
    }
    a = block_sum(a, sh);
    sp = block_sum(sp, sh);
    sp2 = block_sum(sp2, sh);
    st = block_sum(st, sh);
    st2 = block_sum(st2, sh);
    double num, den;
    if (variant == 0) {
        num = 2 * a;
        den = sp2 + 1e-3 + st2 + 1e-3;
    } else if (variant == 1) {
        num = 2 * a;
        den = sp2 + st2 + 1e-5;
    } else {
        num = 2 * a + 1;
        den = sp + st + 1;
    }
    if (threadIdx.x == 0) out[r] = 1.0 - num / den;
    if (!grad) return;
    for (int64_t j = threadIdx.x; j < d; j += NN_THREADS) {
        double p = 1.0 / (1.0 + exp(-(double)xr[j]));
        double dden = variant == 2 ? 1.0 : 2.0 * p;
        double dr = (2.0 * tr[j] * den - num * dden) / (den * den);
        grad[r * d + j] += (float)(-scale * dr * p * (1.0 - p));
    }
}

extern "C" int nn_cuda_dice_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets, int variant,
                                 float scale, float *loss, es_error *err) {
    int rows = logits->shape[0];
    int64_t d = rows ? logits->numel / rows : 0;
    double *part = nn_cuda_dscratch(ctx, rows, err);
    if (!part) return ES_ERR_NOMEM;
    double total = 0;
    if (rows > 0) {
        dice_kernel<<<(unsigned)rows, NN_THREADS, 0, cst(ctx)->stream>>>(logits->data, targets->data, d, variant,
                                                                         scale, part, logits->grad);
        CU_LAUNCHED(err);
        ES_CHECK(nn_cuda_sum_to_host(ctx, part, rows, &total, err));
    }
    *loss = (float)(scale * total);
    return ES_OK;
}

/* pass 0: part[r] = w[y_r] (0 when ignored), part[rows + r] = w[y_r] nll_r; bad labels
 * are counted in part[2 rows]. pass 1: gradient with the normaliser known. */
__global__ static void ce_kernel(const float *x, const int32_t *labels, const float *cw, int64_t rows, int c,
                                 double *part, int pass, double k_scale, float *grad) {
    CUDA_FOR(r, rows) {
        int y = labels[r];
        if (y < 0 || y >= c) {
            if (pass == 0) {
                part[r] = 0;
                part[rows + r] = 0;
                if (y >= c) atomicAdd(&part[2 * rows], 1.0); /* only tested against 0 */
            }
            continue;
        }
        const float *xr = x + r * c;
        double mx = xr[0];
        for (int j = 1; j < c; j++) mx = xr[j] > mx ? xr[j] : mx;
        double s = 0;
        for (int j = 0; j < c; j++) s += exp(xr[j] - mx);
        double lse = mx + log(s), w = cw ? cw[y] : 1.0;
        if (pass == 0) {
            part[r] = w;
            part[rows + r] = w * (lse - xr[y]);
        } else {
            for (int j = 0; j < c; j++) grad[r * c + j] += (float)(k_scale * w * (exp(xr[j] - lse) - (j == y)));
        }
    }
}

extern "C" int nn_cuda_softmax_ce_loss(nn_ctx *ctx, const nn_tensor *logits, const int32_t *labels,
                                       const nn_tensor *class_weight, int weighted_mean, float scale, float *loss,
                                       es_error *err) {
    int c = logits->shape[logits->ndim - 1];
    int64_t rows = c ? logits->numel / c : 0;
    double *part = nn_cuda_dscratch(ctx, 2 * rows + 1, err);
    if (!part) return ES_ERR_NOMEM;
    cudaStream_t st = cst(ctx)->stream;
    CU_TRY(cudaMemsetAsync(part + 2 * rows, 0, sizeof(double), st), err);
    const float *cw = class_weight ? class_weight->data : NULL;
    if (rows > 0) {
        ce_kernel<<<nn_blocks(rows), NN_THREADS, 0, st>>>(logits->data, labels, cw, rows, c, part, 0, 0, NULL);
        CU_LAUNCHED(err);
    }
    double wsum = 0, total = 0, bad = 0;
    ES_CHECK(nn_cuda_sum_to_host(ctx, part + 2 * rows, 1, &bad, err));
    if (bad > 0) return es_error_set(err, ES_ERR_INVALID, "softmax_ce_loss: a label is >= %d classes", c);
    if (rows > 0) {
        ES_CHECK(nn_cuda_sum_to_host(ctx, part, rows, &wsum, err));
        ES_CHECK(nn_cuda_sum_to_host(ctx, part + rows, rows, &total, err));
    }
    double norm = weighted_mean ? (wsum > 0 ? wsum : 1.0) : 1.0;
    if (logits->grad && rows > 0) {
        ce_kernel<<<nn_blocks(rows), NN_THREADS, 0, st>>>(logits->data, labels, cw, rows, c, part, 1, scale / norm,
                                                          logits->grad);
        CU_LAUNCHED(err);
    }
    *loss = (float)(scale * total / norm);
    return ES_OK;
}
