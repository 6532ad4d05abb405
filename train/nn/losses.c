/* losses.c: the losses of K-Net, the Entity framework and Mask2Former, each fused with its
 * gradient (one pass computes the value and accumulates d(scale*loss)/d(logits)). Sums are
 * taken in double, in element order (deterministic). */
#include <math.h>

#include "nn_internal.h"

static int pair_check(nn_ctx *ctx, const char *op, const nn_tensor *x, const nn_tensor *t,
                      const nn_tensor *w, float *loss, es_error *err) {
    ES_CHECK(nn_check_tensor(op, "logits", x, 0, err));
    ES_CHECK(nn_check_device(ctx, op, x, err));
    ES_CHECK(nn_check_numel(op, "targets", t, x->numel, err));
    if (w) ES_CHECK(nn_check_numel(op, "weight", w, x->numel, err));
    if (!loss) return es_error_set(err, ES_ERR_INVALID, "%s: loss output is missing", op);
    return ES_OK;
}

static double bce_logits(float x, float t) {
    /* max(x, 0) - x t + log(1 + exp(-|x|)), stable for large |x| */
    return (x > 0 ? x : 0.0) - (double)x * t + log1p(exp(-fabs((double)x)));
}

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

int nn_sigmoid_focal_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                          const nn_tensor *weight, float alpha, float gamma, float scale,
                          float *loss, es_error *err) {
    ES_CHECK(pair_check(ctx, "sigmoid_focal_loss", logits, targets, weight, loss, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_sigmoid_loss(ctx, 1, logits, targets, weight, alpha, gamma,
                                               scale, loss, err));
    double total = 0;
    for (int64_t i = 0; i < logits->numel; i++) {
        double x = logits->data[i], t = targets->data[i];
        double wt = weight ? weight->data[i] : 1.0;
        double p = sigmoid_d(x);
        double pt = t + p * (1.0 - 2.0 * t);
        double at = alpha * t + (1.0 - alpha) * (1.0 - t);
        double bce = bce_logits((float)x, (float)t);
        double ptg = pow(pt, gamma);
        total += wt * bce * at * ptg;
        if (logits->grad) {
            double dpt = (1.0 - 2.0 * t) * p * (1.0 - p);
            double ptg1 = pt > 0 ? gamma * pow(pt, gamma - 1.0) : (gamma == 1.0f ? 1.0 : 0.0);
            double g = at * ((p - t) * ptg + bce * ptg1 * dpt);
            logits->grad[i] += (float)(scale * wt * g);
        }
    }
    *loss = (float)(scale * total);
    return ES_OK;
}

int nn_bce_logits_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                       const nn_tensor *weight, float scale, float *loss, es_error *err) {
    ES_CHECK(pair_check(ctx, "bce_logits_loss", logits, targets, weight, loss, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_sigmoid_loss(ctx, 0, logits, targets, weight, 0, 0, scale,
                                               loss, err));
    double total = 0;
    for (int64_t i = 0; i < logits->numel; i++) {
        double wt = weight ? weight->data[i] : 1.0;
        total += wt * bce_logits(logits->data[i], targets->data[i]);
        if (logits->grad)
            logits->grad[i] += (float)(scale * wt * (sigmoid_d(logits->data[i]) - targets->data[i]));
    }
    *loss = (float)(scale * total);
    return ES_OK;
}

int nn_dice_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                 nn_dice_variant variant, float scale, float *loss, es_error *err) {
    ES_CHECK(pair_check(ctx, "dice_loss", logits, targets, NULL, loss, err));
    if (variant < NN_DICE_KNET || variant > NN_DICE_MASK2FORMER)
        return es_error_set(err, ES_ERR_INVALID, "dice_loss: unknown variant %d", (int)variant);
    NN_CUDA_DISPATCH(ctx, nn_cuda_dice_loss(ctx, logits, targets, (int)variant, scale, loss, err));
    int rows = logits->shape[0];
    int64_t d = rows ? logits->numel / rows : 0;
    double total = 0;
    for (int r = 0; r < rows; r++) {
        const float *x = logits->data + (int64_t)r * d, *t = targets->data + (int64_t)r * d;
        double a = 0, sp = 0, sp2 = 0, st = 0, st2 = 0;
        for (int64_t j = 0; j < d; j++) {
            double p = sigmoid_d(x[j]);
            a += p * t[j];
            sp += p;
            sp2 += p * p;
            st += t[j];
            st2 += (double)t[j] * t[j];
        }
        double num, den;
        if (variant == NN_DICE_KNET) {
            num = 2 * a;
            den = sp2 + 1e-3 + st2 + 1e-3;
        } else if (variant == NN_DICE_ENTITY) {
            num = 2 * a;
            den = sp2 + st2 + 1e-5;
        } else {
            num = 2 * a + 1;
            den = sp + st + 1;
        }
        total += 1.0 - num / den;
        if (logits->grad) {
            float *g = logits->grad + (int64_t)r * d;
            for (int64_t j = 0; j < d; j++) {
                double p = sigmoid_d(x[j]);
                /* d(num/den)/dp = (dnum den - num dden) / den^2 */
                double dden = variant == NN_DICE_MASK2FORMER ? 1.0 : 2.0 * p;
                double dr = (2.0 * t[j] * den - num * dden) / (den * den);
                g[j] += (float)(-scale * dr * p * (1.0 - p));
            }
        }
    }
    *loss = (float)(scale * total);
    return ES_OK;
}

int nn_softmax_ce_loss(nn_ctx *ctx, const nn_tensor *logits, const int32_t *labels,
                       const nn_tensor *class_weight, int weighted_mean, float scale,
                       float *loss, es_error *err) {
    ES_CHECK(nn_check_tensor("softmax_ce_loss", "logits", logits, 0, err));
    ES_CHECK(nn_check_device(ctx, "softmax_ce_loss", logits, err));
    int c = logits->shape[logits->ndim - 1];
    if (class_weight) ES_CHECK(nn_check_numel("softmax_ce_loss", "class_weight", class_weight, c, err));
    if (!labels || !loss) return es_error_set(err, ES_ERR_INVALID, "softmax_ce_loss: labels or loss missing");
    NN_CUDA_DISPATCH(ctx, nn_cuda_softmax_ce_loss(ctx, logits, labels, class_weight, weighted_mean,
                                                  scale, loss, err));
    int64_t rows = c ? logits->numel / c : 0;
    double total = 0, wsum = 0;
    for (int64_t r = 0; r < rows; r++) {
        int y = labels[r];
        if (y < 0) continue;
        if (y >= c)
            return es_error_set(err, ES_ERR_INVALID, "softmax_ce_loss: label %d of row %lld outside 0..%d",
                                y, (long long)r, c - 1);
        wsum += class_weight ? class_weight->data[y] : 1.0;
    }
    double norm = weighted_mean ? (wsum > 0 ? wsum : 1.0) : 1.0;
    for (int64_t r = 0; r < rows; r++) {
        int y = labels[r];
        if (y < 0) continue;
        const float *x = logits->data + r * c;
        double mx = x[0];
        for (int j = 1; j < c; j++) mx = x[j] > mx ? x[j] : mx;
        double s = 0;
        for (int j = 0; j < c; j++) s += exp(x[j] - mx);
        double lse = mx + log(s);
        double w = class_weight ? class_weight->data[y] : 1.0;
        total += w * (lse - x[y]);
        if (logits->grad) {
            float *g = logits->grad + r * c;
            double k = scale * w / norm;
            for (int j = 0; j < c; j++) g[j] += (float)(k * (exp(x[j] - lse) - (j == y)));
        }
    }
    *loss = (float)(scale * total / norm);
    return ES_OK;
}
