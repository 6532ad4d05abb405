/* entseg/rle.h: binary masks as COCO run-length encodings.
 *
 * An es_rle is pycocotools' RLE: the mask of an h x w image read in COLUMN-MAJOR order
 * (x outer, y inner, index = x*h + y) as alternating runs, the first run counting
 * background pixels (it may be 0). sum(cnts) == h*w always; an empty (0 x 0) mask has m = 0.
 * The runs, and therefore the compressed string form, are identical to pycocotools', so
 * strings round-trip byte for byte.
 *
 * Pixel buffers passed in and out of this API are ROW-MAJOR (y outer, index = y*w + x),
 * as images are stored; the functions do the transposition.
 *
 * Ownership: every es_rle owns its cnts array (malloc'ed). Functions that produce an
 * es_rle write into a caller-provided struct whose previous contents are NOT freed
 * (initialise with ES_RLE_EMPTY or call es_rle_free first); es_rle_free() releases cnts
 * and accepts NULL or an empty struct. Inputs are never modified.
 *
 * Errors: functions that can fail return an es_status and fill err; pure queries that
 * cannot fail return their value directly.
 */
#ifndef ENTSEG_RLE_H
#define ENTSEG_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"

typedef struct es_rle {
    uint32_t h, w;   /* image size the mask lives in */
    uint32_t m;      /* number of runs */
    uint32_t *cnts;  /* (m) run lengths, column-major, first run = background */
} es_rle;

#define ES_RLE_EMPTY ((es_rle){0, 0, 0, NULL})

/* Lifetime. es_rle_init copies m runs from cnts (cnts may be NULL when m == 0). */
int es_rle_init(es_rle *r, uint32_t h, uint32_t w, uint32_t m, const uint32_t *cnts, es_error *err);
int es_rle_copy(es_rle *dst, const es_rle *src, es_error *err);
void es_rle_free(es_rle *r);
/* An all-background mask of size h x w (one run of h*w, or m = 0 when h*w == 0). */
int es_rle_zeros(es_rle *r, uint32_t h, uint32_t w, es_error *err);
/* Checks that sum(cnts) == h*w; returns ES_ERR_FORMAT otherwise. */
int es_rle_validate(const es_rle *r, es_error *err);

/* Encoding and decoding. mask is row-major h*w bytes, non-zero = foreground. */
int es_rle_encode(es_rle *out, const uint8_t *mask, uint32_t h, uint32_t w, es_error *err);
/* Writes h*w row-major bytes, 1 = foreground, 0 = background. */
void es_rle_decode(const es_rle *r, uint8_t *mask);

/* A label map -> one RLE per distinct non-zero id, in one pass over the map.
 * labels: row-major h*w ids, 0 = void (no RLE for it).
 * On success *out holds n masks with ids ascending. Free with es_label_rles_free. */
typedef struct es_label_rles {
    size_t n;
    uint32_t *ids;   /* (n) ascending, non-zero */
    es_rle *rles;    /* (n) */
    uint64_t *areas; /* (n) pixel counts */
} es_label_rles;
int es_rle_encode_labels(es_label_rles *out, const uint32_t *labels, uint32_t h, uint32_t w,
                         es_error *err);
void es_label_rles_free(es_label_rles *l);

/* Queries (pycocotools semantics). */
uint64_t es_rle_area(const es_rle *r);
/* bbox = {x, y, w, h} as pycocotools' rleToBbox: tight box of the foreground, or all zeros
 * for an empty mask. */
void es_rle_to_bbox(const es_rle *r, double bbox[4]);
/* Intersection and union pixel counts without decoding. a and b must have the same size. */
uint64_t es_rle_intersection_area(const es_rle *a, const es_rle *b);
uint64_t es_rle_union_area(const es_rle *a, const es_rle *b);
/* IoU exactly as pycocotools rleIou: i/u as doubles, with u = area(dt) when gt_is_crowd,
 * 0 when the bboxes do not overlap or i == 0; -1 when sizes differ. */
double es_rle_iou(const es_rle *dt, const es_rle *gt, int gt_is_crowd);
/* Intersection over the area of a (0 when a is empty). */
double es_rle_ioa(const es_rle *a, const es_rle *b);

/* Set operations producing fresh masks (same size required, else ES_ERR_INVALID). */
int es_rle_merge(es_rle *out, const es_rle *rles, size_t n, int intersect, es_error *err);
int es_rle_union(es_rle *out, const es_rle *a, const es_rle *b, es_error *err);
int es_rle_intersect(es_rle *out, const es_rle *a, const es_rle *b, es_error *err);
int es_rle_difference(es_rle *out, const es_rle *a, const es_rle *b, es_error *err); /* a \ b */

/* The COCO compressed string form (pycocotools rleToString / rleFrString).
 * es_rle_to_string returns a malloc'ed NUL-terminated string (caller frees). */
int es_rle_to_string(const es_rle *r, char **out, es_error *err);
/* Parses s into runs for an h x w mask; rejects strings that do not decode to h*w pixels
 * (ES_ERR_FORMAT). */
int es_rle_from_string(es_rle *out, const char *s, uint32_t h, uint32_t w, es_error *err);
/* Uncompressed COCO RLE (a JSON list of counts). */
int es_rle_from_counts(es_rle *out, const uint32_t *counts, size_t n, uint32_t h, uint32_t w,
                       es_error *err);

/* Polygon -> mask exactly as pycocotools rleFrPoly (xy = x0,y0,x1,y1,..., k points). */
int es_rle_from_polygon(es_rle *out, const double *xy, size_t k, uint32_t h, uint32_t w,
                        es_error *err);
/* Box {x, y, w, h} -> mask as pycocotools frBbox (via its 4-point polygon). */
int es_rle_from_bbox(es_rle *out, const double bbox[4], uint32_t h, uint32_t w, es_error *err);

/* Geometry for model input/output. */
/* The window [x, x+cw) x [y, y+ch), which must lie inside the mask. */
int es_rle_crop(es_rle *out, const es_rle *r, uint32_t x, uint32_t y, uint32_t cw, uint32_t ch,
                es_error *err);
/* Pads with background: left, top, right, bottom pixels. */
int es_rle_pad(es_rle *out, const es_rle *r, uint32_t left, uint32_t top, uint32_t right,
               uint32_t bottom, es_error *err);
/* Nearest-neighbour resize to nh x nw: source pixel of (y, x) is
 * (min(floor(y*h/nh), h-1), min(floor(x*w/nw), w-1)) (OpenCV INTER_NEAREST / PyTorch
 * 'nearest'). */
int es_rle_resize_nearest(es_rle *out, const es_rle *r, uint32_t nh, uint32_t nw, es_error *err);

#endif
