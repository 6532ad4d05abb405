/* evaluate/bench/bench_eval_make_preds.c: a prediction store with exactly N predictions
 * per image for the evaluator's benchmarks (synth-pred makes ~1 per entity): each image
 * gets shifted copies of its ground-truth entities (1..8 px, cycling over the entities),
 * each scored pseudo-randomly (a fifth of them rounded to 0.05: ties), so the predictions
 * overlap each other heavily as a weak model's do. Deterministic.
 * usage: bench-eval-make-preds GT.db OUT.db [N=100]   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/store.h"

typedef struct ctx {
    es_store *out;
    int per_image;
    uint64_t rng;
} ctx;

static double next01(ctx *c) {
    c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(c->rng >> 11) / 9007199254740992.0;
}

/* r shifted by (dx, dy) >= 0 inside the same image. */
static int shift(es_rle *out, const es_rle *r, uint32_t dx, uint32_t dy, es_error *err) {
    es_rle padded = ES_RLE_EMPTY;
    int rc = es_rle_pad(&padded, r, dx, dy, 0, 0, err);
    if (!rc) rc = es_rle_crop(out, &padded, 0, 0, r->w, r->h, err);
    es_rle_free(&padded);
    return rc;
}

static int per_image(void *vc, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    ctx *c = vc;
    es_image copy = *img;
    copy.id = 0;
    ES_CHECK(es_store_add_image(c->out, &copy, err));
    size_t nonc = 0;
    for (size_t i = 0; i < n; i++) nonc += !ents[i].is_crowd;
    if (!nonc) return ES_OK;
    es_entity *p = calloc((size_t)c->per_image, sizeof *p);
    if (!p) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = ES_OK;
    size_t k = 0;
    for (int j = 0; j < c->per_image && !rc; j++) {
        size_t pick = (size_t)j % nonc, seen = 0, src = 0;
        for (src = 0; src < n; src++)
            if (!ents[src].is_crowd && seen++ == pick) break;
        p[k] = es_entity_default();
        uint32_t dx = 1 + (uint32_t)(next01(c) * 8), dy = 1 + (uint32_t)(next01(c) * 8);
        rc = shift(&p[k].mask, &ents[src].mask, dx, dy, err);
        double s = next01(c);
        p[k].score = j % 5 == 0 ? (double)(int)(s * 20) / 20.0 : s;
        p[k].category_id = ents[src].category_id;
        p[k].source_order = (int64_t)k;
        k++;
    }
    if (!rc) rc = es_store_add_entities(c->out, copy.id, p, k, err);
    es_entities_free(p, k);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench-eval-make-preds GT.db OUT.db [N=100]\n");
        return 2;
    }
    ctx c = {NULL, argc > 3 ? atoi(argv[3]) : 100, 7};
    es_store *gt = NULL;
    es_error err = {0};
    es_store_options o = {ES_STORE_PRED, 0, "bench-eval-make-preds", NULL, 1};
    if (es_store_open(argv[1], ES_OPEN_READ, &gt, &err) || es_store_create(argv[2], &o, &c.out, &err) ||
        es_store_scan(gt, ES_NONE, ES_NONE, 0, per_image, &c, &err) || es_store_finish(c.out, &err)) {
        fprintf(stderr, "bench-eval-make-preds: %s\n", err.msg);
        return 1;
    }
    es_store_close(gt);
    return 0;
}
