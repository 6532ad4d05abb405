/* evaluate/eval_load.c: store entities -> es_eval_image, applying the ground-truth choices.
 *
 * Ground truth: area for the area ranges and the PQ union is the declared area where the
 * source gave one (--area-source declared) else the pixel count (METRICS AP 5); under
 * --compat entity crowd segments are dropped, the area is the inclusive-bbox product
 * (x2-x1)*(y2-y1) (a 1-px segment has area 0) and the order is things first, then the
 * rest, each in source order (the order decides equal-IoU ties). Predictions keep their
 * input order; their area is the pixel count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_load.h"

void es_eval_image_clear(es_eval_image *img) {
    if (!img) return;
    for (size_t i = 0; i < img->n_gt; i++) es_rle_free(&img->gt[i].mask);
    for (size_t i = 0; i < img->n_dt; i++) es_rle_free(&img->dt[i].mask);
    for (size_t i = 0; i < img->n_dt_raw; i++) es_rle_free(&img->dt_raw[i].mask);
    free(img->gt);
    free(img->dt);
    free(img->dt_raw);
    img->gt = NULL;
    img->dt = img->dt_raw = NULL;
    img->n_gt = img->n_dt = img->n_dt_raw = 0;
}

static double gt_area(const es_eval_gt *g, double declared, const es_eval_load_opts *o) {
    if (o->compat_entity) {
        es_mask_box b = es_eval_mask_box(&g->mask);
        if (b.x0 > b.x1) return 0;
        return (double)(b.x1 - b.x0) * (double)(b.y1 - b.y0);
    }
    if (o->area_source == ES_AREA_DECLARED && !isnan(declared)) return declared;
    return (double)g->pixels;
}

int es_eval_load_gt(es_eval_image *img, es_entity *ents, size_t n, const es_eval_load_opts *o,
                    es_error *err) {
    img->gt = calloc(n ? n : 1, sizeof *img->gt);
    if (!img->gt) return es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
    size_t k = 0;
    /* --compat entity: pass 0 takes things, pass 1 the rest; otherwise one pass */
    for (int pass = 0; pass < (o->compat_entity ? 2 : 1); pass++) {
        for (size_t i = 0; i < n; i++) {
            es_entity *e = &ents[i];
            if (o->compat_entity) {
                if (e->is_crowd) continue;
                if ((pass == 0) != (e->isthing == 1)) continue;
            }
            es_eval_gt *g = &img->gt[k++];
            g->mask = e->mask; /* moved out of the entity */
            e->mask = ES_RLE_EMPTY;
            g->pixels = e->area;
            g->is_crowd = e->is_crowd ? 1 : 0;
            g->category_id = e->category_id;
            g->isthing = e->isthing;
            g->source_order = e->source_order;
            g->entity_id = e->id;
            g->area = gt_area(g, e->declared_area, o);
            if (g->mask.h != img->height || g->mask.w != img->width) {
                img->n_gt = k;
                return es_error_set(err, ES_ERR_INVALID,
                                    "ground-truth image %s: entity %lld is %ux%u, image %ux%u",
                                    img->name, (long long)e->id, g->mask.w, g->mask.h,
                                    img->width, img->height);
            }
        }
    }
    img->n_gt = k;
    return ES_OK;
}

int es_eval_load_pred(es_eval_image *img, es_entity *ents, size_t n, int from_gt_store,
                      es_error *err) {
    img->dt_raw = calloc(n ? n : 1, sizeof *img->dt_raw);
    if (!img->dt_raw) return es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        es_entity *e = &ents[i];
        if (from_gt_store && e->is_crowd) continue; /* a GT store scored as predictions */
        double score = from_gt_store ? 1.0 : e->score;
        if (isnan(score)) {
            img->n_dt_raw = k;
            return es_error_set(err, ES_ERR_INVALID,
                                "prediction image %s: entity %lld has a NaN score", img->name,
                                (long long)e->id);
        }
        if (e->mask.h != img->height || e->mask.w != img->width) {
            img->n_dt_raw = k;
            return es_error_set(err, ES_ERR_INVALID,
                                "prediction image %s: entity %lld is %ux%u, ground truth %ux%u",
                                img->name, (long long)e->id, e->mask.w, e->mask.h, img->width,
                                img->height);
        }
        es_eval_dt *d = &img->dt_raw[k];
        d->mask = e->mask;
        e->mask = ES_RLE_EMPTY;
        d->pixels = e->area;
        d->score = score;
        d->category_id = e->category_id;
        d->input_index = (int64_t)k;
        d->entity_id = e->id;
        k++;
    }
    img->n_dt_raw = k;
    return ES_OK;
}
