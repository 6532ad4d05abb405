/* loader.c: store -> cached, resized training samples -> shuffled, flipped batches. */
#include "data/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/pool.h"
#include "entseg/rle.h"
#include "entseg/store.h"

static const float MEAN[3] = {123.675f, 116.28f, 103.53f};
static const float STD[3] = {58.395f, 57.12f, 57.375f};

void knet_image_path(const char *store_path, const char *rel, char *out, size_t size) {
    if (rel[0] == '/') {
        snprintf(out, size, "%s", rel);
        return;
    }
    const char *slash = strrchr(store_path, '/');
    if (!slash)
        snprintf(out, size, "%s", rel);
    else
        snprintf(out, size, "%.*s/%s", (int)(slash - store_path), store_path, rel);
}

int knet_read_image(const char *path, int size, float *out, es_error *err) {
    es_pixels px = ES_PIXELS_EMPTY;
    ES_CHECK(es_image_read(path, 0, &px, err));
    if (px.width == 0 || px.height == 0 || (px.depth != 1 && px.depth != 2)) {
        es_pixels_free(&px);
        return es_error_set(err, ES_ERR_FORMAT, "%s: unsupported image (%ux%u, %u bytes per sample)",
                            path, px.width, px.height, px.depth);
    }
    int W = (int)px.width, H = (int)px.height, ch = (int)px.channels;
    /* bilinear, half-pixel centres (F.interpolate align_corners=False) */
    for (int y = 0; y < size; y++) {
        float sy = ((float)y + 0.5f) * H / size - 0.5f;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < H ? y0 + 1 : H - 1;
        float fy = sy - y0;
        for (int x = 0; x < size; x++) {
            float sx = ((float)x + 0.5f) * W / size - 0.5f;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < W ? x0 + 1 : W - 1;
            float fx = sx - x0;
            for (int c = 0; c < 3; c++) {
                int cc = ch >= 3 ? c : 0;
                float v[4];
                int ys[2] = {y0, y1}, xs[2] = {x0, x1};
                for (int k = 0; k < 4; k++) {
                    size_t i = ((size_t)ys[k / 2] * W + xs[k % 2]) * ch + cc;
                    v[k] = px.depth == 1 ? ((const uint8_t *)px.data)[i]
                                         : ((const uint16_t *)px.data)[i] / 257.0f;
                }
                float val = (1 - fy) * ((1 - fx) * v[0] + fx * v[1]) + fy * ((1 - fx) * v[2] + fx * v[3]);
                out[((size_t)c * size + y) * size + x] = (val - MEAN[c]) / STD[c];
            }
        }
    }
    es_pixels_free(&px);
    return ES_OK;
}

/* A full-resolution 0/1 mask reduced to hm x wm: a cell is 1 when half of it is covered. */
static int reduce_mask(const uint8_t *m, int H, int W, int hm, int wm, float *out) {
    int any = 0;
    for (int j = 0; j < hm; j++) {
        int y0 = (int)((int64_t)j * H / hm), y1 = (int)((int64_t)(j + 1) * H / hm);
        if (y1 <= y0) y1 = y0 + 1;
        for (int i = 0; i < wm; i++) {
            int x0 = (int)((int64_t)i * W / wm), x1 = (int)((int64_t)(i + 1) * W / wm);
            if (x1 <= x0) x1 = x0 + 1;
            int cnt = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) cnt += m[(size_t)y * W + x] != 0;
            float v = 2 * cnt >= (y1 - y0) * (x1 - x0) ? 1.0f : 0.0f;
            out[(size_t)j * wm + i] = v;
            any |= v > 0;
        }
    }
    return any;
}

typedef struct scan_ctx {
    knet_loader *l;
    char **paths;
    size_t max_images;
} scan_ctx;

static int on_image(void *vctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    scan_ctx *sc = vctx;
    knet_loader *l = sc->l;
    if (sc->max_images && l->n >= sc->max_images) return ES_OK;
    if (!img->path) return es_error_set(err, ES_ERR_INVALID, "image %s has no path", img->name);
    knet_sample *s = &l->samples[l->n];
    size_t cells = (size_t)l->hm * l->wm;
    s->masks = malloc((n < KNET_MAX_GT ? n : KNET_MAX_GT) * cells * sizeof(float) + sizeof(float));
    uint8_t *full = malloc((size_t)img->width * img->height);
    sc->paths[l->n] = strdup(img->path);
    if (!s->masks || !full || !sc->paths[l->n]) {
        free(full);
        return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    }
    for (size_t i = 0; i < n && s->n_gt < KNET_MAX_GT; i++) {
        if (ents[i].is_crowd || ents[i].mask.h != img->height || ents[i].mask.w != img->width) continue;
        es_rle_decode(&ents[i].mask, full);
        if (reduce_mask(full, (int)img->height, (int)img->width, l->hm, l->wm,
                        s->masks + (size_t)s->n_gt * cells))
            s->n_gt++;
    }
    free(full);
    l->n++;
    return ES_OK;
}

typedef struct decode_ctx {
    knet_loader *l;
    char **paths;
    const char *store_path;
    int *rcs;
    es_error *errs;
} decode_ctx;

static void decode_one(void *vctx, size_t i, int thread) {
    decode_ctx *d = vctx;
    char path[4096];
    knet_image_path(d->store_path, d->paths[i], path, sizeof path);
    knet_sample *s = &d->l->samples[i];
    size_t px = (size_t)3 * d->l->size * d->l->size;
    s->image = malloc(px * sizeof(float));
    if (!s->image) {
        d->rcs[i] = es_error_set(&d->errs[i], ES_ERR_NOMEM, "loader: out of memory");
        return;
    }
    d->rcs[i] = knet_read_image(path, d->l->size, s->image, &d->errs[i]);
}

int knet_loader_open(knet_loader *l, const char *store_path, int size, int mask_stride,
                     int threads, size_t max_images, uint64_t seed, es_error *err) {
    memset(l, 0, sizeof *l);
    l->size = size;
    l->hm = size / mask_stride;
    l->wm = size / mask_stride;
    l->rng = seed * 2654435761u + 1;
    es_store *st = NULL;
    ES_CHECK(es_store_open(store_path, ES_OPEN_READ, &st, err));
    int64_t count = es_store_image_count(st);
    if (count <= 0) {
        es_store_close(st);
        return es_error_set(err, ES_ERR_INVALID, "%s: no images", store_path);
    }
    l->samples = calloc((size_t)count, sizeof *l->samples);
    char **paths = calloc((size_t)count, sizeof *paths);
    if (!l->samples || !paths) {
        es_store_close(st);
        free(paths);
        return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    }
    scan_ctx sc = {l, paths, max_images};
    int rc = es_store_scan(st, ES_NONE, ES_NONE, 0, on_image, &sc, err);
    es_store_close(st);
    if (rc) es_error_prefix(err, "%s", store_path);
    if (!rc) {
        int *rcs = calloc(l->n, sizeof *rcs);
        es_error *errs = calloc(l->n, sizeof *errs);
        es_pool *pool = es_pool_create(threads);
        if (!rcs || !errs || !pool) {
            rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
        } else {
            decode_ctx d = {l, paths, store_path, rcs, errs};
            es_pool_for(pool, l->n, decode_one, &d);
            for (size_t i = 0; i < l->n && !rc; i++)
                if (rcs[i]) {
                    rc = rcs[i];
                    if (err) *err = errs[i];
                }
        }
        es_pool_free(pool);
        free(rcs);
        free(errs);
    }
    for (int64_t i = 0; i < count; i++) free(paths[i]);
    free(paths);
    if (!rc) {
        l->order = malloc(l->n * sizeof *l->order);
        l->mask_buf = malloc((size_t)64 * KNET_MAX_GT * l->hm * l->wm * sizeof(float));
        if (!l->order || !l->mask_buf) rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
        for (size_t i = 0; !rc && i < l->n; i++) l->order[i] = i;
        l->pos = l->n; /* shuffle on first draw */
    }
    if (rc) knet_loader_free(l);
    return rc;
}

void knet_loader_free(knet_loader *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->samples[i].image);
        free(l->samples[i].masks);
    }
    free(l->samples);
    free(l->order);
    free(l->mask_buf);
    memset(l, 0, sizeof *l);
}

static uint64_t next_u64(uint64_t *s) {
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int knet_loader_next(knet_loader *l, int batch, float *images, knet_targets *tg, es_error *err) {
    if (batch < 1 || batch > 64) return es_error_set(err, ES_ERR_INVALID, "loader: batch %d out of 1..64", batch);
    int S = l->size;
    size_t cells = (size_t)l->hm * l->wm, px = (size_t)S * S;
    memset(tg, 0, sizeof *tg);
    tg->batch = batch, tg->hm = l->hm, tg->wm = l->wm;
    for (int b = 0; b < batch; b++) {
        if (l->pos >= l->n) {
            for (size_t i = l->n - 1; i > 0; i--) {
                size_t j = next_u64(&l->rng) % (i + 1), t = l->order[i];
                l->order[i] = l->order[j];
                l->order[j] = t;
            }
            l->pos = 0;
        }
        const knet_sample *s = &l->samples[l->order[l->pos++]];
        int flip = (int)(next_u64(&l->rng) & 1);
        float *img = images + (size_t)b * 3 * px;
        float *m = l->mask_buf + (size_t)b * KNET_MAX_GT * cells;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    img[(size_t)c * px + (size_t)y * S + x] =
                        s->image[(size_t)c * px + (size_t)y * S + (flip ? S - 1 - x : x)];
        for (int g = 0; g < s->n_gt; g++)
            for (int y = 0; y < l->hm; y++)
                for (int x = 0; x < l->wm; x++)
                    m[(size_t)g * cells + (size_t)y * l->wm + x] =
                        s->masks[(size_t)g * cells + (size_t)y * l->wm + (flip ? l->wm - 1 - x : x)];
        tg->n_gt[b] = s->n_gt;
        tg->masks[b] = m;
    }
    return ES_OK;
}
