/* rle_polygon.c: polygon and box -> mask, bit for bit as pycocotools rleFrPoly / rleFrBbox
 * (COCO instance annotations store polygons; their masks must equal COCO's own).
 *
 * The algorithm (same int/double arithmetic and rounding as maskApi.c):
 *   1. scale the vertices by 5 and round (int)(5*v + 0.5);
 *   2. rasterise every edge densely on that grid (one point per step of the longer axis);
 *   3. keep the points where the upsampled x crosses a pixel-centre column, and turn each
 *      into a column-major boundary position x*h + y (y = ceil of the downsampled y,
 *      clamped to [0, h]);
 *   4. sort the positions; their differences are the runs, zero runs merged away.
 * Coordinates are limited so that differences of 5*v fit an int (|v| < 1e8), and the
 * dense outline to 2^28 points; beyond that it is ES_ERR_INVALID (pycocotools would
 * overflow or exhaust memory).
 */
#include <math.h>
#include <stdlib.h>

#include "rle_internal.h"

#define SCALE 5.0
#define MAX_COORD 1.0e8        /* 5 * 2 * MAX_COORD fits an int */
#define MAX_POINTS (1u << 28)  /* dense boundary points; bounds time and memory */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x > y ? 1 : x < y ? -1 : 0;
}

static int iabs(int v) { return v < 0 ? -v : v; }

int es_rle_from_polygon(es_rle *out, const double *xy, size_t k, uint32_t h, uint32_t w,
                        es_error *err) {
    *out = ES_RLE_EMPTY;
    ES_CHECK(es_rle_check_size(h, w, "es_rle_from_polygon", err));
    if (k == 0 || (uint64_t)h * w == 0) return es_rle_zeros(out, h, w, err);
    for (size_t j = 0; j < 2 * k; j++)
        if (!(fabs(xy[j]) < MAX_COORD))
            return es_error_set(err, ES_ERR_INVALID,
                                "polygon: coordinate %zu is %g (not finite or beyond +-1e8)", j, xy[j]);
    int *x = malloc(sizeof *x * (k + 1)), *y = malloc(sizeof *y * (k + 1));
    int *u = NULL, *v = NULL;
    uint32_t *a = NULL, *b = NULL;
    int rc = ES_OK;
    if (!x || !y) goto nomem;
    for (size_t j = 0; j < k; j++) x[j] = (int)(SCALE * xy[j * 2 + 0] + .5);
    x[k] = x[0];
    for (size_t j = 0; j < k; j++) y[j] = (int)(SCALE * xy[j * 2 + 1] + .5);
    y[k] = y[0];

    /* 2. dense boundary points on the upsampled grid */
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        unsigned dx = (unsigned)iabs(x[j] - x[j + 1]), dy = (unsigned)iabs(y[j] - y[j + 1]);
        m += (size_t)(dx > dy ? dx : dy) + 1;
    }
    if (m > MAX_POINTS) {
        rc = es_error_set(err, ES_ERR_INVALID,
                          "polygon: outline of %zu upsampled points is too long (limit 2^28)", m);
        goto done;
    }
    u = malloc(sizeof *u * m);
    v = malloc(sizeof *v * m);
    if (!u || !v) goto nomem;
    m = 0;
    for (size_t j = 0; j < k; j++) {
        int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
        int dx = iabs(xe - xs), dy = iabs(ys - ye), t;
        int flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if (flip) {
            t = xs, xs = xe, xe = t;
            t = ys, ys = ye, ye = t;
        }
        double s = dx >= dy ? (double)(ye - ys) / dx : (double)(xe - xs) / dy;
        if (dx >= dy)
            for (int d = 0; d <= dx; d++) {
                t = flip ? dx - d : d;
                u[m] = t + xs;
                v[m] = (int)(ys + s * t + .5);
                m++;
            }
        else
            for (int d = 0; d <= dy; d++) {
                t = flip ? dy - d : d;
                v[m] = t + ys;
                u[m] = (int)(xs + s * t + .5);
                m++;
            }
    }

    /* 3. points where x crosses a pixel column, downsampled to column-major positions */
    size_t n_pts = m;
    a = malloc(sizeof *a * (n_pts + 1));
    if (!a) goto nomem;
    m = 0;
    for (size_t j = 1; j < n_pts; j++)
        if (u[j] != u[j - 1]) {
            double xd = (double)(u[j] < u[j - 1] ? u[j] : u[j] - 1);
            xd = (xd + .5) / SCALE - .5;
            if (floor(xd) != xd || xd < 0 || xd > (double)(w - 1)) continue;
            double yd = (double)(v[j] < v[j - 1] ? v[j] : v[j - 1]);
            yd = (yd + .5) / SCALE - .5;
            if (yd < 0)
                yd = 0;
            else if (yd > h)
                yd = h;
            yd = ceil(yd);
            a[m++] = (uint32_t)((int64_t)xd * (int64_t)h + (int64_t)yd);
        }
    a[m++] = h * w;

    /* 4. sort, difference, merge zero runs (a zero run joins its neighbours) */
    qsort(a, m, sizeof *a, cmp_u32);
    uint32_t prev = 0;
    for (size_t j = 0; j < m; j++) {
        uint32_t t = a[j];
        a[j] -= prev;
        prev = t;
    }
    b = malloc(sizeof *b * m);
    if (!b) goto nomem;
    size_t nb = 0, j = 0;
    b[nb++] = a[j++];
    while (j < m) {
        if (a[j] > 0)
            b[nb++] = a[j++];
        else {
            j++;
            if (j < m) b[nb - 1] += a[j++];
        }
    }
    es_rle_adopt(out, h, w, (uint32_t)nb, b);
    b = NULL;
    ES_RLE_ASSERT_VALID(out);
    goto done;
nomem:
    rc = es_error_set(err, ES_ERR_NOMEM, "es_rle_from_polygon: out of memory (%zu points)", k);
done:
    free(x), free(y), free(u), free(v), free(a), free(b);
    return rc;
}

int es_rle_from_bbox(es_rle *out, const double bbox[4], uint32_t h, uint32_t w, es_error *err) {
    double xs = bbox[0], xe = xs + bbox[2];
    double ys = bbox[1], ye = ys + bbox[3];
    double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
    return es_rle_from_polygon(out, xy, 4, h, w, err);
}
