/* ops_topk.c: the k largest values of each row (torch.topk, sorted), ties by lower index,
 * NaN above everything (as torch). */
#include <math.h>

#include "nn_internal.h"

typedef struct vi {
    float v;
    int32_t i;
} vi;

static int vi_cmp(const void *pa, const void *pb) {
    const vi *a = pa, *b = pb;
    int an = isnan(a->v), bn = isnan(b->v);
    if (an != bn) return an ? -1 : 1;
    if (!an && a->v != b->v) return a->v > b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

static int topk_check(nn_ctx *ctx, const nn_tensor *x, int k, const nn_tensor *values,
                      const int32_t *indices, int64_t *rows, int *d, es_error *err) {
    ES_CHECK(nn_check_tensor("topk", "x", x, 0, err));
    ES_CHECK(nn_check_device(ctx, "topk", x, err));
    *d = x->shape[x->ndim - 1];
    *rows = *d ? x->numel / *d : 0;
    if (k < 1 || k > *d) return es_error_set(err, ES_ERR_INVALID, "topk: k = %d outside 1..%d", k, *d);
    if (!indices) return es_error_set(err, ES_ERR_INVALID, "topk: indices buffer is missing");
    return nn_check_numel("topk", "values", values, *rows * k, err);
}

int nn_topk_forward(nn_ctx *ctx, const nn_tensor *x, int k, nn_tensor *values,
                    int32_t *indices, es_error *err) {
    int64_t rows = 0;
    int d = 0;
    ES_CHECK(topk_check(ctx, x, k, values, indices, &rows, &d, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_topk_forward(ctx, x, k, values, indices, err));
    vi *buf = malloc((size_t)d * sizeof *buf);
    if (!buf) return es_error_set(err, ES_ERR_NOMEM, "topk: out of memory");
    for (int64_t r = 0; r < rows; r++) {
        const float *in = x->data + r * d;
        for (int j = 0; j < d; j++) buf[j] = (vi){in[j], j};
        qsort(buf, (size_t)d, sizeof *buf, vi_cmp);
        for (int j = 0; j < k; j++) {
            values->data[r * k + j] = buf[j].v;
            indices[r * k + j] = buf[j].i;
        }
    }
    free(buf);
    return ES_OK;
}

int nn_topk_backward(nn_ctx *ctx, const nn_tensor *x, int k, const nn_tensor *values,
                     const int32_t *indices, es_error *err) {
    int64_t rows = 0;
    int d = 0;
    ES_CHECK(topk_check(ctx, x, k, values, indices, &rows, &d, err));
    if (!values->grad) return es_error_set(err, ES_ERR_INVALID, "topk backward: values have no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_topk_backward(ctx, x, k, values, indices, err));
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < k; j++) {
            int32_t i = indices[r * k + j];
            if (i >= 0 && i < d) x->grad[r * d + i] += values->grad[r * k + j];
        }
    return ES_OK;
}
