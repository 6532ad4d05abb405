/* tensor.c: the execution context (device choice, threads, workspaces), tensor views and
 * host/device copies, and the shape checks every op starts with. */
#include <cblas.h>
#include <stdarg.h>
#include <unistd.h>

#include "nn_internal.h"

int nn_cuda_compiled(void) {
#ifdef ENTSEG_NN_CUDA
    return 1;
#else
    return 0;
#endif
}

int nn_device_request_parse(const char *text, nn_device_request *out, es_error *err) {
    if (text && strcmp(text, "auto") == 0) *out = NN_REQUEST_AUTO;
    else if (text && strcmp(text, "cpu") == 0) *out = NN_REQUEST_CPU;
    else if (text && strcmp(text, "cuda") == 0) *out = NN_REQUEST_CUDA;
    else
        return es_error_set(err, ES_ERR_INVALID, "--device '%s': expected auto, cpu or cuda",
                            text ? text : "(null)");
    return ES_OK;
}

/* OpenBLAS runs single-threaded: nn_gemm_ex splits products over the ctx's pool itself, so
 * one set of threads exists, and it sleeps when idle (spinning pools steal the cores from
 * each other on a shared machine). */
static void set_cpu_threads(int threads) {
    (void)threads;
    openblas_set_num_threads(1);
}

void nn_parallel_for(nn_ctx *ctx, size_t n, es_task_fn fn, void *ud) {
    if (!ctx->pool || n <= 1) {
        for (size_t i = 0; i < n; i++) fn(ud, i, 0);
        return;
    }
    es_pool_for(ctx->pool, n, fn, ud);
}

int nn_ctx_create(nn_ctx **out, nn_device_request request, int threads, es_error *err) {
    *out = NULL;
    nn_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return es_error_set(err, ES_ERR_NOMEM, "nn context: out of memory");
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    ctx->threads = threads;
    ctx->device = NN_DEVICE_CPU;
    set_cpu_threads(threads);
    if (threads > 1 && !(ctx->pool = es_pool_create(threads))) {
        free(ctx);
        return es_error_set(err, ES_ERR_NOMEM, "nn context: cannot start %d threads", threads);
    }
    if (request == NN_REQUEST_CPU) {
        *out = ctx;
        return ES_OK;
    }
#ifdef ENTSEG_NN_CUDA
    char why[200] = "";
    int count = nn_cuda_probe(why, sizeof why);
    if (count > 0) {
        ctx->device = NN_DEVICE_CUDA;
        int rc = nn_cuda_state_create(ctx, err);
        if (rc) {
            nn_cuda_state_free(ctx);
            es_pool_free(ctx->pool);
            free(ctx);
            return rc;
        }
        *out = ctx;
        return ES_OK;
    }
    if (request == NN_REQUEST_CUDA) {
        es_pool_free(ctx->pool);
        free(ctx);
        return es_error_set(err, ES_ERR_UNSUPPORTED,
                            "--device cuda: no usable CUDA device (%s); use --device cpu", why);
    }
    snprintf(ctx->note, sizeof ctx->note, "entseg: no usable CUDA device (%s); using the CPU",
             why);
#else
    if (request == NN_REQUEST_CUDA) {
        es_pool_free(ctx->pool);
        free(ctx);
        return es_error_set(err, ES_ERR_UNSUPPORTED,
                            "--device cuda: this build has no CUDA backend (CMake found no "
                            "CUDA toolkit/cuDNN); use --device cpu");
    }
    snprintf(ctx->note, sizeof ctx->note,
             "entseg: built without CUDA; using the CPU (%d threads)", threads);
#endif
    *out = ctx;
    return ES_OK;
}

void nn_ctx_free(nn_ctx *ctx) {
    if (!ctx) return;
#ifdef ENTSEG_NN_CUDA
    if (ctx->cuda) nn_cuda_state_free(ctx);
#endif
    for (int i = 0; i < NN_SCRATCH_SLOTS; i++) free(ctx->scratch[i]);
    es_pool_free(ctx->pool);
    free(ctx);
}

nn_device nn_ctx_device(const nn_ctx *ctx) { return ctx->device; }
int nn_ctx_threads(const nn_ctx *ctx) { return ctx->threads; }
const char *nn_ctx_note(const nn_ctx *ctx) { return ctx->note; }
void nn_ctx_set_deterministic(nn_ctx *ctx, int on) { ctx->deterministic = on ? 1 : 0; }
int nn_ctx_deterministic(const nn_ctx *ctx) { return ctx->deterministic; }

int nn_ctx_sync(nn_ctx *ctx, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_sync(ctx, err));
    return ES_OK;
}

float *nn_scratch(nn_ctx *ctx, int slot, size_t bytes, es_error *err) {
#ifdef ENTSEG_NN_CUDA
    if (ctx->device == NN_DEVICE_CUDA) return nn_cuda_workspace(ctx, slot, bytes, err);
#endif
    if (bytes > ctx->scratch_bytes[slot]) {
        free(ctx->scratch[slot]);
        size_t grow = bytes + bytes / 4;
        ctx->scratch[slot] = NULL;
        if (posix_memalign(&ctx->scratch[slot], 64, grow) != 0) {
            ctx->scratch[slot] = NULL;
            ctx->scratch_bytes[slot] = 0;
            es_error_set(err, ES_ERR_NOMEM, "nn workspace: cannot allocate %zu bytes", grow);
            return NULL;
        }
        ctx->scratch_bytes[slot] = grow;
    }
    return ctx->scratch[slot];
}

/* ---- shape checks ---- */

const char *nn_shape_str(const nn_tensor *t, char *buf, size_t size) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "(");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %d" : "%d", t->shape[i]);
    if (n < size) snprintf(buf + n, size - n, ")");
    return buf;
}

int nn_check_tensor(const char *op, const char *what, const nn_tensor *t, int ndim,
                    es_error *err) {
    if (!t || !t->data) return es_error_set(err, ES_ERR_INVALID, "%s: %s is missing", op, what);
    if (ndim > 0 && t->ndim != ndim) {
        char b[80];
        return es_error_set(err, ES_ERR_INVALID, "%s: %s must have %d dims, has shape %s", op,
                            what, ndim, nn_shape_str(t, b, sizeof b));
    }
    return ES_OK;
}

int nn_check_same(const char *op, const nn_tensor *a, const nn_tensor *b, es_error *err) {
    if (!a || !b || !a->data || !b->data)
        return es_error_set(err, ES_ERR_INVALID, "%s: a tensor is missing", op);
    if (a->numel != b->numel) {
        char ba[80], bb[80];
        return es_error_set(err, ES_ERR_INVALID, "%s: shapes %s and %s differ", op,
                            nn_shape_str(a, ba, sizeof ba), nn_shape_str(b, bb, sizeof bb));
    }
    return ES_OK;
}

int nn_check_numel(const char *op, const char *what, const nn_tensor *t, int64_t numel,
                   es_error *err) {
    if (!t || !t->data) return es_error_set(err, ES_ERR_INVALID, "%s: %s is missing", op, what);
    if (t->numel != numel) {
        char b[80];
        return es_error_set(err, ES_ERR_INVALID, "%s: %s has shape %s, expected %lld elements",
                            op, what, nn_shape_str(t, b, sizeof b), (long long)numel);
    }
    return ES_OK;
}

int nn_check_device(nn_ctx *ctx, const char *op, const nn_tensor *t, es_error *err) {
    if (t && t->device != ctx->device)
        return es_error_set(err, ES_ERR_INVALID, "%s: tensor on %s, context on %s", op,
                            t->device == NN_DEVICE_CUDA ? "cuda" : "cpu",
                            ctx->device == NN_DEVICE_CUDA ? "cuda" : "cpu");
    return ES_OK;
}

/* ---- tensors ---- */

static int fill_shape(nn_tensor *t, int ndim, const int *shape, es_error *err) {
    if (ndim < 1 || ndim > NN_MAX_DIMS)
        return es_error_set(err, ES_ERR_INVALID, "tensor: %d dims (1..%d allowed)", ndim,
                            NN_MAX_DIMS);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < NN_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return es_error_set(err, ES_ERR_INVALID, "tensor: negative dim %d", shape[i]);
        t->numel *= shape[i];
    }
    return ES_OK;
}

nn_tensor nn_tensor_wrap(float *data, float *grad, nn_device device, int ndim,
                         const int *shape) {
    nn_tensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.grad = grad;
    t.device = device;
    if (fill_shape(&t, ndim, shape, NULL)) t.data = t.grad = NULL;
    return t;
}

int nn_tensor_new(nn_arena *a, nn_tensor *t, int with_grad, int ndim, const int *shape,
                  es_error *err) {
    memset(t, 0, sizeof *t);
    ES_CHECK(fill_shape(t, ndim, shape, err));
    nn_ctx *ctx = nn_arena_ctx(a);
    t->device = ctx->device;
    size_t bytes = (size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float);
    t->data = nn_arena_alloc(a, bytes, err);
    if (!t->data) return err ? err->code : ES_ERR_NOMEM;
    if (with_grad) {
        t->grad = nn_arena_alloc(a, bytes, err);
        if (!t->grad) return err ? err->code : ES_ERR_NOMEM;
        ES_CHECK(nn_zero_grad(ctx, t, err));
    }
    return ES_OK;
}

int nn_tensor_zeros(nn_arena *a, nn_tensor *t, int with_grad, int ndim, const int *shape,
                    es_error *err) {
    ES_CHECK(nn_tensor_new(a, t, with_grad, ndim, shape, err));
    return nn_fill(nn_arena_ctx(a), t, 0.0f, err);
}

int nn_tensor_view(const nn_tensor *t, int ndim, const int *shape, nn_tensor *out,
                   es_error *err) {
    nn_tensor v = *t;
    ES_CHECK(fill_shape(&v, ndim, shape, err));
    if (v.numel != t->numel) {
        char b[80];
        return es_error_set(err, ES_ERR_INVALID, "view: %lld elements cannot view %s",
                            (long long)v.numel, nn_shape_str(t, b, sizeof b));
    }
    *out = v;
    return ES_OK;
}

int nn_tensor_narrow0(const nn_tensor *t, int start, int len, nn_tensor *out, es_error *err) {
    if (start < 0 || len < 0 || start + len > t->shape[0])
        return es_error_set(err, ES_ERR_INVALID, "narrow: rows [%d, %d) outside 0..%d", start,
                            start + len, t->shape[0]);
    nn_tensor v = *t;
    int64_t inner = t->shape[0] ? t->numel / t->shape[0] : 0;
    v.shape[0] = len;
    v.numel = inner * len;
    v.data = t->data + inner * start;
    v.grad = t->grad ? t->grad + inner * start : NULL;
    *out = v;
    return ES_OK;
}

int64_t nn_tensor_dims(const nn_tensor *t, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to && i < t->ndim; i++) p *= t->shape[i];
    return p;
}

int nn_tensor_same_shape(const nn_tensor *a, const nn_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

/* ---- copies ---- */

int nn_memcpy_to_device(nn_ctx *ctx, void *dst, const void *host, size_t bytes, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_memcpy(dst, host, bytes, NN_CUDA_H2D, err));
    if (bytes) memcpy(dst, host, bytes);
    return ES_OK;
}

int nn_memcpy_to_host(nn_ctx *ctx, void *host, const void *src, size_t bytes, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_memcpy(host, src, bytes, NN_CUDA_D2H, err));
    if (bytes) memcpy(host, src, bytes);
    return ES_OK;
}

int nn_tensor_upload(nn_ctx *ctx, nn_tensor *t, const float *host, es_error *err) {
    return nn_memcpy_to_device(ctx, t->data, host, (size_t)t->numel * sizeof(float), err);
}

int nn_tensor_download(nn_ctx *ctx, const nn_tensor *t, float *host, es_error *err) {
    return nn_memcpy_to_host(ctx, host, t->data, (size_t)t->numel * sizeof(float), err);
}

int nn_tensor_download_grad(nn_ctx *ctx, const nn_tensor *t, float *host, es_error *err) {
    if (!t->grad) return es_error_set(err, ES_ERR_INVALID, "download: tensor has no grad");
    return nn_memcpy_to_host(ctx, host, t->grad, (size_t)t->numel * sizeof(float), err);
}

int nn_fill(nn_ctx *ctx, nn_tensor *t, float value, es_error *err) {
    NN_CUDA_DISPATCH(ctx, nn_cuda_fill(ctx, t->data, t->numel, value, err));
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = value;
    return ES_OK;
}

int nn_zero_grad(nn_ctx *ctx, nn_tensor *t, es_error *err) {
    if (!t->grad) return ES_OK;
    NN_CUDA_DISPATCH(ctx, nn_cuda_fill(ctx, t->grad, t->numel, 0.0f, err));
    memset(t->grad, 0, (size_t)t->numel * sizeof(float));
    return ES_OK;
}

int nn_copy(nn_ctx *ctx, nn_tensor *dst, const nn_tensor *src, es_error *err) {
    ES_CHECK(nn_check_same("copy", dst, src, err));
    NN_CUDA_DISPATCH(ctx, nn_cuda_memcpy(dst->data, src->data, (size_t)src->numel * 4,
                                         NN_CUDA_D2D, err));
    memmove(dst->data, src->data, (size_t)src->numel * sizeof(float));
    return ES_OK;
}
