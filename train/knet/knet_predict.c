/* knet_predict.c: forward without a tape record, top-k, upsampling to the original size,
 * RLE encoding into a prediction store; validation through es_eval_run. */
#include "knet/knet_predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "eval.h"

/* Bilinear (half-pixel) upsampling of one hm x wm logit map, thresholded at thr_logit. */
static void upsample_threshold(const float *m, int hm, int wm, uint32_t H, uint32_t W,
                               float thr_logit, uint8_t *out) {
    for (uint32_t y = 0; y < H; y++) {
        float sy = ((float)y + 0.5f) * hm / H - 0.5f;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < hm ? y0 + 1 : hm - 1;
        float fy = sy - y0;
        for (uint32_t x = 0; x < W; x++) {
            float sx = ((float)x + 0.5f) * wm / W - 0.5f;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < wm ? x0 + 1 : wm - 1;
            float fx = sx - x0;
            float v = (1 - fy) * ((1 - fx) * m[y0 * wm + x0] + fx * m[y0 * wm + x1]) +
                      fy * ((1 - fx) * m[y1 * wm + x0] + fx * m[y1 * wm + x1]);
            out[(size_t)y * W + x] = v > thr_logit;
        }
    }
}

typedef struct scored {
    int k;
    float score;
} scored;

static int by_score_desc(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->k - y->k;
}

/* Writes the predictions of one image. */
static int write_image(es_store *out, const es_image *img, const knet_config *c, const float *masks,
                       const float *cls, int N, int hm, int wm, es_error *err) {
    es_image copy = *img;
    copy.id = 0;
    ES_CHECK(es_store_add_image(out, &copy, err));
    scored sc[1024];
    int hw = hm * wm;
    float thr = logf(c->mask_thr / (1.0f - c->mask_thr));
    if (N > 1024) N = 1024;
    for (int k = 0; k < N; k++) {
        const float *m = masks + (size_t)k * hw;
        double inside = 0;
        int cnt = 0;
        for (int j = 0; j < hw; j++)
            if (m[j] > thr) {
                inside += 1.0 / (1.0 + exp(-m[j]));
                cnt++;
            }
        float obj = 1.0f / (1.0f + expf(-cls[k]));
        sc[k].k = k;
        sc[k].score = cnt ? obj * (float)(inside / cnt) : 0.0f;
    }
    qsort(sc, (size_t)N, sizeof *sc, by_score_desc);
    int topk = c->topk < N ? c->topk : N;
    es_entity *ents = calloc((size_t)topk, sizeof *ents);
    uint8_t *full = malloc((size_t)img->width * img->height);
    int rc = (!ents || !full) ? es_error_set(err, ES_ERR_NOMEM, "infer: out of memory") : ES_OK;
    size_t n = 0;
    for (int i = 0; i < topk && !rc; i++) {
        if (sc[i].score <= 0) continue;
        upsample_threshold(masks + (size_t)sc[i].k * hw, hm, wm, img->height, img->width, thr, full);
        es_entity e = es_entity_default();
        rc = es_rle_encode(&e.mask, full, img->height, img->width, err);
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
    free(ents);
    free(full);
    return rc;
}

int knet_predict_store(knet_model *m, nn_ctx *ctx, const char *images_db, const char *pred_db,
                       size_t max_images, int *n_images, es_error *err) {
    const knet_config *c = &m->cfg;
    int S = c->image_size, B = c->batch;
    es_store *in = NULL, *out = NULL;
    ES_CHECK(es_store_open(images_db, ES_OPEN_READ, &in, err));
    es_image *imgs = NULL;
    size_t n = 0;
    int rc = es_store_images(in, &imgs, &n, err);
    es_store_close(in);
    if (rc) return es_error_prefix(err, "%s", images_db);
    if (max_images && n > max_images) n = max_images;
    es_store_options o = {.kind = ES_STORE_PRED, .creator = "entseg-train infer (knet)", .replace = 1};
    rc = es_store_create(pred_db, &o, &out, err);
    nn_arena *arena = NULL;
    float *host = malloc((size_t)B * 3 * S * S * sizeof *host);
    float *mh = NULL, *ch = NULL;
    if (!rc && !host) rc = es_error_set(err, ES_ERR_NOMEM, "infer: out of memory");
    if (!rc) rc = nn_arena_create(&arena, ctx, 64u << 20, err);
    tp_tape t;
    tp_init(&t, ctx, arena, 0);
    for (size_t first = 0; first < n && !rc; first += (size_t)B) {
        int bn = (int)(n - first < (size_t)B ? n - first : (size_t)B);
        for (int b = 0; b < bn && !rc; b++) {
            const es_image *img = &imgs[first + b];
            if (!img->path) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s has no path", images_db, img->name);
                break;
            }
            char path[4096];
            knet_image_path(images_db, img->path, path, sizeof path);
            rc = knet_read_image(path, S, host + (size_t)b * 3 * S * S, err);
        }
        if (rc) break;
        tp_reset(&t, 0);
        nn_tensor x = tp_new(&t, 0, 4, NN_SHAPE(bn, 3, S, S));
        if (!t.rc) t.rc = nn_tensor_upload(ctx, &x, host, &t.err);
        knet_outputs o2;
        knet_forward(m, &t, &x, &o2);
        if (t.rc) {
            rc = t.rc;
            if (err) *err = t.err;
            break;
        }
        int N = o2.n, hw = o2.hm * o2.wm, last = c->stages;
        if (!mh) {
            mh = malloc((size_t)B * N * hw * sizeof *mh);
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
                             N, o2.hm, o2.wm, err);
    }
    tp_free(&t);
    nn_arena_free(arena);
    free(host);
    free(mh);
    free(ch);
    es_images_free(imgs, n);
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
