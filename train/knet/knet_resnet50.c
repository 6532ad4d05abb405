/* knet_resnet50.c: ResNet-50 (torchvision v1.5 layout) with frozen BatchNorm for K-Net's
 * full preset; see knet_resnet50.h. Workload: one forward/backward per training step on
 * (B, 3, H, W) batches, H and W multiples of 32 (800 x 1333 in the reference). */
#include "knet/knet_resnet50.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const int r50_blocks[4] = {3, 4, 6, 3}; /* Bottlenecks per layer */

static int add(nn_params *ps, int group, unsigned flags, int ndim, const int *shape, es_error *err,
               const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int add(nn_params *ps, int group, unsigned flags, int ndim, const int *shape, es_error *err,
               const char *fmt, ...) {
    char name[NN_PARAM_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return nn_params_add(ps, name, group, flags, ndim, shape, NULL, err);
}

/* conv `name`.weight (cout, cin, k, k), no bias (torchvision) */
static int add_conv(nn_params *ps, int group, unsigned flags, const char *name, int cin, int cout,
                    int k, es_error *err) {
    return add(ps, group, flags, 4, NN_SHAPE(cout, cin, k, k), err, "%s.weight", name);
}

/* BN `name`.{weight,bias,running_mean,running_var} (c), all frozen */
static int add_bn(nn_params *ps, int group, const char *name, int c, es_error *err) {
    static const char *const parts[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        ES_CHECK(add(ps, group, NN_PARAM_FROZEN, 1, NN_SHAPE(c), err, "%s.%s", name, parts[i]));
    return ES_OK;
}

int knet_r50_declare(nn_params *ps, const knet_r50_dims *d, int group, es_error *err) {
    if (d->stem < 1 || d->frozen_stages < 0 || d->frozen_stages > 4)
        return es_error_set(err, ES_ERR_INVALID, "resnet50: bad stem width %d or frozen_stages %d",
                            d->stem, d->frozen_stages);
    for (int l = 0; l < 4; l++)
        if (d->widths[l] < 4 || d->widths[l] % 4)
            return es_error_set(err, ES_ERR_INVALID,
                                "resnet50: layer%d width %d is not a positive multiple of 4 (expansion 4)",
                                l + 1, d->widths[l]);
    /* the stem is frozen with layer1 (mmdet freezes it already at frozen_stages 0; here 0
     * means nothing frozen) */
    unsigned stem_flags = d->frozen_stages >= 1 ? NN_PARAM_FROZEN : 0;
    ES_CHECK(add_conv(ps, group, stem_flags, "backbone.conv1", 3, d->stem, 7, err));
    ES_CHECK(add_bn(ps, group, "backbone.bn1", d->stem, err));
    int cin = d->stem;
    char n[96];
    for (int l = 0; l < 4; l++) {
        unsigned fl = l < d->frozen_stages ? NN_PARAM_FROZEN : 0;
        int w = d->widths[l], mid = w / 4;
        for (int b = 0; b < r50_blocks[l]; b++) {
            int in = b == 0 ? cin : w;
            snprintf(n, sizeof n, "backbone.layer%d.%d.conv1", l + 1, b);
            ES_CHECK(add_conv(ps, group, fl, n, in, mid, 1, err));
            snprintf(n, sizeof n, "backbone.layer%d.%d.bn1", l + 1, b);
            ES_CHECK(add_bn(ps, group, n, mid, err));
            snprintf(n, sizeof n, "backbone.layer%d.%d.conv2", l + 1, b);
            ES_CHECK(add_conv(ps, group, fl, n, mid, mid, 3, err));
            snprintf(n, sizeof n, "backbone.layer%d.%d.bn2", l + 1, b);
            ES_CHECK(add_bn(ps, group, n, mid, err));
            snprintf(n, sizeof n, "backbone.layer%d.%d.conv3", l + 1, b);
            ES_CHECK(add_conv(ps, group, fl, n, mid, w, 1, err));
            snprintf(n, sizeof n, "backbone.layer%d.%d.bn3", l + 1, b);
            ES_CHECK(add_bn(ps, group, n, w, err));
            if (b == 0) {
                snprintf(n, sizeof n, "backbone.layer%d.0.downsample.0", l + 1);
                ES_CHECK(add_conv(ps, group, fl, n, in, w, 1, err));
                snprintf(n, sizeof n, "backbone.layer%d.0.downsample.1", l + 1);
                ES_CHECK(add_bn(ps, group, n, w, err));
            }
        }
        cin = w;
    }
    return ES_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int knet_r50_init(nn_params *ps, nn_ctx *ctx, nn_rng *rng, es_error *err) {
    for (int i = 0; i < nn_params_count(ps); i++) {
        const char *name = nn_params_name(ps, i);
        if (strncmp(name, "backbone.", 9)) continue;
        const nn_tensor *t = nn_params_tensor(ps, i);
        nn_init_kind kind = NN_INIT_ZEROS; /* BN bias, running_mean */
        if (t->ndim == 4) kind = NN_INIT_KAIMING_NORMAL;
        else if (ends_with(name, ".running_var") || ends_with(name, ".weight")) kind = NN_INIT_ONES;
        ES_CHECK(nn_params_init(ps, ctx, i, kind, 0, 0, rng, err));
    }
    return ES_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Forward                                                                              */

/* conv (no bias) + frozen BN (+ ReLU) */
static nn_tensor conv_bn(tp_tape *t, nn_params *ps, const nn_tensor *x, const char *conv,
                         const char *bn, int stride, int pad, int relu) {
    nn_tensor y = tp_conv(t, x, tp_param(t, ps, "%s.weight", conv), NULL, stride, pad);
    y = tp_frozen_bn(t, &y, tp_param(t, ps, "%s.weight", bn), tp_param(t, ps, "%s.bias", bn),
                     tp_param(t, ps, "%s.running_mean", bn), tp_param(t, ps, "%s.running_var", bn));
    return relu ? tp_relu(t, &y) : y;
}

/* torchvision Bottleneck: 1x1 -> 3x3 (stride) -> 1x1 (x4), identity or downsample shortcut */
static nn_tensor bottleneck(tp_tape *t, nn_params *ps, const nn_tensor *x, int layer, int block,
                            int stride) {
    char c[96], b[96];
    snprintf(c, sizeof c, "backbone.layer%d.%d.conv1", layer, block);
    snprintf(b, sizeof b, "backbone.layer%d.%d.bn1", layer, block);
    nn_tensor y = conv_bn(t, ps, x, c, b, 1, 0, 1);
    snprintf(c, sizeof c, "backbone.layer%d.%d.conv2", layer, block);
    snprintf(b, sizeof b, "backbone.layer%d.%d.bn2", layer, block);
    y = conv_bn(t, ps, &y, c, b, stride, 1, 1);
    snprintf(c, sizeof c, "backbone.layer%d.%d.conv3", layer, block);
    snprintf(b, sizeof b, "backbone.layer%d.%d.bn3", layer, block);
    y = conv_bn(t, ps, &y, c, b, 1, 0, 0);
    if (block == 0) {
        snprintf(c, sizeof c, "backbone.layer%d.0.downsample.0", layer);
        snprintf(b, sizeof b, "backbone.layer%d.0.downsample.1", layer);
        nn_tensor s = conv_bn(t, ps, x, c, b, stride, 0, 0);
        y = tp_add(t, &y, &s);
    } else {
        y = tp_add(t, &y, x);
    }
    return tp_relu(t, &y);
}

void knet_r50_forward(tp_tape *t, nn_params *ps, const knet_r50_dims *d, const nn_tensor *images,
                      nn_tensor feats[4]) {
    memset(feats, 0, 4 * sizeof *feats);
    if (t->rc) return;
    if (images->ndim != 4 || images->shape[1] != 3 || images->shape[2] % 32 || images->shape[3] % 32) {
        char s[80];
        t->rc = es_error_set(&t->err, ES_ERR_INVALID,
                             "resnet50: images %s: want (B, 3, H, W) with H and W multiples of 32",
                             nn_shape_str(images, s, sizeof s));
        return;
    }
    /* frozen stages run unrecorded: their outputs carry no gradient, so backward stops at
     * the first trainable layer instead of computing input gradients nobody uses */
    int record = t->record;
    if (d->frozen_stages >= 1) t->record = 0;
    nn_tensor x = conv_bn(t, ps, images, "backbone.conv1", "backbone.bn1", 2, 3, 1);
    x = tp_maxpool(t, &x, 3, 2, 1);
    for (int l = 0; l < 4; l++) {
        if (l >= d->frozen_stages) t->record = record;
        for (int b = 0; b < r50_blocks[l]; b++)
            x = bottleneck(t, ps, &x, l + 1, b, b == 0 && l > 0 ? 2 : 1);
        feats[l] = x;
    }
    t->record = record;
}
