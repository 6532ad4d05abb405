/* pq_eval.c: the PQ accumulator over a run (see pq.h): one record set per image slot, summed
 * in slot order per category, then panopticapi's pq_average (METRICS PQ: per class
 * PQ = IoU / (TP + FP/2 + FN/2), SQ = IoU / TP, RQ = TP / (TP + FP/2 + FN/2); classes with
 * TP + FP + FN = 0 skipped; plain sequential sums in category order; an empty group NaN).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"
#include "pq_internal.h"

struct es_pq_eval {
    es_pq_options opt;      /* opt.categories points to cats */
    es_pq_category *cats;   /* (n_cats) copy, in report order */
    int64_t *sorted_ids;    /* (n_cats) ascending */
    size_t *sorted_to_cat;  /* (n_cats) index in cats of sorted_ids[i] */
    size_t n_images;
    es_pq_image *slots;     /* (n_images) */
};

void es_pq_eval_free(es_pq_eval *ev) {
    if (!ev) return;
    if (ev->slots)
        for (size_t i = 0; i < ev->n_images; i++) es_pq_image_clear(&ev->slots[i]);
    free(ev->slots);
    free(ev->cats);
    free(ev->sorted_ids);
    free(ev->sorted_to_cat);
    free(ev);
}

int es_pq_eval_create(es_pq_eval **out, const es_pq_options *opt, size_t n_images,
                      es_error *err) {
    *out = NULL;
    if (opt->classes && opt->n_categories == 0)
        return es_error_set(err, ES_ERR_INVALID,
                            "pq: class-aware PQ needs the ground truth's categories");
    es_pq_eval *ev = calloc(1, sizeof *ev);
    if (!ev) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory");
    ev->opt = *opt;
    size_t nc = opt->classes ? opt->n_categories : 0;
    ev->opt.n_categories = nc;
    ev->n_images = n_images;
    ev->slots = calloc(n_images ? n_images : 1, sizeof *ev->slots);
    if (nc) {
        ev->cats = malloc(nc * sizeof *ev->cats);
        ev->sorted_to_cat = malloc(nc * sizeof *ev->sorted_to_cat);
    }
    if (!ev->slots || (nc && (!ev->cats || !ev->sorted_to_cat))) {
        es_pq_eval_free(ev);
        return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory for %zu images", n_images);
    }
    if (nc) memcpy(ev->cats, opt->categories, nc * sizeof *ev->cats);
    ev->opt.categories = ev->cats;
    int rc = es_pq_sorted_ids(&ev->sorted_ids, ev->cats, nc, err);
    if (rc) {
        es_pq_eval_free(ev);
        return rc;
    }
    for (size_t i = 0; i < nc; i++)
        ev->sorted_to_cat[es_pq_find_id(ev->sorted_ids, nc, ev->cats[i].id)] = i;
    *out = ev;
    return ES_OK;
}

int es_pq_eval_image(es_pq_eval *ev, size_t slot, const es_eval_image *img, es_error *err) {
    return es_pq_eval_image_bands(ev, slot, img, NULL, err);
}

int es_pq_eval_image_bands(es_pq_eval *ev, size_t slot, const es_eval_image *img,
                           es_band_cache *bands, es_error *err) {
    return es_pq_eval_image_pixels(ev, slot, img, bands, NULL, err);
}

void es_pq_pixels_free(es_pq_pixels *px) {
    if (!px) return;
    free(px->inter);
    free(px->dt_area);
    free(px->gt_area);
    *px = (es_pq_pixels){NULL, NULL, NULL};
}

int es_pq_eval_image_pixels(es_pq_eval *ev, size_t slot, const es_eval_image *img,
                            es_band_cache *bands, const es_pq_pixels *px, es_error *err) {
    if (slot >= ev->n_images)
        return es_error_set(err, ES_ERR_INVALID, "pq: image slot %zu of %zu", slot,
                            ev->n_images);
    es_pq_image im;
    ES_CHECK(es_pq_image_compute_known(&im, &ev->opt, img, ev->sorted_ids, ev->opt.n_categories,
                                       bands, px, err));
    es_pq_image_clear(&ev->slots[slot]);
    ev->slots[slot] = im;
    return ES_OK;
}

int es_pq_eval_set_image(es_pq_eval *ev, size_t slot, const es_pq_image *im, es_error *err) {
    if (slot >= ev->n_images)
        return es_error_set(err, ES_ERR_INVALID, "pq: image slot %zu of %zu", slot,
                            ev->n_images);
    es_pq_image copy;
    ES_CHECK(es_pq_image_copy(&copy, im, err));
    es_pq_image_clear(&ev->slots[slot]);
    ev->slots[slot] = copy;
    return ES_OK;
}

const es_pq_image *es_pq_eval_get_image(const es_pq_eval *ev, size_t slot) {
    static const es_pq_image empty = {0};
    return slot < ev->n_images ? &ev->slots[slot] : &empty;
}

void es_pq_results_free(es_pq_results *r) {
    if (!r) return;
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) free(r->summary[v].classes);
    memset(r, 0, sizeof *r);
}

/* which: 0 All, 1 Things, 2 Stuff (isthing != 1, as panopticapi) */
static es_pq_group average(const es_pq_class *cls, size_t n, int which) {
    es_pq_group g = {0, 0, 0, 0};
    double pq = 0, sq = 0, rq = 0;
    for (size_t i = 0; i < n; i++) {
        const es_pq_class *c = &cls[i];
        int thing = c->isthing == 1;
        if ((which == 1 && !thing) || (which == 2 && thing)) continue;
        if (c->tp + c->fp + c->fn == 0) continue;
        g.n++;
        pq += c->pq;
        sq += c->sq;
        rq += c->rq;
    }
    if (g.n == 0) {
        g.pq = g.sq = g.rq = NAN;
    } else {
        g.pq = pq / (double)g.n;
        g.sq = sq / (double)g.n;
        g.rq = rq / (double)g.n;
    }
    return g;
}

static int summarize_variant(const es_pq_eval *ev, int v, es_pq_summary *s, es_error *err) {
    int agnostic = v == ES_PQ_MASK_AGNOSTIC || v == ES_PQ_BOUNDARY_AGNOSTIC;
    size_t nc = agnostic ? 1 : ev->opt.n_categories;
    s->classes = calloc(nc ? nc : 1, sizeof *s->classes);
    if (!s->classes) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory");
    s->n_classes = nc;
    if (agnostic) {
        s->classes[0].id = ES_PQ_AGNOSTIC_CATEGORY;
        s->classes[0].isthing = 1;
    } else {
        for (size_t i = 0; i < nc; i++) {
            s->classes[i].id = ev->cats[i].id;
            s->classes[i].isthing = ev->cats[i].isthing;
        }
    }
    for (size_t slot = 0; slot < ev->n_images; slot++) {
        const es_pq_image *im = &ev->slots[slot];
        if (!im->computed[v]) continue;
        for (size_t r = 0; r < im->n_records[v]; r++) {
            const es_pq_record *rec = &im->records[v][r];
            ptrdiff_t k;
            if (agnostic) {
                k = rec->category_id == ES_PQ_AGNOSTIC_CATEGORY ? 0 : -1;
            } else {
                k = es_pq_find_id(ev->sorted_ids, nc, rec->category_id);
                if (k >= 0) k = (ptrdiff_t)ev->sorted_to_cat[k];
            }
            /* panopticapi counts ground truth of an unlisted category but never reports it */
            if (k < 0) continue;
            es_pq_class *c = &s->classes[k];
            c->tp += rec->tp;
            c->fp += rec->fp;
            c->fn += rec->fn;
            c->iou_sum += rec->iou_sum;
        }
    }
    for (size_t i = 0; i < nc; i++) {
        es_pq_class *c = &s->classes[i];
        if (c->tp + c->fp + c->fn == 0) continue; /* 0, 0, 0 as panopticapi's per_class */
        double denom = ((double)c->tp + 0.5 * (double)c->fp) + 0.5 * (double)c->fn;
        c->pq = c->iou_sum / denom;
        c->sq = c->tp ? c->iou_sum / (double)c->tp : 0.0;
        c->rq = (double)c->tp / denom;
    }
    s->all = average(s->classes, nc, 0);
    s->things = average(s->classes, nc, 1);
    s->stuff = average(s->classes, nc, 2);
    return ES_OK;
}

int es_pq_eval_summarize(const es_pq_eval *ev, es_pq_results *out, es_error *err) {
    memset(out, 0, sizeof *out);
    out->computed[ES_PQ_MASK_AGNOSTIC] = 1;
    out->computed[ES_PQ_MASK_CLASSES] = ev->opt.classes;
    out->computed[ES_PQ_BOUNDARY_AGNOSTIC] = ev->opt.boundary;
    out->computed[ES_PQ_BOUNDARY_CLASSES] = ev->opt.classes && ev->opt.boundary;
    out->crowd_union = ev->opt.crowd_union;
    out->n_images = ev->n_images;
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        if (!out->computed[v]) continue;
        int rc = summarize_variant(ev, v, &out->summary[v], err);
        if (rc) {
            es_pq_results_free(out);
            return rc;
        }
    }
    for (size_t slot = 0; slot < ev->n_images; slot++)
        for (int k = 0; k < 2; k++) {
            out->images_several_crowds[k] += ev->slots[slot].several_crowds[k] != 0;
            out->images_rule_changes[k] += ev->slots[slot].rule_changes[k] != 0;
        }
    return ES_OK;
}
