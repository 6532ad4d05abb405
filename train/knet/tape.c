/* tape.c: record nn op calls on the forward pass and replay their backwards in reverse. */
#include "knet/tape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tp_init(tp_tape *t, nn_ctx *ctx, nn_arena *arena, int record) {
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->arena = arena;
    t->record = record;
}

void tp_reset(tp_tape *t, int record) {
    t->n = 0;
    t->rc = 0;
    es_error_clear(&t->err);
    t->record = record;
    nn_arena_reset(t->arena);
}

void tp_free(tp_tape *t) {
    free(t->ops);
    t->ops = NULL;
    t->n = t->cap = 0;
}

const nn_tensor *tp_param_v(tp_tape *t, nn_params *ps, const char *fmt, va_list ap) {
    char name[NN_PARAM_NAME_MAX];
    vsnprintf(name, sizeof name, fmt, ap);
    int i = nn_params_find(ps, name);
    if (i < 0) {
        if (!t->rc) t->rc = es_error_set(&t->err, ES_ERR_INTERNAL, "no parameter %s", name);
        i = 0;
    }
    return nn_params_tensor(ps, i);
}

const nn_tensor *tp_param(tp_tape *t, nn_params *ps, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const nn_tensor *p = tp_param_v(t, ps, fmt, ap);
    va_end(ap);
    return p;
}

static nn_tensor empty_tensor(void) {
    nn_tensor e;
    memset(&e, 0, sizeof e);
    return e;
}

static void push(tp_tape *t, const tp_op *op) {
    if (!t->record || t->rc) return;
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 256;
        tp_op *ops = realloc(t->ops, (size_t)cap * sizeof *ops);
        if (!ops) {
            t->rc = es_error_set(&t->err, ES_ERR_NOMEM, "tape: out of memory");
            return;
        }
        t->ops = ops;
        t->cap = cap;
    }
    t->ops[t->n++] = *op;
}

static void fail(tp_tape *t, int rc) {
    if (rc && !t->rc) t->rc = rc;
}

nn_tensor tp_new(tp_tape *t, int with_grad, int ndim, const int *shape) {
    nn_tensor y = empty_tensor();
    if (t->rc) return y;
    fail(t, nn_tensor_new(t->arena, &y, with_grad && t->record, ndim, shape, &t->err));
    return y;
}

nn_tensor tp_view(tp_tape *t, const nn_tensor *x, int ndim, const int *shape) {
    nn_tensor y = empty_tensor();
    if (t->rc) return y;
    fail(t, nn_tensor_view(x, ndim, shape, &y, &t->err));
    return y;
}

static nn_tensor out_like(tp_tape *t, int ndim, const int *shape) { return tp_new(t, 1, ndim, shape); }

nn_tensor tp_conv(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                  int stride, int pad) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_CONV, .a = *x, .b = *w, .has_c = b != NULL};
    if (b) op.c = *b;
    op.co = nn_conv2d_opts_make(stride, pad, 1, 1);
    int oh = nn_conv2d_out_size(x->shape[2], w->shape[2], stride, pad, 1);
    int ow = nn_conv2d_out_size(x->shape[3], w->shape[3], stride, pad, 1);
    op.y = out_like(t, 4, NN_SHAPE(x->shape[0], w->shape[0], oh, ow));
    if (t->rc) return op.y;
    fail(t, nn_conv2d_forward(t->ctx, &op.a, &op.b, b ? &op.c : NULL, &op.y, &op.co, &t->err));
    push(t, &op);
    return op.y;
}

static nn_tensor groupnorm(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b,
                           int groups, int relu) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_GN, .a = *x, .b = *g, .c = *b, .i0 = groups, .i1 = relu};
    op.y = out_like(t, x->ndim, x->shape);
    if (t->rc) return op.y;
    fail(t, (relu ? nn_groupnorm_relu_forward : nn_groupnorm_forward)(t->ctx, &op.a, &op.b, &op.c, groups,
                                                                     1e-5f, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_gn(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b,
                int groups) {
    return groupnorm(t, x, g, b, groups, 0);
}

nn_tensor tp_gn_relu(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b,
                     int groups) {
    return groupnorm(t, x, g, b, groups, 1);
}

static nn_tensor unary(tp_tape *t, tp_kind kind, const nn_tensor *x) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = kind, .a = *x};
    op.y = out_like(t, x->ndim, x->shape);
    if (t->rc) return op.y;
    if (kind == TP_RELU)
        fail(t, nn_relu_forward(t->ctx, &op.a, &op.y, &t->err));
    else
        fail(t, nn_sigmoid_forward(t->ctx, &op.a, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_relu(tp_tape *t, const nn_tensor *x) { return unary(t, TP_RELU, x); }
nn_tensor tp_sigmoid(tp_tape *t, const nn_tensor *x) { return unary(t, TP_SIGMOID, x); }

nn_tensor tp_add(tp_tape *t, const nn_tensor *a, const nn_tensor *b) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_ADD, .a = *a, .b = *b};
    op.y = out_like(t, a->ndim, a->shape);
    if (t->rc) return op.y;
    fail(t, nn_add_forward(t->ctx, &op.a, &op.b, 1.0f, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_mul(tp_tape *t, const nn_tensor *a, const nn_tensor *b) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_MUL, .a = *a, .b = *b};
    op.y = out_like(t, a->ndim, a->shape);
    if (t->rc) return op.y;
    fail(t, nn_mul_forward(t->ctx, &op.a, &op.b, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_linear(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_LINEAR, .a = *x, .b = *w, .has_c = b != NULL};
    if (b) op.c = *b;
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = w->shape[0];
    op.y = out_like(t, x->ndim, shape);
    if (t->rc) return op.y;
    fail(t, nn_linear_forward(t->ctx, &op.a, &op.b, b ? &op.c : NULL, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_bmm(tp_tape *t, const nn_tensor *a, const nn_tensor *b, int ta, int tb) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_BMM, .a = *a, .b = *b, .i0 = ta, .i1 = tb};
    int ba = a->ndim == 3 ? a->shape[0] : 1, bb = b->ndim == 3 ? b->shape[0] : 1;
    int ra = a->ndim == 3 ? a->shape[1] : a->shape[0], ca = a->shape[a->ndim - 1];
    int rb = b->ndim == 3 ? b->shape[1] : b->shape[0], cb = b->shape[b->ndim - 1];
    int m = ta ? ca : ra, n = tb ? rb : cb;
    op.y = out_like(t, 3, NN_SHAPE(ba > bb ? ba : bb, m, n));
    if (t->rc) return op.y;
    fail(t, nn_bmm_forward(t->ctx, &op.a, &op.b, &op.y, ta, tb, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_ln(tp_tape *t, const nn_tensor *x, const nn_tensor *g, const nn_tensor *b) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_LN, .a = *x, .b = *g, .c = *b};
    op.y = out_like(t, x->ndim, x->shape);
    if (t->rc) return op.y;
    fail(t, nn_layernorm_forward(t->ctx, &op.a, &op.b, &op.c, 1e-5f, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_resize(tp_tape *t, const nn_tensor *x, int oh, int ow) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_RESIZE, .a = *x};
    op.y = out_like(t, 4, NN_SHAPE(x->shape[0], x->shape[1], oh, ow));
    if (t->rc) return op.y;
    fail(t, nn_resize_forward(t->ctx, &op.a, &op.y, NN_RESIZE_HALF_PIXEL, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_attn(tp_tape *t, const nn_tensor *q, const nn_tensor *k, const nn_tensor *v,
                  int heads) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_ATTN, .a = *q, .b = *k, .c = *v, .i0 = heads};
    op.y = out_like(t, q->ndim, q->shape);
    op.probs = tp_new(t, 0, 4, NN_SHAPE(q->shape[0], heads, q->shape[1], k->shape[1]));
    if (t->rc) return op.y;
    fail(t, nn_attention_forward(t->ctx, &op.a, &op.b, &op.c, NULL, heads, &op.probs, &op.y,
                                 &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_slice(tp_tape *t, const nn_tensor *x, int dim, int start, int len) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_SLICE, .a = *x, .i0 = dim, .i1 = start, .i2 = len};
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[dim] = len;
    op.y = out_like(t, x->ndim, shape);
    if (t->rc) return op.y;
    fail(t, nn_slice_forward(t->ctx, &op.a, dim, start, len, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_concat2(tp_tape *t, const nn_tensor *a, const nn_tensor *b, int dim) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_CONCAT, .a = *a, .b = *b, .i0 = dim};
    int shape[NN_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[dim] += b->shape[dim];
    op.y = out_like(t, a->ndim, shape);
    if (t->rc) return op.y;
    const nn_tensor *xs[2] = {&op.a, &op.b};
    fail(t, nn_concat_forward(t->ctx, 2, xs, dim, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_frozen_bn(tp_tape *t, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *mean, const nn_tensor *var) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_FBN, .a = *x, .b = *w, .c = *b, .d = *mean, .e = *var};
    op.y = out_like(t, x->ndim, x->shape);
    if (t->rc) return op.y;
    fail(t, nn_frozen_bn_forward(t->ctx, &op.a, &op.b, &op.c, &op.d, &op.e, 1e-5f, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_maxpool(tp_tape *t, const nn_tensor *x, int kernel, int stride, int pad) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_MAXPOOL, .a = *x, .i0 = kernel, .i1 = stride, .i2 = pad};
    int oh = nn_conv2d_out_size(x->shape[2], kernel, stride, pad, 1);
    int ow = nn_conv2d_out_size(x->shape[3], kernel, stride, pad, 1);
    op.y = out_like(t, 4, NN_SHAPE(x->shape[0], x->shape[1], oh, ow));
    if (t->rc) return op.y;
    fail(t, nn_maxpool2d_forward(t->ctx, &op.a, kernel, stride, pad, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

nn_tensor tp_index(tp_tape *t, const nn_tensor *x, const int32_t *idx, int k) {
    if (t->rc) return empty_tensor();
    tp_op op = {.kind = TP_INDEX, .a = *x, .idx = idx, .i0 = k};
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = k;
    op.y = out_like(t, x->ndim, shape);
    if (t->rc) return op.y;
    fail(t, nn_index_select_forward(t->ctx, &op.a, idx, k, &op.y, &t->err));
    push(t, &op);
    return op.y;
}

/* Ops whose inputs all lack grads need no backward call. */
static int wants_grad(const tp_op *op) {
    return op->a.grad || op->b.grad || op->c.grad;
}

int tp_backward(tp_tape *t, es_error *err) {
    if (t->rc) {
        if (err) *err = t->err;
        return t->rc;
    }
    for (int i = t->n - 1; i >= 0; i--) {
        tp_op *op = &t->ops[i];
        if (!wants_grad(op) || !op->y.grad) continue;
        int rc = 0;
        switch (op->kind) {
        case TP_CONV:
            rc = nn_conv2d_backward(t->ctx, &op->a, &op->b, op->has_c ? &op->c : NULL, &op->y,
                                    &op->co, err);
            break;
        case TP_GN:
            rc = (op->i1 ? nn_groupnorm_relu_backward : nn_groupnorm_backward)(t->ctx, &op->a, &op->b, &op->c,
                                                                              op->i0, 1e-5f, &op->y, err);
            break;
        case TP_RELU: rc = nn_relu_backward(t->ctx, &op->a, &op->y, err); break;
        case TP_SIGMOID: rc = nn_sigmoid_backward(t->ctx, &op->a, &op->y, err); break;
        case TP_ADD: rc = nn_add_backward(t->ctx, &op->a, &op->b, 1.0f, &op->y, err); break;
        case TP_MUL: rc = nn_mul_backward(t->ctx, &op->a, &op->b, &op->y, err); break;
        case TP_LINEAR:
            rc = nn_linear_backward(t->ctx, &op->a, &op->b, op->has_c ? &op->c : NULL, &op->y, err);
            break;
        case TP_BMM: rc = nn_bmm_backward(t->ctx, &op->a, &op->b, &op->y, op->i0, op->i1, err); break;
        case TP_LN: rc = nn_layernorm_backward(t->ctx, &op->a, &op->b, &op->c, 1e-5f, &op->y, err); break;
        case TP_RESIZE: rc = nn_resize_backward(t->ctx, &op->a, &op->y, NN_RESIZE_HALF_PIXEL, err); break;
        case TP_ATTN:
            rc = nn_attention_backward(t->ctx, &op->a, &op->b, &op->c, NULL, op->i0, &op->probs,
                                       &op->y, err);
            break;
        case TP_SLICE:
            rc = nn_slice_backward(t->ctx, &op->a, op->i0, op->i1, op->i2, &op->y, err);
            break;
        case TP_CONCAT: {
            const nn_tensor *xs[2] = {&op->a, &op->b};
            rc = nn_concat_backward(t->ctx, 2, xs, op->i0, &op->y, err);
            break;
        }
        case TP_INDEX: rc = nn_index_select_backward(t->ctx, &op->a, op->idx, op->i0, &op->y, err); break;
        case TP_FBN:
            rc = nn_frozen_bn_backward(t->ctx, &op->a, &op->b, &op->c, &op->d, &op->e, 1e-5f, &op->y, err);
            break;
        case TP_MAXPOOL:
            rc = nn_maxpool2d_backward(t->ctx, &op->a, op->i0, op->i1, op->i2, &op->y, err);
            break;
        }
        if (rc) return rc;
    }
    return ES_OK;
}
