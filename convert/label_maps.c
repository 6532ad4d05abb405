/* label_maps.c: a directory of id maps (8/16-bit PNG, 8/16/32-bit TIFF; 0 = void), the
 * output format of the entity-segmentation papers -> store.
 *
 * Ground truth: one image per file (sorted by file name; name = file stem), one entity per
 * non-zero id (source_segment_id = the id, source_order = rank of the id).
 * Predictions (--scores S.json --gt gt.db): the same maps plus one score per id, images
 * matched to the ground truth by name. S.json is {"<image name>": {"<id>": score, ...}, ...}.
 * An RGB PNG is read as a COCO panoptic id map (R + 256 G + 65536 B); a palette PNG by
 * its indices.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "json_stream.h"
#include "panoptic_json.h"

typedef struct lm_scores {
    char *name;
    int64_t *ids;
    double *scores;
    size_t n;
} lm_scores;

typedef struct lm_ctx {
    const char *dir, *scores_path, *gt_db;
    const es_convert_common *c;
    es_convert_report *rep;
    char **files;        /* (nfiles) sorted */
    size_t nfiles;
    es_image *images;    /* (nfiles) GT: built here; predictions: the matched GT image */
    es_store *store;
    int pred;
    lm_scores *scores;   /* predictions: per image name */
    size_t nscores, cap;
    es_image *gt;        /* predictions: GT images */
    size_t ngt;
} lm_ctx;

static int is_map_file(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return 0;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".tif") || !strcasecmp(dot, ".tiff");
}

/* The directory's id maps, sorted by name (es_list_dir, then the map files kept in place). */
static int list_dir(lm_ctx *x, es_error *err) {
    ES_CHECK(es_list_dir(x->dir, NULL, 0, &x->files, &x->nfiles, err));
    size_t kept = 0;
    for (size_t i = 0; i < x->nfiles; i++) {
        if (is_map_file(x->files[i])) x->files[kept++] = x->files[i];
        else free(x->files[i]);
    }
    x->nfiles = kept;
    if (kept == 0) return es_error_set(err, ES_ERR_INVALID, "%s: no .png / .tif id maps in the directory", x->dir);
    return ES_OK;
}

static int on_scores(void *ctx, const char *key, long index, const cJSON *item, es_error *err) {
    lm_ctx *x = ctx;
    if (!key || index >= 0 || !cJSON_IsObject(item))
        return es_error_set(err, ES_ERR_FORMAT, "%s: expected {\"<image name>\": {\"<id>\": score, ...}, ...}",
                            x->scores_path);
    ES_CHECK(es_grow((void **)&x->scores, &x->cap, x->nscores + 1, sizeof *x->scores, err));
    lm_scores *s = &x->scores[x->nscores++];
    memset(s, 0, sizeof *s);
    size_t n = (size_t)cJSON_GetArraySize(item);
    s->name = strdup(key);
    s->ids = malloc((n ? n : 1) * sizeof *s->ids);
    s->scores = malloc((n ? n : 1) * sizeof *s->scores);
    if (!s->name || !s->ids || !s->scores) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (const cJSON *e = item->child; e; e = e->next) {
        char *end = NULL;
        long long id = strtoll(e->string, &end, 10);
        if (!end || *end || id <= 0)
            return es_error_set(err, ES_ERR_FORMAT, "%s: image %s: \"%s\" is not a positive id", x->scores_path, key,
                                e->string);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || e->valuedouble < 0)
            return es_error_set(err, ES_ERR_INVALID, "%s: image %s: id %lld: score is not a finite number >= 0",
                                x->scores_path, key, id);
        s->ids[s->n] = id;
        s->scores[s->n++] = e->valuedouble;
    }
    return ES_OK;
}

static const lm_scores *find_scores(const lm_ctx *x, const char *name) {
    for (size_t i = 0; i < x->nscores; i++)
        if (!strcmp(x->scores[i].name, name)) return &x->scores[i];
    return NULL;
}

typedef struct lm_result {
    es_entity *ents;
    size_t n;
    uint32_t w, h;
} lm_result;

static void lm_drop(void *ctx, void *result) {
    lm_result *r = result;
    if (!r) return;
    es_entities_free(r->ents, r->n);
    free(r);
}

static int lm_work(void *ctx, size_t i, int thread, void **result, es_error *err) {
    lm_ctx *x = ctx;
    char *path = es_path_join(x->dir, x->files[i]);
    if (!path) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    es_pixels px = ES_PIXELS_EMPTY;
    uint32_t *ids = NULL;
    es_label_rles lr = {0};
    lm_result *r = calloc(1, sizeof *r);
    int rc = r ? es_image_read(path, ES_READ_PALETTE_INDEX, &px, err) : es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!rc && px.channels != 1 && !(px.depth == 1 && px.channels >= 3))
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: %u channels of %u bytes: expected a one-channel id map", path,
                          px.channels, px.depth);
    if (!rc) {
        r->w = px.width;
        r->h = px.height;
        ids = malloc((size_t)px.width * px.height * sizeof *ids);
        rc = ids ? es_pixels_to_ids(&px, ids, err) : es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    es_pixels_free(&px);
    if (!rc) rc = es_rle_encode_labels(&lr, ids, r->h, r->w, err);
    free(ids);
    const lm_scores *sc = NULL;
    if (!rc && x->pred) {
        const es_image *g = &x->images[i];
        if (g->width != r->w || g->height != r->h)
            rc = es_error_set(err, ES_ERR_INVALID, "%s: %ux%u but the ground truth image %s is %ux%u", path, r->w, r->h,
                              g->name, g->width, g->height);
        sc = find_scores(x, g->name);
        if (!rc && !sc && lr.n)
            rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s has no entry in the scores file %s", path, g->name,
                              x->scores_path);
    }
    if (!rc && !(r->ents = calloc(lr.n ? lr.n : 1, sizeof *r->ents))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !rc && k < lr.n; k++) {
        es_entity *e = &r->ents[k];
        *e = es_entity_default();
        if (sc) {
            size_t j = 0;
            while (j < sc->n && sc->ids[j] != (int64_t)lr.ids[k]) j++;
            if (j == sc->n) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: id %u has no score in %s", path, lr.ids[k], x->scores_path);
                break;
            }
            e->score = sc->scores[j];
        }
        e->mask = lr.rles[k];
        lr.rles[k] = ES_RLE_EMPTY;
        e->source_segment_id = lr.ids[k];
        e->source_order = (int64_t)k;
        r->n++;
    }
    es_label_rles_free(&lr);
    free(path);
    if (rc) {
        lm_drop(ctx, r);
        return rc;
    }
    *result = r;
    return ES_OK;
}

static int lm_write(void *ctx, size_t i, void *result, es_error *err) {
    lm_ctx *x = ctx;
    lm_result *r = result;
    es_image *im = &x->images[i];
    int rc = ES_OK;
    if (!x->pred) {
        im->width = r->w;
        im->height = r->h;
        rc = es_store_add_image(x->store, im, err);
    }
    if (!rc && r->n) rc = es_store_add_entities(x->store, im->id, r->ents, r->n, err);
    if (rc) es_error_prefix(err, "%s/%s", x->dir, x->files[i]);
    else {
        x->rep->images++;
        x->rep->entities += (int64_t)r->n;
    }
    lm_drop(ctx, r);
    return rc;
}

static const char *lm_label(void *ctx, size_t i) {
    return ((lm_ctx *)ctx)->files[i];
}

static const es_pipeline_ops lm_ops = {lm_work, lm_write, lm_drop, lm_label};

int es_convert_label_maps(const char *dir, const char *scores_json, const char *gt_db, const char *out_db,
                          const es_convert_common *c, es_error *err) {
    es_convert_report local = {0};
    lm_ctx x;
    memset(&x, 0, sizeof x);
    x.dir = dir;
    x.scores_path = scores_json;
    x.gt_db = gt_db;
    x.c = c;
    x.rep = c->report ? c->report : &local;
    x.pred = scores_json != NULL;
    if (x.pred && !gt_db)
        return es_error_set(err, ES_ERR_INVALID, "label-map predictions (--scores) need the ground truth store (--gt)");
    int rc = list_dir(&x, err);
    if (!rc && x.pred) rc = es_json_stream(scores_json, on_scores, &x, err);
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"dir\": \"%s\"%s%s%s}", dir, scores_json ? ", \"scores\": \"" : "",
             scores_json ? scores_json : "", scores_json ? "\"" : "");
    es_store *store = NULL;
    if (!rc)
        rc = es_convert_create_store(out_db, x.pred ? ES_STORE_PRED : ES_STORE_GT, 0, "entseg-convert label-maps", opts, c,
                                     &store, err);
    x.store = store;
    es_idmap by_source = {0};
    if (!rc && x.pred) rc = es_copy_gt_images(gt_db, store, &x.gt, &x.ngt, &by_source, 1, err);
    if (!rc) {
        x.images = calloc(x.nfiles, sizeof *x.images);
        if (!x.images) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; !rc && i < x.nfiles; i++) {
        char *stem = es_path_stem(x.files[i]);
        if (!stem) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            break;
        }
        if (!x.pred) {
            x.images[i].id = ES_NONE;
            x.images[i].name = stem;
            x.images[i].source = "label-maps";
            x.images[i].source_id = ES_NONE;
            continue;
        }
        size_t g = 0;
        while (g < x.ngt && strcmp(x.gt[g].name, stem)) g++;
        if (g == x.ngt) rc = es_error_set(err, ES_ERR_INVALID, "%s/%s: image %s is not in the ground truth %s", dir,
                                          x.files[i], stem, gt_db);
        else x.images[i] = x.gt[g];
        free(stem);
    }
    if (!rc) rc = es_pipeline_run(x.nfiles, &lm_ops, &x, store, c, "converting", err);
    if (!rc) {
        rc = es_convert_finish_store(store, x.rep, err);
        store = NULL;
    }
    es_store_close(store);
    if (!x.pred && x.images)
        for (size_t i = 0; i < x.nfiles; i++) free(x.images[i].name);
    free(x.images);
    for (size_t i = 0; i < x.nfiles; i++) free(x.files[i]);
    free(x.files);
    for (size_t i = 0; i < x.nscores; i++) {
        free(x.scores[i].name);
        free(x.scores[i].ids);
        free(x.scores[i].scores);
    }
    free(x.scores);
    es_images_free(x.gt, x.ngt);
    es_idmap_free(&by_source);
    es_convert_report_free(&local);
    return rc;
}
