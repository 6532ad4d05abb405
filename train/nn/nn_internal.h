/* nn_internal.h: what the nn sources share and the public header does not show: the
 * context and arena structs, shape-check helpers, the CUDA entry points (nn_cuda.h). */
#ifndef ENTSEG_NN_INTERNAL_H
#define ENTSEG_NN_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/pool.h"
#include "nn.h"

/* slots 0..3 serve every device; 4..5 are CPU-only (direct convolution) */
#define NN_SCRATCH_SLOTS 6

struct nn_ctx {
    nn_device device;
    int threads;
    int deterministic;
    char note[256];
    void *cuda;            /* nn_cuda_state * on NN_DEVICE_CUDA */
    es_pool *pool;         /* CPU worker threads (sleep when idle; NULL = 1 thread) */
    void *scratch[NN_SCRATCH_SLOTS]; /* CPU workspaces (im2col columns, partial sums, padded
                                      * inputs), grown on demand */
    size_t scratch_bytes[NN_SCRATCH_SLOTS];
};

/* Runs fn(ud, i, thread) for i < n on the ctx's threads (inline when 1 thread or n == 1).
 * Each i must write disjoint memory, so results do not depend on the thread count. */
void nn_parallel_for(nn_ctx *ctx, size_t n, es_task_fn fn, void *ud);

/* The context an arena allocates for. */
nn_ctx *nn_arena_ctx(nn_arena *a);

/* A workspace of at least `bytes` on the ctx's device, slot 0..3 (4..5 on the CPU only),
 * each live until the next call with the same slot. */
float *nn_scratch(nn_ctx *ctx, int slot, size_t bytes, es_error *err);

/* Shape checking: each returns ES_ERR_INVALID with "op: what" filled in. */
int nn_check_tensor(const char *op, const char *what, const nn_tensor *t, int ndim,
                    es_error *err);
int nn_check_same(const char *op, const nn_tensor *a, const nn_tensor *b, es_error *err);
int nn_check_numel(const char *op, const char *what, const nn_tensor *t, int64_t numel,
                   es_error *err);
int nn_check_device(nn_ctx *ctx, const char *op, const nn_tensor *t, es_error *err);

#ifdef ENTSEG_NN_CUDA
#include "cuda/nn_cuda.h"
#define NN_ON_CUDA(ctx) ((ctx)->device == NN_DEVICE_CUDA)
#else
#define NN_ON_CUDA(ctx) 0
#endif

/* Returns `call` when the context runs on CUDA (compiled out without CUDA). */
#ifdef ENTSEG_NN_CUDA
#define NN_CUDA_DISPATCH(ctx, call)                      \
    do {                                                 \
        if ((ctx)->device == NN_DEVICE_CUDA) return call; \
    } while (0)
#else
#define NN_CUDA_DISPATCH(ctx, call) \
    do {                            \
    } while (0)
#endif

#endif
