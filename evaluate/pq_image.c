/* pq_image.c: one image's PQ records (see pq.h): the shared pixel geometry
 * (pq_geometry.c: every |g ∩ p|, void shares, boundary IoUs on demand), then panopticapi's
 * matching, FN and FP rules once per variant (agnostic / classes x mask / boundary).
 *
 * Workload: COCO-size images with ~13 ground-truth and ~14 predicted entities (up to a few
 * hundred at EntitySeg scale); the variants only walk the (ng x nd) intersection table, so
 * the image costs about one read of its runs plus the bands of the pairs that can match.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"
#include "pq_internal.h"

es_pq_options es_pq_options_default(void) {
    es_pq_options o;
    memset(&o, 0, sizeof o);
    o.dilation_ratio = 0.02;
    return o;
}

void es_pq_image_clear(es_pq_image *im) {
    if (!im) return;
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        free(im->records[v]);
        free(im->matches[v]);
    }
    *im = ES_PQ_IMAGE_EMPTY;
}

int es_pq_image_copy(es_pq_image *dst, const es_pq_image *src, es_error *err) {
    *dst = *src;
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        dst->records[v] = NULL;
        dst->matches[v] = NULL;
    }
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        if (src->n_records[v]) {
            dst->records[v] = malloc(src->n_records[v] * sizeof *dst->records[v]);
            if (!dst->records[v]) goto nomem;
            memcpy(dst->records[v], src->records[v], src->n_records[v] * sizeof *dst->records[v]);
        }
        if (src->n_matches[v]) {
            dst->matches[v] = malloc(src->n_matches[v] * sizeof *dst->matches[v]);
            if (!dst->matches[v]) goto nomem;
            memcpy(dst->matches[v], src->matches[v], src->n_matches[v] * sizeof *dst->matches[v]);
        }
    }
    return ES_OK;
nomem:
    es_pq_image_clear(dst);
    return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory copying an image record");
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int es_pq_sorted_ids(int64_t **out, const es_pq_category *cats, size_t n, es_error *err) {
    *out = NULL;
    if (n == 0) return ES_OK;
    int64_t *ids = malloc(n * sizeof *ids);
    if (!ids) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory for %zu categories", n);
    for (size_t i = 0; i < n; i++) ids[i] = cats[i].id;
    qsort(ids, n, sizeof *ids, cmp_i64);
    for (size_t i = 1; i < n; i++)
        if (ids[i] == ids[i - 1]) {
            long long dup = (long long)ids[i];
            free(ids);
            return es_error_set(err, ES_ERR_INVALID, "pq: category %lld is listed twice", dup);
        }
    *out = ids;
    return ES_OK;
}

ptrdiff_t es_pq_find_id(const int64_t *ids, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && ids[lo] == id ? (ptrdiff_t)lo : -1;
}

/* Per-image state of the variants; the pixels are in geo. */
typedef struct pq_ctx {
    const es_eval_image *img;
    size_t ng, nd;
    es_pq_geometry geo;
    int64_t *cat_ids;              /* (ncat) distinct categories of the image, ascending */
    size_t ncat;
    uint32_t *gcat, *dcat;         /* (ng) / (nd) index into cat_ids */
    uint32_t *tp, *fp, *fn;        /* (ncat) */
    double *iou;                   /* (ncat) */
    int32_t *last_crowd;           /* (ncat) last crowd gt in source order, -1 when none */
    uint32_t *n_crowd;             /* (ncat) */
    unsigned char *gmatched, *dmatched;
} pq_ctx;

#define image_label es_pq_image_label

static void ctx_free(pq_ctx *c) {
    es_pq_geometry_free(&c->geo);
    free(c->cat_ids);
    free(c->gcat);
    free(c->dcat);
    free(c->tp);
    free(c->fp);
    free(c->fn);
    free(c->iou);
    free(c->last_crowd);
    free(c->n_crowd);
    free(c->gmatched);
    free(c->dmatched);
}

static int check_inputs(const es_pq_options *opt, const es_eval_image *img,
                        const int64_t *known, size_t n_known, es_error *err) {
    char buf[64];
    for (size_t i = 0; i < img->n_gt; i++) {
        const es_eval_gt *g = &img->gt[i];
        if (g->mask.h != img->height || g->mask.w != img->width)
            return es_error_set(err, ES_ERR_INVALID,
                                "pq: image %s: ground-truth entry %zu is %u x %u, the image %u x %u",
                                image_label(img, buf, sizeof buf), i, g->mask.h, g->mask.w,
                                img->height, img->width);
        if (!(g->area >= 0) || isinf(g->area))
            return es_error_set(err, ES_ERR_INVALID,
                                "pq: image %s: ground-truth entry %zu has area %g",
                                image_label(img, buf, sizeof buf), i, g->area);
        if (opt->classes && g->category_id < 0)
            return es_error_set(err, ES_ERR_INVALID,
                                "pq: image %s: ground-truth entry %zu has no category; class-aware "
                                "PQ needs categories in both stores",
                                image_label(img, buf, sizeof buf), i);
    }
    for (size_t i = 0; i < img->n_dt; i++) {
        const es_eval_dt *d = &img->dt[i];
        if (d->mask.h != img->height || d->mask.w != img->width)
            return es_error_set(err, ES_ERR_INVALID,
                                "pq: image %s: prediction %zu is %u x %u, the image %u x %u",
                                image_label(img, buf, sizeof buf), i, d->mask.h, d->mask.w,
                                img->height, img->width);
        /* panopticapi refuses a prediction whose category is not in the ground truth's list */
        if (opt->classes && es_pq_find_id(known, n_known, d->category_id) < 0)
            return es_error_set(err, ES_ERR_INVALID,
                                "pq: image %s: prediction %zu has category %lld, which the "
                                "ground truth does not list",
                                image_label(img, buf, sizeof buf), i, (long long)d->category_id);
    }
    return ES_OK;
}

#define ALLOC_N(ptr, n)                                                                  \
    do {                                                                                 \
        (ptr) = calloc((n) ? (n) : 1, sizeof *(ptr));                                    \
        if (!(ptr)) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory (image %s)", \
                                        image_label(c->img, buf, sizeof buf));           \
    } while (0)

/* Category indices: agnostic -> everything in index 0 (ES_PQ_AGNOSTIC_CATEGORY); classes ->
 * the image's distinct categories, ascending. */
static int ctx_categories(pq_ctx *c, int agnostic, es_error *err) {
    char buf[64];
    const es_eval_image *img = c->img;
    size_t ng = c->ng, nd = c->nd, n = 0;
    free(c->cat_ids);
    c->cat_ids = NULL;
    if (!c->gcat) ALLOC_N(c->gcat, ng);
    if (!c->dcat) ALLOC_N(c->dcat, nd);
    if (agnostic) {
        ALLOC_N(c->cat_ids, 1);
        c->cat_ids[0] = ES_PQ_AGNOSTIC_CATEGORY;
        n = 1;
        memset(c->gcat, 0, (ng ? ng : 1) * sizeof *c->gcat);
        memset(c->dcat, 0, (nd ? nd : 1) * sizeof *c->dcat);
    } else {
        ALLOC_N(c->cat_ids, ng + nd);
        for (size_t i = 0; i < ng; i++) c->cat_ids[n++] = img->gt[i].category_id;
        for (size_t i = 0; i < nd; i++) c->cat_ids[n++] = img->dt[i].category_id;
        qsort(c->cat_ids, n, sizeof *c->cat_ids, cmp_i64);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || c->cat_ids[i] != c->cat_ids[u - 1]) c->cat_ids[u++] = c->cat_ids[i];
        n = u;
        for (size_t i = 0; i < ng; i++)
            c->gcat[i] = (uint32_t)es_pq_find_id(c->cat_ids, n, img->gt[i].category_id);
        for (size_t i = 0; i < nd; i++)
            c->dcat[i] = (uint32_t)es_pq_find_id(c->cat_ids, n, img->dt[i].category_id);
    }
    c->ncat = n;
    free(c->tp);
    free(c->fp);
    free(c->fn);
    free(c->iou);
    free(c->last_crowd);
    free(c->n_crowd);
    c->tp = c->fp = c->fn = NULL;
    c->iou = NULL;
    c->last_crowd = NULL;
    c->n_crowd = NULL;
    ALLOC_N(c->tp, n);
    ALLOC_N(c->fp, n);
    ALLOC_N(c->fn, n);
    ALLOC_N(c->iou, n);
    ALLOC_N(c->last_crowd, n);
    ALLOC_N(c->n_crowd, n);
    if (!c->gmatched) ALLOC_N(c->gmatched, ng);
    if (!c->dmatched) ALLOC_N(c->dmatched, nd);
    return ES_OK;
}

/* panopticapi's matching, FN and FP rules over the shared intersections (METRICS PQ). */
static int run_variant(pq_ctx *c, es_pq_image *out, int v, int boundary, int crowd_union,
                       int *several_crowds, int *rule_changes, es_error *err) {
    char buf[64];
    const es_eval_image *img = c->img;
    size_t ng = c->ng, nd = c->nd, ncat = c->ncat;
    memset(c->gmatched, 0, ng ? ng : 1);
    memset(c->dmatched, 0, nd ? nd : 1);
    memset(c->tp, 0, ncat * sizeof *c->tp);
    memset(c->fp, 0, ncat * sizeof *c->fp);
    memset(c->fn, 0, ncat * sizeof *c->fn);
    for (size_t k = 0; k < ncat; k++) c->iou[k] = 0.0;
    size_t nmatch = 0, capmatch = 0;
    es_pq_match *matches = NULL;

    for (size_t g = 0; g < ng; g++) {
        const es_eval_gt *gt = &img->gt[g];
        if (gt->is_crowd) continue; /* crowd never matches */
        for (size_t p = 0; p < nd; p++) {
            uint64_t inter = c->geo.inter[g * nd + p];
            if (!inter || c->gcat[g] != c->dcat[p]) continue;
            uint64_t parea = c->geo.db[p].area;
            /* panopticapi: pred_area + gt_area - intersection - |pred ∩ VOID|, gt_area
             * declared */
            double uni = (double)parea + gt->area - (double)inter - (double)c->geo.dvoid[p];
            if (!(uni > 0)) {
                free(matches);
                return es_error_set(err, ES_ERR_INVALID,
                                    "pq: image %s: ground-truth entry %zu declares area %g, "
                                    "inconsistent with its %llu pixels (IoU union is %g)",
                                    image_label(img, buf, sizeof buf), g, gt->area,
                                    (unsigned long long)c->geo.gb[g].area, uni);
            }
            double iou = (double)inter / uni;
            /* boundary: IoU = min(mask IoU, boundary IoU), which can only match when the
             * mask IoU does, so bands are built for those pairs only */
            if (boundary && iou > 0.5) {
                double biou;
                int rc = es_pq_geometry_boundary_iou(&c->geo, g, p, &biou, err);
                if (rc) {
                    free(matches);
                    return rc;
                }
                if (biou < iou) iou = biou;
            }
            if (iou > 0.5) {
                uint32_t k = c->gcat[g];
                c->tp[k]++;
                c->iou[k] += iou;
                c->gmatched[g] = 1;
                c->dmatched[p] = 1;
                if (nmatch == capmatch) {
                    size_t cap = capmatch ? 2 * capmatch : 16;
                    es_pq_match *m = realloc(matches, cap * sizeof *m);
                    if (!m) {
                        free(matches);
                        return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory (image %s)",
                                            image_label(img, buf, sizeof buf));
                    }
                    matches = m;
                    capmatch = cap;
                }
                matches[nmatch++] = (es_pq_match){(uint32_t)g, (uint32_t)p, iou};
            }
        }
    }

    /* FN, and the crowd entry of each category: the last one in source order */
    for (size_t k = 0; k < ncat; k++) {
        c->last_crowd[k] = -1;
        c->n_crowd[k] = 0;
    }
    for (size_t g = 0; g < ng; g++) {
        if (c->gmatched[g]) continue;
        uint32_t k = c->gcat[g];
        if (img->gt[g].is_crowd) {
            int32_t prev = c->last_crowd[k];
            if (prev < 0 || img->gt[g].source_order >= img->gt[prev].source_order)
                c->last_crowd[k] = (int32_t)g;
            c->n_crowd[k]++;
            continue;
        }
        c->fn[k]++;
    }
    *several_crowds = 0;
    for (size_t k = 0; k < ncat; k++)
        if (c->n_crowd[k] > 1) *several_crowds = 1;

    /* FP: ignored when more than half of the prediction is void or its category's crowd */
    *rule_changes = 0;
    for (size_t p = 0; p < nd; p++) {
        if (c->dmatched[p]) continue;
        uint64_t parea = c->geo.db[p].area;
        if (parea == 0) continue;
        uint32_t k = c->dcat[p];
        uint64_t last = c->geo.dvoid[p], all = c->geo.dvoid[p];
        if (c->last_crowd[k] >= 0) last += c->geo.inter[(size_t)c->last_crowd[k] * nd + p];
        if (c->n_crowd[k] > 0)
            for (size_t g = 0; g < ng; g++)
                if (img->gt[g].is_crowd && c->gcat[g] == k) all += c->geo.inter[g * nd + p];
        int ignored_last = (double)last / (double)parea > 0.5;
        int ignored_all = (double)all / (double)parea > 0.5;
        if (ignored_last != ignored_all) *rule_changes = 1;
        if (crowd_union ? ignored_all : ignored_last) continue;
        c->fp[k]++;
    }

    size_t nrec = 0;
    for (size_t k = 0; k < ncat; k++) nrec += (c->tp[k] || c->fp[k] || c->fn[k]);
    es_pq_record *rec = NULL;
    if (nrec) {
        rec = malloc(nrec * sizeof *rec);
        if (!rec) {
            free(matches);
            return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory (image %s)",
                                image_label(img, buf, sizeof buf));
        }
        size_t r = 0;
        for (size_t k = 0; k < ncat; k++)
            if (c->tp[k] || c->fp[k] || c->fn[k])
                rec[r++] = (es_pq_record){c->cat_ids[k], c->tp[k], c->fp[k], c->fn[k], c->iou[k]};
    }
    out->computed[v] = 1;
    out->records[v] = rec;
    out->n_records[v] = nrec;
    out->matches[v] = matches;
    out->n_matches[v] = nmatch;
    return ES_OK;
}

int es_pq_image_compute_known(es_pq_image *out, const es_pq_options *opt,
                              const es_eval_image *img, const int64_t *known, size_t n_known,
                              es_band_cache *bands, const es_pq_pixels *px,
                              es_error *err) {
    *out = ES_PQ_IMAGE_EMPTY;
    out->image_id = img->image_id;
    ES_CHECK(check_inputs(opt, img, known, n_known, err));
    pq_ctx c;
    memset(&c, 0, sizeof c);
    c.img = img;
    c.ng = img->n_gt;
    c.nd = img->n_dt;
    int rc = px && px->inter && !opt->boundary
                 ? es_pq_geometry_from_pixels(&c.geo, img, px, err)
                 : es_pq_geometry_build(&c.geo, img, opt->boundary, opt->dilation_ratio, bands,
                                        err);
    for (int pass = 0; pass < 2 && rc == ES_OK; pass++) {
        int agnostic = pass == 0;
        if (!agnostic && !opt->classes) break;
        rc = ctx_categories(&c, agnostic, err);
        int vm = agnostic ? ES_PQ_MASK_AGNOSTIC : ES_PQ_MASK_CLASSES;
        int vb = agnostic ? ES_PQ_BOUNDARY_AGNOSTIC : ES_PQ_BOUNDARY_CLASSES;
        if (rc == ES_OK)
            rc = run_variant(&c, out, vm, 0, opt->crowd_union, &out->several_crowds[pass],
                             &out->rule_changes[pass], err);
        if (rc == ES_OK && opt->boundary) {
            int several, changes; /* the FP rule does not involve bands: same as the mask's */
            rc = run_variant(&c, out, vb, 1, opt->crowd_union, &several, &changes, err);
        }
    }
    ctx_free(&c);
    if (rc) es_pq_image_clear(out);
    return rc;
}

int es_pq_image_compute(es_pq_image *out, const es_pq_options *opt, const es_eval_image *img,
                        es_error *err) {
    int64_t *known = NULL;
    *out = ES_PQ_IMAGE_EMPTY;
    if (opt->classes) ES_CHECK(es_pq_sorted_ids(&known, opt->categories, opt->n_categories, err));
    int rc = es_pq_image_compute_known(out, opt, img, known, opt->classes ? opt->n_categories : 0,
                                       NULL, NULL, err);
    free(known);
    return rc;
}
