/* tests/evaluate/fixture_loader.h: a small test-only reader of the reference inputs
 * (COCO panoptic PNG + JSON, COCO instances JSON, COCO results JSON) straight into
 * es_eval_image arrays, so the metric core can be checked against ../shared without the
 * converters. Header-only; each test program includes it once.
 *
 * Ground truth keeps the source order (segments_info / annotation order per image), the
 * declared area and the crowd flag; predictions keep the results-file order per image.
 */
#ifndef ES_TEST_FIXTURE_LOADER_H
#define ES_TEST_FIXTURE_LOADER_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "es_test_io.h"
#include "eval.h"

typedef struct fx_set {
    es_eval_image *imgs;
    size_t n;
} fx_set;

static es_eval_image *fx_find(fx_set *s, int64_t id) {
    for (size_t i = 0; i < s->n; i++)
        if (s->imgs[i].source_id == id) return &s->imgs[i];
    return NULL;
}

static int fx_images(fx_set *s, const cJSON *root) {
    const cJSON *images = cJSON_GetObjectItem(root, "images");
    s->n = (size_t)cJSON_GetArraySize(images);
    s->imgs = calloc(s->n ? s->n : 1, sizeof *s->imgs);
    size_t i = 0;
    const cJSON *im;
    cJSON_ArrayForEach(im, images) {
        es_eval_image *e = &s->imgs[i];
        e->source_id = (int64_t)cJSON_GetObjectItem(im, "id")->valuedouble;
        e->image_id = (int64_t)i + 1;
        e->name = strdup(cJSON_GetObjectItem(im, "file_name")->valuestring);
        e->width = (uint32_t)cJSON_GetObjectItem(im, "width")->valueint;
        e->height = (uint32_t)cJSON_GetObjectItem(im, "height")->valueint;
        i++;
    }
    return 0;
}

static es_eval_gt *fx_push_gt(es_eval_image *e) {
    e->gt = realloc(e->gt, (e->n_gt + 1) * sizeof *e->gt);
    es_eval_gt *g = &e->gt[e->n_gt++];
    memset(g, 0, sizeof *g);
    return g;
}

static es_eval_dt *fx_push_dt(es_eval_image *e) {
    e->dt_raw = realloc(e->dt_raw, (e->n_dt_raw + 1) * sizeof *e->dt_raw);
    es_eval_dt *d = &e->dt_raw[e->n_dt_raw];
    memset(d, 0, sizeof *d);
    d->input_index = (int64_t)e->n_dt_raw++;
    return d;
}

static int fx_isthing(const cJSON *root, int64_t cat) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "categories")) {
        if ((int64_t)cJSON_GetObjectItem(c, "id")->valuedouble == cat) {
            const cJSON *t = cJSON_GetObjectItem(c, "isthing");
            return t ? t->valueint : 1;
        }
    }
    return 1;
}

/* COCO panoptic ground truth: JSON + PNG folder. Returns 0 on success. */
static int fx_load_panoptic_gt(const char *json, const char *png_dir, fx_set *s) {
    cJSON *root = es_test_read_json(json);
    if (!root) return -1;
    fx_images(s, root);
    es_error err = {0};
    const cJSON *ann;
    int64_t next_id = 1;
    cJSON_ArrayForEach(ann, cJSON_GetObjectItem(root, "annotations")) {
        es_eval_image *e = fx_find(s, (int64_t)cJSON_GetObjectItem(ann, "image_id")->valuedouble);
        if (!e) goto fail;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", png_dir, cJSON_GetObjectItem(ann, "file_name")->valuestring);
        es_pixels px = ES_PIXELS_EMPTY;
        if (es_image_read(path, 0, &px, &err)) goto fail;
        uint32_t *ids = malloc((size_t)px.width * px.height * sizeof *ids);
        es_pixels_to_ids(&px, ids, &err);
        es_label_rles lr = {0};
        if (es_rle_encode_labels(&lr, ids, px.height, px.width, &err)) goto fail;
        free(ids);
        es_pixels_free(&px);
        const cJSON *seg;
        int64_t order = 0;
        cJSON_ArrayForEach(seg, cJSON_GetObjectItem(ann, "segments_info")) {
            uint32_t id = (uint32_t)cJSON_GetObjectItem(seg, "id")->valuedouble;
            es_eval_gt *g = fx_push_gt(e);
            size_t k = 0;
            while (k < lr.n && lr.ids[k] != id) k++;
            if (k < lr.n) {
                es_rle_copy(&g->mask, &lr.rles[k], &err);
                g->pixels = lr.areas[k];
            } else {
                es_rle_zeros(&g->mask, e->height, e->width, &err);
            }
            g->area = cJSON_GetObjectItem(seg, "area")->valuedouble;
            g->is_crowd = cJSON_GetObjectItem(seg, "iscrowd")->valueint;
            g->category_id = (int64_t)cJSON_GetObjectItem(seg, "category_id")->valuedouble;
            g->isthing = fx_isthing(root, g->category_id);
            g->source_order = order++;
            g->entity_id = next_id++;
        }
        es_label_rles_free(&lr);
    }
    cJSON_Delete(root);
    return 0;
fail:
    printf("  fixture loader: %s: %s\n", json, err.msg);
    cJSON_Delete(root);
    return -1;
}

/* A COCO segmentation (polygons, compressed or uncompressed RLE) as one mask. */
static int fx_segmentation(const cJSON *segm, uint32_t h, uint32_t w, es_rle *out) {
    es_error err = {0};
    *out = ES_RLE_EMPTY;
    if (cJSON_IsArray(segm)) { /* polygons: frPyObjects + merge */
        size_t np = (size_t)cJSON_GetArraySize(segm);
        es_rle *parts = calloc(np ? np : 1, sizeof *parts);
        size_t k = 0;
        const cJSON *poly;
        cJSON_ArrayForEach(poly, segm) {
            size_t nv = (size_t)cJSON_GetArraySize(poly);
            double *xy = malloc((nv ? nv : 1) * sizeof *xy);
            size_t i = 0;
            const cJSON *v;
            cJSON_ArrayForEach(v, poly) xy[i++] = v->valuedouble;
            es_rle_from_polygon(&parts[k++], xy, nv / 2, h, w, &err);
            free(xy);
        }
        int rc = es_rle_merge(out, parts, k, 0, &err);
        for (size_t i = 0; i < k; i++) es_rle_free(&parts[i]);
        free(parts);
        return rc;
    }
    const cJSON *counts = cJSON_GetObjectItem(segm, "counts");
    if (cJSON_IsString(counts)) return es_rle_from_string(out, counts->valuestring, h, w, &err);
    size_t n = (size_t)cJSON_GetArraySize(counts);
    uint32_t *c = malloc((n ? n : 1) * sizeof *c);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, counts) c[i++] = (uint32_t)v->valuedouble;
    int rc = es_rle_from_counts(out, c, n, h, w, &err);
    free(c);
    return rc;
}

/* COCO instances ground truth (declared area, crowd flag, annotation order per image). */
static int fx_load_instances_gt(const char *json, fx_set *s) {
    cJSON *root = es_test_read_json(json);
    if (!root) return -1;
    fx_images(s, root);
    const cJSON *ann;
    cJSON_ArrayForEach(ann, cJSON_GetObjectItem(root, "annotations")) {
        es_eval_image *e = fx_find(s, (int64_t)cJSON_GetObjectItem(ann, "image_id")->valuedouble);
        if (!e) continue;
        es_eval_gt *g = fx_push_gt(e);
        if (fx_segmentation(cJSON_GetObjectItem(ann, "segmentation"), e->height, e->width, &g->mask)) {
            cJSON_Delete(root);
            return -1;
        }
        g->pixels = es_rle_area(&g->mask);
        g->area = cJSON_GetObjectItem(ann, "area")->valuedouble;
        g->is_crowd = cJSON_GetObjectItem(ann, "iscrowd")->valueint;
        g->category_id = (int64_t)cJSON_GetObjectItem(ann, "category_id")->valuedouble;
        g->isthing = 1;
        g->source_order = (int64_t)e->n_gt - 1;
        g->entity_id = (int64_t)cJSON_GetObjectItem(ann, "id")->valuedouble;
    }
    cJSON_Delete(root);
    return 0;
}

/* COCO results (a list). agnostic: every category set to 1. */
static int fx_load_results(const char *json, fx_set *s, int agnostic) {
    cJSON *root = es_test_read_json(json);
    if (!root) return -1;
    const cJSON *r;
    int64_t next_id = 1;
    cJSON_ArrayForEach(r, root) {
        es_eval_image *e = fx_find(s, (int64_t)cJSON_GetObjectItem(r, "image_id")->valuedouble);
        if (!e) {
            cJSON_Delete(root);
            return -1;
        }
        es_eval_dt *d = fx_push_dt(e);
        if (fx_segmentation(cJSON_GetObjectItem(r, "segmentation"), e->height, e->width, &d->mask)) {
            cJSON_Delete(root);
            return -1;
        }
        d->pixels = es_rle_area(&d->mask);
        d->score = cJSON_GetObjectItem(r, "score")->valuedouble;
        d->category_id = agnostic ? 1 : (int64_t)cJSON_GetObjectItem(r, "category_id")->valuedouble;
        d->entity_id = next_id++;
    }
    cJSON_Delete(root);
    return 0;
}

static void fx_free(fx_set *s) {
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->imgs[i].name);
        es_eval_image_clear(&s->imgs[i]);
    }
    free(s->imgs);
    s->imgs = NULL;
    s->n = 0;
}

/* Compares the 12 stats of b with expected["stats"]. */
static int fx_check_stats(const char *what, const es_eval_ap *b, const cJSON *stats, double tol) {
    static const char *const names[12] = {"AP", "AP50", "AP75", "APs", "APm", "APl",
                                          "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};
    int bad = 0;
    if (!b->computed) {
        printf("  FAIL %s: not computed\n", what);
        return 1;
    }
    for (int i = 0; i < 12; i++) {
        const cJSON *v = cJSON_GetObjectItem(stats, names[i]);
        if (!v) continue;
        if (!(fabs(b->stats[i] - v->valuedouble) <= tol)) {
            printf("  FAIL %s %s: %.17g, expected %.17g\n", what, names[i], b->stats[i], v->valuedouble);
            bad = 1;
        }
    }
    return bad;
}

#endif
