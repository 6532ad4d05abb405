/* knet_model.c: K-Net parameters (names after the reference where they map), the tiny
 * preset's feature path and the kernel-update stages both presets share (docs/knet.md):
 *   tiny: GroupNorm BasicBlock ResNet -> FPN (bilinear) -> one-branch semantic FPN merged at
 *         stride 4 (coordinates on the top level); 3 mask fcs per stage.
 *   full: the feature path of knet_full_neck.c (stride 8); proposal kernels carry their
 *         object features (proposal_feats_with_obj), each stage has its feat_transform and
 *         1 mask fc; masks are predicted at stride 8 and upsampled x2 (bilinear) to the
 *         stride-4 outputs. */
#include "knet/knet_internal.h"
#include "knet/knet_resnet50.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(knet_decl *d, int group, nn_init_kind kind, float a, float b, int ndim,
                const int *shape, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void add(knet_decl *d, int group, nn_init_kind kind, float a, float b, int ndim,
                const int *shape, const char *fmt, ...) {
    if (d->rc) return;
    char name[NN_PARAM_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int idx;
    d->rc = nn_params_add(d->ps, name, group, 0, ndim, shape, &idx, d->err);
    if (d->rc) return;
    if (d->n_inits == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        void *p = realloc(d->inits, (size_t)d->cap * sizeof *d->inits);
        if (!p) {
            d->rc = es_error_set(d->err, ES_ERR_NOMEM, "knet: out of memory");
            return;
        }
        d->inits = p;
    }
    d->inits[d->n_inits++] = (struct init_spec){idx, kind, a, b};
}

static void add_conv(knet_decl *d, int group, const char *name, int cin, int cout, int k, int bias) {
    add(d, group, NN_INIT_KAIMING_NORMAL, 0, 0, 4, NN_SHAPE(cout, cin, k, k), "%s.weight", name);
    if (bias) add(d, group, NN_INIT_ZEROS, 0, 0, 1, NN_SHAPE(cout), "%s.bias", name);
}

/* A conv with its own weight init (a, b as nn_params_init) and, when bias, a zero bias. */
void knet_decl_conv(knet_decl *d, const char *name, nn_init_kind kind, float a, float b,
                          int cin, int cout, int k, int bias) {
    add(d, GROUP_HEAD, kind, a, b, 4, NN_SHAPE(cout, cin, k, k), "%s.weight", name);
    if (bias) add(d, GROUP_HEAD, NN_INIT_ZEROS, 0, 0, 1, NN_SHAPE(cout), "%s.bias", name);
}

void knet_decl_norm(knet_decl *d, int group, const char *name, int c) {
    add(d, group, NN_INIT_ONES, 0, 0, 1, NN_SHAPE(c), "%s.weight", name);
    add(d, group, NN_INIT_ZEROS, 0, 0, 1, NN_SHAPE(c), "%s.bias", name);
}

static void add_linear(knet_decl *d, const char *name, int in, int out, int bias) {
    add(d, GROUP_HEAD, NN_INIT_XAVIER_UNIFORM, 0, 0, 2, NN_SHAPE(out, in), "%s.weight", name);
    if (bias) add(d, GROUP_HEAD, NN_INIT_ZEROS, 0, 0, 1, NN_SHAPE(out), "%s.bias", name);
}

int knet_is_full(const knet_config *c) { return !strcmp(c->preset, "full"); }

/* Tiny preset: GN BasicBlock backbone, FPN, one-branch semantic FPN, proposal kernels. */
static void declare_tiny_neck(knet_decl *d, const knet_config *c) {
    char n[128];
    int C = c->channels;
    add_conv(d, GROUP_BACKBONE, "backbone.conv1", 3, c->stem, 3, 0);
    knet_decl_norm(d, GROUP_BACKBONE, "backbone.gn1", c->stem);
    int cin = c->stem;
    for (int l = 0; l < 4; l++) {
        int w = c->widths[l];
        snprintf(n, sizeof n, "backbone.layer%d.0.conv1", l + 1);
        add_conv(d, GROUP_BACKBONE, n, cin, w, 3, 0);
        snprintf(n, sizeof n, "backbone.layer%d.0.gn1", l + 1);
        knet_decl_norm(d, GROUP_BACKBONE, n, w);
        snprintf(n, sizeof n, "backbone.layer%d.0.conv2", l + 1);
        add_conv(d, GROUP_BACKBONE, n, w, w, 3, 0);
        snprintf(n, sizeof n, "backbone.layer%d.0.gn2", l + 1);
        knet_decl_norm(d, GROUP_BACKBONE, n, w);
        snprintf(n, sizeof n, "backbone.layer%d.0.downsample.0", l + 1);
        add_conv(d, GROUP_BACKBONE, n, cin, w, 1, 0);
        snprintf(n, sizeof n, "backbone.layer%d.0.downsample.1", l + 1);
        knet_decl_norm(d, GROUP_BACKBONE, n, w);
        cin = w;
    }
    for (int l = 0; l < 4; l++) {
        snprintf(n, sizeof n, "neck.lateral_convs.%d", l);
        add_conv(d, GROUP_HEAD, n, c->widths[l], C, 1, 1);
        /* semantic-FPN branch: conv3x3 + GN + ReLU; the top level sees 2 coordinate channels */
        snprintf(n, sizeof n, "neck.sem_convs.%d.conv", l);
        add_conv(d, GROUP_HEAD, n, C + (l == 3 ? 2 : 0), C, 3, 0);
        snprintf(n, sizeof n, "neck.sem_convs.%d.gn", l);
        knet_decl_norm(d, GROUP_HEAD, n, C);
    }
    add_conv(d, GROUP_HEAD, "neck.conv_out", C, C, 1, 0);
    knet_decl_norm(d, GROUP_HEAD, "neck.gn_out", C);
    /* proposal kernels (K-Net init_kernels: normal std 0.01) */
    add(d, GROUP_HEAD, NN_INIT_NORMAL, 0, 0.01f, 2, NN_SHAPE(c->num_kernels, C), "rpn.init_kernels.weight");
}

/* fc + LN + ReLU blocks before fc_mask: 3 in the tiny preset, 1 in knet_s3_r50_fpn */
static int mask_fcs(const knet_config *c) { return knet_is_full(c) ? 1 : 3; }

static void declare(knet_decl *d, const knet_config *c) {
    char n[128];
    int C = c->channels, full = knet_is_full(c);
    if (full) {
        knet_declare_full_neck(d, c);
        /* ConvKernelHead init_kernels: normal std kernel_init_std = 1 (knet_s3_r50_fpn) */
        add(d, GROUP_HEAD, NN_INIT_NORMAL, 0, 1.0f, 2, NN_SHAPE(c->num_kernels, C), "rpn.init_kernels.weight");
    } else {
        declare_tiny_neck(d, c);
    }
    for (int s = 0; s < c->stages; s++) {
#define P(x) (snprintf(n, sizeof n, "head.%d." x, s), n)
        /* full: KernelUpdateHead feat_transform (1x1 conv with bias, Xavier uniform) */
        if (full) knet_decl_conv(d, P("feat_transform.conv"), NN_INIT_XAVIER_UNIFORM, 0, 0, C, C, 1, 1);
        add_linear(d, P("kernel_update.dynamic_layer"), C, 2 * C, 1);
        add_linear(d, P("kernel_update.input_layer"), C, 2 * C, 1);
        add_linear(d, P("kernel_update.input_gate"), C, C, 1);
        add_linear(d, P("kernel_update.update_gate"), C, C, 1);
        knet_decl_norm(d, GROUP_HEAD, P("kernel_update.norm_in"), C);
        knet_decl_norm(d, GROUP_HEAD, P("kernel_update.norm_out"), C);
        knet_decl_norm(d, GROUP_HEAD, P("kernel_update.input_norm_in"), C);
        knet_decl_norm(d, GROUP_HEAD, P("kernel_update.input_norm_out"), C);
        add_linear(d, P("kernel_update.fc_layer"), C, C, 1);
        knet_decl_norm(d, GROUP_HEAD, P("kernel_update.fc_norm"), C);
        add_linear(d, P("attention.q"), C, C, 1);
        add_linear(d, P("attention.k"), C, C, 1);
        add_linear(d, P("attention.v"), C, C, 1);
        add_linear(d, P("attention.out_proj"), C, C, 1);
        knet_decl_norm(d, GROUP_HEAD, P("attention_norm"), C);
        add_linear(d, P("ffn.0"), C, c->ffn_channels, 1);
        add_linear(d, P("ffn.1"), c->ffn_channels, C, 1);
        knet_decl_norm(d, GROUP_HEAD, P("ffn_norm"), C);
        add_linear(d, P("cls_fcs.0"), C, C, 0);
        knet_decl_norm(d, GROUP_HEAD, P("cls_fcs.1"), C);
        /* objectness bias: prior probability 0.01 (mmcv bias_init_with_prob) */
        add(d, GROUP_HEAD, NN_INIT_XAVIER_UNIFORM, 0, 0, 2, NN_SHAPE(1, C), "head.%d.fc_cls.weight", s);
        add(d, GROUP_HEAD, NN_INIT_CONSTANT, -4.59512f, 0, 1, NN_SHAPE(1), "head.%d.fc_cls.bias", s);
        for (int i = 0; i < mask_fcs(c); i++) {
            snprintf(n, sizeof n, "head.%d.mask_fcs.%d", s, 2 * i);
            add_linear(d, n, C, C, 0);
            snprintf(n, sizeof n, "head.%d.mask_fcs.%d", s, 2 * i + 1);
            knet_decl_norm(d, GROUP_HEAD, n, C);
        }
        add_linear(d, P("fc_mask"), C, C, 1);
#undef P
    }
}

int knet_model_create(knet_model *m, const knet_config *cfg, nn_ctx *ctx, uint64_t seed,
                      es_error *err) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    ES_CHECK(nn_params_create(&m->ps, err));
    knet_decl d = {.ps = m->ps, .err = err};
    declare(&d, cfg);
    int rc = d.rc;
    if (!rc) rc = nn_params_alloc(m->ps, ctx, err);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    if (!rc && knet_is_full(cfg)) rc = knet_r50_init(m->ps, ctx, &rng, err);
    for (int i = 0; i < d.n_inits && !rc; i++)
        rc = nn_params_init(m->ps, ctx, d.inits[i].index, d.inits[i].kind, d.inits[i].a,
                            d.inits[i].b, &rng, err);
    free(d.inits);
    if (rc) knet_model_free(m);
    return rc;
}

int knet_model_load_backbone(knet_model *m, nn_ctx *ctx, const char *path, int *n_loaded,
                             es_error *err) {
    if (n_loaded) *n_loaded = 0;
    if (!knet_is_full(&m->cfg))
        return es_error_set(err, ES_ERR_INVALID, "backbone_weights: only the full preset has a ResNet-50 backbone");
    int want = 0, got = 0;
    for (int i = 0; i < nn_params_count(m->ps); i++) want += !strncmp(nn_params_name(m->ps, i), "backbone.", 9);
    int rc = nn_checkpoint_load(path, m->ps, NULL, ctx, "backbone.",
                                NN_LOAD_ALLOW_MISSING | NN_LOAD_ALLOW_UNEXPECTED, &got, err);
    if (rc) return es_error_prefix(err, "backbone_weights");
    if (n_loaded) *n_loaded = got;
    if (got < want)
        return es_error_set(err, ES_ERR_INVALID,
                            "backbone_weights: %s filled %d of the %d backbone parameters (want a torchvision "
                            "resnet50 state dict converted by scripts/twins/pth_to_safetensors.py)",
                            path, got, want);
    return ES_OK;
}

void knet_model_free(knet_model *m) {
    if (!m) return;
    nn_params_free(m->ps);
    m->ps = NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Forward                                                                              */

const nn_tensor *knet_param(knet_fwd *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const nn_tensor *p = tp_param_v(f->t, f->m->ps, fmt, ap);
    va_end(ap);
    return p;
}

nn_tensor knet_conv_gn(knet_fwd *f, const nn_tensor *x, const char *conv, const char *gn, int stride,
                         int pad, int relu) {
    nn_tensor y = tp_conv(f->t, x, knet_param(f, "%s.weight", conv), NULL, stride, pad);
    const nn_tensor *g = knet_param(f, "%s.weight", gn), *b = knet_param(f, "%s.bias", gn);
    return relu ? tp_gn_relu(f->t, &y, g, b, f->m->cfg.gn_groups) : tp_gn(f->t, &y, g, b, f->m->cfg.gn_groups);
}

nn_tensor knet_conv_bias(knet_fwd *f, const nn_tensor *x, const char *name, int stride, int pad) {
    return tp_conv(f->t, x, knet_param(f, "%s.weight", name), knet_param(f, "%s.bias", name), stride, pad);
}

/* ResNet BasicBlock with GroupNorm and a projection shortcut. */
static nn_tensor basic_block(knet_fwd *f, const nn_tensor *x, int layer) {
    char a[96], b[96];
    snprintf(a, sizeof a, "backbone.layer%d.0.conv1", layer);
    snprintf(b, sizeof b, "backbone.layer%d.0.gn1", layer);
    nn_tensor y = knet_conv_gn(f, x, a, b, 2, 1, 1);
    snprintf(a, sizeof a, "backbone.layer%d.0.conv2", layer);
    snprintf(b, sizeof b, "backbone.layer%d.0.gn2", layer);
    y = knet_conv_gn(f, &y, a, b, 1, 1, 0);
    snprintf(a, sizeof a, "backbone.layer%d.0.downsample.0", layer);
    snprintf(b, sizeof b, "backbone.layer%d.0.downsample.1", layer);
    nn_tensor s = knet_conv_gn(f, x, a, b, 2, 0, 0);
    y = tp_add(f->t, &y, &s);
    return tp_relu(f->t, &y);
}

static nn_tensor linear(knet_fwd *f, const nn_tensor *x, const char *name, int bias) {
    return tp_linear(f->t, x, knet_param(f, "%s.weight", name), bias ? knet_param(f, "%s.bias", name) : NULL);
}

static nn_tensor layernorm(knet_fwd *f, const nn_tensor *x, const char *name) {
    return tp_ln(f->t, x, knet_param(f, "%s.weight", name), knet_param(f, "%s.bias", name));
}

/* Coordinate channels in [-1, 1] (x then y), as K-Net's cat_coors on the top level. */
static nn_tensor coords(knet_fwd *f, int b, int h, int w) {
    nn_tensor c = tp_new(f->t, 0, 4, NN_SHAPE(b, 2, h, w));
    if (f->t->rc) return c;
    float *host = malloc((size_t)c.numel * sizeof *host);
    if (!host) {
        f->t->rc = es_error_set(&f->t->err, ES_ERR_NOMEM, "knet: out of memory");
        return c;
    }
    for (int n = 0; n < b; n++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float *p = host + (size_t)n * 2 * h * w;
                p[y * w + x] = w > 1 ? -1.0f + 2.0f * x / (w - 1) : 0.0f;
                p[h * w + y * w + x] = h > 1 ? -1.0f + 2.0f * y / (h - 1) : 0.0f;
            }
    int rc = nn_tensor_upload(f->t->ctx, &c, host, &f->t->err);
    if (rc && !f->t->rc) f->t->rc = rc;
    free(host);
    return c;
}

/* 0/1 masks (logit > 0, i.e. sigmoid > 0.5) without a gradient. */
static nn_tensor binarise(knet_fwd *f, const nn_tensor *logits) {
    nn_tensor y = tp_new(f->t, 0, logits->ndim, logits->shape);
    if (f->t->rc) return y;
    float *host = malloc((size_t)y.numel * sizeof *host);
    if (!host) {
        f->t->rc = es_error_set(&f->t->err, ES_ERR_NOMEM, "knet: out of memory");
        return y;
    }
    int rc = nn_tensor_download(f->t->ctx, logits, host, &f->t->err);
    for (int64_t i = 0; i < y.numel; i++) host[i] = host[i] > 0.0f ? 1.0f : 0.0f;
    if (!rc) rc = nn_tensor_upload(f->t->ctx, &y, host, &f->t->err);
    if (rc && !f->t->rc) f->t->rc = rc;
    free(host);
    return y;
}

static nn_tensor neck(knet_fwd *f, const nn_tensor *images) {
    const knet_config *c = &f->m->cfg;
    nn_tensor x = knet_conv_gn(f, images, "backbone.conv1", "backbone.gn1", 2, 1, 1);
    nn_tensor feats[4];
    for (int l = 0; l < 4; l++) {
        x = basic_block(f, &x, l + 1);
        feats[l] = x;
    }
    /* FPN top-down on the 1x1 laterals (bilinear upsampling) */
    nn_tensor lat[4];
    for (int l = 0; l < 4; l++)
        lat[l] = tp_conv(f->t, &feats[l], knet_param(f, "neck.lateral_convs.%d.weight", l),
                         knet_param(f, "neck.lateral_convs.%d.bias", l), 1, 0);
    for (int l = 2; l >= 0 && !f->t->rc; l--) {
        nn_tensor up = tp_resize(f->t, &lat[l + 1], lat[l].shape[2], lat[l].shape[3]);
        lat[l] = tp_add(f->t, &lat[l], &up);
    }
    if (f->t->rc) return lat[0];
    int h4 = lat[0].shape[2], w4 = lat[0].shape[3], b = images->shape[0];
    /* semantic-FPN merge at stride 4 */
    nn_tensor sum = lat[0];
    for (int l = 0; l < 4 && !f->t->rc; l++) {
        nn_tensor in = lat[l];
        if (l == 3) {
            nn_tensor co = coords(f, b, in.shape[2], in.shape[3]);
            in = tp_concat2(f->t, &in, &co, 1);
        }
        char a[64], g[64];
        snprintf(a, sizeof a, "neck.sem_convs.%d.conv", l);
        snprintf(g, sizeof g, "neck.sem_convs.%d.gn", l);
        nn_tensor y = knet_conv_gn(f, &in, a, g, 1, 1, 1);
        if (l > 0) y = tp_resize(f->t, &y, h4, w4);
        sum = l == 0 ? y : tp_add(f->t, &sum, &y);
    }
    (void)c;
    return knet_conv_gn(f, &sum, "neck.conv_out", "neck.gn_out", 1, 0, 1);
}

/* (B, N, h*w) stride-8 mask logits -> (B, N, 2h*2w), bilinear x2 (mask_upsample_stride 2). */
static nn_tensor upsample_masks(knet_fwd *f, const nn_tensor *m, int h, int w) {
    int b = m->shape[0], n = m->shape[1];
    nn_tensor v = tp_view(f->t, m, 4, NN_SHAPE(b, n, h, w));
    nn_tensor u = tp_resize(f->t, &v, 2 * h, 2 * w);
    return tp_view(f->t, &u, 3, NN_SHAPE(b, n, 4 * h * w));
}

void knet_features(knet_model *m, tp_tape *t, const nn_tensor *images, nn_tensor *loc, nn_tensor *feat) {
    knet_fwd f = {m, t};
    if (knet_is_full(&m->cfg)) knet_neck_full(&f, images, loc, feat);
    else *feat = *loc = neck(&f, images);
}

void knet_forward(knet_model *m, tp_tape *t, const nn_tensor *images, knet_outputs *out) {
    knet_fwd f = {m, t};
    const knet_config *c = &m->cfg;
    int full = knet_is_full(c);
    memset(out, 0, sizeof *out);
    /* tiny: feat (B, C, H/4, W/4) for everything; full: loc and xf (B, C, H/8, W/8) */
    nn_tensor feat, loc;
    memset(&loc, 0, sizeof loc);
    memset(&feat, 0, sizeof feat);
    knet_features(m, t, images, &loc, &feat);
    if (t->rc) return;
    int b = feat.shape[0], C = c->channels, N = c->num_kernels;
    int hf = feat.shape[2], wf = feat.shape[3], hw = hf * wf;
    out->batch = b, out->n = N, out->hm = full ? 2 * hf : hf, out->wm = full ? 2 * wf : wf;
    nn_tensor fv = tp_view(t, &feat, 3, NN_SHAPE(b, C, hw));
    nn_tensor lv = tp_view(t, &loc, 3, NN_SHAPE(b, C, hw));
    const nn_tensor *k0 = knet_param(&f, "rpn.init_kernels.weight");
    nn_tensor k0v = tp_view(t, k0, 3, NN_SHAPE(1, N, C));
    /* prev: the previous stage's mask logits at feature resolution (B, N, hw) */
    nn_tensor prev = tp_bmm(t, &k0v, &lv, 0, 0);
    out->masks[0] = full ? upsample_masks(&f, &prev, hf, wf) : prev;
    /* the binarised masks of prev: made once per stage, from a host copy of the logits */
    nn_tensor bin = binarise(&f, &prev);
    nn_tensor obj;
    if (full) {
        /* proposal_feats_with_obj: kernels + features under their binarised masks */
        nn_tensor of = tp_bmm(t, &bin, &fv, 0, 1); /* (B, N, C) */
        obj = tp_add(t, &of, &k0v);
    } else {
        /* the kernels of every image start as the proposal kernels */
        nn_tensor zeros = tp_new(t, 0, 3, NN_SHAPE(b, N, C));
        if (t->rc) return;
        if ((t->rc = nn_fill(t->ctx, &zeros, 0.0f, &t->err))) return;
        obj = tp_add(t, &zeros, &k0v);
    }
    char n[128];
#define P(x) (snprintf(n, sizeof n, "head.%d." x, s), n)
    for (int s = 0; s < c->stages && !t->rc; s++) {
        /* full: this stage's feat_transform of the features */
        nn_tensor xs = fv;
        if (full) {
            nn_tensor tf = knet_conv_bias(&f, &feat, P("feat_transform.conv"), 1, 0);
            xs = tp_view(t, &tf, 3, NN_SHAPE(b, C, hw));
        }
        /* group-feature assembling: sum of features under the binarised previous masks */
        nn_tensor xfeat = tp_bmm(t, &bin, &xs, 0, 1); /* (B, N, C) */
        /* adaptive kernel update */
        nn_tensor dyn = linear(&f, &obj, P("kernel_update.dynamic_layer"), 1);
        nn_tensor inp = linear(&f, &xfeat, P("kernel_update.input_layer"), 1);
        nn_tensor param_in = tp_slice(t, &dyn, 2, 0, C), param_out = tp_slice(t, &dyn, 2, C, C);
        nn_tensor input_in = tp_slice(t, &inp, 2, 0, C), input_out = tp_slice(t, &inp, 2, C, C);
        nn_tensor gate = tp_mul(t, &input_in, &param_in);
        nn_tensor ig = linear(&f, &gate, P("kernel_update.input_gate"), 1);
        ig = layernorm(&f, &ig, P("kernel_update.input_norm_in"));
        ig = tp_sigmoid(t, &ig);
        nn_tensor ug = linear(&f, &gate, P("kernel_update.update_gate"), 1);
        ug = layernorm(&f, &ug, P("kernel_update.norm_in"));
        ug = tp_sigmoid(t, &ug);
        param_out = layernorm(&f, &param_out, P("kernel_update.norm_out"));
        input_out = layernorm(&f, &input_out, P("kernel_update.input_norm_out"));
        nn_tensor a1 = tp_mul(t, &ug, &param_out), a2 = tp_mul(t, &ig, &input_out);
        nn_tensor upd = tp_add(t, &a1, &a2);
        upd = linear(&f, &upd, P("kernel_update.fc_layer"), 1);
        upd = layernorm(&f, &upd, P("kernel_update.fc_norm"));
        upd = tp_relu(t, &upd);
        /* kernel interaction: self-attention (identity residual) + LN, FFN (residual) + LN */
        nn_tensor q = linear(&f, &upd, P("attention.q"), 1);
        nn_tensor k = linear(&f, &upd, P("attention.k"), 1);
        nn_tensor v = linear(&f, &upd, P("attention.v"), 1);
        nn_tensor at = tp_attn(t, &q, &k, &v, c->heads);
        at = linear(&f, &at, P("attention.out_proj"), 1);
        at = tp_add(t, &upd, &at);
        at = layernorm(&f, &at, P("attention_norm"));
        nn_tensor h = linear(&f, &at, P("ffn.0"), 1);
        h = tp_relu(t, &h);
        h = linear(&f, &h, P("ffn.1"), 1);
        h = tp_add(t, &at, &h);
        obj = layernorm(&f, &h, P("ffn_norm"));
        /* objectness */
        nn_tensor cf = linear(&f, &obj, P("cls_fcs.0"), 0);
        cf = layernorm(&f, &cf, P("cls_fcs.1"));
        cf = tp_relu(t, &cf);
        out->cls[s + 1] = linear(&f, &cf, P("fc_cls"), 1);
        /* mask head: mask_fcs x (fc + LN + ReLU), then the dynamic 1x1 conv with the features */
        nn_tensor mf = obj;
        for (int i = 0; i < mask_fcs(c); i++) {
            snprintf(n, sizeof n, "head.%d.mask_fcs.%d", s, 2 * i);
            mf = linear(&f, &mf, n, 0);
            snprintf(n, sizeof n, "head.%d.mask_fcs.%d", s, 2 * i + 1);
            mf = layernorm(&f, &mf, n);
            mf = tp_relu(t, &mf);
        }
        mf = linear(&f, &mf, P("fc_mask"), 1);
        prev = tp_bmm(t, &mf, &xs, 0, 0);
        out->masks[s + 1] = full ? upsample_masks(&f, &prev, hf, wf) : prev;
        if (s + 1 < c->stages) bin = binarise(&f, &prev);
    }
#undef P
}
