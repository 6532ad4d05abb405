/* ops_index.c: row gather (index_select along dim 0) and its scatter-add backward. Indices
 * are checked on the CPU; on CUDA they are trusted (checked by the caller's host copy). */
#include "nn_internal.h"

static int is_check(nn_ctx *ctx, const nn_tensor *x, const int32_t *idx, int k, const nn_tensor *y,
                    int64_t *row, es_error *err) {
    ES_CHECK(nn_check_tensor("index_select", "x", x, 0, err));
    ES_CHECK(nn_check_tensor("index_select", "y", y, x->ndim, err));
    ES_CHECK(nn_check_device(ctx, "index_select", x, err));
    if (k < 0 || (k > 0 && !idx) || y->shape[0] != k)
        return es_error_set(err, ES_ERR_INVALID, "index_select: %d indices, y has %d rows", k, y->shape[0]);
    *row = x->shape[0] ? x->numel / x->shape[0] : 0;
    if (y->numel != (int64_t)k * *row) {
        char s1[80], s2[80];
        return es_error_set(err, ES_ERR_INVALID, "index_select: y %s does not fit x %s", nn_shape_str(y, s1, 80),
                            nn_shape_str(x, s2, 80));
    }
    if (ctx->device == NN_DEVICE_CPU)
        for (int i = 0; i < k; i++)
            if (idx[i] < 0 || idx[i] >= x->shape[0])
                return es_error_set(err, ES_ERR_INVALID, "index_select: index %d = %d outside 0..%d", i, idx[i],
                                    x->shape[0] - 1);
    return ES_OK;
}

int nn_index_select_forward(nn_ctx *ctx, const nn_tensor *x, const int32_t *idx, int k,
                            nn_tensor *y, es_error *err) {
    int64_t row = 0;
    ES_CHECK(is_check(ctx, x, idx, k, y, &row, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_index_select(ctx, x->data, idx, k, row, y->data, err));
    for (int i = 0; i < k; i++) memcpy(y->data + i * row, x->data + idx[i] * row, (size_t)row * sizeof(float));
    return ES_OK;
}

int nn_index_select_backward(nn_ctx *ctx, const nn_tensor *x, const int32_t *idx, int k,
                             const nn_tensor *y, es_error *err) {
    int64_t row = 0;
    ES_CHECK(is_check(ctx, x, idx, k, y, &row, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "index_select backward: y has no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_index_select_backward(ctx, y->grad, idx, k, row, x->grad, err));
    for (int i = 0; i < k; i++) {
        float *dx = x->grad + idx[i] * row;
        const float *dy = y->grad + i * row;
        for (int64_t j = 0; j < row; j++) dx[j] += dy[j];
    }
    return ES_OK;
}
