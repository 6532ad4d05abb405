/* tape.h: a small reverse-mode tape over the nn engine's op pairs.
 *
 * Model code calls tp_<op>(tape, inputs...) which allocates the output from the tape's
 * arena, runs nn_<op>_forward and (when the tape records) remembers the call; tp_backward
 * then runs the matching nn_<op>_backward calls in reverse order. Errors are sticky: after
 * the first failure every call is a no-op returning an empty tensor and tape->rc / err
 * hold the first error, so model code can be written without a check per line. */
#ifndef ENTSEG_KNET_TAPE_H
#define ENTSEG_KNET_TAPE_H

#include <stdarg.h>

#include "nn.h"

typedef enum tp_kind {
    TP_CONV, TP_GN, TP_RELU, TP_SIGMOID, TP_ADD, TP_MUL, TP_LINEAR, TP_BMM, TP_LN,
    TP_RESIZE, TP_ATTN, TP_SLICE, TP_CONCAT, TP_INDEX, TP_FBN, TP_MAXPOOL
} tp_kind;

typedef struct tp_op {
    tp_kind kind;
    nn_tensor a, b, c, y, probs;  /* inputs (c: bias/beta), output, attention probs */
    nn_tensor d, e;               /* frozen BN: running mean, running var */
    int has_c;
    int i0, i1, i2;
    nn_conv2d_opts co;
    const int32_t *idx;
} tp_op;

typedef struct tp_tape {
    nn_ctx *ctx;
    nn_arena *arena;
    int record; /* 1: outputs get grads and calls are remembered */
    tp_op *ops;
    int n, cap;
    int rc;
    es_error err;
} tp_tape;

void tp_init(tp_tape *t, nn_ctx *ctx, nn_arena *arena, int record);
void tp_reset(tp_tape *t, int record); /* forgets ops, resets the arena */
void tp_free(tp_tape *t);
int tp_backward(tp_tape *t, es_error *err);

/* The parameter of ps called fmt...; a missing one fails the tape (ES_ERR_INTERNAL) and
 * gives parameter 0, so that a forward pass runs on to its end and reports it there. */
const nn_tensor *tp_param(tp_tape *t, nn_params *ps, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const nn_tensor *tp_param_v(tp_tape *t, nn_params *ps, const char *fmt, va_list ap);

nn_tensor tp_new(tp_tape *t, int with_grad, int ndim, const int *shape);
nn_tensor tp_view(tp_tape *t, const nn_tensor *x, int ndim, const int *shape);
/* b may be NULL. */
nn_tensor tp_conv(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                  int stride, int pad);
nn_tensor tp_gn(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b,
                int groups);
/* relu(groupnorm(x)) as one op (nn_groupnorm_relu_*: no intermediate tensor). */
nn_tensor tp_gn_relu(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b,
                     int groups);
nn_tensor tp_relu(tp_tape *t, const nn_tensor *x);
nn_tensor tp_sigmoid(tp_tape *t, const nn_tensor *x);
nn_tensor tp_add(tp_tape *t, const nn_tensor *a, const nn_tensor *b);
nn_tensor tp_mul(tp_tape *t, const nn_tensor *a, const nn_tensor *b);
nn_tensor tp_linear(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b);
nn_tensor tp_bmm(tp_tape *t, const nn_tensor *a, const nn_tensor *b, int ta, int tb);
nn_tensor tp_ln(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b);
nn_tensor tp_resize(tp_tape *t, const nn_tensor *x, int oh, int ow);
nn_tensor tp_attn(tp_tape *t, const nn_tensor *q, const nn_tensor *k, const nn_tensor *v,
                  int heads);
nn_tensor tp_slice(tp_tape *t, const nn_tensor *x, int dim, int start, int len);
nn_tensor tp_concat2(tp_tape *t, const nn_tensor *a, const nn_tensor *b, int dim);
/* Frozen BatchNorm (eps 1e-5): only x gets a gradient. */
nn_tensor tp_frozen_bn(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *mean, const nn_tensor *var);
nn_tensor tp_maxpool(tp_tape *t, const nn_tensor *x, int kernel, int stride, int pad);
/* rows idx[0..k) of x (dim 0); idx must stay valid until tp_backward. */
nn_tensor tp_index(tp_tape *t, const nn_tensor *x, const int32_t *idx, int k);

#endif
