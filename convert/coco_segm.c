/* coco_segm.c: COCO segmentation values (RLE string, RLE counts, polygons) -> es_rle, as
 * pycocotools annToRLE does: polygons through frPyObjects (frPoly; a list whose first entry
 * has exactly 4 numbers is read as boxes, frBbox) and merged by union. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coco_segm.h"

static int read_size(const cJSON *v, uint32_t *h, uint32_t *w) {
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(v, "size");
    if (!cJSON_IsArray(size) || cJSON_GetArraySize(size) != 2) return 0;
    const cJSON *a = cJSON_GetArrayItem(size, 0), *b = cJSON_GetArrayItem(size, 1);
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) return 0;
    double dh = a->valuedouble, dw = b->valuedouble;
    if (!(dh >= 0 && dw >= 0 && dh <= 1e6 && dw <= 1e6) || dh != floor(dh) || dw != floor(dw)) return 0;
    *h = (uint32_t)dh;
    *w = (uint32_t)dw;
    return 1;
}

int es_segm_parse(es_segm *s, const cJSON *v, const char *what, es_error *err) {
    memset(s, 0, sizeof *s);
    if (cJSON_IsObject(v)) {
        if (!read_size(v, &s->h, &s->w))
            return es_error_set(err, ES_ERR_FORMAT, "%s: segmentation RLE has no valid \"size\": [h, w]", what);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "counts");
        if (cJSON_IsString(c)) {
            s->kind = ES_SEGM_STRING;
            s->str = strdup(c->valuestring);
            if (!s->str) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
            return ES_OK;
        }
        if (cJSON_IsArray(c)) {
            s->kind = ES_SEGM_COUNTS;
            s->n = (size_t)cJSON_GetArraySize(c);
            s->counts = malloc((s->n ? s->n : 1) * sizeof *s->counts);
            if (!s->counts) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
            size_t i = 0;
            for (const cJSON *e = c->child; e; e = e->next, i++) {
                double d = cJSON_IsNumber(e) ? e->valuedouble : -1;
                if (!(d >= 0 && d <= 4294967295.0) || d != floor(d)) {
                    es_segm_free(s);
                    return es_error_set(err, ES_ERR_FORMAT, "%s: RLE counts[%zu] is not a count", what, i);
                }
                s->counts[i] = (uint32_t)d;
            }
            return ES_OK;
        }
        return es_error_set(err, ES_ERR_FORMAT, "%s: segmentation RLE has no \"counts\" string or list", what);
    }
    if (!cJSON_IsArray(v)) return es_error_set(err, ES_ERR_FORMAT, "%s: no \"segmentation\" (RLE or polygons)", what);
    s->kind = ES_SEGM_POLYGONS;
    s->npoly = (size_t)cJSON_GetArraySize(v);
    size_t total = 0;
    for (const cJSON *p = v->child; p; p = p->next) {
        if (!cJSON_IsArray(p)) return es_error_set(err, ES_ERR_FORMAT, "%s: a polygon is not a list of numbers", what);
        total += (size_t)cJSON_GetArraySize(p);
    }
    s->xy = malloc((total ? total : 1) * sizeof *s->xy);
    s->poly_len = malloc((s->npoly ? s->npoly : 1) * sizeof *s->poly_len);
    if (!s->xy || !s->poly_len) {
        es_segm_free(s);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    size_t k = 0, j = 0;
    for (const cJSON *p = v->child; p; p = p->next, j++) {
        s->poly_len[j] = (uint32_t)cJSON_GetArraySize(p);
        for (const cJSON *e = p->child; e; e = e->next) {
            if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
                es_segm_free(s);
                return es_error_set(err, ES_ERR_FORMAT, "%s: polygon %zu has a non-number coordinate", what, j);
            }
            s->xy[k++] = e->valuedouble;
        }
    }
    s->n = total;
    return ES_OK;
}

int es_segm_to_rle(const es_segm *s, uint32_t h, uint32_t w, es_rle *out, const char *what, es_error *err) {
    *out = ES_RLE_EMPTY;
    if ((s->kind == ES_SEGM_STRING || s->kind == ES_SEGM_COUNTS) && (s->h != h || s->w != w))
        return es_error_set(err, ES_ERR_INVALID, "%s: RLE size %ux%u does not match the image size %ux%u (h x w)", what,
                            s->h, s->w, h, w);
    int rc;
    switch (s->kind) {
    case ES_SEGM_STRING:
        rc = es_rle_from_string(out, s->str, h, w, err);
        break;
    case ES_SEGM_COUNTS:
        rc = es_rle_from_counts(out, s->counts, s->n, h, w, err);
        break;
    case ES_SEGM_POLYGONS: {
        if (s->npoly == 0) return es_rle_zeros(out, h, w, err);
        es_rle *parts = calloc(s->npoly, sizeof *parts);
        if (!parts) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
        int boxes = s->poly_len[0] == 4; /* pycocotools: 4 numbers = a box */
        size_t off = 0;
        rc = ES_OK;
        for (size_t j = 0; j < s->npoly && !rc; j++) {
            if (boxes) {
                if (s->poly_len[j] != 4)
                    rc = es_error_set(err, ES_ERR_FORMAT, "%s: box %zu does not have 4 numbers", what, j);
                else
                    rc = es_rle_from_bbox(&parts[j], s->xy + off, h, w, err);
            } else {
                rc = es_rle_from_polygon(&parts[j], s->xy + off, s->poly_len[j] / 2, h, w, err);
            }
            off += s->poly_len[j];
        }
        if (!rc) {
            if (s->npoly == 1) {
                *out = parts[0];
                parts[0] = ES_RLE_EMPTY;
            } else {
                rc = es_rle_merge(out, parts, s->npoly, 0, err);
            }
        }
        for (size_t j = 0; j < s->npoly; j++) es_rle_free(&parts[j]);
        free(parts);
        break;
    }
    default:
        return es_error_set(err, ES_ERR_FORMAT, "%s: no segmentation", what);
    }
    if (rc) es_error_prefix(err, "%s", what);
    return rc;
}

void es_segm_free(es_segm *s) {
    free(s->str);
    free(s->counts);
    free(s->xy);
    free(s->poly_len);
    memset(s, 0, sizeof *s);
}
