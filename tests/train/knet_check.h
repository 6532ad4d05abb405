/* knet_check.h: what the K-Net tests share (header-only, like nn_check.h):
 *  - knet_rig: the CPU context, model, arena and tape every test runs on;
 *  - knet_test_batch: a batch of coloured rectangles on noise with their masks;
 *  - knet_test_step: one forward + loss + backward + clip (+ optimiser) step;
 *  - the PyTorch twins' fixtures (scripts/twins/twin_fixture.py writes them): loading,
 *    lookup, parameter upload and the relative error the twin tests judge by. */
#ifndef KNET_CHECK_H
#define KNET_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "es_test.h"
#include "knet/knet.h"

/* ---- the rig ---- */

typedef struct knet_rig {
    nn_ctx *ctx;
    knet_model m;
    nn_arena *arena;
    tp_tape t;
} knet_rig;

static inline void knet_rig_close(knet_rig *r);

/* A CPU context of `threads`, a model of config c (seed), an arena of arena_bytes and a
 * tape over it. 1 when all were made; else 0 after a failed check, with what was made
 * freed again. */
static inline int knet_rig_open(knet_rig *r, const knet_config *c, int threads, uint64_t seed,
                                size_t arena_bytes) {
    es_error err = {0};
    memset(r, 0, sizeof *r);
    CHECK_OK(nn_ctx_create(&r->ctx, NN_REQUEST_CPU, threads, &err), &err);
    if (r->ctx) CHECK_OK(knet_model_create(&r->m, c, r->ctx, seed, &err), &err);
    if (r->m.ps) CHECK_OK(nn_arena_create(&r->arena, r->ctx, arena_bytes, &err), &err);
    if (!r->arena) {
        knet_rig_close(r);
        return 0;
    }
    tp_init(&r->t, r->ctx, r->arena, 1);
    return 1;
}

static inline void knet_rig_close(knet_rig *r) {
    tp_free(&r->t);
    nn_arena_free(r->arena);
    knet_model_free(&r->m);
    nn_ctx_free(r->ctx);
}

/* ---- batches ---- */

#define KNET_TEST_MAX_RECTS 3

/* Image b of the batch: N(0, 0.3) noise plus, for rectangle k of rects[b] (x0, y0, x1, y1
 * in mask cells; n_rects[b] of them), colour k added under it; its mask at the batch's
 * (h/4, w/4) grid, a later rectangle covering the earlier ones. masks holds
 * KNET_TEST_MAX_RECTS planes per image. */
static inline void knet_test_batch(float *images, float *masks, knet_targets *tg, int batch, int h, int w,
                                   uint64_t seed, const int rects[][KNET_TEST_MAX_RECTS][4], const int *n_rects) {
    static const float col[KNET_TEST_MAX_RECTS][3] = {{1.5f, -1, -1}, {-1, 1.5f, -1}, {-1, -1, 1.5f}};
    int hm = h / 4, wm = w / 4;
    int64_t plane = (int64_t)hm * wm;
    memset(tg, 0, sizeof *tg);
    tg->batch = batch, tg->hm = hm, tg->wm = wm;
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (int b = 0; b < batch; b++) {
        float *img = images + (size_t)b * 3 * h * w;
        for (int i = 0; i < 3 * h * w; i++) img[i] = 0.3f * nn_rng_normal(&r);
        tg->n_gt[b] = n_rects[b];
        tg->masks[b] = masks + (size_t)b * KNET_TEST_MAX_RECTS * plane;
        memset(tg->masks[b], 0, sizeof(float) * KNET_TEST_MAX_RECTS * plane);
        for (int k = 0; k < n_rects[b]; k++) {
            const int *q = rects[b][k];
            for (int y = q[1]; y < q[3]; y++)
                for (int x = q[0]; x < q[2]; x++) {
                    for (int j = 0; j < k; j++) tg->masks[b][j * plane + y * wm + x] = 0;
                    tg->masks[b][k * plane + y * wm + x] = 1;
                    for (int c = 0; c < 3; c++)
                        for (int dy = 0; dy < 4; dy++)
                            for (int dx = 0; dx < 4; dx++)
                                img[(size_t)c * h * w + (y * 4 + dy) * w + x * 4 + dx] += col[k][c];
                }
        }
    }
}

/* One training step on the host images (tg->batch, 3, 4 hm, 4 wm); the optimiser step only
 * when opt. Returns the total loss; *out gets the outputs and *norm the gradient norm
 * before clipping (either may be NULL). */
static inline float knet_test_step(knet_model *m, tp_tape *t, nn_optim *opt, const float *host,
                                   const knet_targets *tg, float lr, knet_outputs *out, float *norm,
                                   es_error *err) {
    knet_outputs o;
    if (!out) out = &o;
    tp_reset(t, 1);
    nn_tensor x = tp_new(t, 0, 4, NN_SHAPE(tg->batch, 3, 4 * tg->hm, 4 * tg->wm));
    if (!t->rc) t->rc = nn_tensor_upload(t->ctx, &x, host, &t->err);
    knet_forward(m, t, &x, out);
    knet_losses L = {0};
    CHECK_OK(knet_loss(m, t, out, tg, &L, err), err);
    CHECK(isfinite(L.cls) && isfinite(L.mask) && isfinite(L.dice));
    CHECK_OK(nn_params_zero_grad(m->ps, t->ctx, err), err);
    CHECK_OK(tp_backward(t, err), err);
    float n = 0;
    CHECK_OK(nn_clip_grad_norm(m->ps, t->ctx, 1.0f, &n, err), err);
    CHECK(isfinite(n));
    if (norm) *norm = n;
    if (opt) CHECK_OK(nn_optim_step(opt, t->ctx, lr, err), err);
    return L.total;
}

/* ---- twin fixtures ---- */

#define TWIN_MAX_ARRAYS 1024

typedef struct twin_array {
    char name[160];
    int ndim, dims[NN_MAX_DIMS];
    int64_t numel;
    float *data;
} twin_array;

static twin_array twin_arrays[TWIN_MAX_ARRAYS];
static int twin_n_arrays;

/* u32 count, then per array: u32 name length, name, u32 ndim, ndim x u32 dims, f32 data.
 * Returns 0 when the file cannot be read whole. */
static inline int twin_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint32_t n;
    int ok = fread(&n, 4, 1, f) == 1 && n <= TWIN_MAX_ARRAYS;
    for (uint32_t i = 0; ok && i < n; i++) {
        twin_array *a = &twin_arrays[i];
        uint32_t len, nd, dims[NN_MAX_DIMS];
        ok = fread(&len, 4, 1, f) == 1 && len < sizeof a->name && fread(a->name, 1, len, f) == len;
        if (!ok) break;
        a->name[len] = 0;
        ok = fread(&nd, 4, 1, f) == 1 && nd <= NN_MAX_DIMS && fread(dims, 4, nd, f) == nd;
        if (!ok) break;
        a->ndim = (int)nd;
        a->numel = 1;
        for (uint32_t d = 0; d < nd; d++) a->dims[d] = (int)dims[d], a->numel *= dims[d];
        a->data = malloc((size_t)a->numel * 4 + 4);
        ok = a->data && fread(a->data, 4, (size_t)a->numel, f) == (size_t)a->numel;
        twin_n_arrays = (int)i + 1;
    }
    fclose(f);
    return ok;
}

/* tests/train/fixtures/<name> from the source tree; a failed check when unreadable */
static inline int twin_open(const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/train/fixtures/%s", ES_SOURCE_DIR, name);
    int ok = twin_load(path);
    CHECK_MSG(ok, "cannot read %s", path);
    return ok;
}

static inline void twin_free(void) {
    for (int i = 0; i < twin_n_arrays; i++) free(twin_arrays[i].data);
    twin_n_arrays = 0;
}

static inline twin_array *twin_find(const char *name) {
    for (int i = 0; i < twin_n_arrays; i++)
        if (!strcmp(twin_arrays[i].name, name)) return &twin_arrays[i];
    return NULL;
}

/* max |a - b| / max |b|, the denominator at least floor */
static inline double twin_rel_err(const float *a, const float *b, int64_t n, double floor) {
    double md = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / (mb > floor ? mb : floor);
}

/* Uploads "param.<name>" into every parameter that `want` accepts (NULL: all); a missing
 * or differently sized array fails a check. Returns how many were loaded; *wanted (may be
 * NULL) gets how many were asked for. */
static inline int twin_upload_params(nn_ctx *ctx, nn_params *ps, int (*want)(const char *name), int *wanted) {
    es_error err = {0};
    int loaded = 0, asked = 0;
    for (int i = 0; i < nn_params_count(ps); i++) {
        const char *name = nn_params_name(ps, i);
        if (want && !want(name)) continue;
        asked++;
        char key[200];
        snprintf(key, sizeof key, "param.%s", name);
        twin_array *a = twin_find(key);
        nn_tensor *t = nn_params_tensor(ps, i);
        if (!a || a->numel != t->numel) {
            CHECK_MSG(0, "fixture lacks %s or its size differs", key);
            continue;
        }
        CHECK_OK(nn_tensor_upload(ctx, t, a->data, &err), &err);
        loaded++;
    }
    if (wanted) *wanted = asked;
    return loaded;
}

#endif
