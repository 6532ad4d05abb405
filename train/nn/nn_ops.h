/* nn_ops.h: building blocks the op files share (gemm, bias), CPU or CUDA by context. */
#ifndef ENTSEG_NN_OPS_H
#define ENTSEG_NN_OPS_H

#include "nn.h"

/* Row-major C[i] = op(A[i]) op(B[i]) + beta C[i] for i < batch; op(A) is (m, k), op(B)
 * (k, n), C (m, n); strides in floats between batch items (0 = the same matrix). */
int nn_gemm_batched(nn_ctx *ctx, int ta, int tb, int m, int n, int k, const float *a,
                    int64_t sa, const float *b, int64_t sb, float *c, int64_t sc, int batch,
                    float beta, es_error *err);
/* The general form: leading dimensions and alpha (attention's per-head column blocks). */
int nn_gemm_ex(nn_ctx *ctx, int ta, int tb, int m, int n, int k, float alpha, const float *a,
               int lda, int64_t sa, const float *b, int ldb, int64_t sb, float beta, float *c,
               int ldc, int64_t sc, int batch, es_error *err);
/* One single-threaded row-major sgemm on the calling thread (CPU only). */
void nn_sgemm_cpu(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc);
int nn_gemm(nn_ctx *ctx, int ta, int tb, int m, int n, int k, const float *a, const float *b,
            float *c, float beta, es_error *err);
int nn_bias_rows(nn_ctx *ctx, float *y, const float *bias, int64_t rows, int n, es_error *err);
int nn_bias_rows_backward(nn_ctx *ctx, const float *dy, float *db, int64_t rows, int n,
                          es_error *err);
int nn_bias_channels(nn_ctx *ctx, float *y, const float *bias, int batch, int c, int64_t hw,
                     int bias_batch_stride, es_error *err);
int nn_bias_channels_backward(nn_ctx *ctx, const float *dy, float *db, int batch, int c,
                              int64_t hw, int bias_batch_stride, es_error *err);
/* dx += alpha * dy over n floats */
int nn_axpy(nn_ctx *ctx, float alpha, const float *dy, float *dx, int64_t n, es_error *err);

#endif
