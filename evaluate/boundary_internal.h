/* boundary_internal.h: the pieces of a mask and the band built from them, shared by
 * boundary.c and the PQ code (not public).
 *
 * A piece is one foreground run cut at column ends: rows [y0, y1) of column x. A valid RLE
 * gives its pieces in column-major order, non-overlapping; PQ sweeps them against the ground
 * truth's pieces to get every intersection and the void share in O(runs), and builds bands
 * only for the masks that need one.
 */
#ifndef ENTSEG_EVAL_BOUNDARY_INTERNAL_H
#define ENTSEG_EVAL_BOUNDARY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "boundary.h"

typedef struct es_piece {
    uint32_t x, y0, y1; /* rows [y0, y1) of column x */
} es_piece;

typedef struct es_piece_list {
    es_piece *p; /* (n) of cap */
    size_t n, cap;
} es_piece_list;

/* Tight bounds of a mask's foreground, inclusive; area 0 = empty (bounds undefined). */
typedef struct es_mask_bounds {
    uint32_t x_lo, x_hi, y_lo, y_hi;
    uint64_t area;
} es_mask_bounds;

/* Appends r's foreground pieces to list (column-major order) and fills *b. Validates that
 * the runs sum to h*w (ES_ERR_FORMAT, message prefixed with fn); ES_ERR_NOMEM. */
int es_rle_to_pieces(es_piece_list *list, const es_rle *r, es_mask_bounds *b, const char *fn,
                     es_error *err);
/* Appends one piece (grows the list); ES_ERR_NOMEM. */
int es_piece_list_push(es_piece_list *list, uint32_t x, uint32_t y0, uint32_t y1);
void es_piece_list_free(es_piece_list *list);

/* Reusable work memory for es_band_from_pieces (one per thread). Start zeroed. */
typedef struct es_band_scratch {
    uint64_t *buf;
    size_t cap;
} es_band_scratch;
void es_band_scratch_free(es_band_scratch *s);

/* The band (and optionally the mask) of the mask made of pieces p[0..n) with bounds b in an
 * h x w image, width d >= 1. scratch may be NULL (allocates its own). */
int es_band_from_pieces(es_bitmask *band, es_bitmask *mask, const es_piece *p, size_t n,
                        const es_mask_bounds *b, uint32_t h, uint32_t w, uint32_t d,
                        es_band_scratch *scratch, es_error *err);

/* es_band_cache_get for a mask already cut into pieces (same key rules). */
int es_band_cache_get_pieces(es_band_cache *c, int is_gt, size_t i, const es_piece *p, size_t n,
                             const es_mask_bounds *b, const es_bitmask **band, es_error *err);

/* The entry counts a cache was made for. */
void es_band_cache_counts(const es_band_cache *c, size_t *n_gt, size_t *n_dt);

/* Set pixels of b in column x, rows [y0, y1). */
uint64_t es_bitmask_count_rows(const es_bitmask *b, uint32_t x, uint32_t y0, uint32_t y1);

#endif
