/* ops_attention.c: multi-head scaled dot-product attention with a boolean mask. Heads are
 * column blocks of E, so each image's heads form one strided batch of gemms (the per-head
 * (Lq, Dh) blocks sit Dh floats apart with leading dimension E). */
#include <math.h>

#include "nn_internal.h"
#include "nn_ops.h"

typedef struct att_dims {
    int b, lq, lk, e, h, dh;
} att_dims;

static int att_check(nn_ctx *ctx, const nn_tensor *q, const nn_tensor *k, const nn_tensor *v,
                     const nn_tensor *mask, int heads, const nn_tensor *probs,
                     const nn_tensor *out, att_dims *d, es_error *err) {
    ES_CHECK(nn_check_tensor("attention", "q", q, 3, err));
    ES_CHECK(nn_check_tensor("attention", "k", k, 3, err));
    ES_CHECK(nn_check_tensor("attention", "v", v, 3, err));
    ES_CHECK(nn_check_tensor("attention", "out", out, 3, err));
    ES_CHECK(nn_check_device(ctx, "attention", q, err));
    d->b = q->shape[0];
    d->lq = q->shape[1];
    d->e = q->shape[2];
    d->lk = k->shape[1];
    d->h = heads;
    if (heads < 1 || d->e % heads)
        return es_error_set(err, ES_ERR_INVALID, "attention: embedding %d not divisible into %d heads",
                            d->e, heads);
    d->dh = d->e / heads;
    char s1[80], s2[80], s3[80];
    if (k->shape[0] != d->b || v->shape[0] != d->b || k->shape[2] != d->e || v->shape[2] != d->e ||
        v->shape[1] != d->lk || !nn_tensor_same_shape(q, out))
        return es_error_set(err, ES_ERR_INVALID, "attention: q %s, k %s, v %s do not fit",
                            nn_shape_str(q, s1, 80), nn_shape_str(k, s2, 80), nn_shape_str(v, s3, 80));
    if (mask) ES_CHECK(nn_check_numel("attention", "mask", mask, (int64_t)d->b * d->lq * d->lk, err));
    ES_CHECK(nn_check_numel("attention", "probs", probs, (int64_t)d->b * heads * d->lq * d->lk, err));
    return ES_OK;
}

/* softmax of each row of scores (B, H, Lq, Lk) in place; masked keys get 0, rows with
 * every key masked are left unmasked (Mask2Former) */
static void masked_softmax(float *s, const float *mask, const att_dims *d) {
    int64_t rows = (int64_t)d->b * d->h * d->lq;
    for (int64_t r = 0; r < rows; r++) {
        int bi = (int)(r / ((int64_t)d->h * d->lq)), qi = (int)(r % d->lq);
        float *row = s + r * d->lk;
        const float *m = mask ? mask + ((int64_t)bi * d->lq + qi) * d->lk : NULL;
        int any = 0;
        if (m)
            for (int j = 0; j < d->lk; j++) any |= m[j] == 0.0f;
        int use_mask = m && any;
        float mx = -INFINITY;
        for (int j = 0; j < d->lk; j++)
            if (!(use_mask && m[j] != 0.0f) && row[j] > mx) mx = row[j];
        float sum = 0.0f;
        for (int j = 0; j < d->lk; j++) {
            float e = (use_mask && m[j] != 0.0f) ? 0.0f : expf(row[j] - mx);
            row[j] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < d->lk; j++) row[j] *= inv;
    }
}

int nn_attention_forward(nn_ctx *ctx, const nn_tensor *q, const nn_tensor *k,
                         const nn_tensor *v, const nn_tensor *mask, int heads,
                         nn_tensor *probs, nn_tensor *out, es_error *err) {
    att_dims d = {0};
    ES_CHECK(att_check(ctx, q, k, v, mask, heads, probs, out, &d, err));
    float scale = 1.0f / sqrtf((float)d.dh);
    int64_t pq = (int64_t)d.lq * d.lk;
    for (int b = 0; b < d.b; b++) {
        const float *qb = q->data + (int64_t)b * d.lq * d.e, *kb = k->data + (int64_t)b * d.lk * d.e;
        ES_CHECK(nn_gemm_ex(ctx, 0, 1, d.lq, d.lk, d.dh, scale, qb, d.e, d.dh, kb, d.e, d.dh, 0.0f,
                          probs->data + (int64_t)b * d.h * pq, d.lk, pq, d.h, err));
    }
#ifdef ENTSEG_NN_CUDA
    if (NN_ON_CUDA(ctx))
        ES_CHECK(nn_cuda_masked_softmax(ctx, probs->data, mask ? mask->data : NULL, d.b, d.h, d.lq,
                                      d.lk, err));
    else
#endif
        masked_softmax(probs->data, mask ? mask->data : NULL, &d);
    for (int b = 0; b < d.b; b++) {
        const float *vb = v->data + (int64_t)b * d.lk * d.e;
        ES_CHECK(nn_gemm_ex(ctx, 0, 0, d.lq, d.dh, d.lk, 1.0f, probs->data + (int64_t)b * d.h * pq,
                          d.lk, pq, vb, d.e, d.dh, 0.0f, out->data + (int64_t)b * d.lq * d.e, d.e,
                          d.dh, d.h, err));
    }
    return ES_OK;
}

int nn_attention_backward(nn_ctx *ctx, const nn_tensor *q, const nn_tensor *k,
                          const nn_tensor *v, const nn_tensor *mask, int heads,
                          const nn_tensor *probs, const nn_tensor *out, es_error *err) {
    att_dims d = {0};
    ES_CHECK(att_check(ctx, q, k, v, mask, heads, probs, out, &d, err));
    if (!out->grad) return es_error_set(err, ES_ERR_INVALID, "attention backward: out has no grad");
    float scale = 1.0f / sqrtf((float)d.dh);
    int64_t pq = (int64_t)d.lq * d.lk, per = (int64_t)d.h * pq;
    float *dp = nn_scratch(ctx, 2, (size_t)per * sizeof(float), err);
    float *ds = nn_scratch(ctx, 3, (size_t)per * sizeof(float), err);
    if (!dp || !ds) return ES_ERR_NOMEM;
    for (int b = 0; b < d.b; b++) {
        int64_t off = (int64_t)b * d.lq * d.e, koff = (int64_t)b * d.lk * d.e;
        const float *dout = out->grad + off, *pb = probs->data + (int64_t)b * per;
        /* dP = dO V^T, dV += P^T dO */
        ES_CHECK(nn_gemm_ex(ctx, 0, 1, d.lq, d.lk, d.dh, 1.0f, dout, d.e, d.dh, v->data + koff, d.e,
                          d.dh, 0.0f, dp, d.lk, pq, d.h, err));
        if (v->grad)
            ES_CHECK(nn_gemm_ex(ctx, 1, 0, d.lk, d.dh, d.lq, 1.0f, pb, d.lk, pq, dout, d.e, d.dh, 1.0f,
                              v->grad + koff, d.e, d.dh, d.h, err));
        /* dS = P * (dP - rowsum(dP * P)); masked keys have P = 0 */
        ES_CHECK(nn_fill(ctx, &(nn_tensor){.data = ds, .numel = per, .device = ctx->device}, 0.0f, err));
        nn_tensor pt = nn_tensor_wrap((float *)pb, dp, ctx->device, 2, NN_SHAPE(d.h * d.lq, d.lk));
        nn_tensor st = nn_tensor_wrap(ds, ds, ctx->device, 2, NN_SHAPE(d.h * d.lq, d.lk));
        ES_CHECK(nn_softmax_backward(ctx, &st, &pt, err));
        /* dQ += scale dS K, dK += scale dS^T Q */
        if (q->grad)
            ES_CHECK(nn_gemm_ex(ctx, 0, 0, d.lq, d.dh, d.lk, scale, ds, d.lk, pq, k->data + koff, d.e,
                              d.dh, 1.0f, q->grad + off, d.e, d.dh, d.h, err));
        if (k->grad)
            ES_CHECK(nn_gemm_ex(ctx, 1, 0, d.lk, d.dh, d.lq, scale, ds, d.lk, pq, q->data + off, d.e,
                              d.dh, 1.0f, k->grad + koff, d.e, d.dh, d.h, err));
    }
    return ES_OK;
}
