/* evaluate/boundary.h: boundary bands of masks (boundary IoU, boundary AP, boundary PQ).
 *
 * METRICS "Boundary IoU" 1-3: the band of a mask is the mask minus its erosion by a 3x3
 * square applied d times, with zeros outside the image (pixels on the image border are
 * boundary); equivalently the foreground pixels that have a background or outside pixel
 * within Chebyshev distance d. d = round_half_even(dilation_ratio * sqrt(h^2 + w^2)) of the
 * IMAGE size, at least 1 (boundary-iou-api mask_to_boundary).
 *
 * Masks and bands are held as es_bitmask: a column-major bitset over the mask's own
 * bounding columns, with rows in whole 64-bit words, so two bitmasks of one image are
 * word-aligned and their intersection is AND + popcount over the overlap of their frames
 * (no decoding of the rest of the image; disjoint frames cost O(1)). The band never leaves
 * the mask's bounding box, so the band has the mask's frame.
 *
 *   bits[c * nwords + k], bit b  <->  pixel (x = x0 + c, y = 64 * (word0 + k) + b)
 *   columns x0 .. x0+ncols-1 (the mask's first and last non-empty columns),
 *   words word0 .. word0+nwords-1 (those holding the mask's top and bottom rows);
 *   bits for rows >= h are always 0.
 *
 * Cost: one pass over the mask's runs plus O(ncols * nwords) word operations (vertical
 * erosion is done on the runs, horizontal erosion with a van Herk / Gil-Werman sliding
 * minimum over columns: three ANDs per word whatever d is).
 *
 * Ownership: an es_bitmask owns bits (malloc'ed); es_bitmask_free releases it and accepts
 * NULL or an empty struct. Producers write into a caller struct whose previous contents are
 * NOT freed (initialise with ES_BITMASK_EMPTY). Inputs are never modified. All functions
 * are reentrant (no shared state), so threads may call them concurrently.
 */
#ifndef ENTSEG_EVAL_BOUNDARY_H
#define ENTSEG_EVAL_BOUNDARY_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

typedef struct es_bitmask {
    uint32_t h, w;          /* image size */
    uint32_t x0, ncols;     /* frame columns [x0, x0 + ncols); ncols == 0 for an empty mask */
    uint32_t word0, nwords; /* frame rows [64*word0, 64*(word0 + nwords)) clipped to h */
    uint64_t *bits;         /* (ncols, nwords), see the layout above; NULL when empty */
    uint64_t area;          /* number of set pixels */
} es_bitmask;

#define ES_BITMASK_EMPTY ((es_bitmask){0, 0, 0, 0, 0, 0, NULL, 0})

/* The band width d for an h x w image: nearbyint(dilation_ratio * sqrt(h*h + w*w)) in the
 * default rounding mode (half to even: 12.5 -> 12, 13.5 -> 14), at least 1. A NaN or
 * negative ratio gives 1; huge values saturate at UINT32_MAX / 4. */
uint32_t es_boundary_width(double dilation_ratio, uint32_t h, uint32_t w);

/* The mask itself as a bitmask. ES_ERR_FORMAT when sum(cnts) != h*w; ES_ERR_NOMEM. */
int es_bitmask_from_rle(es_bitmask *out, const es_rle *r, es_error *err);

/* The boundary band of r with width d (d >= 1; 0 is treated as 1). When mask is not NULL
 * it also receives the mask itself (same frame as the band), saving a second pass.
 * Errors as es_bitmask_from_rle. */
int es_boundary_band(es_bitmask *band, es_bitmask *mask, const es_rle *r, uint32_t d,
                     es_error *err);

/* An all-zero bitmask covering the whole h x w image (the frame for es_bitmask_or). */
int es_bitmask_zeros(es_bitmask *out, uint32_t h, uint32_t w, es_error *err);

/* dst |= src. dst's frame must contain src's frame (e.g. dst from es_bitmask_zeros) and both
 * must have the same image size, else ES_ERR_INVALID. *overlap (if not NULL) receives the
 * number of src pixels that were already set in dst; dst->area is updated. */
int es_bitmask_or(es_bitmask *dst, const es_bitmask *src, uint64_t *overlap, es_error *err);

/* |a ∩ b| (0 when the images differ in size or the frames do not meet). */
uint64_t es_bitmask_intersection(const es_bitmask *a, const es_bitmask *b);

/* |a \ b| = a->area - |a ∩ b|. */
uint64_t es_bitmask_difference(const es_bitmask *a, const es_bitmask *b);

/* Boundary IoU of two bands: |a ∩ b| / |a ∪ b| as doubles; 0 when both are empty. */
double es_boundary_iou(const es_bitmask *a, const es_bitmask *b);

/* The bitmask as a pycocotools RLE of its h x w image. ES_ERR_NOMEM. */
int es_bitmask_to_rle(es_rle *out, const es_bitmask *b, es_error *err);

/* Reads pixel (x, y) (0 outside the frame or the image). */
int es_bitmask_get(const es_bitmask *b, uint32_t x, uint32_t y);

void es_bitmask_free(es_bitmask *b);

/* Bands of one image's entities, built on first request and kept until the cache is freed,
 * so boundary AP and boundary PQ of an image compute each band once. Entries are keyed by
 * (is_gt, index): the caller must always pass the same mask for a key (e.g. gt[i] and dt[i]
 * of one es_eval_image). Only pairs that can match need a band: a boundary-based IoU is
 * min(mask IoU, boundary IoU), so pairs whose mask IoU is below the lowest threshold (0.5 by
 * default) never need one.
 * Not thread-safe: one cache per image being evaluated. */
typedef struct es_band_cache es_band_cache;

/* For an h x w image with n_gt ground-truth and n_dt predicted entries; band width
 * es_boundary_width(dilation_ratio, h, w). ES_ERR_NOMEM. */
int es_band_cache_create(es_band_cache **out, uint32_t h, uint32_t w, double dilation_ratio,
                         size_t n_gt, size_t n_dt, es_error *err);
/* The band of entry (is_gt, i) with mask `mask`; *band stays owned by the cache and valid
 * until es_band_cache_free. ES_ERR_INVALID (index out of range, mask of another size),
 * ES_ERR_FORMAT (corrupt runs), ES_ERR_NOMEM. */
int es_band_cache_get(es_band_cache *c, int is_gt, size_t i, const es_rle *mask,
                      const es_bitmask **band, es_error *err);
/* The band width d the cache uses. */
uint32_t es_band_cache_width(const es_band_cache *c);
void es_band_cache_free(es_band_cache *c);

#endif
