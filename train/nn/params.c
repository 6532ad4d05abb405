/* params.c: named parameters declared one by one, then carved out of one data allocation
 * and one gradient allocation (llm.c's malloc_and_point_parameters), so the optimiser and
 * the checkpoint writer walk two flat arrays. */
#include <math.h>

#include "nn_internal.h"

typedef struct param_entry {
    char name[NN_PARAM_NAME_MAX];
    int group;
    unsigned flags;
    int64_t offset, grad_offset; /* floats into the blocks; grad_offset -1 when frozen */
    nn_tensor t;
} param_entry;

struct nn_params {
    param_entry *items;
    int n, cap;
    int64_t numel, grad_numel;
    float *data, *grad;
    nn_ctx *ctx; /* set by alloc */
};

/* used by optim.c and safetensors.c */
float *nn_params_data_block(nn_params *ps, int64_t *numel);
float *nn_params_grad_block(nn_params *ps, int64_t *numel);
int64_t nn_params_grad_offset(const nn_params *ps, int i);

int nn_params_create(nn_params **out, es_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return es_error_set(err, ES_ERR_NOMEM, "params: out of memory");
    return ES_OK;
}

static void device_free(nn_ctx *ctx, void *p) {
    if (!p) return;
#ifdef ENTSEG_NN_CUDA
    if (ctx && ctx->device == NN_DEVICE_CUDA) {
        nn_cuda_free(p);
        return;
    }
#endif
    (void)ctx;
    free(p);
}

void nn_params_free(nn_params *ps) {
    if (!ps) return;
    device_free(ps->ctx, ps->data);
    device_free(ps->ctx, ps->grad);
    free(ps->items);
    free(ps);
}

int nn_params_add(nn_params *ps, const char *name, int group, unsigned flags, int ndim,
                  const int *shape, int *index_out, es_error *err) {
    if (ps->data) return es_error_set(err, ES_ERR_INVALID, "params: '%s' added after alloc", name);
    if (!name || !*name || strlen(name) >= NN_PARAM_NAME_MAX)
        return es_error_set(err, ES_ERR_INVALID, "params: empty or too long name");
    if (group < 0 || group >= NN_MAX_GROUPS)
        return es_error_set(err, ES_ERR_INVALID, "params: '%s': group %d outside 0..%d", name,
                            group, NN_MAX_GROUPS - 1);
    if (nn_params_find(ps, name) >= 0)
        return es_error_set(err, ES_ERR_INVALID, "params: '%s' declared twice", name);
    if (ps->n == ps->cap) {
        int cap = ps->cap ? ps->cap * 2 : 64;
        param_entry *items = realloc(ps->items, (size_t)cap * sizeof *items);
        if (!items) return es_error_set(err, ES_ERR_NOMEM, "params: out of memory");
        ps->items = items;
        ps->cap = cap;
    }
    param_entry *e = &ps->items[ps->n];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->group = group;
    e->flags = flags;
    e->t = nn_tensor_wrap(NULL, NULL, NN_DEVICE_CPU, ndim, shape);
    if (ndim < 1 || ndim > NN_MAX_DIMS)
        return es_error_set(err, ES_ERR_INVALID, "params: '%s': %d dims", name, ndim);
    e->t.ndim = ndim;
    e->t.numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) return es_error_set(err, ES_ERR_INVALID, "params: '%s': dim %d", name, shape[i]);
        e->t.shape[i] = shape[i];
        e->t.numel *= shape[i];
    }
    /* 64-float alignment of each tensor keeps vector loads aligned */
    e->offset = ps->numel;
    ps->numel += (e->t.numel + 63) / 64 * 64;
    if (flags & NN_PARAM_FROZEN) {
        e->grad_offset = -1;
    } else {
        e->grad_offset = ps->grad_numel;
        ps->grad_numel += (e->t.numel + 63) / 64 * 64;
    }
    if (index_out) *index_out = ps->n;
    ps->n++;
    return ES_OK;
}

static float *alloc_zeroed(nn_ctx *ctx, int64_t numel, es_error *err) {
    size_t bytes = (size_t)(numel > 0 ? numel : 1) * sizeof(float);
#ifdef ENTSEG_NN_CUDA
    if (ctx->device == NN_DEVICE_CUDA) {
        float *p = nn_cuda_malloc(bytes, err);
        if (p && nn_cuda_fill(ctx, p, numel, 0.0f, err)) {
            nn_cuda_free(p);
            return NULL;
        }
        return p;
    }
#endif
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) {
        es_error_set(err, ES_ERR_NOMEM, "params: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

int nn_params_alloc(nn_params *ps, nn_ctx *ctx, es_error *err) {
    if (ps->data) return es_error_set(err, ES_ERR_INVALID, "params: allocated twice");
    ps->ctx = ctx;
    ps->data = alloc_zeroed(ctx, ps->numel, err);
    if (!ps->data) return err ? err->code : ES_ERR_NOMEM;
    ps->grad = alloc_zeroed(ctx, ps->grad_numel, err);
    if (!ps->grad) return err ? err->code : ES_ERR_NOMEM;
    for (int i = 0; i < ps->n; i++) {
        param_entry *e = &ps->items[i];
        e->t.device = ctx->device;
        e->t.data = ps->data + e->offset;
        e->t.grad = e->grad_offset >= 0 ? ps->grad + e->grad_offset : NULL;
    }
    return ES_OK;
}

int nn_params_count(const nn_params *ps) { return ps->n; }
int64_t nn_params_numel(const nn_params *ps) {
    int64_t n = 0;
    for (int i = 0; i < ps->n; i++) n += ps->items[i].t.numel;
    return n;
}
nn_tensor *nn_params_tensor(nn_params *ps, int i) {
    return (i >= 0 && i < ps->n) ? &ps->items[i].t : NULL;
}
const char *nn_params_name(const nn_params *ps, int i) { return ps->items[i].name; }
int nn_params_group(const nn_params *ps, int i) { return ps->items[i].group; }
unsigned nn_params_flags(const nn_params *ps, int i) { return ps->items[i].flags; }
int64_t nn_params_grad_offset(const nn_params *ps, int i) { return ps->items[i].grad_offset; }

int nn_params_find(const nn_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->items[i].name, name) == 0) return i;
    return -1;
}

float *nn_params_data_block(nn_params *ps, int64_t *numel) {
    *numel = ps->numel;
    return ps->data;
}
float *nn_params_grad_block(nn_params *ps, int64_t *numel) {
    *numel = ps->grad_numel;
    return ps->grad;
}

int nn_params_zero_grad(nn_params *ps, nn_ctx *ctx, es_error *err) {
    if (!ps->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_fill(ctx, ps->grad, ps->grad_numel, 0.0f, err));
    memset(ps->grad, 0, (size_t)ps->grad_numel * sizeof(float));
    return ES_OK;
}

int nn_params_init(nn_params *ps, nn_ctx *ctx, int index, nn_init_kind kind, float a, float b,
                   nn_rng *rng, es_error *err) {
    nn_tensor *t = nn_params_tensor(ps, index);
    if (!t || !t->data) return es_error_set(err, ES_ERR_INVALID, "params: init of unallocated #%d", index);
    float *h = malloc((size_t)t->numel * sizeof(float));
    if (!h) return es_error_set(err, ES_ERR_NOMEM, "params: out of memory");
    int64_t receptive = nn_tensor_dims(t, 2, t->ndim);
    double fan_in = t->ndim >= 2 ? (double)t->shape[1] * receptive : (double)t->numel;
    double fan_out = (double)t->shape[0] * receptive;
    switch (kind) {
    case NN_INIT_ZEROS: memset(h, 0, (size_t)t->numel * sizeof(float)); break;
    case NN_INIT_ONES:
        for (int64_t i = 0; i < t->numel; i++) h[i] = 1.0f;
        break;
    case NN_INIT_CONSTANT:
        for (int64_t i = 0; i < t->numel; i++) h[i] = a;
        break;
    case NN_INIT_UNIFORM: nn_rng_fill_uniform(rng, h, t->numel, a, b); break;
    case NN_INIT_NORMAL: nn_rng_fill_normal(rng, h, t->numel, a, b); break;
    case NN_INIT_KAIMING_NORMAL:
        nn_rng_fill_normal(rng, h, t->numel, 0.0f, (float)sqrt(2.0 / fan_out));
        break;
    case NN_INIT_KAIMING_UNIFORM: {
        float bound = (float)(1.0 / sqrt(fan_in));
        nn_rng_fill_uniform(rng, h, t->numel, -bound, bound);
        break;
    }
    case NN_INIT_XAVIER_UNIFORM: {
        float bound = (float)sqrt(6.0 / (fan_in + fan_out));
        nn_rng_fill_uniform(rng, h, t->numel, -bound, bound);
        break;
    }
    default:
        free(h);
        return es_error_set(err, ES_ERR_INVALID, "params: unknown init kind %d", (int)kind);
    }
    int rc = nn_tensor_upload(ctx, t, h, err);
    free(h);
    return rc;
}
