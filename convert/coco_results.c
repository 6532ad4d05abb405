/* coco_results.c: COCO results (detectron2 / mmdetection: a list of {image_id,
 * category_id, segmentation, score}) -> prediction store.
 *
 * Image ids resolve against the ground-truth store (its images' source ids; a string
 * image_id is matched against image names). Results are read streaming into compact entries
 * (segmentation kept as given), grouped per image keeping input order (source_order = the
 * position among that image's results: score ties are broken by it), rasterised per image
 * on the pool. Masks may overlap. A score that is missing, NaN or negative is an error
 * naming the result's index.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco_segm.h"
#include "json_stream.h"
#include "panoptic_json.h"

typedef struct res_entry {
    es_segm segm;
    int64_t category_id;
    double score;
    long index;    /* position in the results list */
    size_t image;  /* index into the GT images */
} res_entry;

typedef struct res_ctx {
    const char *json_path, *gt_db;
    const es_convert_common *c;
    es_convert_report *rep;
    es_image *gt;
    size_t ngt;
    es_idmap by_source;
    res_entry *entries;
    size_t n, cap;
    size_t *order;     /* entries grouped by image, input order within an image */
    size_t *first;     /* (ngt + 1) start of each image's group in order[] */
    es_store *store;
} res_ctx;

static int find_image(res_ctx *r, const cJSON *item, long index, size_t *at, es_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "image_id");
    int64_t id;
    if (es_json_get_int(item, "image_id", &id)) {
        if (es_idmap_get(&r->by_source, id, at)) return ES_OK;
        return es_error_set(err, ES_ERR_INVALID, "%s: results[%ld]: image id %lld is not an image of the ground truth %s",
                            r->json_path, index, (long long)id, r->gt_db);
    }
    if (cJSON_IsString(v)) {
        for (size_t i = 0; i < r->ngt; i++)
            if (!strcmp(r->gt[i].name, v->valuestring)) {
                *at = i;
                return ES_OK;
            }
        return es_error_set(err, ES_ERR_INVALID, "%s: results[%ld]: image \"%s\" is not an image of the ground truth %s",
                            r->json_path, index, v->valuestring, r->gt_db);
    }
    return es_error_set(err, ES_ERR_FORMAT, "%s: results[%ld]: missing \"image_id\"", r->json_path, index);
}

/* Reads and checks one result into e (its segmentation still unrasterised). */
static int read_result(res_ctx *r, long index, const cJSON *item, res_entry *e, es_error *err) {
    if (!cJSON_IsObject(item))
        return es_error_set(err, ES_ERR_FORMAT, "%s: results[%ld] is not an object", r->json_path, index);
    memset(e, 0, sizeof *e);
    e->index = index;
    ES_CHECK(find_image(r, item, index, &e->image, err));
    const es_image *g = &r->gt[e->image];
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(item, "score");
    if (!cJSON_IsNumber(sc))
        return es_error_set(err, ES_ERR_INVALID, "%s: results[%ld] (image %s): %s", r->json_path, index, g->name,
                            sc ? "\"score\" is not a number" : "no \"score\"");
    e->score = sc->valuedouble;
    if (!isfinite(e->score) || e->score < 0)
        return es_error_set(err, ES_ERR_INVALID, "%s: results[%ld] (image %s): score %g is not a finite number >= 0",
                            r->json_path, index, g->name, e->score);
    if (!es_json_get_int(item, "category_id", &e->category_id)) e->category_id = ES_NONE;
    char what[512];
    snprintf(what, sizeof what, "%s: results[%ld] (image %s)", r->json_path, index, g->name);
    ES_CHECK(es_segm_parse(&e->segm, cJSON_GetObjectItemCaseSensitive(item, "segmentation"), what, err));
    /* RLE size is checked here already: cheap, and the error then names the result early */
    if ((e->segm.kind == ES_SEGM_STRING || e->segm.kind == ES_SEGM_COUNTS) &&
        (e->segm.h != g->height || e->segm.w != g->width)) {
        int rc = es_error_set(err, ES_ERR_INVALID, "%s: RLE size %ux%u does not match the image size %ux%u (h x w)",
                              what, e->segm.h, e->segm.w, g->height, g->width);
        es_segm_free(&e->segm);
        return rc;
    }
    return ES_OK;
}

static int on_result(void *ctx, const char *key, long index, const cJSON *item, es_error *err) {
    res_ctx *r = ctx;
    if (key) {
        /* a {"annotations": [...]} wrapper is accepted too */
        if (strcmp(key, "annotations")) return ES_OK;
        if (index < 0) return es_error_set(err, ES_ERR_FORMAT, "%s: \"annotations\" is not a list", r->json_path);
    }
    res_entry e;
    int rc = read_result(r, index, item, &e, err);
    if ((rc == ES_ERR_INVALID || rc == ES_ERR_FORMAT) && r->c->lenient) {
        /* --lenient: the bad result is left out and listed */
        rc = es_report_add_skipped(r->rep, "results[%ld]: %s", index, err->msg);
        es_error_clear(err);
        return rc ? es_error_set(err, ES_ERR_NOMEM, "out of memory") : ES_OK;
    }
    ES_CHECK(rc);
    rc = es_grow((void **)&r->entries, &r->cap, r->n + 1, sizeof *r->entries, err);
    if (rc) {
        es_segm_free(&e.segm);
        return rc;
    }
    r->entries[r->n++] = e;
    return ES_OK;
}

/* Groups entries by image with a stable counting sort. */
static int group_by_image(res_ctx *r, es_error *err) {
    return es_group_by_image(r->entries, r->n, sizeof *r->entries, offsetof(res_entry, image), r->ngt, &r->first,
                             &r->order, err);
}

typedef struct res_result {
    es_entity *ents;
    size_t n;
} res_result;

static void res_drop(void *ctx, void *result) {
    res_result *rr = result;
    if (!rr) return;
    es_entities_free(rr->ents, rr->n);
    free(rr);
}

static int res_work(void *ctx, size_t g, int thread, void **result, es_error *err) {
    res_ctx *r = ctx;
    size_t n = r->first[g + 1] - r->first[g];
    res_result *rr = calloc(1, sizeof *rr);
    if (!rr || !(rr->ents = calloc(n ? n : 1, sizeof *rr->ents))) {
        free(rr);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    const es_image *im = &r->gt[g];
    int rc = ES_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        res_entry *e = &r->entries[r->order[r->first[g] + k]];
        char what[512];
        snprintf(what, sizeof what, "%s: results[%ld] (image %s)", r->json_path, e->index, im->name);
        es_entity *ent = &rr->ents[rr->n];
        *ent = es_entity_default();
        rc = es_segm_to_rle(&e->segm, im->height, im->width, &ent->mask, what, err);
        if (rc) break;
        rr->n++;
        ent->score = e->score;
        ent->category_id = e->category_id;
        ent->source_segment_id = e->index; /* results carry no id: the list position identifies one */
        ent->source_order = (int64_t)k;
    }
    if (rc) {
        res_drop(ctx, rr);
        return rc;
    }
    *result = rr;
    return ES_OK;
}

static int res_write(void *ctx, size_t g, void *result, es_error *err) {
    res_ctx *r = ctx;
    res_result *rr = result;
    int rc = rr->n ? es_store_add_entities(r->store, r->gt[g].id, rr->ents, rr->n, err) : ES_OK;
    if (rc) es_error_prefix(err, "%s: image %s", r->json_path, r->gt[g].name);
    else {
        r->rep->images++;
        r->rep->entities += (int64_t)rr->n;
    }
    res_drop(ctx, rr);
    return rc;
}

static const char *res_label(void *ctx, size_t g) {
    return ((res_ctx *)ctx)->gt[g].name;
}

static const es_pipeline_ops res_ops = {res_work, res_write, res_drop, res_label};

int es_convert_coco_results(const char *json_path, const char *gt_db, const char *out_db, const es_convert_common *c,
                            es_error *err) {
    es_convert_report local = {0};
    res_ctx r;
    memset(&r, 0, sizeof r);
    r.json_path = json_path;
    r.gt_db = gt_db;
    r.c = c;
    r.rep = c->report ? c->report : &local;
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"json\": \"%s\", \"gt\": \"%s\"}", json_path, gt_db);
    es_store *store = NULL;
    int rc = es_convert_create_store(out_db, ES_STORE_PRED, 0, "entseg-convert coco-results", opts, c, &store, err);
    r.store = store;
    if (!rc) rc = es_copy_gt_images(gt_db, store, &r.gt, &r.ngt, &r.by_source, 1, err);
    if (!rc) rc = es_json_stream(json_path, on_result, &r, err);
    if (!rc) rc = group_by_image(&r, err);
    if (!rc) rc = es_pipeline_run(r.ngt, &res_ops, &r, store, c, "converting", err);
    if (!rc) {
        r.rep->images = (int64_t)r.ngt;
        rc = es_convert_finish_store(store, r.rep, err);
        store = NULL;
    }
    es_store_close(store);
    for (size_t i = 0; i < r.n; i++) es_segm_free(&r.entries[i].segm);
    free(r.entries);
    free(r.order);
    free(r.first);
    es_images_free(r.gt, r.ngt);
    es_idmap_free(&r.by_source);
    es_convert_report_free(&local);
    return rc;
}
