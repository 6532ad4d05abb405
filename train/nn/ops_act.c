/* ops_act.c: elementwise ops: ReLU, GELU, sigmoid, softmax over the last dim, broadcast
 * add / mul, scale, concat and slice. */
#include <math.h>

#include "nn_internal.h"
#include "nn_ops.h"

enum { ACT_RELU = 0, ACT_GELU = 1, ACT_SIGMOID = 2 };

int nn_axpy(nn_ctx *ctx, float alpha, const float *restrict dy, float *restrict dx, int64_t n,
            es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_axpy(ctx, alpha, dy, dx, n, err));
    for (int64_t i = 0; i < n; i++) dx[i] += alpha * dy[i];
    return ES_OK;
}

static int act_check(nn_ctx *ctx, const char *op, const nn_tensor *x, const nn_tensor *y,
                     es_error *err) {
    ES_CHECK(nn_check_same(op, x, y, err));
    return nn_check_device(ctx, op, x, err);
}

/* Elementwise activations run in chunks of ACT_CHUNK elements on the ctx's threads (each
 * chunk writes its own slice: the result does not depend on the thread count). */
#define ACT_CHUNK 16384

typedef struct act_job {
    int kind;
    const float *x, *y, *dy; /* backward: x the input, y the output, dy its gradient */
    float *out;              /* forward: y (may alias x); backward: dx (accumulated) */
    int64_t n;
} act_job;

static void act_forward_chunk(void *ud, size_t c, int thread) {
    const act_job *j = ud;
    (void)thread;
    int64_t lo = (int64_t)c * ACT_CHUNK, hi = lo + ACT_CHUNK < j->n ? lo + ACT_CHUNK : j->n;
    const float *in = j->x;
    float *out = j->out; /* in place is allowed: each element is read before it is written */
    if (j->kind == ACT_RELU) {
        for (int64_t i = lo; i < hi; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    } else if (j->kind == ACT_GELU) {
        for (int64_t i = lo; i < hi; i++) out[i] = 0.5f * in[i] * (1.0f + erff(in[i] * (float)M_SQRT1_2));
    } else {
        for (int64_t i = lo; i < hi; i++) out[i] = 1.0f / (1.0f + expf(-in[i]));
    }
}

static void act_backward_chunk(void *ud, size_t c, int thread) {
    const act_job *j = ud;
    (void)thread;
    int64_t lo = (int64_t)c * ACT_CHUNK, hi = lo + ACT_CHUNK < j->n ? lo + ACT_CHUNK : j->n;
    const float *restrict in = j->x, *restrict out = j->y, *restrict dy = j->dy;
    float *restrict dx = j->out;
    if (j->kind == ACT_RELU) {
        /* y > 0 <=> x > 0, and y works when the forward ran in place */
        for (int64_t i = lo; i < hi; i++) dx[i] += out[i] > 0.0f ? dy[i] : 0.0f;
    } else if (j->kind == ACT_GELU) {
        const float inv_sqrt_2pi = 0.3989422804014327f;
        for (int64_t i = lo; i < hi; i++) {
            float v = in[i];
            float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
            float pdf = inv_sqrt_2pi * expf(-0.5f * v * v);
            dx[i] += dy[i] * (cdf + v * pdf);
        }
    } else {
        for (int64_t i = lo; i < hi; i++) dx[i] += dy[i] * out[i] * (1.0f - out[i]);
    }
}

static int act_forward(nn_ctx *ctx, int kind, const char *op, const nn_tensor *x, nn_tensor *y,
                       es_error *err) {
    ES_CHECK(act_check(ctx, op, x, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_act_forward(ctx, kind, x->data, y->data, x->numel, err));
    act_job j = {kind, x->data, NULL, NULL, y->data, x->numel};
    nn_parallel_for(ctx, (size_t)((x->numel + ACT_CHUNK - 1) / ACT_CHUNK), act_forward_chunk, &j);
    return ES_OK;
}

static int act_backward(nn_ctx *ctx, int kind, const char *op, const nn_tensor *x,
                        const nn_tensor *y, es_error *err) {
    ES_CHECK(act_check(ctx, op, x, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "%s backward: y has no grad", op);
    if (!x->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_act_backward(ctx, kind, x->data, y->data, y->grad, x->grad,
                                               x->numel, err));
    act_job j = {kind, x->data, y->data, y->grad, x->grad, x->numel};
    nn_parallel_for(ctx, (size_t)((x->numel + ACT_CHUNK - 1) / ACT_CHUNK), act_backward_chunk, &j);
    return ES_OK;
}

int nn_relu_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err) {
    return act_forward(ctx, ACT_RELU, "relu", x, y, err);
}
int nn_relu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err) {
    return act_backward(ctx, ACT_RELU, "relu", x, y, err);
}
int nn_gelu_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err) {
    return act_forward(ctx, ACT_GELU, "gelu", x, y, err);
}
int nn_gelu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err) {
    return act_backward(ctx, ACT_GELU, "gelu", x, y, err);
}
int nn_sigmoid_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err) {
    return act_forward(ctx, ACT_SIGMOID, "sigmoid", x, y, err);
}
int nn_sigmoid_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err) {
    return act_backward(ctx, ACT_SIGMOID, "sigmoid", x, y, err);
}

/* ---- softmax ---- */

int nn_softmax_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err) {
    ES_CHECK(act_check(ctx, "softmax", x, y, err));
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    NN_CUDA_DISPATCH(ctx, nn_cuda_softmax_forward(ctx, x->data, y->data, rows, d, err));
    for (int64_t r = 0; r < rows; r++) {
        const float *in = x->data + r * d;
        float *out = y->data + r * d;
        float mx = -INFINITY;
        for (int j = 0; j < d; j++) mx = in[j] > mx ? in[j] : mx;
        float s = 0.0f;
        for (int j = 0; j < d; j++) {
            out[j] = expf(in[j] - mx);
            s += out[j];
        }
        float inv = 1.0f / s;
        for (int j = 0; j < d; j++) out[j] *= inv;
    }
    return ES_OK;
}

int nn_softmax_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err) {
    ES_CHECK(act_check(ctx, "softmax", x, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "softmax backward: y has no grad");
    if (!x->grad) return ES_OK;
    int d = x->shape[x->ndim - 1];
    int64_t rows = d ? x->numel / d : 0;
    NN_CUDA_DISPATCH(ctx, nn_cuda_softmax_backward(ctx, y->data, y->grad, x->grad, rows, d, err));
    for (int64_t r = 0; r < rows; r++) {
        const float *p = y->data + r * d, *dy = y->grad + r * d;
        float *dx = x->grad + r * d;
        float dot = 0.0f;
        for (int j = 0; j < d; j++) dot += p[j] * dy[j];
        for (int j = 0; j < d; j++) dx[j] += p[j] * (dy[j] - dot);
    }
    return ES_OK;
}

/* ---- broadcast binary ops ---- */

/* b's strides in a 5-d walk over a's shape (0 where b broadcasts) */
typedef struct bcast {
    int shape[NN_MAX_DIMS];
    int64_t bstride[NN_MAX_DIMS];
    int same;
} bcast;

static int bcast_check(nn_ctx *ctx, const char *op, const nn_tensor *a, const nn_tensor *b,
                       const nn_tensor *y, bcast *bc, es_error *err) {
    ES_CHECK(nn_check_tensor(op, "a", a, 0, err));
    ES_CHECK(nn_check_tensor(op, "b", b, 0, err));
    ES_CHECK(nn_check_device(ctx, op, a, err));
    ES_CHECK(nn_check_same(op, a, y, err));
    char s1[80], s2[80];
    bc->same = a->numel == b->numel && nn_tensor_same_shape(a, b);
    if (bc->same) return ES_OK;
    if (b->ndim != a->ndim)
        return es_error_set(err, ES_ERR_INVALID, "%s: b %s does not broadcast to a %s", op,
                            nn_shape_str(b, s2, 80), nn_shape_str(a, s1, 80));
    int64_t stride = 1;
    for (int i = NN_MAX_DIMS - 1; i >= 0; i--) {
        int ad = i < a->ndim ? a->shape[i] : 1, bd = i < b->ndim ? b->shape[i] : 1;
        if (bd != ad && bd != 1)
            return es_error_set(err, ES_ERR_INVALID, "%s: b %s does not broadcast to a %s", op,
                                nn_shape_str(b, s2, 80), nn_shape_str(a, s1, 80));
        bc->shape[i] = ad;
        bc->bstride[i] = bd == 1 ? 0 : stride;
        stride *= bd;
    }
    return ES_OK;
}

/* calls body(ai, bi) for every element of a in order */
#define BCAST_WALK(bc, body)                                                                \
    do {                                                                                    \
        int64_t ai_ = 0;                                                                    \
        for (int i0 = 0; i0 < (bc).shape[0]; i0++)                                          \
            for (int i1 = 0; i1 < (bc).shape[1]; i1++)                                      \
                for (int i2 = 0; i2 < (bc).shape[2]; i2++)                                  \
                    for (int i3 = 0; i3 < (bc).shape[3]; i3++) {                            \
                        int64_t bb_ = i0 * (bc).bstride[0] + i1 * (bc).bstride[1] +         \
                                      i2 * (bc).bstride[2] + i3 * (bc).bstride[3];          \
                        for (int i4 = 0; i4 < (bc).shape[4]; i4++, ai_++) {                 \
                            int64_t ai = ai_, bi = bb_ + i4 * (bc).bstride[4];              \
                            body;                                                           \
                        }                                                                   \
                    }                                                                       \
    } while (0)

int nn_add_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, float alpha,
                   nn_tensor *y, es_error *err) {
    bcast bc = {0};
    ES_CHECK(bcast_check(ctx, "add", a, b, y, &bc, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_binary_forward(ctx, 0, a, b, alpha, y, err));
    float *out = y->data;
    const float *pa = a->data, *pb = b->data;
    if (bc.same) {
        for (int64_t i = 0; i < a->numel; i++) out[i] = pa[i] + alpha * pb[i];
    } else {
        BCAST_WALK(bc, out[ai] = pa[ai] + alpha * pb[bi]);
    }
    return ES_OK;
}

int nn_add_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, float alpha,
                    const nn_tensor *y, es_error *err) {
    bcast bc = {0};
    ES_CHECK(bcast_check(ctx, "add", a, b, y, &bc, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "add backward: y has no grad");
    NN_CUDA_DISPATCH(ctx, nn_cuda_binary_backward(ctx, 0, a, b, alpha, y, err));
    if (a->grad) ES_CHECK(nn_axpy(ctx, 1.0f, y->grad, a->grad, a->numel, err));
    if (b->grad) {
        if (bc.same) {
            ES_CHECK(nn_axpy(ctx, alpha, y->grad, b->grad, b->numel, err));
        } else {
            const float *dy = y->grad;
            float *db = b->grad;
            BCAST_WALK(bc, db[bi] += alpha * dy[ai]);
        }
    }
    return ES_OK;
}

int nn_mul_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, nn_tensor *y,
                   es_error *err) {
    bcast bc = {0};
    ES_CHECK(bcast_check(ctx, "mul", a, b, y, &bc, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_binary_forward(ctx, 1, a, b, 1.0f, y, err));
    float *out = y->data;
    const float *pa = a->data, *pb = b->data;
    if (bc.same) {
        for (int64_t i = 0; i < a->numel; i++) out[i] = pa[i] * pb[i];
    } else {
        BCAST_WALK(bc, out[ai] = pa[ai] * pb[bi]);
    }
    return ES_OK;
}

int nn_mul_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const nn_tensor *y,
                    es_error *err) {
    bcast bc = {0};
    ES_CHECK(bcast_check(ctx, "mul", a, b, y, &bc, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "mul backward: y has no grad");
    NN_CUDA_DISPATCH(ctx, nn_cuda_binary_backward(ctx, 1, a, b, 1.0f, y, err));
    const float *pa = a->data, *pb = b->data, *dy = y->grad;
    if (bc.same) {
        if (a->grad) {
            float *da = a->grad;
            for (int64_t i = 0; i < a->numel; i++) da[i] += dy[i] * pb[i];
        }
        if (b->grad) {
            float *db = b->grad;
            for (int64_t i = 0; i < a->numel; i++) db[i] += dy[i] * pa[i];
        }
    } else {
        if (a->grad) {
            float *da = a->grad;
            BCAST_WALK(bc, da[ai] += dy[ai] * pb[bi]);
        }
        if (b->grad) {
            float *db = b->grad;
            BCAST_WALK(bc, db[bi] += dy[ai] * pa[ai]);
        }
    }
    return ES_OK;
}

int nn_scale_forward(nn_ctx *ctx, const nn_tensor *x, float alpha, float beta, nn_tensor *y,
                     es_error *err) {
    ES_CHECK(act_check(ctx, "scale", x, y, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_scale_forward(ctx, x->data, alpha, beta, y->data, x->numel, err));
    const float *in = x->data;
    float *out = y->data;
    for (int64_t i = 0; i < x->numel; i++) out[i] = alpha * in[i] + beta;
    return ES_OK;
}

int nn_scale_backward(nn_ctx *ctx, const nn_tensor *x, float alpha, const nn_tensor *y,
                      es_error *err) {
    ES_CHECK(act_check(ctx, "scale", x, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "scale backward: y has no grad");
    if (!x->grad) return ES_OK;
    return nn_axpy(ctx, alpha, y->grad, x->grad, x->numel, err);
}

/* ---- concat / slice: strided block copies over (outer, dim, inner) ---- */

static int copy_blocks(nn_ctx *ctx, float *dst, int64_t dst_stride, int64_t dst_off,
                       const float *src, int64_t src_stride, int64_t src_off, int64_t outer,
                       int64_t inner, int accumulate, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_copy_blocks(ctx, dst, dst_stride, dst_off, src, src_stride,
                                              src_off, outer, inner, accumulate, err));
    for (int64_t o = 0; o < outer; o++) {
        float *d = dst + o * dst_stride + dst_off;
        const float *s = src + o * src_stride + src_off;
        if (accumulate)
            for (int64_t i = 0; i < inner; i++) d[i] += s[i];
        else
            memcpy(d, s, (size_t)inner * sizeof(float));
    }
    return ES_OK;
}

static int concat_check(nn_ctx *ctx, int n, const nn_tensor *const *xs, int dim,
                        const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("concat", "y", y, 0, err));
    if (n < 1 || dim < 0 || dim >= y->ndim)
        return es_error_set(err, ES_ERR_INVALID, "concat: %d inputs along dim %d", n, dim);
    int total = 0;
    for (int i = 0; i < n; i++) {
        ES_CHECK(nn_check_tensor("concat", "input", xs[i], y->ndim, err));
        ES_CHECK(nn_check_device(ctx, "concat", xs[i], err));
        for (int d = 0; d < y->ndim; d++)
            if (d != dim && xs[i]->shape[d] != y->shape[d]) {
                char s1[80], s2[80];
                return es_error_set(err, ES_ERR_INVALID, "concat: input %d %s does not fit y %s", i,
                                    nn_shape_str(xs[i], s1, 80), nn_shape_str(y, s2, 80));
            }
        total += xs[i]->shape[dim];
    }
    if (total != y->shape[dim])
        return es_error_set(err, ES_ERR_INVALID, "concat: inputs sum to %d along dim %d, y has %d",
                            total, dim, y->shape[dim]);
    return ES_OK;
}

int nn_concat_forward(nn_ctx *ctx, int n, const nn_tensor *const *xs, int dim, nn_tensor *y,
                      es_error *err) {
    ES_CHECK(concat_check(ctx, n, xs, dim, y, err));
    int64_t outer = nn_tensor_dims(y, 0, dim), inner = nn_tensor_dims(y, dim + 1, y->ndim);
    int64_t ystride = (int64_t)y->shape[dim] * inner, off = 0;
    for (int i = 0; i < n; i++) {
        int64_t blk = (int64_t)xs[i]->shape[dim] * inner;
        ES_CHECK(copy_blocks(ctx, y->data, ystride, off, xs[i]->data, blk, 0, outer, blk, 0, err));
        off += blk;
    }
    return ES_OK;
}

int nn_concat_backward(nn_ctx *ctx, int n, const nn_tensor *const *xs, int dim,
                       const nn_tensor *y, es_error *err) {
    ES_CHECK(concat_check(ctx, n, xs, dim, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "concat backward: y has no grad");
    int64_t outer = nn_tensor_dims(y, 0, dim), inner = nn_tensor_dims(y, dim + 1, y->ndim);
    int64_t ystride = (int64_t)y->shape[dim] * inner, off = 0;
    for (int i = 0; i < n; i++) {
        int64_t blk = (int64_t)xs[i]->shape[dim] * inner;
        if (xs[i]->grad)
            ES_CHECK(copy_blocks(ctx, xs[i]->grad, blk, 0, y->grad, ystride, off, outer, blk, 1, err));
        off += blk;
    }
    return ES_OK;
}

static int slice_check(nn_ctx *ctx, const nn_tensor *x, int dim, int start, int len,
                       const nn_tensor *y, es_error *err) {
    ES_CHECK(nn_check_tensor("slice", "x", x, 0, err));
    ES_CHECK(nn_check_tensor("slice", "y", y, x->ndim, err));
    ES_CHECK(nn_check_device(ctx, "slice", x, err));
    if (dim < 0 || dim >= x->ndim || start < 0 || len < 0 || start + len > x->shape[dim])
        return es_error_set(err, ES_ERR_INVALID, "slice: [%d, %d) of dim %d outside 0..%d", start,
                            start + len, dim, dim >= 0 && dim < x->ndim ? x->shape[dim] : -1);
    for (int d = 0; d < x->ndim; d++)
        if (y->shape[d] != (d == dim ? len : x->shape[d])) {
            char s1[80], s2[80];
            return es_error_set(err, ES_ERR_INVALID, "slice: y %s does not fit x %s", nn_shape_str(y, s1, 80),
                                nn_shape_str(x, s2, 80));
        }
    return ES_OK;
}

int nn_slice_forward(nn_ctx *ctx, const nn_tensor *x, int dim, int start, int len,
                     nn_tensor *y, es_error *err) {
    ES_CHECK(slice_check(ctx, x, dim, start, len, y, err));
    int64_t outer = nn_tensor_dims(x, 0, dim), inner = nn_tensor_dims(x, dim + 1, x->ndim);
    return copy_blocks(ctx, y->data, len * inner, 0, x->data, x->shape[dim] * inner, start * inner,
                       outer, len * inner, 0, err);
}

int nn_slice_backward(nn_ctx *ctx, const nn_tensor *x, int dim, int start, int len,
                      const nn_tensor *y, es_error *err) {
    ES_CHECK(slice_check(ctx, x, dim, start, len, y, err));
    if (!y->grad) return es_error_set(err, ES_ERR_INVALID, "slice backward: y has no grad");
    if (!x->grad) return ES_OK;
    int64_t outer = nn_tensor_dims(x, 0, dim), inner = nn_tensor_dims(x, dim + 1, x->ndim);
    return copy_blocks(ctx, x->grad, x->shape[dim] * inner, start * inner, y->grad, len * inner, 0,
                       outer, len * inner, 1, err);
}
