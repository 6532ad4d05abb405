/* nn_cuda_internal.cuh: what the CUDA sources share: the per-context state (stream,
 * cuBLAS/cuDNN handles, workspaces, the conv algorithm cache), error macros, launch
 * helpers and a deterministic block reduction. */
#ifndef ENTSEG_NN_CUDA_INTERNAL_CUH
#define ENTSEG_NN_CUDA_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdint.h>

extern "C" {
#include "../nn_internal.h"
}

#define NN_CONV_CACHE 256

typedef struct conv_algo_entry {
    int key[13];
    int used;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
} conv_algo_entry;

typedef struct nn_cuda_state {
    cudaStream_t stream;
    cublasHandle_t cublas;
    cudnnHandle_t cudnn;
    void *ws[4];
    size_t ws_bytes[4];
    void *conv_ws; /* the one cuDNN workspace, grown to the largest need */
    size_t conv_ws_bytes;
    double *reduce; /* device scratch for scalar results */
    double *reduce_host; /* pinned */
    conv_algo_entry algos[NN_CONV_CACHE];
    int n_algos;
} nn_cuda_state;

static inline nn_cuda_state *cst(nn_ctx *ctx) { return (nn_cuda_state *)ctx->cuda; }

#define CU_TRY(expr, err)                                                                  \
    do {                                                                                   \
        cudaError_t e_ = (expr);                                                           \
        if (e_ != cudaSuccess)                                                             \
            return es_error_set(err, ES_ERR_INTERNAL, "CUDA: %s: %s (%s:%d)", #expr,       \
                                cudaGetErrorString(e_), __FILE__, __LINE__);               \
    } while (0)

#define CU_LAUNCHED(err)                                                                   \
    do {                                                                                   \
        cudaError_t e_ = cudaGetLastError();                                               \
        if (e_ != cudaSuccess)                                                             \
            return es_error_set(err, ES_ERR_INTERNAL, "CUDA kernel launch: %s (%s:%d)",    \
                                cudaGetErrorString(e_), __FILE__, __LINE__);               \
    } while (0)

#define CUBLAS_TRY(expr, err)                                                              \
    do {                                                                                   \
        cublasStatus_t s_ = (expr);                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                   \
            return es_error_set(err, ES_ERR_INTERNAL, "cuBLAS: %s failed with status %d",  \
                                #expr, (int)s_);                                           \
    } while (0)

#define CUDNN_TRY(expr, err)                                                               \
    do {                                                                                   \
        cudnnStatus_t s_ = (expr);                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS)                                                    \
            return es_error_set(err, ES_ERR_INTERNAL, "cuDNN: %s: %s", #expr,              \
                                cudnnGetErrorString(s_));                                  \
    } while (0)

#define NN_THREADS 256

static inline unsigned nn_blocks(int64_t n) {
    int64_t b = (n + NN_THREADS - 1) / NN_THREADS;
    if (b > 65535 * 16) b = 65535 * 16;
    return (unsigned)(b < 1 ? 1 : b);
}

/* grid-stride loop */
#define CUDA_FOR(i, n) \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)blockDim.x * gridDim.x)

/* Sum over the block in a fixed order (tree in shared memory): deterministic. blockDim.x
 * must be NN_THREADS. Every thread gets the total. */
__device__ static inline double block_sum(double v, double *sh) {
    int t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (int s = NN_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

/* sum of n doubles on the device into *host (one block, fixed order) */
int nn_cuda_sum_to_host(nn_ctx *ctx, const double *x, int64_t n, double *host, es_error *err);
/* device double scratch of n elements (workspace slot 3) */
double *nn_cuda_dscratch(nn_ctx *ctx, int64_t n, es_error *err);

#endif
