/* nn_cuda.h: the C entry points of the CUDA backend (train/nn/cuda/ sources). The public ops
 * validate shapes and then call these when the context is on CUDA; each mirrors the CPU
 * op of the same name (which is its specification). Only compiled with ENTSEG_NN_CUDA. */
#ifndef ENTSEG_NN_CUDA_H
#define ENTSEG_NN_CUDA_H

#include "../nn.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { NN_CUDA_H2D = 0, NN_CUDA_D2H = 1, NN_CUDA_D2D = 2 };

/* Number of usable devices; 0 with the reason in why (driver missing, no device). */
int nn_cuda_probe(char *why, size_t size);
int nn_cuda_state_create(nn_ctx *ctx, es_error *err);
void nn_cuda_state_free(nn_ctx *ctx);
void *nn_cuda_malloc(size_t bytes, es_error *err);
void nn_cuda_free(void *p);
int nn_cuda_memcpy(void *dst, const void *src, size_t bytes, int kind, es_error *err);
int nn_cuda_fill(nn_ctx *ctx, float *p, int64_t n, float value, es_error *err);
int nn_cuda_sync(nn_ctx *ctx, es_error *err);

/* ops (same arguments as the public functions, already validated) */
int nn_cuda_conv2d_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                           const nn_tensor *b, nn_tensor *y, const nn_conv2d_opts *o,
                           es_error *err);
int nn_cuda_conv2d_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                            const nn_tensor *b, const nn_tensor *y, const nn_conv2d_opts *o,
                            es_error *err);
/* row-major strided-batched gemm with leading dimensions (see nn_gemm_ex in nn_ops.h) */
int nn_cuda_gemm_ex(nn_ctx *ctx, int ta, int tb, int m, int n, int k, float alpha,
                    const float *a, int lda, int64_t sa, const float *b, int ldb, int64_t sb,
                    float beta, float *c, int ldc, int64_t sc, int batch, es_error *err);
void *nn_cuda_workspace(nn_ctx *ctx, int slot, size_t bytes, es_error *err);
/* y[r, :] += bias (rows r), db[:] += sum_r dy[r, :]; and over (N, C, HW) channel layout. */
int nn_cuda_bias_rows(nn_ctx *ctx, float *y, const float *bias, int64_t rows, int n,
                      es_error *err);
int nn_cuda_bias_rows_backward(nn_ctx *ctx, const float *dy, float *db, int64_t rows, int n,
                               es_error *err);
int nn_cuda_bias_channels(nn_ctx *ctx, float *y, const float *bias, int batch, int c,
                          int64_t hw, int bias_batch_stride, es_error *err);
int nn_cuda_bias_channels_backward(nn_ctx *ctx, const float *dy, float *db, int batch, int c,
                                   int64_t hw, int bias_batch_stride, es_error *err);

/* elementwise: kind 0 relu, 1 gelu, 2 sigmoid */
int nn_cuda_act_forward(nn_ctx *ctx, int kind, const float *x, float *y, int64_t n,
                        es_error *err);
int nn_cuda_act_backward(nn_ctx *ctx, int kind, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n, es_error *err);
int nn_cuda_softmax_forward(nn_ctx *ctx, const float *x, float *y, int64_t rows, int d,
                            es_error *err);
int nn_cuda_softmax_backward(nn_ctx *ctx, const float *y, const float *dy, float *dx,
                             int64_t rows, int d, es_error *err);
/* binary broadcast ops: op 0 add (alpha), 1 mul. bshape: b's dims (1 or a's). */
int nn_cuda_binary_forward(nn_ctx *ctx, int op, const nn_tensor *a, const nn_tensor *b,
                           float alpha, nn_tensor *y, es_error *err);
int nn_cuda_binary_backward(nn_ctx *ctx, int op, const nn_tensor *a, const nn_tensor *b,
                            float alpha, const nn_tensor *y, es_error *err);
int nn_cuda_scale_forward(nn_ctx *ctx, const float *x, float alpha, float beta, float *y,
                          int64_t n, es_error *err);
/* dx += alpha * dy */
int nn_cuda_axpy(nn_ctx *ctx, float alpha, const float *dy, float *dx, int64_t n,
                 es_error *err);
/* strided block copy: for o in outer: dst[o*dst_stride + dst_off + i] (+)= src[o*src_stride
 * + src_off + i], i < inner; accumulate 0/1 */
int nn_cuda_copy_blocks(nn_ctx *ctx, float *dst, int64_t dst_stride, int64_t dst_off,
                        const float *src, int64_t src_stride, int64_t src_off, int64_t outer,
                        int64_t inner, int accumulate, es_error *err);

int nn_cuda_frozen_bn_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                              const nn_tensor *bias, const nn_tensor *mean,
                              const nn_tensor *var, float eps, nn_tensor *y, es_error *err);
int nn_cuda_frozen_bn_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *weight,
                               const nn_tensor *mean, const nn_tensor *var, float eps,
                               const nn_tensor *y, es_error *err);
/* norm over rows of length d (group norm: rows = N*G, d = C/G*HW, channel affine) */
int nn_cuda_groupnorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                              const nn_tensor *beta, int groups, float eps, nn_tensor *y,
                              es_error *err);
int nn_cuda_groupnorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                               const nn_tensor *beta, int groups, float eps,
                               const nn_tensor *y, es_error *err);
int nn_cuda_layernorm_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                              const nn_tensor *beta, float eps, nn_tensor *y, es_error *err);
int nn_cuda_layernorm_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *gamma,
                               const nn_tensor *beta, float eps, const nn_tensor *y,
                               es_error *err);
int nn_cuda_resize_forward(nn_ctx *ctx, const nn_tensor *x, nn_tensor *y, int mode,
                           es_error *err);
int nn_cuda_resize_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *y, int mode,
                            es_error *err);
int nn_cuda_maxpool_forward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride, int pad,
                            nn_tensor *y, es_error *err);
int nn_cuda_maxpool_backward(nn_ctx *ctx, const nn_tensor *x, int kernel, int stride,
                             int pad, const nn_tensor *y, es_error *err);
int nn_cuda_point_sample_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                                 nn_tensor *y, es_error *err);
int nn_cuda_point_sample_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *points,
                                  const nn_tensor *y, es_error *err);
int nn_cuda_topk_forward(nn_ctx *ctx, const nn_tensor *x, int k, nn_tensor *values,
                         int32_t *indices, es_error *err);
int nn_cuda_topk_backward(nn_ctx *ctx, const nn_tensor *x, int k, const nn_tensor *values,
                          const int32_t *indices, es_error *err);
int nn_cuda_index_select(nn_ctx *ctx, const float *x, const int32_t *idx, int k, int64_t row,
                         float *y, es_error *err);
int nn_cuda_index_select_backward(nn_ctx *ctx, const float *dy, const int32_t *idx, int k,
                                  int64_t row, float *dx, es_error *err);
/* attention mask helper: probs (B*H, Lq, Lk) scaled scores -> masked softmax in place */
int nn_cuda_masked_softmax(nn_ctx *ctx, float *scores, const float *mask, int batch,
                           int heads, int lq, int lk, es_error *err);

/* losses: per-element / per-row values reduced on the device, gradient accumulated */
int nn_cuda_sigmoid_loss(nn_ctx *ctx, int focal, const nn_tensor *logits,
                         const nn_tensor *targets, const nn_tensor *weight, float alpha,
                         float gamma, float scale, float *loss, es_error *err);
int nn_cuda_dice_loss(nn_ctx *ctx, const nn_tensor *logits, const nn_tensor *targets,
                      int variant, float scale, float *loss, es_error *err);
int nn_cuda_softmax_ce_loss(nn_ctx *ctx, const nn_tensor *logits, const int32_t *labels,
                            const nn_tensor *class_weight, int weighted_mean, float scale,
                            float *loss, es_error *err);

/* optimiser: one fused update of n floats */
int nn_cuda_sgd_step(nn_ctx *ctx, float *p, const float *g, float *buf, int64_t n, float lr,
                     float momentum, float wd, int first, es_error *err);
int nn_cuda_adamw_step(nn_ctx *ctx, float *p, const float *g, float *m, float *v, int64_t n,
                       float lr, float beta1, float beta2, float eps, float wd, float bc1,
                       float bc2, es_error *err);
/* sum of squares of n floats, into *out (host) */
int nn_cuda_sumsq(nn_ctx *ctx, const float *x, int64_t n, double *out, es_error *err);
int nn_cuda_scale_inplace(nn_ctx *ctx, float *x, int64_t n, float s, es_error *err);

#ifdef __cplusplus
}
#endif

#endif
