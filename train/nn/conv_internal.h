/* conv_internal.h: the geometry ops_conv.c computes once per call and the direct
 * (no-im2col) CPU kernels of conv_direct.c that it hands stride-1 convolutions to. */
#ifndef ENTSEG_NN_CONV_INTERNAL_H
#define ENTSEG_NN_CONV_INTERNAL_H

#include "nn_internal.h"

typedef struct conv_geom {
    int n, cin, h, w, cout, kh, kw, oh, ow, groups, cg, coutg;
    int64_t ckk, ohw;
    int input_is_cols; /* 1x1, stride 1, no padding: the input is its own column matrix */
} conv_geom;

/* Rows per band when `total` rows are cut into bands of at most max_rows: the fewest
 * bands, all of one size but the last, at most a row short of the others (a short last
 * band would leave the task that gets it idle while the others work). 1 when total < 1. */
static inline int conv_band_rows(int total, int max_rows) {
    if (total < 1) return 1;
    if (max_rows < 1) max_rows = 1;
    int bands = (total + max_rows - 1) / max_rows;
    return (total + bands - 1) / bands;
}

/* Whether conv_direct_forward / conv_direct_wgrad take this convolution: one group, stride
 * 1, output rows of at least 16 pixels, and a CPU with AVX2 and FMA. */
int conv_direct_applies(const conv_geom *g, const nn_conv2d_opts *o);

/* y (n, cout, oh, ow) = conv(x, w) + b (b may be NULL), or y += conv(x, w) when
 * accumulate (b must then be NULL). */
int conv_direct_forward(nn_ctx *ctx, const conv_geom *g, const nn_conv2d_opts *o, const float *x,
                        const float *w, const float *b, float *y, int accumulate, es_error *err);

/* dw (cout, cin, kh, kw) += the weight gradient from x and dy (n, cout, oh, ow). Each
 * weight is summed by one thread in a fixed order: the result does not depend on the
 * thread count. */
int conv_direct_wgrad(nn_ctx *ctx, const conv_geom *g, const nn_conv2d_opts *o, const float *x,
                      const float *dy, float *dw, es_error *err);

#endif
