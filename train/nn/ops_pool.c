/* ops_pool.c: 2-D max pooling. Backward finds each window's arg-max again (first maximum in
 * row-major order, as forward) instead of keeping an index tensor. */
#include <math.h>

#include "nn_internal.h"

static int pool_check(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                      const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("maxpool2d", "x", x, 4, err));
    ES_CHECK(nn_check_tensor("maxpool2d", "y", y, 4, err));
    ES_CHECK(nn_check_device(ctx, "maxpool2d", x, err));
    if (kernel < 1 || stride < 1 || pad < 0 || pad > kernel / 2)
        return es_error_set(err, ES_ERR_INVALID, "maxpool2d: kernel %d, stride %d, padding %d invalid",
                            kernel, stride, pad);
    int oh = nn_conv2d_out_size(x->shape[2], kernel, stride, pad, 1);
    int ow = nn_conv2d_out_size(x->shape[3], kernel, stride, pad, 1);
    if (y->shape[0] != x->shape[0] || y->shape[1] != x->shape[1] || y->shape[2] != oh ||
        y->shape[3] != ow) {
        char s1[80], s2[80];
        return es_error_set(err, ES_ERR_INVALID, "maxpool2d: x %s, y %s (expected %d x %d)",
                            nn_shape_str(x, s1, 80), nn_shape_str(y, s2, 80), oh, ow);
    }
    return ES_OK;
}

/* index into the plane of the window maximum, -1 for an all-padding window */
static int64_t window_argmax(const float *in, int h, int w, int y0, int x0, int kernel) {
    int64_t best = -1;
    float bv = -INFINITY;
    for (int ky = 0; ky < kernel; ky++) {
        int iy = y0 + ky;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < kernel; kx++) {
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

int nn_maxpool2d_forward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                         nn_tensor *y, es_error *err) {
    ES_CHECK(pool_check(ctx, x, kernel, stride, pad, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_maxpool_forward(ctx, x, kernel, stride, pad, y, err));
    int h = x->shape[2], w = x->shape[3], oh = y->shape[2], ow = y->shape[3];
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    for (int64_t p = 0; p < planes; p++) {
        const float *in = x->data + p * h * w;
        float *out = y->data + p * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int64_t i = window_argmax(in, h, w, oy * stride - pad, ox * stride - pad, kernel);
                out[(int64_t)oy * ow + ox] = i >= 0 ? in[i] : -INFINITY;
            }
    }
    return ES_OK;
}

int nn_maxpool2d_backward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                          const nn_tensor *y, es_error *err) {
    ES_CHECK(pool_check(ctx, x, kernel, stride, pad, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "maxpool2d backward: y has no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_maxpool_backward(ctx, x, kernel, stride, pad, y, err));
    int h = x->shape[2], w = x->shape[3], oh = y->shape[2], ow = y->shape[3];
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    for (int64_t p = 0; p < planes; p++) {
        const float *in = x->data + p * h * w, *dy = y->grad + p * oh * ow;
        float *dx = x->grad + p * h * w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int64_t i = window_argmax(in, h, w, oy * stride - pad, ox * stride - pad, kernel);
                if (i >= 0) dx[i] += dy[(int64_t)oy * ow + ox];
            }
    }
    return ES_OK;
}
