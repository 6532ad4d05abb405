/* pq_geometry.c: everything PQ needs from the pixels of one image, in O(runs).
 *
 * Every mask is read once into column pieces. The ground truth's pieces are indexed by
 * column (and must not overlap: PQ is undefined otherwise); each prediction piece is then
 * swept against the ground-truth pieces of its column, which yields |g ∩ p| for every pair
 * and the prediction's void share (the parts no ground truth covers) at once, as
 * panopticapi's confusion matrix does with a label image. Bands are built only for the
 * pairs that need a boundary IoU (mask IoU > 0.5), from the same pieces.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"

const char *es_pq_image_label(const es_eval_image *img, char *buf, size_t n) {
    if (img->name && img->name[0]) return img->name;
    snprintf(buf, n, "id %lld", (long long)img->image_id);
    return buf;
}

void es_pq_geometry_free(es_pq_geometry *geo) {
    if (!geo) return;
    es_piece_list_free(&geo->gp);
    es_piece_list_free(&geo->dp);
    es_piece_list_free(&geo->voidp);
    if (geo->own_bands) es_band_cache_free(geo->bands);
    free(geo->goff);
    free(geo->doff);
    free(geo->gb);
    free(geo->db);
    free(geo->col_first);
    free(geo->items);
    free(geo->inter);
    free(geo->dvoid);
    free(geo->voff);
    free(geo->dbvoid);
    free(geo->biou);
    memset(geo, 0, sizeof *geo);
}

#define NEW(ptr, n) ((ptr) = calloc((n) > 0 ? (n) : 1, sizeof *(ptr)))

static int nomem(const es_eval_image *img, es_error *err) {
    char buf[64];
    return es_error_set(err, ES_ERR_NOMEM, "pq: image %s: out of memory",
                        es_pq_image_label(img, buf, sizeof buf));
}

/* Column index of the ground-truth pieces, checking that no two entries overlap. */
static int index_ground_truth(es_pq_geometry *geo, es_error *err) {
    const es_eval_image *img = geo->img;
    uint32_t w = img->width;
    size_t n = geo->gp.n;
    if (!NEW(geo->col_first, (size_t)w + 1) || !NEW(geo->items, n)) return nomem(img, err);
    for (size_t i = 0; i < n; i++) geo->col_first[geo->gp.p[i].x + 1]++;
    for (uint32_t x = 0; x < w; x++) geo->col_first[x + 1] += geo->col_first[x];
    uint32_t *fill = NULL;
    if (!NEW(fill, (size_t)w + 1)) return nomem(img, err);
    memcpy(fill, geo->col_first, ((size_t)w + 1) * sizeof *fill);
    for (size_t g = 0; g < geo->ng; g++)
        for (size_t i = geo->goff[g]; i < geo->goff[g + 1]; i++) {
            const es_piece *p = &geo->gp.p[i];
            geo->items[fill[p->x]++] = (es_pq_geometry_gt_item){p->y0, p->y1, (uint32_t)g};
        }
    free(fill);
    /* within a column, pieces of one entry ascend already; entries interleave: insertion
     * sort (a column holds few pieces) */
    for (uint32_t x = 0; x < w; x++) {
        es_pq_geometry_gt_item *it = geo->items + geo->col_first[x];
        size_t m = geo->col_first[x + 1] - geo->col_first[x];
        for (size_t i = 1; i < m; i++) {
            es_pq_geometry_gt_item v = it[i];
            size_t j = i;
            while (j > 0 && it[j - 1].y0 > v.y0) {
                it[j] = it[j - 1];
                j--;
            }
            it[j] = v;
        }
        for (size_t i = 1; i < m; i++)
            if (it[i].y0 < it[i - 1].y1) {
                char buf[64];
                size_t a = it[i - 1].g < it[i].g ? it[i - 1].g : it[i].g;
                size_t b = it[i - 1].g < it[i].g ? it[i].g : it[i - 1].g;
                return es_error_set(err, ES_ERR_OVERLAP,
                                    "pq: image %s: ground-truth entries %zu and %zu overlap (at "
                                    "column %u, row %u); PQ needs non-overlapping ground truth",
                                    es_pq_image_label(img, buf, sizeof buf), a, b, x, it[i].y0);
            }
    }
    return ES_OK;
}

/* First item of the column with y1 > y (items are disjoint and sorted, so y1 ascends). */
static size_t first_reaching(const es_pq_geometry_gt_item *it, size_t lo, size_t hi,
                             uint32_t y) {
    if (hi - lo <= 16) { /* the usual column: a handful of pieces */
        while (lo < hi && it[lo].y1 <= y) lo++;
        return lo;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (it[mid].y1 <= y) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* |g ∩ p| for all g, |p ∩ void|, and (boundary) p's void pieces. */
static int sweep_predictions(es_pq_geometry *geo, int boundary, es_error *err) {
    size_t nd = geo->nd;
    for (size_t p = 0; p < nd; p++) {
        uint64_t covered = 0;
        for (size_t i = geo->doff[p]; i < geo->doff[p + 1]; i++) {
            const es_piece *pc = &geo->dp.p[i];
            size_t lo = geo->col_first[pc->x], hi = geo->col_first[pc->x + 1];
            size_t k = first_reaching(geo->items, lo, hi, pc->y0);
            uint32_t cur = pc->y0; /* rows below cur are accounted for */
            for (; k < hi && geo->items[k].y0 < pc->y1; k++) {
                const es_pq_geometry_gt_item *it = &geo->items[k];
                uint32_t a = it->y0 > pc->y0 ? it->y0 : pc->y0;
                uint32_t b = it->y1 < pc->y1 ? it->y1 : pc->y1;
                geo->inter[(size_t)it->g * nd + p] += b - a;
                covered += b - a;
                if (boundary && a > cur && es_piece_list_push(&geo->voidp, pc->x, cur, a))
                    return nomem(geo->img, err);
                cur = b;
            }
            if (boundary && cur < pc->y1 && es_piece_list_push(&geo->voidp, pc->x, cur, pc->y1))
                return nomem(geo->img, err);
        }
        geo->dvoid[p] = geo->db[p].area - covered;
        if (boundary) geo->voff[p + 1] = geo->voidp.n;
    }
    return ES_OK;
}

int es_pq_geometry_build(es_pq_geometry *geo, const es_eval_image *img, int boundary,
                         double dilation_ratio, es_band_cache *bands, es_error *err) {
    char buf[64];
    memset(geo, 0, sizeof *geo);
    geo->img = img;
    geo->ng = img->n_gt;
    geo->nd = img->n_dt;
    size_t ng = geo->ng, nd = geo->nd;
    geo->d = es_boundary_width(dilation_ratio, img->height, img->width);
    if (!NEW(geo->goff, ng + 1) || !NEW(geo->doff, nd + 1) || !NEW(geo->gb, ng) ||
        !NEW(geo->db, nd) || !NEW(geo->inter, ng * nd) || !NEW(geo->dvoid, nd))
        return nomem(img, err);
    /* one allocation per list: a piece per foreground run, plus column crossings */
    size_t gneed = 2 * (size_t)img->width, dneed = gneed;
    for (size_t g = 0; g < ng; g++) gneed += img->gt[g].mask.m / 2 + 1;
    for (size_t p = 0; p < nd; p++) dneed += img->dt[p].mask.m / 2 + 1;
    geo->gp.p = malloc(gneed * sizeof *geo->gp.p);
    geo->dp.p = malloc(dneed * sizeof *geo->dp.p);
    if (!geo->gp.p || !geo->dp.p) return nomem(img, err);
    geo->gp.cap = gneed;
    geo->dp.cap = dneed;
    for (size_t g = 0; g < ng; g++) {
        if (es_rle_to_pieces(&geo->gp, &img->gt[g].mask, &geo->gb[g], "pq", err))
            return es_error_prefix(err, "image %s: ground-truth entry %zu",
                                   es_pq_image_label(img, buf, sizeof buf), g);
        geo->goff[g + 1] = geo->gp.n;
    }
    for (size_t p = 0; p < nd; p++) {
        if (es_rle_to_pieces(&geo->dp, &img->dt[p].mask, &geo->db[p], "pq", err))
            return es_error_prefix(err, "image %s: prediction %zu",
                                   es_pq_image_label(img, buf, sizeof buf), p);
        geo->doff[p + 1] = geo->dp.n;
    }
    ES_CHECK(index_ground_truth(geo, err));
    if (boundary) {
        if (!NEW(geo->voff, nd + 1) || !NEW(geo->dbvoid, nd) || !NEW(geo->biou, ng * nd))
            return nomem(img, err);
        if (bands) {
            size_t cg, cd;
            es_band_cache_counts(bands, &cg, &cd);
            if (cg != ng || cd != nd)
                return es_error_set(err, ES_ERR_INVALID,
                                    "pq: image %s: the shared band cache holds %zu + %zu entries, "
                                    "the image %zu + %zu",
                                    es_pq_image_label(img, buf, sizeof buf), cg, cd, ng, nd);
            if (es_band_cache_width(bands) != geo->d)
                return es_error_set(err, ES_ERR_INVALID,
                                    "pq: image %s: the shared band cache uses width %u, PQ %u",
                                    es_pq_image_label(img, buf, sizeof buf),
                                    es_band_cache_width(bands), geo->d);
            geo->bands = bands;
        } else {
            ES_CHECK(es_band_cache_create(&geo->bands, img->height, img->width, dilation_ratio,
                                          ng, nd, err));
            geo->own_bands = 1;
        }
        for (size_t p = 0; p < nd; p++) geo->dbvoid[p] = -1;
        for (size_t i = 0; i < ng * nd; i++) geo->biou[i] = NAN;
    }
    return sweep_predictions(geo, boundary, err);
}

int es_pq_geometry_from_pixels(es_pq_geometry *geo, const es_eval_image *img,
                               const es_pq_pixels *px, es_error *err) {
    memset(geo, 0, sizeof *geo);
    geo->img = img;
    geo->ng = img->n_gt;
    geo->nd = img->n_dt;
    size_t ng = geo->ng, nd = geo->nd;
    if (!NEW(geo->gb, ng) || !NEW(geo->db, nd) || !NEW(geo->inter, ng * nd) ||
        !NEW(geo->dvoid, nd))
        return nomem(img, err);
    for (size_t g = 0; g < ng; g++) geo->gb[g].area = px->gt_area[g];
    for (size_t p = 0; p < nd; p++) geo->db[p].area = px->dt_area[p];
    /* the ground truth does not overlap, so what no entry covers is void */
    for (size_t p = 0; p < nd; p++) {
        uint64_t covered = 0;
        for (size_t g = 0; g < ng; g++) {
            uint64_t v = px->inter[g * nd + p];
            geo->inter[g * nd + p] = (uint32_t)v;
            covered += v;
        }
        geo->dvoid[p] = geo->db[p].area - covered;
    }
    return ES_OK;
}

static int get_band(es_pq_geometry *geo, int is_gt, size_t i, const es_bitmask **band,
                    es_error *err) {
    const es_piece_list *pl = is_gt ? &geo->gp : &geo->dp;
    const size_t *off = is_gt ? geo->goff : geo->doff;
    int rc = es_band_cache_get_pieces(geo->bands, is_gt, i, pl->p + off[i], off[i + 1] - off[i],
                                      is_gt ? &geo->gb[i] : &geo->db[i], band, err);
    if (rc) {
        char buf[64];
        return es_error_prefix(err, "pq: image %s: band of %s %zu",
                               es_pq_image_label(geo->img, buf, sizeof buf),
                               is_gt ? "ground-truth entry" : "prediction", i);
    }
    return ES_OK;
}

int es_pq_geometry_boundary_iou(es_pq_geometry *geo, size_t g, size_t p, double *biou,
                                es_error *err) {
    double *cached = &geo->biou[g * geo->nd + p];
    if (!isnan(*cached)) {
        *biou = *cached;
        return ES_OK;
    }
    const es_bitmask *gb, *pb;
    ES_CHECK(get_band(geo, 1, g, &gb, err));
    ES_CHECK(get_band(geo, 0, p, &pb, err));
    if (geo->dbvoid[p] < 0) {
        uint64_t v = 0;
        for (size_t i = geo->voff[p]; i < geo->voff[p + 1]; i++)
            v += es_bitmask_count_rows(pb, geo->voidp.p[i].x, geo->voidp.p[i].y0,
                                       geo->voidp.p[i].y1);
        geo->dbvoid[p] = (int64_t)v;
    }
    /* boundary-iou-api: pred_b + gt_b - |gb ∩ pb| - |pb ∩ VOID| (integers), then divide */
    int64_t bi = (int64_t)es_bitmask_intersection(gb, pb);
    int64_t bu = (int64_t)pb->area + (int64_t)gb->area - bi - geo->dbvoid[p];
    *biou = bu > 0 ? (double)bi / (double)bu : 0.0;
    *cached = *biou;
    return ES_OK;
}
