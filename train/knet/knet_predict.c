/* knet_predict.c: aspect-keeping resize and padding (data/transforms.h), forward without
 * a tape record, top-k, K-Net's mask rescaling to the original size, RLE encoding into a
 * prediction store; validation through es_eval_run. */
#include "knet/knet_predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "data/transforms.h"
#include "entseg/pool.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "eval.h"

typedef struct scored {
    int k;
    float score;
} scored;

static int by_score_desc(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->k - y->k;
}

/* Writes the predictions of one image: masks (N, hm, wm) logits on the padded grid, the
 * image resized to nw x nh inside it. */
static int write_image(es_store *out, const es_image *img, const knet_config *c, const float *masks,
                       const float *cls, int N, int hm, int wm, int nw, int nh, es_error *err) {
    es_image copy = *img;
    copy.id = 0;
    ES_CHECK(es_store_add_image(out, &copy, err));
    int hw = hm * wm;
    /* the mask cells that cover the resized image (the rest cover padding) */
    int vh = (nh + KNET_MASK_STRIDE - 1) / KNET_MASK_STRIDE, vw = (nw + KNET_MASK_STRIDE - 1) / KNET_MASK_STRIDE;
    if (vh > hm) vh = hm;
    if (vw > wm) vw = wm;
    float thr = logf(c->mask_thr / (1.0f - c->mask_thr));
    int topk = c->topk < N ? c->topk : N;
    scored *sc = malloc((size_t)N * sizeof *sc);
    es_entity *ents = calloc((size_t)topk, sizeof *ents);
    uint8_t *full = malloc((size_t)img->width * img->height);
    float *prob = malloc((size_t)hw * sizeof *prob);
    int rc = (!sc || !ents || !full || !prob)
                 ? es_error_set(err, ES_ERR_NOMEM, "infer: out of memory")
                 : ES_OK;
    for (int k = 0; k < N && !rc; k++) {
        /* mask score over the cells that show the image (not the padding) */
        const float *m = masks + (size_t)k * hw;
        double inside = 0;
        int cnt = 0;
        for (int j = 0; j < vh; j++)
            for (int i = 0; i < vw; i++)
                if (m[j * wm + i] > thr) {
                    inside += 1.0 / (1.0 + exp(-m[j * wm + i]));
                    cnt++;
                }
        float obj = 1.0f / (1.0f + expf(-cls[k]));
        sc[k].k = k;
        sc[k].score = cnt ? obj * (float)(inside / cnt) : 0.0f;
    }
    if (!rc) qsort(sc, (size_t)N, sizeof *sc, by_score_desc);
    size_t n = 0;
    for (int i = 0; i < topk && !rc; i++) {
        if (sc[i].score <= 0) continue;
        const float *m = masks + (size_t)sc[i].k * hw;
        for (int j = 0; j < hw; j++) prob[j] = 1.0f / (1.0f + expf(-m[j]));
        rc = knet_mask_rescale(prob, hm, wm, nw, nh, img->width, img->height, c->mask_thr, full, err);
        es_entity e = es_entity_default();
        if (!rc) rc = es_rle_encode(&e.mask, full, img->height, img->width, err);
        if (rc) break;
        if (es_rle_area(&e.mask) == 0) {
            es_rle_free(&e.mask);
            continue;
        }
        e.score = sc[i].score;
        ents[n++] = e;
    }
    if (!rc && n) rc = es_store_add_entities(out, copy.id, ents, n, err);
    for (size_t i = 0; i < n; i++) es_rle_free(&ents[i].mask);
    free(sc);
    free(ents);
    free(full);
    free(prob);
    return rc;
}

/* Parallel decoding of one batch. */
typedef struct load_ctx {
    const char *images_db;
    const es_image *imgs;   /* the batch's images */
    const int *nw, *nh;
    float *host;            /* (bn, 3, H, W) */
    int H, W;
    int rc[KNET_MAX_BATCH];
    es_error err[KNET_MAX_BATCH];
} load_ctx;

static void load_task(void *vctx, size_t b, int thread) {
    (void)thread;
    load_ctx *lc = vctx;
    const es_image *img = &lc->imgs[b];
    if (!img->path) {
        lc->rc[b] = es_error_set(&lc->err[b], ES_ERR_INVALID, "%s: image %s has no path", lc->images_db, img->name);
        return;
    }
    char path[4096];
    knet_image_path(lc->images_db, img->path, path, sizeof path);
    lc->rc[b] = knet_image_load(path, img->width, img->height, lc->nw[b], lc->nh[b], 0,
                                lc->host + b * 3 * (size_t)lc->H * lc->W, lc->H, lc->W, &lc->err[b]);
}

int knet_predict_store(knet_model *m, nn_ctx *ctx, const char *images_db, const char *pred_db,
                       size_t max_images, int *n_images, es_error *err) {
    const knet_config *c = &m->cfg;
    int B = c->batch;
    es_store *in = NULL, *out = NULL;
    ES_CHECK(es_store_open(images_db, ES_OPEN_READ, &in, err));
    es_image *imgs = NULL;
    size_t n = 0;
    int rc = es_store_images(in, &imgs, &n, err);
    es_store_close(in);
    if (rc) return es_error_prefix(err, "%s", images_db);
    size_t n_all = n;
    if (max_images && n > max_images) n = max_images;
    es_store_options o = {.kind = ES_STORE_PRED, .creator = "entseg-train infer (knet)", .replace = 1};
    rc = es_store_create(pred_db, &o, &out, err);
    nn_arena *arena = NULL;
    float *host = NULL, *mh = NULL, *ch = NULL;
    size_t host_cap = 0, mh_cap = 0;
    load_ctx *lc = calloc(1, sizeof *lc);
    es_pool *pool = es_pool_create(c->loader_threads > 0 ? c->loader_threads : 1);
    if (!rc && (!lc || !pool)) rc = es_error_set(err, ES_ERR_NOMEM, "infer: out of memory");
    if (!rc) rc = nn_arena_create(&arena, ctx, 64u << 20, err);
    tp_tape t;
    tp_init(&t, ctx, arena, 0);
    int nw[KNET_MAX_BATCH], nh[KNET_MAX_BATCH];
    for (size_t first = 0; first < n && !rc; first += (size_t)B) {
        int bn = (int)(n - first < (size_t)B ? n - first : (size_t)B), H, W;
        for (int b = 0; b < bn; b++)
            knet_resize_shape(imgs[first + b].width, imgs[first + b].height, c->test_scale, c->max_size, &nw[b], &nh[b]);
        knet_batch_size(nw, nh, bn, c->pad_divisor, &W, &H);
        size_t need = (size_t)bn * 3 * H * W;
        if (need > host_cap) {
            float *p = realloc(host, need * sizeof *p);
            if (!p) {
                rc = es_error_set(err, ES_ERR_NOMEM, "infer: out of memory for a %dx%d batch", W, H);
                break;
            }
            host = p, host_cap = need;
        }
        lc->images_db = images_db, lc->imgs = imgs + first, lc->nw = nw, lc->nh = nh;
        lc->host = host, lc->H = H, lc->W = W;
        memset(lc->rc, 0, sizeof lc->rc);
        es_pool_for(pool, (size_t)bn, load_task, lc);
        for (int b = 0; b < bn && !rc; b++)
            if (lc->rc[b]) {
                rc = lc->rc[b];
                if (err) *err = lc->err[b];
            }
        if (rc) break;
        tp_reset(&t, 0);
        nn_tensor x = tp_new(&t, 0, 4, NN_SHAPE(bn, 3, H, W));
        if (!t.rc) t.rc = nn_tensor_upload(ctx, &x, host, &t.err);
        knet_outputs o2;
        knet_forward(m, &t, &x, &o2);
        if (t.rc) {
            rc = t.rc;
            if (err) *err = t.err;
            break;
        }
        int N = o2.n, hw = o2.hm * o2.wm, last = c->stages;
        if ((size_t)bn * N * hw > mh_cap) {
            free(mh);
            free(ch);
            mh_cap = (size_t)bn * N * hw;
            mh = malloc(mh_cap * sizeof *mh);
            ch = malloc((size_t)B * N * sizeof *ch);
            if (!mh || !ch) {
                rc = es_error_set(err, ES_ERR_NOMEM, "infer: out of memory");
                break;
            }
        }
        rc = nn_tensor_download(ctx, &o2.masks[last], mh, err);
        if (!rc) rc = nn_tensor_download(ctx, &o2.cls[last], ch, err);
        for (int b = 0; b < bn && !rc; b++)
            rc = write_image(out, &imgs[first + b], c, mh + (size_t)b * N * hw, ch + (size_t)b * N,
                             N, o2.hm, o2.wm, nw[b], nh[b], err);
    }
    tp_free(&t);
    nn_arena_free(arena);
    es_pool_free(pool);
    free(lc);
    free(host);
    free(mh);
    free(ch);
    es_images_free(imgs, n_all);
    if (!rc) {
        rc = es_store_finish(out, err);
        out = NULL;
    }
    es_store_close(out);
    if (!rc && n_images) *n_images = (int)n;
    return rc;
}

int knet_validate(knet_model *m, nn_ctx *ctx, const char *val_db, const char *pred_db,
                  int threads, double ap[2], es_error *err) {
    ES_CHECK(knet_predict_store(m, ctx, val_db, pred_db, 0, NULL, err));
    es_eval_options o;
    memset(&o, 0, sizeof o);
    o.metrics = ES_METRIC_AP_E;
    o.quiet = 1;
    o.threads = threads;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    int rc = es_eval_run(pred_db, val_db, &o, &r, err);
    if (!rc) {
        ap[0] = r.ap_e.stats[0];
        ap[1] = r.ap_e.stats[1];
    }
    es_eval_result_free(&r);
    return rc;
}
