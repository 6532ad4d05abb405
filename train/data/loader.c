/* loader.c: store -> planned batches (caller's thread) -> resized, flipped, padded images
 * and stride-4 target grids (worker threads) -> the training step.
 *
 * The ring: slot k cycles FILLING (its B jobs queued or running) -> READY -> HELD (the
 * caller's current batch) -> planned again as the newest batch when the caller asks for
 * the next one. Jobs are (slot, image-in-batch) pairs in one FIFO queue, so the oldest
 * batch is always served first and two threads share one batch. */
#define _POSIX_C_SOURCE 200809L
#include "data/loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/transforms.h"
#include "entseg/pool.h"
#include "entseg/rle.h"
#include "entseg/store.h"

typedef struct img_rec {
    int64_t id;
    uint32_t w, h;
    char *name;
    char *path;      /* resolved against the store's folder */
} img_rec;

typedef struct cache_ent {
    float *image;    /* (3, nh, nw) resized, normalised, not flipped */
    int nw, nh;
    es_rle *masks;   /* usable entity masks (non-crowd, image size), store order */
    size_t n_masks;
} cache_ent;

typedef struct slot {
    int remaining;               /* jobs of this batch not finished: 0 = ready (or held) */
    int rc, err_b;               /* first failure, by image index in the batch */
    es_error err;
    size_t idx[KNET_MAX_BATCH];              /* (B) image index */
    float *images;               /* B * 3 * h * w */
    size_t images_cap;
    float *masks[KNET_MAX_BATCH];            /* (B) n_gt * hm * wm */
    size_t masks_cap[KNET_MAX_BATCH];
    knet_batch out;
} slot;

typedef struct job {
    int slot, b;
} job;

struct knet_loader {
    char *store_path;
    int scales[KNET_MAX_SCALES], n_scales, max_size, pad, batch;
    float flip;
    img_rec *imgs;
    size_t n;
    cache_ent *cache;            /* (n) or NULL when streaming */
    size_t cache_bytes;
    uint64_t rng;
    size_t *order, pos;
    /* threads */
    int nthreads;
    pthread_t *threads;
    int n_started;
    es_store **stores;           /* (nthreads + 1) one per worker, the last for the caller */
    pthread_mutex_t lock;
    pthread_cond_t work, ready;
    job queue[KNET_LOADER_SLOTS * KNET_MAX_BATCH];
    size_t qhead, qlen;
    slot slots[KNET_LOADER_SLOTS];
    int head, held, shutdown;
    int failed;                  /* sticky error returned by every later next() */
    es_error failed_err;
};

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

static uint64_t next_u64(uint64_t *s) {
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------------------------------- */
/* One image of a batch                                                                 */

static int usable(const es_rle *m, const img_rec *r, int is_crowd) {
    return !is_crowd && m->h == r->h && m->w == r->w;
}

/* The usable entity masks of image r (non-crowd, image size; store order), moved out of
 * the entities the store returns into *masks (n of them; free each, then the array). *st
 * is this thread's store handle, opened on first use. */
static int read_masks(const knet_loader *l, const img_rec *r, es_store **st, es_rle **masks, size_t *n,
                      es_error *err) {
    *masks = NULL;
    *n = 0;
    if (!*st) ES_CHECK(es_store_open(l->store_path, ES_OPEN_READ, st, err));
    es_entity *ents = NULL;
    size_t count = 0;
    if (es_store_read_entities(*st, r->id, &ents, &count, err))
        return es_error_prefix(err, "%s: image %s", l->store_path, r->name);
    *masks = calloc(count + 1, sizeof **masks);
    int rc = *masks ? ES_OK : es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    for (size_t k = 0; !rc && k < count; k++)
        if (usable(&ents[k].mask, r, ents[k].is_crowd)) {
            (*masks)[(*n)++] = ents[k].mask;
            ents[k].mask = ES_RLE_EMPTY;
        }
    es_entities_free(ents, count);
    return rc;
}

static void free_masks(es_rle *masks, size_t n) {
    for (size_t k = 0; k < n; k++) es_rle_free(&masks[k]);
    free(masks);
}

/* The grids of masks[0..n) (usable entities, store order) into slot b. */
static int put_grids(slot *s, int b, const es_rle *masks, size_t n, int nw, int nh, int flip, es_error *err) {
    int hm = s->out.tg.hm, wm = s->out.tg.wm;
    size_t cells = (size_t)hm * wm, cap = n < KNET_MAX_GT ? n : KNET_MAX_GT;
    if (cap * cells > s->masks_cap[b]) {
        float *p = realloc(s->masks[b], cap * cells * sizeof *p);
        if (!p) return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
        s->masks[b] = p;
        s->masks_cap[b] = cap * cells;
    }
    int g = 0;
    for (size_t i = 0; i < n && g < KNET_MAX_GT; i++) {
        long set = knet_mask_to_grid(&masks[i], nw, nh, flip, s->masks[b] + (size_t)g * cells, hm, wm);
        if (set < 0) return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
        if (set > 0) g++;
    }
    s->out.tg.n_gt[b] = g;
    s->out.tg.masks[b] = s->masks[b];
    return ES_OK;
}

static void copy_cached(const cache_ent *c, int flip, float *out, int H, int W) {
    size_t plane = (size_t)H * W;
    knet_zero_padding(out, c->nw, c->nh, H, W);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < c->nh; y++) {
            const float *src = c->image + ((size_t)ch * c->nh + y) * c->nw;
            float *dst = out + ch * plane + (size_t)y * W;
            if (flip)
                for (int x = 0; x < c->nw; x++) dst[x] = src[c->nw - 1 - x];
            else
                memcpy(dst, src, (size_t)c->nw * sizeof *dst);
        }
}

/* Prepares image b of slot si; tid picks the store handle. No lock held. */
static int run_job(knet_loader *l, int si, int b, int tid, es_error *err) {
    slot *s = &l->slots[si];
    const img_rec *r = &l->imgs[s->idx[b]];
    int H = s->out.h, W = s->out.w, nw = s->out.size_w[b], nh = s->out.size_h[b];
    int flip = s->out.flipped[b];
    float *img = s->images + (size_t)b * 3 * H * W;
    if (l->cache) {
        const cache_ent *c = &l->cache[s->idx[b]];
        copy_cached(c, flip, img, H, W);
        return put_grids(s, b, c->masks, c->n_masks, nw, nh, flip, err);
    }
    ES_CHECK(knet_image_load(r->path, r->w, r->h, nw, nh, flip, img, H, W, err));
    es_rle *masks;
    size_t n;
    ES_CHECK(read_masks(l, r, &l->stores[tid], &masks, &n, err));
    int rc = put_grids(s, b, masks, n, nw, nh, flip, err);
    free_masks(masks, n);
    return rc;
}

/* Lock held. */
static void finish_job(knet_loader *l, int si, int b, int rc, const es_error *e) {
    slot *s = &l->slots[si];
    if (rc && (!s->rc || b < s->err_b)) {
        s->rc = rc;
        s->err_b = b;
        s->err = *e;
    }
    if (--s->remaining == 0) pthread_cond_broadcast(&l->ready);
}

typedef struct worker_arg {
    knet_loader *l;
    int tid;
} worker_arg;

static void *worker_main(void *arg) {
    worker_arg *a = arg;
    knet_loader *l = a->l;
    int tid = a->tid;
    free(a);
    es_error e;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->shutdown && !l->qlen) pthread_cond_wait(&l->work, &l->lock);
        if (l->shutdown) break;
        job j = l->queue[l->qhead];
        l->qhead = (l->qhead + 1) % (sizeof l->queue / sizeof l->queue[0]);
        l->qlen--;
        pthread_mutex_unlock(&l->lock);
        memset(&e, 0, sizeof e);
        int rc = run_job(l, j.slot, j.b, tid, &e);
        pthread_mutex_lock(&l->lock);
        finish_job(l, j.slot, j.b, rc, &e);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* ---------------------------------------------------------------------------------- */
/* Planning (caller's thread)                                                           */

static void image_size_at(const knet_loader *l, size_t i, int scale, int *nw, int *nh) {
    if (l->cache) {
        *nw = l->cache[i].nw;
        *nh = l->cache[i].nh;
    } else {
        knet_resize_shape(l->imgs[i].w, l->imgs[i].h, scale, l->max_size, nw, nh);
    }
}

/* Draws the next batch into slot si and queues its jobs. Lock held; the slot is idle. */
static int plan(knet_loader *l, int si, es_error *err) {
    slot *s = &l->slots[si];
    knet_batch *o = &s->out;
    int B = l->batch, H, W;
    for (int b = 0; b < B; b++) {
        if (l->pos >= l->n) { /* a new epoch: Fisher-Yates */
            for (size_t i = l->n - 1; i > 0; i--) {
                size_t j = next_u64(&l->rng) % (i + 1), t = l->order[i];
                l->order[i] = l->order[j];
                l->order[j] = t;
            }
            l->pos = 0;
        }
        size_t idx = l->order[l->pos++];
        int scale = l->scales[0];
        if (l->n_scales > 1) scale = l->scales[next_u64(&l->rng) % (uint64_t)l->n_scales];
        double u = (double)(next_u64(&l->rng) >> 11) * 0x1.0p-53;
        s->idx[b] = idx;
        o->image_id[b] = l->imgs[idx].id;
        o->flipped[b] = u < l->flip;
        image_size_at(l, idx, scale, &o->size_w[b], &o->size_h[b]);
    }
    knet_batch_size(o->size_w, o->size_h, B, l->pad, &W, &H);
    size_t need = (size_t)B * 3 * H * W;
    if (need > s->images_cap) {
        float *p = realloc(s->images, need * sizeof *p);
        if (!p) return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory for a %dx%d batch", W, H);
        s->images = p;
        s->images_cap = need;
    }
    o->batch = B, o->h = H, o->w = W;
    o->images = s->images;
    memset(&o->tg, 0, sizeof o->tg);
    o->tg.batch = B;
    o->tg.hm = H / KNET_MASK_STRIDE;
    o->tg.wm = W / KNET_MASK_STRIDE;
    s->rc = ES_OK;
    s->err_b = 0;
    s->remaining = B;
    size_t qcap = sizeof l->queue / sizeof l->queue[0];
    for (int b = 0; b < B; b++) {
        l->queue[(l->qhead + l->qlen) % qcap] = (job){si, b};
        l->qlen++;
    }
    pthread_cond_broadcast(&l->work);
    return ES_OK;
}

int knet_loader_next(knet_loader *l, const knet_batch **out, es_error *err) {
    *out = NULL;
    if (l->failed) {
        if (err) *err = l->failed_err;
        return l->failed;
    }
    pthread_mutex_lock(&l->lock);
    es_error fail = {0}; /* kept for later calls whether or not the caller passed err */
    int rc = ES_OK;
    if (l->held >= 0) {
        rc = plan(l, l->held, &fail);
        l->held = -1;
    }
    slot *s = &l->slots[l->head];
    es_error e;
    while (!rc && s->remaining) {
        if (l->qlen && l->queue[l->qhead].slot == l->head) {
            /* help with our own batch rather than wait */
            job j = l->queue[l->qhead];
            l->qhead = (l->qhead + 1) % (sizeof l->queue / sizeof l->queue[0]);
            l->qlen--;
            pthread_mutex_unlock(&l->lock);
            memset(&e, 0, sizeof e);
            int jrc = run_job(l, j.slot, j.b, l->nthreads, &e);
            pthread_mutex_lock(&l->lock);
            finish_job(l, j.slot, j.b, jrc, &e);
            continue;
        }
        pthread_cond_wait(&l->ready, &l->lock);
    }
    if (!rc) {
        l->held = l->head;
        l->head = (l->head + 1) % KNET_LOADER_SLOTS;
        if (s->rc) {
            rc = s->rc;
            fail = s->err;
        }
    }
    if (rc) {
        l->failed = rc;
        l->failed_err = fail;
        if (err) *err = fail;
    }
    pthread_mutex_unlock(&l->lock);
    if (!rc) *out = &s->out;
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* Open, cache, free                                                                    */

typedef struct cache_ctx {
    knet_loader *l;
    es_store **stores; /* one per pool thread */
    pthread_mutex_t lock;
    size_t err_i;      /* lowest failing image, n when none */
    int rc;
    es_error err;
} cache_ctx;

static int cache_one(knet_loader *l, size_t i, es_store **st, es_error *err) {
    const img_rec *r = &l->imgs[i];
    cache_ent *c = &l->cache[i];
    knet_resize_shape(r->w, r->h, l->scales[0], l->max_size, &c->nw, &c->nh);
    c->image = malloc((size_t)3 * c->nw * c->nh * sizeof *c->image);
    if (!c->image) return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    ES_CHECK(knet_image_load(r->path, r->w, r->h, c->nw, c->nh, 0, c->image, c->nh, c->nw, err));
    return read_masks(l, r, st, &c->masks, &c->n_masks, err);
}

static void cache_task(void *vctx, size_t i, int thread) {
    cache_ctx *cx = vctx;
    es_error e;
    memset(&e, 0, sizeof e);
    int rc = cache_one(cx->l, i, &cx->stores[thread], &e);
    if (rc) {
        pthread_mutex_lock(&cx->lock);
        if (i < cx->err_i) {
            cx->err_i = i;
            cx->rc = rc;
            cx->err = e;
        }
        pthread_mutex_unlock(&cx->lock);
    }
}

static int build_cache(knet_loader *l, int threads, es_error *err) {
    l->cache = calloc(l->n, sizeof *l->cache);
    es_pool *pool = es_pool_create(threads < 1 ? 1 : threads);
    cache_ctx cx = {.l = l, .err_i = l->n};
    cx.stores = pool ? calloc((size_t)es_pool_threads(pool), sizeof *cx.stores) : NULL;
    if (!l->cache || !pool || !cx.stores) {
        es_pool_free(pool);
        free(cx.stores);
        return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    }
    pthread_mutex_init(&cx.lock, NULL);
    es_pool_for(pool, l->n, cache_task, &cx);
    for (int t = 0; t < es_pool_threads(pool); t++) es_store_close(cx.stores[t]);
    es_pool_free(pool);
    free(cx.stores);
    pthread_mutex_destroy(&cx.lock);
    if (cx.rc) {
        if (err) *err = cx.err;
        return cx.rc;
    }
    for (size_t i = 0; i < l->n; i++) {
        l->cache_bytes += (size_t)3 * l->cache[i].nw * l->cache[i].nh * sizeof(float);
        for (size_t k = 0; k < l->cache[i].n_masks; k++)
            l->cache_bytes += (size_t)l->cache[i].masks[k].m * sizeof(uint32_t);
    }
    return ES_OK;
}

/* The store's image list (first max_images by id). */
static int read_images(knet_loader *l, const char *store_path, size_t max_images, es_error *err) {
    es_store *st = NULL;
    ES_CHECK(es_store_open(store_path, ES_OPEN_READ, &st, err));
    es_image *imgs = NULL;
    size_t n = 0;
    int rc = es_store_images(st, &imgs, &n, err);
    es_store_close(st);
    if (rc) return es_error_prefix(err, "%s", store_path);
    size_t n_all = n;
    if (max_images && n > max_images) n = max_images;
    if (!n) rc = es_error_set(err, ES_ERR_INVALID, "%s: no images", store_path);
    if (!rc && !(l->imgs = calloc(n, sizeof *l->imgs))) rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        if (!imgs[i].path) {
            rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s has no path", store_path, imgs[i].name);
            break;
        }
        char path[4096];
        knet_image_path(store_path, imgs[i].path, path, sizeof path);
        img_rec *r = &l->imgs[i];
        r->id = imgs[i].id, r->w = imgs[i].width, r->h = imgs[i].height;
        r->name = strdup(imgs[i].name);
        r->path = strdup(path);
        l->n = i + 1;
        if (!r->name || !r->path) rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    }
    es_images_free(imgs, n_all);
    return rc;
}

int knet_loader_open(knet_loader **out, const char *store_path, const knet_config *cfg,
                     size_t max_images, es_error *err) {
    *out = NULL;
    if (cfg->batch < 1 || cfg->batch > KNET_MAX_BATCH)
        return es_error_set(err, ES_ERR_INVALID, "loader: batch %d out of 1..%d", cfg->batch, KNET_MAX_BATCH);
    if (cfg->pad_divisor < KNET_MASK_STRIDE || cfg->pad_divisor % KNET_MASK_STRIDE)
        return es_error_set(err, ES_ERR_INVALID, "loader: pad_divisor %d is not a multiple of %d", cfg->pad_divisor,
                            KNET_MASK_STRIDE);
    knet_loader *l = calloc(1, sizeof *l);
    if (!l) return es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->ready, NULL);
    l->held = -1;
    for (int i = 0; i < KNET_MAX_SCALES && cfg->scales[i]; i++) l->scales[l->n_scales++] = cfg->scales[i];
    l->max_size = cfg->max_size;
    l->pad = cfg->pad_divisor;
    l->batch = cfg->batch;
    l->flip = cfg->flip;
    l->rng = (uint64_t)cfg->seed * 2654435761u + 1;
    l->nthreads = cfg->loader_threads > 0 ? cfg->loader_threads : 0;
    int rc = l->n_scales ? ES_OK : es_error_set(err, ES_ERR_INVALID, "loader: no scales");
    if (!rc) rc = (l->store_path = strdup(store_path)) ? ES_OK : es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    if (!rc) rc = read_images(l, store_path, max_images, err);
    if (!rc && l->n_scales == 1 && cfg->cache_mb > 0) {
        double bytes = 0;
        for (size_t i = 0; i < l->n; i++) {
            int nw, nh;
            knet_resize_shape(l->imgs[i].w, l->imgs[i].h, l->scales[0], l->max_size, &nw, &nh);
            bytes += 3.0 * nw * nh * sizeof(float);
        }
        if (bytes <= (double)cfg->cache_mb * (1 << 20)) rc = build_cache(l, cfg->loader_threads, err);
    }
    if (!rc) {
        l->order = malloc(l->n * sizeof *l->order);
        l->stores = calloc((size_t)l->nthreads + 1, sizeof *l->stores);
        l->threads = calloc((size_t)l->nthreads + 1, sizeof *l->threads);
        if (!l->order || !l->stores || !l->threads) rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
    }
    for (size_t i = 0; !rc && i < l->n; i++) l->order[i] = i;
    l->pos = l->n; /* shuffle on the first draw */
    for (int t = 0; !rc && t < l->nthreads; t++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) {
            rc = es_error_set(err, ES_ERR_NOMEM, "loader: out of memory");
            break;
        }
        *a = (worker_arg){l, t};
        if (pthread_create(&l->threads[t], NULL, worker_main, a)) {
            free(a);
            rc = es_error_set(err, ES_ERR_INTERNAL, "loader: cannot start thread %d", t);
            break;
        }
        l->n_started++;
    }
    pthread_mutex_lock(&l->lock);
    for (int k = 0; !rc && k < KNET_LOADER_SLOTS; k++) rc = plan(l, k, err);
    pthread_mutex_unlock(&l->lock);
    if (rc) {
        knet_loader_free(l);
        return rc;
    }
    *out = l;
    return ES_OK;
}

void knet_loader_free(knet_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->lock);
    l->shutdown = 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->lock);
    for (int t = 0; t < l->n_started; t++) pthread_join(l->threads[t], NULL);
    if (l->stores)
        for (int t = 0; t <= l->nthreads; t++) es_store_close(l->stores[t]);
    for (int k = 0; k < KNET_LOADER_SLOTS; k++) {
        free(l->slots[k].images);
        for (int b = 0; b < KNET_MAX_BATCH; b++) free(l->slots[k].masks[b]);
    }
    for (size_t i = 0; l->cache && i < l->n; i++) {
        free(l->cache[i].image);
        free_masks(l->cache[i].masks, l->cache[i].n_masks);
    }
    for (size_t i = 0; i < l->n; i++) {
        free(l->imgs[i].name);
        free(l->imgs[i].path);
    }
    free(l->cache);
    free(l->imgs);
    free(l->order);
    free(l->stores);
    free(l->threads);
    free(l->store_path);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->ready);
    free(l);
}

size_t knet_loader_images(const knet_loader *l) { return l->n; }

size_t knet_loader_cache_bytes(const knet_loader *l) { return l->cache ? l->cache_bytes : 0; }
