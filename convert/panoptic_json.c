/* panoptic_json.c: reads a COCO panoptic JSON (images, annotations with segments_info,
 * categories) into compact arrays; see panoptic_json.h. Streams the big arrays.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_stream.h"
#include "panoptic_json.h"

static int read_segment(const char *path, const es_pan_annotation *a, long k, const cJSON *item,
                        es_pan_segment *s, es_error *err) {
    if (!cJSON_IsObject(item) || !es_json_get_int(item, "id", &s->id) || s->id < 0 || s->id > 0xFFFFFF)
        return es_error_set(err, ES_ERR_FORMAT,
                            "%s: image %s (annotations[%ld]): segments_info[%ld] has no valid \"id\" (0..16777215)",
                            path, a->label, a->index, k);
    if (!es_json_get_int(item, "category_id", &s->category_id)) s->category_id = ES_NONE;
    int64_t crowd = 0;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "iscrowd");
    if (cJSON_IsBool(c)) crowd = cJSON_IsTrue(c);
    else es_json_get_int(item, "iscrowd", &crowd);
    s->iscrowd = crowd != 0;
    if (!es_json_get_double(item, "area", &s->area)) s->area = NAN;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(item, "score");
    if (sc && !cJSON_IsNumber(sc))
        return es_error_set(err, ES_ERR_INVALID, "%s: image %s: segment %lld: \"score\" is not a number", path,
                            a->label, (long long)s->id);
    s->score = sc ? sc->valuedouble : NAN;
    return ES_OK;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int read_annotation(es_pan_json *pj, long index, const cJSON *item, es_error *err) {
    es_pan_annotation a = {0};
    a.index = index;
    const char *id_str = NULL;
    if (!cJSON_IsObject(item) || !es_coco_image_key(item, "image_id", &a.image_id, &id_str))
        return es_error_set(err, ES_ERR_FORMAT, "%s: annotations[%ld]: missing or invalid \"image_id\"", pj->path,
                            index);
    if (id_str) snprintf(a.label, sizeof a.label, "%s", id_str);
    else snprintf(a.label, sizeof a.label, "%lld", (long long)a.image_id);
    const char *fn = es_json_get_string(item, "file_name");
    if (!fn)
        return es_error_set(err, ES_ERR_FORMAT, "%s: image %s (annotations[%ld]): missing \"file_name\"", pj->path,
                            a.label, index);
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(item, "segments_info");
    if (!cJSON_IsArray(si))
        return es_error_set(err, ES_ERR_FORMAT, "%s: image %s (annotations[%ld]): missing \"segments_info\" list",
                            pj->path, a.label, index);
    size_t old = 0;
    if (es_idmap_put(&pj->ann_by_image, a.image_id, pj->nann, &old, err)) {
        if (err && err->code == ES_ERR_NOMEM) return ES_ERR_NOMEM;
        return es_error_set(err, ES_ERR_INVALID, "%s: image %s: two annotations (annotations[%zu] and [%ld])",
                            pj->path, a.label, old, index);
    }
    size_t n = (size_t)cJSON_GetArraySize(si);
    a.segs = calloc(n ? n : 1, sizeof *a.segs);
    int64_t *ids = calloc(n ? n : 1, sizeof *ids);
    a.file_name = es_strdup_or_null(fn);
    a.image_id_str = es_strdup_or_null(id_str);
    int rc = (!a.segs || !ids || !a.file_name || (id_str && !a.image_id_str)) ? es_error_set(err, ES_ERR_NOMEM, "out of memory") : ES_OK;
    long k = 0;
    for (const cJSON *e = si->child; e && !rc; e = e->next, k++) {
        rc = read_segment(pj->path, &a, k, e, &a.segs[k], err);
        if (!rc) ids[k] = a.segs[k].id;
    }
    a.nseg = n;
    if (!rc) {
        qsort(ids, n, sizeof *ids, cmp_i64);
        for (size_t i = 1; i < n && !rc; i++)
            if (ids[i] == ids[i - 1])
                rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s (%s): duplicate segment id %lld in segments_info",
                                  pj->path, a.label, a.file_name, (long long)ids[i]);
    }
    free(ids);
    if (!rc) rc = es_grow((void **)&pj->anns, &pj->cap, pj->nann + 1, sizeof *pj->anns, err);
    if (rc) {
        free(a.segs);
        free(a.file_name);
        free(a.image_id_str);
        return rc;
    }
    pj->anns[pj->nann++] = a;
    return ES_OK;
}

static int on_item(void *ctx, const char *key, long index, const cJSON *item, es_error *err) {
    es_pan_json *pj = ctx;
    if (!key) return es_error_set(err, ES_ERR_FORMAT, "%s: expected a COCO panoptic object, found a list", pj->path);
    if (!strcmp(key, "images")) {
        pj->have_images = 1;
        if (index < 0) return ES_OK; /* an empty or non-list "images" */
        return es_coco_images_add(&pj->images, pj->path, index, item, err);
    }
    if (!strcmp(key, "annotations")) {
        pj->have_annotations = 1;
        if (index < 0) {
            if (cJSON_IsArray(item)) return ES_OK;
            return es_error_set(err, ES_ERR_FORMAT, "%s: \"annotations\" is not a list", pj->path);
        }
        return read_annotation(pj, index, item, err);
    }
    if (!strcmp(key, "categories") && index >= 0) return es_coco_categories_add(&pj->cats, pj->path, index, item, err);
    return ES_OK;
}

int es_pan_json_read(es_pan_json *pj, const char *path, es_error *err) {
    memset(pj, 0, sizeof *pj);
    pj->path = path;
    ES_CHECK(es_json_stream(path, on_item, pj, err));
    if (!pj->have_annotations)
        return es_error_set(err, ES_ERR_FORMAT, "%s: no \"annotations\" list: not a COCO panoptic JSON", path);
    return ES_OK;
}

void es_pan_json_free(es_pan_json *pj) {
    for (size_t i = 0; i < pj->nann; i++) {
        free(pj->anns[i].segs);
        free(pj->anns[i].file_name);
        free(pj->anns[i].image_id_str);
    }
    free(pj->anns);
    es_idmap_free(&pj->ann_by_image);
    es_coco_images_free(&pj->images);
    es_coco_categories_free(&pj->cats);
    memset(pj, 0, sizeof *pj);
}

int es_copy_gt_images(const char *gt_db, es_store *out, es_image **imgs, size_t *n, es_idmap *by_source,
                      int copy_categories, es_error *err) {
    es_store *gt = NULL;
    ES_CHECK(es_store_open(gt_db, ES_OPEN_READ, &gt, err));
    int rc = es_store_images(gt, imgs, n, err);
    if (!rc && copy_categories) {
        es_category *cats = NULL;
        size_t nc = 0;
        rc = es_store_categories(gt, &cats, &nc, err);
        for (size_t i = 0; !rc && i < nc; i++) rc = es_store_add_category(out, &cats[i], err);
        es_categories_free(cats, nc);
    }
    es_store_close(gt);
    if (rc) return rc;
    for (size_t i = 0; i < *n && !rc; i++) {
        es_image *im = &(*imgs)[i];
        if (im->source_id != ES_NONE) {
            size_t old;
            if (es_idmap_put(by_source, im->source_id, i, &old, err))
                rc = es_error_set(err, ES_ERR_INVALID, "%s: two images with source id %lld", gt_db,
                                  (long long)im->source_id);
        }
        if (!rc) rc = es_store_add_image(out, im, err); /* im->id becomes the new store's id */
    }
    return rc;
}
