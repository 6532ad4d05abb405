/* ops_sample.c: Mask2Former's point_sample: bilinear reads at normalised points with zero
 * padding (grid_sample, align_corners=False: pixel x = p * W - 0.5). */
#include <math.h>

#include "nn_internal.h"

static int ps_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *pts, const nn_tensor *y,
                    es_error *err) {
    ES_CHECK(nn_check_tensor("point_sample", "x", x, 4, err));
    ES_CHECK(nn_check_tensor("point_sample", "points", pts, 3, err));
    ES_CHECK(nn_check_tensor("point_sample", "y", y, 3, err));
    ES_CHECK(nn_check_device(ctx, "point_sample", x, err));
    if (pts->shape[0] != x->shape[0] || pts->shape[2] != 2 || y->shape[0] != x->shape[0] ||
        y->shape[1] != x->shape[1] || y->shape[2] != pts->shape[1]) {
        char s1[80], s2[80], s3[80];
        return es_error_set(err, ES_ERR_INVALID, "point_sample: x %s, points %s, y %s do not fit",
                            nn_shape_str(x, s1, 80), nn_shape_str(pts, s2, 80), nn_shape_str(y, s3, 80));
    }
    return ES_OK;
}

typedef struct taps4 {
    int64_t idx[4];
    float wt[4]; /* 0 for corners outside the image */
} taps4;

static taps4 point_taps(float px, float py, int h, int w) {
    taps4 t;
    if (!isfinite(px) || !isfinite(py) || fabsf(px) > 1e6f || fabsf(py) > 1e6f) {
        /* far outside (or NaN): every corner is padding */
        for (int k = 0; k < 4; k++) {
            t.idx[k] = 0;
            t.wt[k] = 0.0f;
        }
        return t;
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
            int inside = ys[a] >= 0 && ys[a] < h && xs[b] >= 0 && xs[b] < w;
            t.idx[k] = inside ? (int64_t)ys[a] * w + xs[b] : 0;
            t.wt[k] = inside ? wy[a] * wx[b] : 0.0f;
        }
    return t;
}

int nn_point_sample_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                            nn_tensor *y, es_error *err) {
    ES_CHECK(ps_check(ctx, x, points, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_point_sample_forward(ctx, x, points, y, err));
    int n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3], p = points->shape[1];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) {
            const float *pt = points->data + ((int64_t)i * p + j) * 2;
            taps4 t = point_taps(pt[0], pt[1], h, w);
            for (int ch = 0; ch < c; ch++) {
                const float *plane = x->data + ((int64_t)i * c + ch) * h * w;
                float v = 0.0f;
                for (int k = 0; k < 4; k++) v += t.wt[k] * plane[t.idx[k]];
                y->data[((int64_t)i * c + ch) * p + j] = v;
            }
        }
    return ES_OK;
}

int nn_point_sample_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                             const nn_tensor *y, es_error *err) {
    ES_CHECK(ps_check(ctx, x, points, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "point_sample backward: y has no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_point_sample_backward(ctx, x, points, y, err));
    int n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3], p = points->shape[1];
    /* parallel over (image, channel) planes: disjoint writes */
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            float *plane = x->grad + ((int64_t)i * c + ch) * h * w;
            const float *dy = y->grad + ((int64_t)i * c + ch) * p;
            for (int j = 0; j < p; j++) {
                const float *pt = points->data + ((int64_t)i * p + j) * 2;
                taps4 t = point_taps(pt[0], pt[1], h, w);
                for (int k = 0; k < 4; k++) plane[t.idx[k]] += t.wt[k] * dy[j];
            }
        }
    return ES_OK;
}
