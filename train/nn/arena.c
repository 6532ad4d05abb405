/* arena.c: bump allocation of activations on one device. A step allocates its tensors in
 * order and resets the arena at the end; the first steps may spill into extra blocks, after
 * which reset merges them into one block of the high-water size (steady state: one block,
 * no allocator calls). */
#include "nn_internal.h"

#define NN_ARENA_ALIGN 256
#define NN_ARENA_MAX_BLOCKS 64

typedef struct arena_block {
    char *base;
    size_t size, used;
} arena_block;

struct nn_arena {
    nn_ctx *ctx;
    arena_block blocks[NN_ARENA_MAX_BLOCKS];
    int n_blocks;
    size_t used_total, high_water;
};

nn_ctx *nn_arena_ctx(nn_arena *a) { return a->ctx; }

static void *device_alloc(nn_ctx *ctx, size_t bytes, es_error *err) {
#ifdef ENTSEG_NN_CUDA
    if (ctx->device == NN_DEVICE_CUDA) return nn_cuda_malloc(bytes, err);
#endif
    void *p = NULL;
    if (posix_memalign(&p, NN_ARENA_ALIGN, bytes ? bytes : NN_ARENA_ALIGN) != 0) {
        es_error_set(err, ES_ERR_NOMEM, "arena: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    return p;
}

static void device_free(nn_ctx *ctx, void *p) {
#ifdef ENTSEG_NN_CUDA
    if (ctx->device == NN_DEVICE_CUDA) {
        nn_cuda_free(p);
        return;
    }
#endif
    free(p);
}

static int add_block(nn_arena *a, size_t bytes, es_error *err) {
    if (a->n_blocks == NN_ARENA_MAX_BLOCKS)
        return es_error_set(err, ES_ERR_NOMEM, "arena: more than %d blocks", NN_ARENA_MAX_BLOCKS);
    void *p = device_alloc(a->ctx, bytes, err);
    if (!p) return ES_ERR_NOMEM;
    a->blocks[a->n_blocks++] = (arena_block){(char *)p, bytes, 0};
    return ES_OK;
}

int nn_arena_create(nn_arena **out, nn_ctx *ctx, size_t bytes, es_error *err) {
    *out = NULL;
    nn_arena *a = calloc(1, sizeof *a);
    if (!a) return es_error_set(err, ES_ERR_NOMEM, "arena: out of memory");
    a->ctx = ctx;
    if (bytes < (1u << 20)) bytes = 1u << 20;
    int rc = add_block(a, bytes, err);
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    return ES_OK;
}

void nn_arena_free(nn_arena *a) {
    if (!a) return;
    for (int i = 0; i < a->n_blocks; i++) device_free(a->ctx, a->blocks[i].base);
    free(a);
}

void *nn_arena_alloc(nn_arena *a, size_t bytes, es_error *err) {
    size_t need = (bytes + NN_ARENA_ALIGN - 1) / NN_ARENA_ALIGN * NN_ARENA_ALIGN;
    if (need == 0) need = NN_ARENA_ALIGN;
    arena_block *b = a->n_blocks ? &a->blocks[a->n_blocks - 1] : NULL;
    if (!b || b->used + need > b->size) {
        size_t last = b ? b->size : (1u << 20);
        size_t size = last * 2 > need ? last * 2 : need;
        if (add_block(a, size, err)) return NULL;
        b = &a->blocks[a->n_blocks - 1];
    }
    void *p = b->base + b->used;
    b->used += need;
    a->used_total += need;
    if (a->used_total > a->high_water) a->high_water = a->used_total;
    return p;
}

void nn_arena_reset(nn_arena *a) {
    if (a->n_blocks > 1) {
        /* merge: one block big enough for the whole high-water mark */
        for (int i = 0; i < a->n_blocks; i++) device_free(a->ctx, a->blocks[i].base);
        a->n_blocks = 0;
        if (add_block(a, a->high_water, NULL)) {
            /* out of memory for the merged block: keep a small one; the next step grows */
            add_block(a, 1u << 20, NULL);
        }
    }
    if (a->n_blocks) a->blocks[0].used = 0;
    a->used_total = 0;
}

size_t nn_arena_used(const nn_arena *a) { return a->used_total; }
size_t nn_arena_high_water(const nn_arena *a) { return a->high_water; }
