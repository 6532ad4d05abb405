/* knet_internal.h: what knet_model.c (parameters, tiny neck, kernel-update stages) and
 * knet_full_neck.c (the full preset's ResNet-50 + FPN + semantic-FPN neck) share:
 * declaring parameters with their initialisation, and reading them during a forward. */
#ifndef ENTSEG_KNET_INTERNAL_H
#define ENTSEG_KNET_INTERNAL_H

#include "knet/knet.h"

enum { GROUP_BACKBONE = 0, GROUP_HEAD = 1 };

typedef struct knet_decl {
    nn_params *ps;
    int rc;
    es_error *err;
    /* inits are applied after nn_params_alloc */
    struct init_spec { int index; nn_init_kind kind; float a, b; } *inits;
    int n_inits, cap;
} knet_decl;

/* A conv `name`.weight (cout, cin, k, k) in the head group with its own weight init (a, b
 * as nn_params_init) and, when bias, a zero `name`.bias. */
void knet_decl_conv(knet_decl *d, const char *name, nn_init_kind kind, float a, float b, int cin, int cout,
                    int k, int bias);
/* A norm's `name`.weight (ones) and `name`.bias (zeros), c each. */
void knet_decl_norm(knet_decl *d, int group, const char *name, int c);

typedef struct knet_fwd {
    knet_model *m;
    tp_tape *t;
} knet_fwd;

/* The parameter called fmt...; a missing one is an internal error in the tape. */
const nn_tensor *knet_param(knet_fwd *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* conv with bias: parameters `name`.weight, `name`.bias */
nn_tensor knet_conv_bias(knet_fwd *f, const nn_tensor *x, const char *name, int stride, int pad);
/* conv (no bias) `conv` -> GroupNorm `gn` (cfg.gn_groups) -> ReLU when relu */
nn_tensor knet_conv_gn(knet_fwd *f, const nn_tensor *x, const char *conv, const char *gn, int stride, int pad,
                       int relu);

/* The full preset (knet_full_neck.c): its backbone, FPN, semantic-FPN and loc/seg
 * parameters; and their forward: *loc (B, C, H/8, W/8) makes the proposal masks, *xf =
 * loc + seg feeds the stages. */
void knet_declare_full_neck(knet_decl *d, const knet_config *c);
void knet_neck_full(knet_fwd *f, const nn_tensor *images, nn_tensor *loc, nn_tensor *xf);

#endif
