/* annotate/shape.h: per-entity geometry for the dataset statistics (METRICS.md, "Dataset
 * statistics (EntitySeg paper, Table 2)").
 *
 * A mask is handled as its vertical foreground runs (column-major, the order COCO RLE
 * stores), so an entity is never decoded into a full image:
 *  - components: 8-connected, found by union-find over runs of neighbouring columns;
 *  - perimeter: for each component, the length of its outer border as Suzuki-Abe border
 *    following (OpenCV findContours, CHAIN_APPROX_NONE) traces it through pixel centres,
 *    1 per axis step and sqrt(2) per diagonal step, closed (OpenCV arcLength(c, true));
 *    summed over components; holes are not part of the outer boundary. A component lying
 *    inside a hole of another is counted too (OpenCV RETR_EXTERNAL would drop it).
 *  - convex hull: of the pixel SQUARES (their corners) of all components. It equals
 *    OpenCV's convexHull of the contour points (pixel centres) grown by half a pixel each
 *    way: hull_area = hull_area_centres + (bbox_w - 1) + (bbox_h - 1) + 1 (Minkowski sum
 *    with the unit square). So a filled rectangle and a single pixel have convexity 1.
 *  - convexity ("complexity" in the paper's table) = area / hull_area, in (0, 1];
 *  - simplicity = sqrt(4 pi area) / perimeter, area = pixel count; undefined (NAN) when
 *    the perimeter is 0 (every component a single pixel).
 *
 * Ownership: es_shape_scratch holds reusable buffers (one per thread), zero-initialise it
 * and release with es_shape_scratch_free (NULL-safe). Inputs are never modified.
 */
#ifndef ENTSEG_ANNOTATE_SHAPE_H
#define ENTSEG_ANNOTATE_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

/* One vertical run of foreground: column x, rows y0..y1 inclusive. */
typedef struct es_run {
    uint32_t x, y0, y1;
} es_run;

typedef struct es_shape_scratch {
    es_run *runs;      /* (cap_runs) */
    size_t n_runs, cap_runs;
    uint32_t *parent;  /* (cap_parent) union-find over runs */
    size_t cap_parent;
    uint8_t *grid;     /* (cap_grid) the bbox + 1 px border, one row per mask column */
    size_t cap_grid;
    double *pts;       /* (cap_pts) hull input points, x0 y0 x1 y1 ... */
    size_t cap_pts;
    double *hull;      /* (cap_hull) hull points */
    size_t cap_hull;
} es_shape_scratch;

void es_shape_scratch_free(es_shape_scratch *s);

typedef struct es_shape_stats {
    uint64_t area;            /* pixel count */
    uint32_t n_components;    /* 8-connected */
    double perimeter;         /* sum of outer border lengths through pixel centres */
    double hull_area;         /* convex hull of the pixel squares */
    double hull_area_centres; /* convex hull of the pixel centres (OpenCV's convention) */
    double convexity;         /* area / hull_area; 0 for an empty mask */
    double simplicity;        /* sqrt(4 pi area) / perimeter; NAN when perimeter is 0 */
} es_shape_stats;

/* Fills s->runs from an RLE (ES_ERR_FORMAT when its runs do not sum to h*w). */
int es_runs_from_rle(const es_rle *m, es_shape_scratch *s, es_error *err);
/* Fills s->runs from a row-major h x w mask (non-zero = foreground). */
int es_runs_from_mask(const uint8_t *mask, uint32_t h, uint32_t w, es_shape_scratch *s,
                      es_error *err);
/* Geometry of the runs now in s (sorted by column, then row, as both producers write). */
int es_shape_from_runs(es_shape_scratch *s, es_shape_stats *out, es_error *err);

/* Convenience: runs + geometry. */
int es_shape_from_rle(const es_rle *m, es_shape_scratch *s, es_shape_stats *out, es_error *err);
int es_shape_from_mask(const uint8_t *mask, uint32_t h, uint32_t w, es_shape_scratch *s,
                       es_shape_stats *out, es_error *err);

/* Building blocks, exposed for tests. */
/* Area of the convex hull of n points xy (x0,y0,x1,y1,...) sorted by x then y (duplicates
 * allowed); hull is scratch for 2(n+1) doubles. 0 for fewer than 3 points or collinear. */
double es_hull_area_sorted(const double *xy, size_t n, double *hull);
/* Closed length of the outer border of the component whose first pixel in raster order
 * is (r, c) of a row-major grid (rows x cols, 0 = background) that has a background
 * border of at least one pixel. *n_points gets the number of border points (may be
 * NULL). */
double es_border_length(const uint8_t *grid, uint32_t rows, uint32_t cols, uint32_t r,
                        uint32_t c, size_t *n_points);

#endif
