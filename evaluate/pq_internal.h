/* pq_internal.h: helpers shared by the pq_*.c files (not public). */
#ifndef ENTSEG_EVAL_PQ_INTERNAL_H
#define ENTSEG_EVAL_PQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "boundary_internal.h"
#include "pq.h"

/* The categories' ids sorted ascending into a fresh array (*out NULL when n == 0);
 * ES_ERR_INVALID when an id is listed twice. */
int es_pq_sorted_ids(int64_t **out, const es_pq_category *cats, size_t n, es_error *err);
/* Index of id in the ascending array ids, or -1. */
ptrdiff_t es_pq_find_id(const int64_t *ids, size_t n, int64_t id);
/* es_pq_image_compute with the known category ids already sorted (class-aware check). */
int es_pq_image_compute_known(es_pq_image *out, const es_pq_options *opt,
                              const es_eval_image *img, const int64_t *known, size_t n_known,
                              es_band_cache *bands, const es_pq_pixels *px,
                              es_error *err);
/* "name" or "id N" of an image, for messages. */
const char *es_pq_image_label(const es_eval_image *img, char *buf, size_t n);

/* The pixel geometry of one image that every PQ variant reads (pq_geometry.c):
 * all intersections |g ∩ p|, each prediction's void share, and boundary IoUs on demand. */
typedef struct es_pq_geometry_gt_item {
    uint32_t y0, y1, g; /* rows [y0, y1) of ground-truth entry g in one column */
} es_pq_geometry_gt_item;

typedef struct es_pq_geometry {
    const es_eval_image *img;
    size_t ng, nd;
    uint32_t d;                   /* band width of the image */
    es_piece_list gp, dp;         /* pieces of every entry, entry after entry */
    size_t *goff, *doff;          /* (ng + 1), (nd + 1) offsets into gp / dp */
    es_mask_bounds *gb, *db;      /* (ng), (nd) bounds and pixel counts */
    uint32_t *col_first;          /* (w + 1) ground-truth items of column x:
                                     items[col_first[x] .. col_first[x+1]) */
    es_pq_geometry_gt_item *items; /* (gp.n) sorted by column, then row */
    uint32_t *inter;              /* (ng, nd) |g ∩ p| */
    uint64_t *dvoid;              /* (nd) |p ∩ void| */
    /* boundary (only when built with boundary = 1) */
    es_piece_list voidp;          /* the void parts of each prediction's pieces */
    size_t *voff;                 /* (nd + 1) offsets into voidp */
    es_band_cache *bands;         /* bands on first use (the caller's, or own_bands) */
    int own_bands;
    int64_t *dbvoid;              /* (nd) |pb ∩ void|, -1 until computed */
    double *biou;                 /* (ng, nd) boundary IoU, NaN until computed */
} es_pq_geometry;

/* Reads every mask of img once; ES_ERR_OVERLAP when ground-truth entries overlap,
 * ES_ERR_FORMAT for corrupt runs, ES_ERR_NOMEM. */
int es_pq_geometry_build(es_pq_geometry *geo, const es_eval_image *img, int boundary,
                         double dilation_ratio, es_band_cache *bands, es_error *err);
/* The geometry from counts another pass computed (no pieces: mask variants only). */
int es_pq_geometry_from_pixels(es_pq_geometry *geo, const es_eval_image *img,
                               const es_pq_pixels *px, es_error *err);
/* Boundary IoU of (g, p) with the void term subtracted from the union (METRICS boundary
 * PQ), building and caching the two bands. */
int es_pq_geometry_boundary_iou(es_pq_geometry *geo, size_t g, size_t p, double *biou,
                                es_error *err);
void es_pq_geometry_free(es_pq_geometry *geo);

#endif
