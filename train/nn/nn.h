/* nn.h: the neural-network engine the entseg models (K-Net first) are built on.
 *
 * Design (after karpathy/llm.c): plain C, fp32, NCHW. Parameters and their gradients are
 * carved out of one allocation each (nn_params); activations come from bump arenas
 * (nn_arena) that are reset once per step. Every op is a hand-written pair of functions,
 *     nn_<op>_forward(ctx, inputs..., outputs..., options, err)
 *     nn_<op>_backward(ctx, inputs..., outputs..., options, err)
 * The CPU version of each op is the specification; the CUDA version (train/nn/cuda/) is
 * checked against it by tests/train/test_cuda_ops.c.
 *
 * Conventions (read these once; every declaration below follows them):
 * - A tensor is a (data, grad) pair plus a shape. grad == NULL means "no gradient wanted".
 * - All tensors passed to one call live on the ctx's device (nn_ctx_device()).
 * - Forward writes (overwrites) the output's data; the caller allocates the output with the
 *   shape written in the comment (nn_conv2d_out_size() etc. help). Shapes are checked:
 *   a mismatch returns ES_ERR_INVALID with the op and the shapes in err.
 * - Backward reads the outputs' grad and ACCUMULATES (+=) into the grad of every input
 *   whose grad is not NULL (as llm.c does), so branches and residuals need no extra code.
 *   Zero activation grads once per step (nn_tensor_new() returns zeroed grads) and
 *   parameter grads with nn_params_zero_grad(). Backward needs the same inputs (and, where
 *   said, outputs) as forward, unchanged.
 * - In-place calls (output == input) are not allowed unless the comment says so.
 * - Functions returning int return an es_status (ES_OK == 0) and fill err (may be NULL).
 * - Index arrays (labels, top-k indices) are int32_t on the ctx's device.
 * - Losses are fused: nn_*_loss() returns the loss value on the host and, when the logits
 *   have a grad, accumulates d(scale * loss)/d(logits) into it in the same pass.
 *
 * Ownership: every create has a free; free accepts NULL. Tensors do not own memory: their
 * storage belongs to the arena or nn_params they came from and dies with it (or with
 * nn_arena_reset()).
 */
#ifndef ENTSEG_NN_H
#define ENTSEG_NN_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------ */
/* Device and context                                                                   */

typedef enum nn_device { NN_DEVICE_CPU = 0, NN_DEVICE_CUDA = 1 } nn_device;

/* What the user asked for (--device auto|cpu|cuda). */
typedef enum nn_device_request {
    NN_REQUEST_AUTO = 0, /* CUDA when a usable GPU is present, else CPU (with a note) */
    NN_REQUEST_CPU = 1,
    NN_REQUEST_CUDA = 2 /* fails with ES_ERR_UNSUPPORTED when no GPU/driver/CUDA build */
} nn_device_request;

/* Parses "auto" | "cpu" | "cuda"; ES_ERR_INVALID otherwise. */
int nn_device_request_parse(const char *text, nn_device_request *out, es_error *err);

/* Whether this build has the CUDA backend compiled in (1) or not (0). */
int nn_cuda_compiled(void);

typedef struct nn_ctx nn_ctx;

/* Creates the execution context: device, CPU threads (0 = all cores; the context's own
 * pool runs them, OpenBLAS is set to 1 thread), cuDNN/cuBLAS handles and the workspaces. With AUTO and no
 * usable GPU it picks the CPU and records a one-line note (nn_ctx_note) for the CLI to
 * print, e.g. "entseg: no CUDA device (cudaGetDeviceCount: no driver); using the CPU". */
int nn_ctx_create(nn_ctx **out, nn_device_request request, int threads, es_error *err);
void nn_ctx_free(nn_ctx *ctx);
nn_device nn_ctx_device(const nn_ctx *ctx);
int nn_ctx_threads(const nn_ctx *ctx);
/* "" when nothing to say; else the fallback / device line (no newline). */
const char *nn_ctx_note(const nn_ctx *ctx);
/* Deterministic mode: fixed-order reductions everywhere (CPU already is for a fixed thread
 * count), deterministic cuDNN algorithms and no atomics in CUDA backward kernels. */
void nn_ctx_set_deterministic(nn_ctx *ctx, int on);
int nn_ctx_deterministic(const nn_ctx *ctx);
/* Waits for queued device work (no-op on CPU); reports asynchronous CUDA errors. */
int nn_ctx_sync(nn_ctx *ctx, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Arenas: bump allocators on one device                                                */

typedef struct nn_arena nn_arena;

/* bytes: initial capacity (grown in blocks when exceeded; after nn_arena_reset() the
 * blocks are merged into one of the high-water size, so steady state is one block). */
int nn_arena_create(nn_arena **out, nn_ctx *ctx, size_t bytes, es_error *err);
void nn_arena_free(nn_arena *a);
/* 256-byte aligned, uninitialised; NULL when out of memory (then err is filled). */
void *nn_arena_alloc(nn_arena *a, size_t bytes, es_error *err);
/* Forgets every allocation (tensors from it become invalid). */
void nn_arena_reset(nn_arena *a);
size_t nn_arena_used(const nn_arena *a);
size_t nn_arena_high_water(const nn_arena *a);

/* ------------------------------------------------------------------------------------ */
/* Tensors                                                                              */

#define NN_MAX_DIMS 5

typedef struct nn_tensor {
    float *data;              /* numel floats on `device` */
    float *grad;              /* numel floats, or NULL: no gradient flows into this tensor */
    int64_t numel;
    int ndim;                 /* 1..NN_MAX_DIMS */
    int shape[NN_MAX_DIMS];   /* outermost first: (N, C, H, W) for images */
    nn_device device;
} nn_tensor;

/* Shape literal helper: nn_tensor_new(a, &t, 1, 4, NN_SHAPE(n, c, h, w), err). */
#define NN_SHAPE(...) ((const int[]){__VA_ARGS__})

/* Allocates data (uninitialised) and, when with_grad, a zeroed grad from the arena. */
int nn_tensor_new(nn_arena *a, nn_tensor *t, int with_grad, int ndim, const int *shape,
                  es_error *err);
/* Same, data zero-filled. */
int nn_tensor_zeros(nn_arena *a, nn_tensor *t, int with_grad, int ndim, const int *shape,
                    es_error *err);
/* A tensor over caller memory (no copy, no ownership). */
nn_tensor nn_tensor_wrap(float *data, float *grad, nn_device device, int ndim,
                         const int *shape);
/* Reshape view sharing data/grad; numel must match (else ES_ERR_INVALID). */
int nn_tensor_view(const nn_tensor *t, int ndim, const int *shape, nn_tensor *out,
                   es_error *err);
/* View of rows [start, start+len) of dim 0 (contiguous), e.g. one image of a batch. */
int nn_tensor_narrow0(const nn_tensor *t, int start, int len, nn_tensor *out, es_error *err);
/* Product of shape[from..to) (to exclusive). */
int64_t nn_tensor_dims(const nn_tensor *t, int from, int to);
int nn_tensor_same_shape(const nn_tensor *a, const nn_tensor *b);
/* "(2, 3, 4)" into buf; returns buf. */
const char *nn_shape_str(const nn_tensor *t, char *buf, size_t size);

/* Host <-> device copies of a whole tensor's data (plain memcpy on the CPU). */
int nn_tensor_upload(nn_ctx *ctx, nn_tensor *t, const float *host, es_error *err);
int nn_tensor_download(nn_ctx *ctx, const nn_tensor *t, float *host, es_error *err);
int nn_tensor_download_grad(nn_ctx *ctx, const nn_tensor *t, float *host, es_error *err);
/* Raw byte copies, e.g. int32 labels: host -> device, device -> host. */
int nn_memcpy_to_device(nn_ctx *ctx, void *dst, const void *host, size_t bytes, es_error *err);
int nn_memcpy_to_host(nn_ctx *ctx, void *host, const void *src, size_t bytes, es_error *err);
/* data := value / grad := 0 / dst.data := src.data (same numel). */
int nn_fill(nn_ctx *ctx, nn_tensor *t, float value, es_error *err);
int nn_zero_grad(nn_ctx *ctx, nn_tensor *t, es_error *err);
int nn_copy(nn_ctx *ctx, nn_tensor *dst, const nn_tensor *src, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Random numbers (deterministic, platform independent: PCG32 + Box-Muller)            */

typedef struct nn_rng {
    uint64_t state, inc;
} nn_rng;

void nn_rng_seed(nn_rng *r, uint64_t seed);
uint32_t nn_rng_u32(nn_rng *r);
float nn_rng_uniform(nn_rng *r);                    /* [0, 1) */
float nn_rng_normal(nn_rng *r);                     /* N(0, 1) */
void nn_rng_fill_uniform(nn_rng *r, float *host, int64_t n, float lo, float hi);
void nn_rng_fill_normal(nn_rng *r, float *host, int64_t n, float mean, float std);

/* ------------------------------------------------------------------------------------ */
/* Parameters: named tensors carved out of one allocation (+ one for gradients)         */

#define NN_MAX_GROUPS 8
#define NN_PARAM_NAME_MAX 128

typedef struct nn_params nn_params;

enum nn_param_flags {
    NN_PARAM_FROZEN = 1 /* no gradient buffer, never updated (e.g. frozen BN statistics) */
};

int nn_params_create(nn_params **out, es_error *err);
void nn_params_free(nn_params *ps);
/* Declares a parameter (before nn_params_alloc). group: 0..NN_MAX_GROUPS-1 selects the
 * optimiser's lr / weight-decay multipliers. Names are unique ("backbone.layer1.0.conv1.
 * weight"). *index_out (may be NULL) receives its index. */
int nn_params_add(nn_params *ps, const char *name, int group, unsigned flags, int ndim,
                  const int *shape, int *index_out, es_error *err);
/* Allocates all declared parameters in one block on ctx's device (data zeroed), grads in
 * a second block (zeroed). No nn_params_add afterwards. */
int nn_params_alloc(nn_params *ps, nn_ctx *ctx, es_error *err);
int nn_params_count(const nn_params *ps);
int64_t nn_params_numel(const nn_params *ps); /* total floats */
/* The tensor of parameter i (valid after nn_params_alloc; stable until free). */
nn_tensor *nn_params_tensor(nn_params *ps, int i);
const char *nn_params_name(const nn_params *ps, int i);
int nn_params_group(const nn_params *ps, int i);
unsigned nn_params_flags(const nn_params *ps, int i);
int nn_params_find(const nn_params *ps, const char *name); /* index or -1 */
int nn_params_zero_grad(nn_params *ps, nn_ctx *ctx, es_error *err);

/* Initialisers, drawn on the host from rng (so CPU and CUDA runs start equal). */
typedef enum nn_init_kind {
    NN_INIT_ZEROS = 0,
    NN_INIT_ONES,
    NN_INIT_CONSTANT,       /* a */
    NN_INIT_UNIFORM,        /* U(a, b) */
    NN_INIT_NORMAL,         /* N(a, b^2) */
    NN_INIT_KAIMING_NORMAL, /* N(0, 2/fan_out), fan_out = shape[0]*prod(shape[2:]) (mmcv) */
    NN_INIT_KAIMING_UNIFORM,/* torch conv/linear default: U(+-1/sqrt(fan_in)), fan_in = prod(shape[1:]) */
    NN_INIT_XAVIER_UNIFORM  /* U(+-sqrt(6/(fan_in+fan_out))) */
} nn_init_kind;
int nn_params_init(nn_params *ps, nn_ctx *ctx, int index, nn_init_kind kind, float a, float b,
                   nn_rng *rng, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Convolution and matrix products                                                       */

typedef struct nn_conv2d_opts {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int dil_h, dil_w;
    int groups;
} nn_conv2d_opts;

/* Square options helper: stride, padding, dilation, groups. */
nn_conv2d_opts nn_conv2d_opts_make(int stride, int pad, int dilation, int groups);
/* Output size along one axis: (in + 2*pad - dil*(k-1) - 1) / stride + 1. */
int nn_conv2d_out_size(int in, int kernel, int stride, int pad, int dilation);
/* 1 when this CPU runs the direct convolution kernels (x86-64 with AVX2 and FMA, and the
 * environment does not set ENTSEG_NN_CONV=im2col). */
int nn_conv2d_cpu_direct(void);

/* y = conv2d(x, w) + b.
 * x (N, Cin, H, W), w (Cout, Cin/groups, KH, KW), b (Cout) or NULL, y (N, Cout, OH, OW).
 * CPU: stride-1 convolutions with one group and output rows of 16+ pixels run direct AVX2
 * kernels (no im2col; their weight gradient does not depend on the thread count) when
 * nn_conv2d_cpu_direct() says so; the rest im2col + OpenBLAS sgemm (1x1 stride-1 unpadded
 * convs skip im2col). CUDA: cuDNN. */
int nn_conv2d_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                      nn_tensor *y, const nn_conv2d_opts *o, es_error *err);
/* Accumulates into x->grad, w->grad, b->grad (each when non-NULL) from y->grad. */
int nn_conv2d_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *y, const nn_conv2d_opts *o, es_error *err);

/* y = x w^T + b (torch.nn.Linear). x (..., K) viewed as (M, K); w (N, K); b (N) or NULL;
 * y (..., N) with the same leading dims. */
int nn_linear_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                      nn_tensor *y, es_error *err);
int nn_linear_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                       const nn_tensor *y, es_error *err);

/* Batched matmul y[i] = op(a[i]) op(b[i]), op = transpose when trans_* is set.
 * a (B, M, K) or (B, K, M) if trans_a; b (B, K, N) or (B, N, K) if trans_b; y (B, M, N).
 * a or b may have batch 1 (broadcast over B; its grad is summed over the batch).
 * Tensors of 2 dims are taken as batch 1. K-Net's einsum('bnc,bchw->bnhw') is
 * a (B, N, C) x b (B, C, HW). */
int nn_bmm_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, nn_tensor *y,
                   int trans_a, int trans_b, es_error *err);
int nn_bmm_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const nn_tensor *y,
                    int trans_a, int trans_b, es_error *err);

/* Per-instance dynamic 1x1 convolution (CondInst mask heads, K-Net kernels):
 * x (N, Cin, H, W), w (N, Cout, Cin), b (N, Cout) or NULL, y (N, Cout, H, W):
 * y[n] = w[n] x[n] + b[n]. */
int nn_dynconv1x1_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                          const nn_tensor *b, nn_tensor *y, es_error *err);
int nn_dynconv1x1_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                           const nn_tensor *b, const nn_tensor *y, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Elementwise and activations (any shape; y has x's shape)                             */

/* y = max(x, 0). Backward uses y > 0. The activations' forward may run in place
 * (y->data == x->data) for inference only: backward needs distinct grads. */
int nn_relu_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err);
int nn_relu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err);
/* Exact GELU: x * Phi(x) (torch default, erf form). */
int nn_gelu_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err);
int nn_gelu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err);
/* y = 1 / (1 + exp(-x)); backward uses y's data. */
int nn_sigmoid_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err);
int nn_sigmoid_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err);
/* Softmax over the last dim: x (..., D), y (..., D); backward uses y's data. */
int nn_softmax_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, es_error *err);
int nn_softmax_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, es_error *err);

/* y = a + alpha * b and y = a * b, with b broadcast to a's shape: b has a's ndim and each
 * of its dims equals a's or is 1 (a bias (1, C, 1, 1), a gate (N, 1, C)). y has a's shape. */
int nn_add_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, float alpha,
                   nn_tensor *y, es_error *err);
int nn_add_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, float alpha,
                    const nn_tensor *y, es_error *err);
int nn_mul_forward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, nn_tensor *y,
                   es_error *err);
int nn_mul_backward(nn_ctx *ctx, const nn_tensor *a, const nn_tensor *b, const nn_tensor *y,
                    es_error *err);
/* y = alpha * x + beta. */
int nn_scale_forward(nn_ctx *ctx, const nn_tensor *x, float alpha, float beta, nn_tensor *y,
                     es_error *err);
int nn_scale_backward(nn_ctx *ctx, const nn_tensor *x, float alpha, const nn_tensor *y,
                      es_error *err);

/* Concatenation along dim: xs[i] agree on every other dim; y's dim is the sum. */
int nn_concat_forward(nn_ctx *ctx, int n, const nn_tensor *const *xs, int dim, nn_tensor *y,
                      es_error *err);
int nn_concat_backward(nn_ctx *ctx, int n, const nn_tensor *const *xs, int dim,
                       const nn_tensor *y, es_error *err);
/* y = x[..., start:start+len, ...] along dim (a copy). */
int nn_slice_forward(nn_ctx *ctx, const nn_tensor *x, int dim, int start, int len,
                     nn_tensor *y, es_error *err);
int nn_slice_backward(nn_ctx *ctx, const nn_tensor *x, int dim, int start, int len,
                      const nn_tensor *y, es_error *err);

/* Row gather along dim 0: y[k] = x[idx[k]]; x (R, ...), idx int32 (K) on the device with
 * values in 0..R-1 (repeats allowed), y (K, ...). Backward adds y->grad rows into the
 * chosen rows of x->grad (repeats accumulate). E.g. the matched proposals of a batch. */
int nn_index_select_forward(nn_ctx *ctx, const nn_tensor *x, const int32_t *idx, int k,
                            nn_tensor *y, es_error *err);
int nn_index_select_backward(nn_ctx *ctx, const nn_tensor *x, const int32_t *idx, int k,
                             const nn_tensor *y, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Normalisation                                                                         */

/* Frozen BatchNorm (inference affine, torchvision FrozenBatchNorm2d):
 * y = (x - mean) / sqrt(var + eps) * weight + bias. x, y (N, C, H, W); weight, bias,
 * mean, var (C). Only x->grad receives a gradient (the statistics are frozen). */
int nn_frozen_bn_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                         const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                         float eps, nn_tensor *y, es_error *err);
int nn_frozen_bn_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                          const nn_tensor *bias, const nn_tensor *mean, const nn_tensor *var,
                          float eps, const nn_tensor *y, es_error *err);

/* GroupNorm: x, y (N, C, ...) with C % groups == 0; gamma, beta (C) or NULL. Statistics
 * per (n, group), biased variance (torch.nn.GroupNorm). Backward recomputes them. */
int nn_groupnorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                         const nn_tensor *beta, int groups, float eps, nn_tensor *y,
                         es_error *err);
int nn_groupnorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                          const nn_tensor *beta, int groups, float eps, const nn_tensor *y,
                          es_error *err);
/* y = relu(groupnorm(x)) in one pass, without the normalised tensor in between (its memory
 * and two elementwise passes are most of a small conv net's non-convolution time).
 * Backward masks y->grad by y > 0 (the same as relu's) inside the GroupNorm backward. On
 * CUDA both are composed of the GroupNorm and ReLU kernels (a scratch tensor for the
 * masked gradient): the saving is the CPU backend's. */
int nn_groupnorm_relu_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                              const nn_tensor *beta, int groups, float eps, nn_tensor *y,
                              es_error *err);
int nn_groupnorm_relu_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                               const nn_tensor *beta, int groups, float eps, const nn_tensor *y,
                               es_error *err);

/* LayerNorm over the last dim: x, y (..., D); gamma, beta (D) or NULL. */
int nn_layernorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                         const nn_tensor *beta, float eps, nn_tensor *y, es_error *err);
int nn_layernorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                          const nn_tensor *beta, float eps, const nn_tensor *y, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Resampling and pooling                                                                */

typedef enum nn_resize_mode {
    NN_RESIZE_HALF_PIXEL = 0,    /* F.interpolate(bilinear, align_corners=False), size given */
    NN_RESIZE_ALIGN_CORNERS = 1, /* F.interpolate(bilinear, align_corners=True) */
    NN_RESIZE_ALIGNED = 2        /* CondInst aligned_bilinear(x, factor): OH = H * factor */
} nn_resize_mode;

/* Bilinear resize: x (N, C, H, W) -> y (N, C, OH, OW). For NN_RESIZE_ALIGNED, OH/H and
 * OW/W must be the same integer factor. */
int nn_resize_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, nn_resize_mode mode,
                      es_error *err);
int nn_resize_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y,
                       nn_resize_mode mode, es_error *err);

/* Max pooling: x (N, C, H, W) -> y (N, C, OH, OW), OH = nn_conv2d_out_size(H, k, s, p, 1);
 * padding is -inf. Ties go to the first (row-major) element. */
int nn_maxpool2d_forward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                         nn_tensor *y, es_error *err);
int nn_maxpool2d_backward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                          const nn_tensor *y, es_error *err);

/* Point sampling (Mask2Former point_sample = grid_sample(bilinear, zeros padding,
 * align_corners=False)): x (N, C, H, W), points (N, P, 2) as (x, y) in [0, 1] of the image
 * (0 = left edge, 1 = right edge), y (N, C, P). No gradient to the points. */
int nn_point_sample_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                            nn_tensor *y, es_error *err);
int nn_point_sample_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                             const nn_tensor *y, es_error *err);

/* Top-k along the last dim: x (R, D) (leading dims flattened), values (R, k), indices
 * int32 (R * k) on the device. Descending; equal values: lower index first. Backward
 * scatters values->grad into x->grad. */
int nn_topk_forward(nn_ctx *ctx, const nn_tensor *x, int k, nn_tensor *values,
                    int32_t *indices, es_error *err);
int nn_topk_backward(nn_ctx *ctx, const nn_tensor *x, int k, const nn_tensor *values,
                     const int32_t *indices, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Attention                                                                             */

/* Multi-head scaled dot-product attention (the core of torch.nn.MultiheadAttention; the
 * in/out projections are nn_linear calls by the model):
 * q (B, Lq, E), k (B, Lk, E), v (B, Lk, E), E = heads * Dh; out (B, Lq, E);
 * mask (B, Lq, Lk) or NULL: nonzero = key is NOT attended (torch bool attn_mask). A query
 * row whose keys are all masked attends to all keys (Mask2Former's rule).
 * probs (B, heads, Lq, Lk): the softmax, written by forward and read by backward (no grad).
 * Backward accumulates into q/k/v->grad from out->grad. */
int nn_attention_forward(nn_ctx *ctx, const nn_tensor *q, const nn_tensor *k,
                         const nn_tensor *v, const nn_tensor *mask, int heads,
                         nn_tensor *probs, nn_tensor *out, es_error *err);
int nn_attention_backward(nn_ctx *ctx, const nn_tensor *q, const nn_tensor *k,
                          const nn_tensor *v, const nn_tensor *mask, int heads,
                          const nn_tensor *probs, const nn_tensor *out, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Losses (fused forward + backward; see the conventions at the top)                    */

/* Each returns *loss = scale * sum(...) on the host, and when logits->grad != NULL adds
 * d(*loss)/d(logits) to it. `scale` carries loss_weight / avg_factor. */

/* mmdet sigmoid focal loss: x, t same shape (t in [0,1], one-hot or soft);
 * p = sigmoid(x), pt = (1-p) t + p (1-t), loss = bce(x, t) * (alpha t + (1-alpha)(1-t))
 * * pt^gamma, summed. weight: same shape or NULL. */
int nn_sigmoid_focal_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                          const nn_tensor *weight, float alpha, float gamma, float scale,
                          float *loss, es_error *err);
/* BCE with logits, summed: x, t same shape; weight same shape or NULL. */
int nn_bce_logits_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                       const nn_tensor *weight, float scale, float *loss, es_error *err);

typedef enum nn_dice_variant {
    /* K-Net / mmdet: 1 - 2 sum(p t) / (sum(p^2) + eps + sum(t^2) + eps), eps = 1e-3 */
    NN_DICE_KNET = 0,
    /* Entity / CondInst dice_coefficient: 1 - 2 sum(p t) / (sum(p^2) + sum(t^2) + eps),
     * eps = 1e-5 */
    NN_DICE_ENTITY = 1,
    /* Mask2Former: 1 - (2 sum(p t) + 1) / (sum(p) + sum(t) + 1) */
    NN_DICE_MASK2FORMER = 2
} nn_dice_variant;
/* Dice on sigmoid(logits): logits, targets (R, ...) flattened to rows; the per-row losses
 * are summed. */
int nn_dice_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                 nn_dice_variant variant, float scale, float *loss, es_error *err);

/* Softmax cross-entropy: logits (R, C) (leading dims flattened), labels int32 (R) on the
 * device, -1 = ignored; class_weight (C) or NULL (e.g. 0.1 on the no-object class).
 * loss = scale * sum_i w[y_i] nll_i / (weighted_mean ? sum_i w[y_i] : 1)
 * (weighted_mean = 1 with scale = 1 is F.cross_entropy(weight=w)). */
int nn_softmax_ce_loss(nn_ctx *ctx, const nn_tensor *logits, const int32_t *labels,
                       const nn_tensor *class_weight, int weighted_mean, float scale,
                       float *loss, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Optimisers and schedules                                                              */

typedef enum nn_optim_kind { NN_OPTIM_SGD = 0, NN_OPTIM_ADAMW = 1 } nn_optim_kind;

typedef struct nn_optim_opts {
    nn_optim_kind kind;
    float momentum;      /* SGD (torch: buf = m buf + g; p -= lr buf), 0 = plain */
    float beta1, beta2;  /* AdamW, default 0.9, 0.999 */
    float eps;           /* AdamW, default 1e-8 */
    float weight_decay;  /* SGD: L2 added to the gradient; AdamW: decoupled */
    /* Per-group multipliers (nn_params_add's group); 0 entries are read as 1 unless
     * group_set[g] is set, so a zeroed struct means "all 1". */
    float lr_mult[NN_MAX_GROUPS];
    float wd_mult[NN_MAX_GROUPS];
    int group_set[NN_MAX_GROUPS];
} nn_optim_opts;

/* Defaults: SGD momentum 0.9 / AdamW betas (0.9, 0.999), eps 1e-8, weight decay 0. */
nn_optim_opts nn_optim_opts_default(nn_optim_kind kind);

typedef struct nn_optim nn_optim;

/* State buffers (momentum / m, v) in one allocation on ps's device, zeroed. */
int nn_optim_create(nn_optim **out, nn_params *ps, nn_ctx *ctx, const nn_optim_opts *o,
                    es_error *err);
void nn_optim_free(nn_optim *opt);
/* One update of every non-frozen parameter with base learning rate lr. */
int nn_optim_step(nn_optim *opt, nn_ctx *ctx, float lr, es_error *err);
int64_t nn_optim_steps(const nn_optim *opt); /* updates done (restored on resume) */
/* Global L2 norm of all gradients; when max_norm > 0 and the norm exceeds it, scales all
 * gradients by max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_). */
int nn_clip_grad_norm(nn_params *ps, nn_ctx *ctx, float max_norm, float *norm_out,
                      es_error *err);

typedef enum nn_sched_kind {
    NN_SCHED_CONSTANT = 0,
    NN_SCHED_STEP = 1, /* lr * gamma^(number of steps[] <= iter) */
    NN_SCHED_POLY = 2  /* (lr - min_lr) * (1 - iter/max_iters)^power + min_lr */
} nn_sched_kind;

#define NN_SCHED_MAX_STEPS 8

typedef struct nn_sched {
    nn_sched_kind kind;
    float base_lr;
    int steps[NN_SCHED_MAX_STEPS]; /* iterations (ascending) */
    int n_steps;
    float gamma;                   /* STEP, e.g. 0.1 */
    int max_iters;                 /* POLY */
    float power, min_lr;           /* POLY, e.g. 0.9, 0 */
    /* mmcv linear warmup: lr * (1 - (1 - iter/warmup_iters) (1 - warmup_ratio)) for
     * iter < warmup_iters; warmup_iters 0 = none. */
    int warmup_iters;
    float warmup_ratio;
} nn_sched;

/* Learning rate at iteration iter (0-based). */
float nn_sched_lr(const nn_sched *s, int iter);

/* ------------------------------------------------------------------------------------ */
/* Matching and box utilities (host memory)                                              */

/* Minimum-cost assignment of a rectangular cost matrix (nr x nc, row-major), as
 * scipy.optimize.linear_sum_assignment: min(nr, nc) pairs, sorted by row, written to
 * rows[] and cols[] (each min(nr, nc) long); *total gets the cost sum (may be NULL).
 * Shortest augmenting path (Crouse / LAPJV family), O(n^2 m). NaN or -inf costs:
 * ES_ERR_INVALID; +inf entries are forbidden pairs, no complete matching:
 * ES_ERR_INVALID ("cost matrix is infeasible"). */
int nn_linear_sum_assignment(const double *cost, int nr, int nc, int *rows, int *cols,
                             double *total, es_error *err);

/* Class-agnostic NMS (torchvision.ops.nms): boxes (n, 4) as x1, y1, x2, y2, scores (n).
 * Keeps boxes in descending score order (ties: lower index first) whose IoU with every
 * kept box is <= iou_threshold. keep[] (n long) gets indices, *n_keep the count. */
int nn_nms(const float *boxes, const float *scores, int n, float iou_threshold, int *keep,
           int *n_keep, es_error *err);

/* ------------------------------------------------------------------------------------ */
/* Checkpoints (safetensors: u64 little-endian header length, JSON header, raw data)     */

/* Writes every parameter (by name, F32) and, when opt != NULL, its state as
 * "optim.<slot>.<param name>" (slot: momentum | exp_avg | exp_avg_sq), with
 * __metadata__ {"format": "pt", "entseg.step": ..., "entseg.optim": ...} plus the
 * caller's extra key/value pairs (n_meta pairs, may be 0). Written to path.tmp, then
 * renamed. Loadable with safetensors.torch.load_file(). */
int nn_checkpoint_save(const char *path, nn_params *ps, const nn_optim *opt, nn_ctx *ctx,
                       int n_meta, const char *const *meta_keys, const char *const *meta_values,
                       es_error *err);

enum nn_load_flags {
    NN_LOAD_ALLOW_MISSING = 1,   /* parameters absent from the file keep their values */
    NN_LOAD_ALLOW_UNEXPECTED = 2 /* tensors in the file matching no parameter are skipped */
};

/* Loads tensors into parameters: file name `name` goes to parameter prefix + name (e.g.
 * prefix "backbone." for a torchvision resnet50 state dict: "layer1.0.conv1.weight" ->
 * "backbone.layer1.0.conv1.weight"; fc.*, num_batches_tracked are then unexpected).
 * F32, F16, BF16 and F64 are converted to fp32; shapes must match. When opt != NULL its
 * state and step count are restored as well (resume). *n_loaded (may be NULL) counts the
 * parameters filled. */
int nn_checkpoint_load(const char *path, nn_params *ps, nn_optim *opt, nn_ctx *ctx,
                       const char *prefix, unsigned flags, int *n_loaded, es_error *err);

/* Reads one metadata value ("entseg.step") of a safetensors file into buf ("" if absent). */
int nn_checkpoint_meta(const char *path, const char *key, char *buf, size_t size,
                       es_error *err);

#ifdef __cplusplus
}
#endif

#endif
