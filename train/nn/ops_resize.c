/* ops_resize.c: bilinear resize in the three conventions the models use. Each output
 * coordinate maps to two source indices and a weight per axis (axis_map); forward blends,
 * backward scatters the same weights. */
#include <math.h>

#include "nn_internal.h"

typedef struct axis_tap {
    int i0, i1;
    float l1; /* weight of i1; i0 gets 1 - l1 */
} axis_tap;

/* PyTorch upsample_bilinear2d's source index, or CondInst's aligned_bilinear, which pads
 * the input by one replicated row/column, resizes with align_corners to f*in + 1, pads
 * f/2 replicated rows on top and crops to f*in: output o reads source max(o - f/2, 0) / f. */
static axis_tap axis_map(int o, int in, int out, nn_resize_mode mode) {
    axis_tap t;
    float src;
    if (mode == NN_RESIZE_ALIGNED) {
        int f = out / in;
        int p = o - f / 2;
        if (p < 0) p = 0;
        t.i0 = p / f;
        t.l1 = (float)(p % f) / (float)f;
        if (t.i0 >= in - 1) {
            t.i0 = in - 1;
            t.l1 = 0.0f;
        }
        t.i1 = t.i0 + (t.i0 < in - 1);
        return t;
    }
    if (mode == NN_RESIZE_ALIGN_CORNERS) {
        float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        src = scale * (float)o;
    } else {
        float scale = (float)in / (float)out;
        src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
    }
    t.i0 = (int)src;
    if (t.i0 > in - 1) t.i0 = in - 1;
    t.i1 = t.i0 + (t.i0 < in - 1);
    t.l1 = src - (float)t.i0;
    if (t.i1 == t.i0) t.l1 = 0.0f;
    return t;
}

static int resize_check(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y,
                        nn_resize_mode mode, es_error *err) {
    ES_CHECK(nn_check_tensor("resize", "x", x, 4, err));
    ES_CHECK(nn_check_tensor("resize", "y", y, 4, err));
    ES_CHECK(nn_check_device(ctx, "resize", x, err));
    char s1[80], s2[80];
    if (x->shape[0] != y->shape[0] || x->shape[1] != y->shape[1] || x->shape[2] < 1 ||
        x->shape[3] < 1 || y->shape[2] < 1 || y->shape[3] < 1)
        return es_error_set(err, ES_ERR_INVALID, "resize: x %s and y %s do not fit",
                            nn_shape_str(x, s1, 80), nn_shape_str(y, s2, 80));
    if (mode == NN_RESIZE_ALIGNED) {
        int fh = y->shape[2] / x->shape[2];
        if (fh < 1 || y->shape[2] != fh * x->shape[2] || y->shape[3] != fh * x->shape[3])
            return es_error_set(err, ES_ERR_INVALID,
                                "resize (aligned): y %s is not x %s times one integer factor",
                                nn_shape_str(y, s1, 80), nn_shape_str(x, s2, 80));
    } else if (mode != NN_RESIZE_HALF_PIXEL && mode != NN_RESIZE_ALIGN_CORNERS) {
        return es_error_set(err, ES_ERR_INVALID, "resize: unknown mode %d", (int)mode);
    }
    return ES_OK;
}

static axis_tap *make_taps(int in, int out, nn_resize_mode mode) {
    axis_tap *t = malloc((size_t)out * sizeof *t);
    if (t)
        for (int o = 0; o < out; o++) t[o] = axis_map(o, in, out, mode);
    return t;
}

int nn_resize_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, nn_resize_mode mode,
                      es_error *err) {
    ES_CHECK(resize_check(ctx, x, y, mode, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_resize_forward(ctx, x, y, (int)mode, err));
    int h = x->shape[2], w = x->shape[3], oh = y->shape[2], ow = y->shape[3];
    axis_tap *ty = make_taps(h, oh, mode), *tx = make_taps(w, ow, mode);
    if (!ty || !tx) {
        free(ty);
        free(tx);
        return es_error_set(err, ES_ERR_NOMEM, "resize: out of memory");
    }
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    for (int64_t p = 0; p < planes; p++) {
        const float *in = x->data + p * h * w;
        float *out = y->data + p * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            const float *r0 = in + (int64_t)ty[oy].i0 * w, *r1 = in + (int64_t)ty[oy].i1 * w;
            float ly = ty[oy].l1;
            for (int ox = 0; ox < ow; ox++) {
                axis_tap a = tx[ox];
                float top = r0[a.i0] * (1.0f - a.l1) + r0[a.i1] * a.l1;
                float bot = r1[a.i0] * (1.0f - a.l1) + r1[a.i1] * a.l1;
                out[(int64_t)oy * ow + ox] = top * (1.0f - ly) + bot * ly;
            }
        }
    }
    free(ty);
    free(tx);
    return ES_OK;
}

int nn_resize_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y,
                       nn_resize_mode mode, es_error *err) {
    ES_CHECK(resize_check(ctx, x, y, mode, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "resize backward: y has no grad");
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_resize_backward(ctx, x, y, (int)mode, err));
    int h = x->shape[2], w = x->shape[3], oh = y->shape[2], ow = y->shape[3];
    axis_tap *ty = make_taps(h, oh, mode), *tx = make_taps(w, ow, mode);
    if (!ty || !tx) {
        free(ty);
        free(tx);
        return es_error_set(err, ES_ERR_NOMEM, "resize: out of memory");
    }
    int64_t planes = (int64_t)x->shape[0] * x->shape[1];
    for (int64_t p = 0; p < planes; p++) {
        float *dx = x->grad + p * h * w;
        const float *dy = y->grad + p * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            float *r0 = dx + (int64_t)ty[oy].i0 * w, *r1 = dx + (int64_t)ty[oy].i1 * w;
            float ly = ty[oy].l1;
            for (int ox = 0; ox < ow; ox++) {
                axis_tap a = tx[ox];
                float g = dy[(int64_t)oy * ow + ox];
                float gt = g * (1.0f - ly), gb = g * ly;
                r0[a.i0] += gt * (1.0f - a.l1);
                r0[a.i1] += gt * a.l1;
                r1[a.i0] += gb * (1.0f - a.l1);
                r1[a.i1] += gb * a.l1;
            }
        }
    }
    free(ty);
    free(tx);
    return ES_OK;
}
