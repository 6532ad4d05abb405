/* knet_full_neck.c: the full preset's feature path, as ZwwWayne/K-Net's knet_s3_r50_fpn
 * builds it: ResNet-50 with frozen BN (knet_resnet50.c) -> mmdet FPN (1x1 laterals,
 * nearest top-down, 3x3 outputs) -> K-Net SemanticFPNWrapper merged at stride 8 (sine
 * positional encoding on the top level; conv_pred + 1 aux conv) -> loc_convs / seg_convs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knet/knet_internal.h"
#include "knet/knet_resnet50.h"

static knet_r50_dims r50_dims(const knet_config *c) {
    knet_r50_dims r = {.stem = c->stem, .frozen_stages = 1};
    memcpy(r.widths, c->widths, sizeof r.widths);
    return r;
}

/* Full preset: K-Net's SemanticFPNWrapper with start_level 0, end_level 3, upsample_times 2
 * (merge at stride 8). Level 0 has (end - up) stride-2 convs; level i > 0 has i convs, the
 * first (up - (end - i)) of them followed by a x2 bilinear upsampling. */
enum { SEM_END = 3, SEM_UP = 2 };

static int sem_convs(int level) { return level == 0 ? (SEM_UP == SEM_END ? 1 : SEM_END - SEM_UP) : level; }
static int sem_upsample_after(int level, int j) { return level > 0 && j < SEM_UP - (SEM_END - level); }

void knet_declare_full_neck(knet_decl *d, const knet_config *c) {
    char n[128];
    int C = c->channels;
    knet_r50_dims r = r50_dims(c);
    if (!d->rc) d->rc = knet_r50_declare(d->ps, &r, GROUP_BACKBONE, d->err);
    /* mmdet FPN: Xavier uniform convs with bias, no norm, no activation */
    for (int l = 0; l < 4; l++) {
        snprintf(n, sizeof n, "neck.lateral_convs.%d.conv", l);
        knet_decl_conv(d, n, NN_INIT_XAVIER_UNIFORM, 0, 0, c->widths[l], C, 1, 1);
    }
    for (int l = 0; l < 4; l++) {
        snprintf(n, sizeof n, "neck.fpn_convs.%d.conv", l);
        knet_decl_conv(d, n, NN_INIT_XAVIER_UNIFORM, 0, 0, C, C, 3, 1);
    }
    /* SemanticFPNWrapper and the ConvKernelHead's loc/seg convs: ConvModule conv (no bias,
     * normal std 0.01) + GN + ReLU */
    for (int l = 0; l < 4; l++)
        for (int j = 0; j < sem_convs(l); j++) {
            snprintf(n, sizeof n, "rpn.localization_fpn.convs_all_levels.%d.conv%d.conv", l, j);
            knet_decl_conv(d, n, NN_INIT_NORMAL, 0, 0.01f, C, C, 3, 0);
            snprintf(n, sizeof n, "rpn.localization_fpn.convs_all_levels.%d.conv%d.gn", l, j);
            knet_decl_norm(d, GROUP_HEAD, n, C);
        }
    static const char *const outs[4] = {"rpn.localization_fpn.conv_pred", "rpn.localization_fpn.aux_convs.0",
                                        "rpn.loc_convs.0", "rpn.seg_convs.0"};
    for (int i = 0; i < 4; i++) {
        snprintf(n, sizeof n, "%s.conv", outs[i]);
        knet_decl_conv(d, n, NN_INIT_NORMAL, 0, 0.01f, C, C, 1, 0);
        snprintf(n, sizeof n, "%s.gn", outs[i]);
        knet_decl_norm(d, GROUP_HEAD, n, C);
    }
}

/* mmcv ConvModule(conv without bias, GN, ReLU): parameters `name`.conv.weight, `name`.gn.* */
static nn_tensor conv_module(knet_fwd *f, const nn_tensor *x, const char *name, int stride, int pad) {
    char a[160], g[160]; /* name: up to 127 chars */
    snprintf(a, sizeof a, "%s.conv", name);
    snprintf(g, sizeof g, "%s.gn", name);
    return knet_conv_gn(f, x, a, g, stride, pad, 1);
}

/* Nearest x2 upsampling (F.interpolate(mode='nearest') to twice the size), composed of
 * views and self-concatenations so that backward sums the four copies:
 * (B, C, H, W) -> (B, C, H, W, 1) ++ itself on dim 4 -> (B, C, H, 1, 2W) ++ itself on
 * dim 3 -> (B, C, 2H, 2W). */
static nn_tensor upsample_nearest2(knet_fwd *f, const nn_tensor *x) {
    int b = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    nn_tensor v = tp_view(f->t, x, 5, NN_SHAPE(b, c, h, w, 1));
    nn_tensor cols = tp_concat2(f->t, &v, &v, 4);
    v = tp_view(f->t, &cols, 5, NN_SHAPE(b, c, h, 1, 2 * w));
    nn_tensor rows = tp_concat2(f->t, &v, &v, 3);
    return tp_view(f->t, &rows, 4, NN_SHAPE(b, c, 2 * h, 2 * w));
}

/* mmcv SinePositionalEncoding(num_feats = C/2, temperature 10000, normalize, scale 2 pi,
 * eps 1e-6) of an all-valid (h, w) mask, as (1, C, h, w): channels [0, C/2) encode y,
 * [C/2, C) encode x; within each half channel k is sin (k even) or cos (k odd) of
 * embed / 10000^(2 floor(k/2) / (C/2)), embed = (i + 1) / (n + eps) * 2 pi. */
static nn_tensor sine_encoding(knet_fwd *f, int C, int h, int w) {
    nn_tensor p = tp_new(f->t, 0, 4, NN_SHAPE(1, C, h, w));
    if (f->t->rc) return p;
    float *host = malloc((size_t)p.numel * sizeof *host);
    if (!host) {
        f->t->rc = es_error_set(&f->t->err, ES_ERR_NOMEM, "knet: out of memory");
        return p;
    }
    int nf = C / 2;
    const double two_pi = 6.283185307179586;
    /* channel k < nf depends on y only, channel nf + k on x only: one trig call per row or
     * column, the rest copies */
    for (int k = 0; k < nf; k++) {
        double dim_t = pow(10000.0, 2.0 * (k / 2) / nf);
        float *py = host + (size_t)k * h * w, *px = host + (size_t)(nf + k) * h * w;
        for (int x = 0; x < w; x++) {
            double ex = (x + 1) / (w + 1e-6) * two_pi / dim_t;
            px[x] = (float)(k % 2 ? cos(ex) : sin(ex));
        }
        for (int y = 0; y < h; y++) {
            double ey = (y + 1) / (h + 1e-6) * two_pi / dim_t;
            float vy = (float)(k % 2 ? cos(ey) : sin(ey));
            for (int x = 0; x < w; x++) py[(size_t)y * w + x] = vy;
            if (y) memcpy(px + (size_t)y * w, px, (size_t)w * sizeof *px);
        }
    }
    int rc = nn_tensor_upload(f->t->ctx, &p, host, &f->t->err);
    if (rc && !f->t->rc) f->t->rc = rc;
    free(host);
    return p;
}

/* ResNet-50 -> FPN -> SemanticFPNWrapper (stride 8) -> loc_convs / seg_convs.
 * *loc (B, C, H/8, W/8) makes the proposal masks; *xf = loc + seg feeds the stages. */
void knet_neck_full(knet_fwd *f, const nn_tensor *images, nn_tensor *loc, nn_tensor *xf) {
    const knet_config *c = &f->m->cfg;
    knet_r50_dims r = r50_dims(c);
    nn_tensor feats[4], lat[4], p[4];
    knet_r50_forward(f->t, f->m->ps, &r, images, feats);
    char n[128];
    for (int l = 0; l < 4 && !f->t->rc; l++) {
        snprintf(n, sizeof n, "neck.lateral_convs.%d.conv", l);
        lat[l] = knet_conv_bias(f, &feats[l], n, 1, 0);
    }
    /* top-down: nearest upsampling to the next finer level (exactly x2 for H, W % 32 == 0) */
    for (int l = 3; l > 0 && !f->t->rc; l--) {
        nn_tensor up = upsample_nearest2(f, &lat[l]);
        lat[l - 1] = tp_add(f->t, &lat[l - 1], &up);
    }
    for (int l = 0; l < 4 && !f->t->rc; l++) {
        snprintf(n, sizeof n, "neck.fpn_convs.%d.conv", l);
        p[l] = knet_conv_bias(f, &lat[l], n, 1, 1);
    }
    if (f->t->rc) return;
    nn_tensor sum = p[0];
    for (int l = 0; l <= SEM_END && !f->t->rc; l++) {
        nn_tensor y = p[l];
        if (l == SEM_END) {
            nn_tensor pos = sine_encoding(f, c->channels, y.shape[2], y.shape[3]);
            y = tp_add(f->t, &y, &pos);
        }
        for (int j = 0; j < sem_convs(l); j++) {
            snprintf(n, sizeof n, "rpn.localization_fpn.convs_all_levels.%d.conv%d", l, j);
            y = conv_module(f, &y, n, l == 0 ? 2 : 1, 1);
            if (sem_upsample_after(l, j)) y = tp_resize(f->t, &y, 2 * y.shape[2], 2 * y.shape[3]);
        }
        sum = l == 0 ? y : tp_add(f->t, &sum, &y);
    }
    nn_tensor out = conv_module(f, &sum, "rpn.localization_fpn.conv_pred", 1, 0);
    nn_tensor aux = conv_module(f, &sum, "rpn.localization_fpn.aux_convs.0", 1, 0);
    *loc = conv_module(f, &out, "rpn.loc_convs.0", 1, 0);
    nn_tensor seg = conv_module(f, &aux, "rpn.seg_convs.0", 1, 0);
    *xf = tp_add(f->t, &seg, loc);
}

