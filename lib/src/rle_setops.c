/* rle_setops.c: set algebra on two masks by walking both run lists at once, never
 * decoding: intersection/union areas, IoU and IoA (pycocotools rleIou), and the masks of
 * union, intersection and difference (pycocotools rleMerge). Each walk step advances to the
 * next run boundary of either mask, so the cost is O(m_a + m_b). */
#include <math.h>
#include <stdlib.h>

#include "rle_internal.h"

typedef enum set_op { OP_INTERSECT, OP_UNION, OP_DIFFERENCE } set_op;

/* One mask's side of a walk step: c more pixels used of its current run (*left of them
 * were left); when the run is used up, on to the next (its value *v flips). Returns the
 * pixels now left, 0 only at the mask's end. */
static inline uint64_t walk_advance(const es_rle *r, uint64_t c, uint64_t *left, uint32_t *k, int *v) {
    *left -= c;
    if (!*left && *k < r->m) *left = r->cnts[(*k)++], *v = !*v;
    return *left;
}

/* Intersection and union pixel counts, the loop of pycocotools rleIou (64-bit counters). */
static void walk_counts(const es_rle *a, const es_rle *b, uint64_t *inter, uint64_t *uni) {
    *inter = *uni = 0;
    if (a->m == 0 || b->m == 0) return;
    uint64_t ca = a->cnts[0], cb = b->cnts[0], ct = 1, i = 0, u = 0;
    uint32_t ka = 1, kb = 1;
    int va = 0, vb = 0;
    while (ct > 0) {
        uint64_t c = ca < cb ? ca : cb;
        if (va || vb) {
            u += c;
            if (va && vb) i += c;
        }
        ct = walk_advance(a, c, &ca, &ka, &va);
        ct += walk_advance(b, c, &cb, &kb, &vb);
    }
    *inter = i;
    *uni = u;
}

static int same_size(const es_rle *a, const es_rle *b) { return a->h == b->h && a->w == b->w; }

uint64_t es_rle_intersection_area(const es_rle *a, const es_rle *b) {
    uint64_t i, u;
    if (!same_size(a, b)) return 0;
    walk_counts(a, b, &i, &u);
    return i;
}

uint64_t es_rle_union_area(const es_rle *a, const es_rle *b) {
    uint64_t i, u;
    if (!same_size(a, b)) return 0;
    walk_counts(a, b, &i, &u);
    return u;
}

/* pycocotools bbIou for one pair: the bbox IoU that gates the run walk in rleIou. */
static double bbox_iou(const double d[4], const double g[4], int crowd) {
    double da = d[2] * d[3], ga = g[2] * g[3];
    double w = fmin(d[2] + d[0], g[2] + g[0]) - fmax(d[0], g[0]);
    if (w <= 0) return 0;
    double h = fmin(d[3] + d[1], g[3] + g[1]) - fmax(d[1], g[1]);
    if (h <= 0) return 0;
    double i = w * h, u = crowd ? da : da + ga - i;
    return i / u;
}

/* pycocotools rleIou: the bbox test comes first (so differently sized masks whose boxes do
 * not overlap give 0, as there), then the size check (-1), then the exact counts. */
double es_rle_iou(const es_rle *dt, const es_rle *gt, int gt_is_crowd) {
    double db[4], gb[4];
    es_rle_to_bbox(dt, db);
    es_rle_to_bbox(gt, gb);
    if (!(bbox_iou(db, gb, gt_is_crowd) > 0)) return 0;
    if (!same_size(dt, gt)) return -1;
    uint64_t i, u;
    walk_counts(dt, gt, &i, &u);
    if (i == 0)
        u = 1;
    else if (gt_is_crowd)
        u = es_rle_area(dt);
    return (double)i / (double)u;
}

double es_rle_ioa(const es_rle *a, const es_rle *b) {
    if (!same_size(a, b)) return -1;
    uint64_t area = es_rle_area(a);
    if (area == 0) return 0;
    return (double)es_rle_intersection_area(a, b) / (double)area;
}

/* One rleMerge step: the runs of (a op b). out needs room for a->m + b->m + 1 runs. */
static uint32_t walk_merge(const es_rle *a, const es_rle *b, set_op op, uint32_t *out) {
    uint64_t ca = a->cnts[0], cb = b->cnts[0], ct = 1, cc = 0;
    uint32_t ka = 1, kb = 1, m = 0;
    int v = 0, va = 0, vb = 0;
    while (ct > 0) {
        uint64_t c = ca < cb ? ca : cb;
        cc += c;
        ct = walk_advance(a, c, &ca, &ka, &va);
        ct += walk_advance(b, c, &cb, &kb, &vb);
        int vp = v;
        v = op == OP_INTERSECT ? (va && vb) : op == OP_UNION ? (va || vb) : (va && !vb);
        if (v != vp || ct == 0) {
            out[m++] = (uint32_t)cc;
            cc = 0;
        }
    }
    return m;
}

static int combine(es_rle *out, const es_rle *a, const es_rle *b, set_op op, const char *fn,
                   es_error *err) {
    *out = ES_RLE_EMPTY;
    if (!same_size(a, b))
        return es_error_set(err, ES_ERR_INVALID, "%s: masks of different sizes (%u x %u and %u x %u)",
                            fn, a->h, a->w, b->h, b->w);
    if (a->m == 0 || b->m == 0) return es_rle_zeros(out, a->h, a->w, err);
    uint32_t *cnts = malloc(sizeof *cnts * ((size_t)a->m + b->m + 1));
    if (!cnts) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", fn);
    uint32_t m = walk_merge(a, b, op, cnts);
    uint32_t *fit = realloc(cnts, sizeof *cnts * m);
    es_rle_adopt(out, a->h, a->w, m, fit ? fit : cnts);
    ES_RLE_ASSERT_VALID(out);
    return ES_OK;
}

int es_rle_union(es_rle *out, const es_rle *a, const es_rle *b, es_error *err) {
    return combine(out, a, b, OP_UNION, "es_rle_union", err);
}

int es_rle_intersect(es_rle *out, const es_rle *a, const es_rle *b, es_error *err) {
    return combine(out, a, b, OP_INTERSECT, "es_rle_intersect", err);
}

int es_rle_difference(es_rle *out, const es_rle *a, const es_rle *b, es_error *err) {
    return combine(out, a, b, OP_DIFFERENCE, "es_rle_difference", err);
}

/* pycocotools rleMerge: n == 0 gives the empty (0 x 0) mask, n == 1 a copy, otherwise the
 * masks are folded left to right. */
int es_rle_merge(es_rle *out, const es_rle *rles, size_t n, int intersect, es_error *err) {
    *out = ES_RLE_EMPTY;
    if (n == 0) return ES_OK;
    for (size_t i = 1; i < n; i++)
        if (!same_size(&rles[i], &rles[0]))
            return es_error_set(err, ES_ERR_INVALID,
                                "es_rle_merge: mask %zu is %u x %u, mask 0 is %u x %u", i,
                                rles[i].h, rles[i].w, rles[0].h, rles[0].w);
    ES_CHECK(es_rle_copy(out, &rles[0], err));
    for (size_t i = 1; i < n; i++) {
        es_rle next;
        int rc = combine(&next, out, &rles[i], intersect ? OP_INTERSECT : OP_UNION,
                         "es_rle_merge", err);
        es_rle_free(out);
        if (rc) return rc;
        *out = next;
    }
    return ES_OK;
}
