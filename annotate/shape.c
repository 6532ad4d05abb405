/* shape.c: convexity and simplicity of one entity from its runs (definitions in shape.h).
 * Work is proportional to the entity's bounding box (the border grid) plus its runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"

#define ES_PI 3.14159265358979323846

void es_shape_scratch_free(es_shape_scratch *s) {
    if (!s) return;
    free(s->runs);
    free(s->parent);
    free(s->grid);
    free(s->pts);
    free(s->hull);
    memset(s, 0, sizeof *s);
}

static uint32_t find_root(uint32_t *parent, uint32_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (a < b) parent[b] = a; /* the root stays the run that comes first */
    else parent[a] = b;
}

/* Union-find over runs: runs in neighbouring columns touch (8-connectivity) when their
 * row ranges overlap or meet at a corner. Runs are sorted by column then row. */
static uint32_t label_components(const es_run *runs, size_t n, uint32_t *parent) {
    for (size_t i = 0; i < n; i++) parent[i] = (uint32_t)i;
    size_t prev_lo = 0, prev_hi = 0; /* runs of column x-1: [prev_lo, prev_hi) */
    size_t i = 0;
    while (i < n) {
        uint32_t x = runs[i].x;
        size_t lo = i;
        while (i < n && runs[i].x == x) i++;
        size_t hi = i;
        if (prev_hi > prev_lo && runs[prev_lo].x + 1 == x) {
            size_t a = prev_lo;
            for (size_t b = lo; b < hi; b++) {
                while (a < prev_hi && runs[a].y1 + 1 < runs[b].y0) a++;
                for (size_t k = a; k < prev_hi && runs[k].y0 <= runs[b].y1 + 1; k++)
                    unite(parent, (uint32_t)k, (uint32_t)b);
            }
        }
        prev_lo = lo;
        prev_hi = hi;
    }
    uint32_t count = 0;
    for (size_t k = 0; k < n; k++)
        if (find_root(parent, (uint32_t)k) == k) count++;
    return count;
}

static int ensure(void **buf, size_t *cap, size_t need, size_t elem, es_error *err) {
    if (need <= *cap) return ES_OK;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *p = realloc(*buf, c * elem);
    if (!p) return es_error_set(err, ES_ERR_NOMEM, "out of memory (%zu bytes of shape scratch)", c * elem);
    *buf = p;
    *cap = c;
    return ES_OK;
}

int es_shape_from_runs(es_shape_scratch *s, es_shape_stats *out, es_error *err) {
    memset(out, 0, sizeof *out);
    const size_t n = s->n_runs;
    const es_run *runs = s->runs;
    if (n == 0) {
        out->simplicity = NAN;
        return ES_OK;
    }
    uint32_t x0 = runs[0].x, x1 = runs[n - 1].x, y0 = UINT32_MAX, y1 = 0;
    uint64_t area = 0;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].y0 < y0) y0 = runs[i].y0;
        if (runs[i].y1 > y1) y1 = runs[i].y1;
        area += runs[i].y1 - runs[i].y0 + 1;
    }
    out->area = area;
    uint32_t bw = x1 - x0 + 1, bh = y1 - y0 + 1;

    /* Hull of the pixel centres: only each column's top and bottom pixel can be on it. */
    ES_CHECK(ensure((void **)&s->parent, &s->cap_parent, n, sizeof *s->parent, err));
    size_t need_pts = 2 * (size_t)bw; /* points; the hull needs one more */
    ES_CHECK(ensure((void **)&s->pts, &s->cap_pts, 2 * need_pts, sizeof *s->pts, err));
    ES_CHECK(ensure((void **)&s->hull, &s->cap_hull, 2 * need_pts + 2, sizeof *s->hull, err));
    size_t np = 0;
    for (size_t i = 0; i < n;) {
        uint32_t x = runs[i].x, top = runs[i].y0, bottom = runs[i].y1;
        while (i < n && runs[i].x == x) bottom = runs[i++].y1;
        s->pts[2 * np] = x;
        s->pts[2 * np + 1] = top;
        np++;
        if (bottom != top) {
            s->pts[2 * np] = x;
            s->pts[2 * np + 1] = bottom;
            np++;
        }
    }
    double hc = es_hull_area_sorted(s->pts, np, s->hull);
    out->hull_area_centres = hc;
    out->hull_area = hc + (double)(bw - 1) + (double)(bh - 1) + 1.0;
    out->convexity = (double)area / out->hull_area;

    /* Borders: a grid with one row per mask column (the transpose keeps every length),
     * plus a background frame. */
    uint32_t rows = bw + 2, cols = bh + 2;
    ES_CHECK(ensure((void **)&s->grid, &s->cap_grid, (size_t)rows * cols, 1, err));
    memset(s->grid, 0, (size_t)rows * cols);
    for (size_t i = 0; i < n; i++)
        memset(s->grid + (size_t)(runs[i].x - x0 + 1) * cols + (runs[i].y0 - y0 + 1), 1,
               runs[i].y1 - runs[i].y0 + 1);
    out->n_components = label_components(runs, n, s->parent);
    double perimeter = 0.0;
    for (size_t i = 0; i < n; i++)
        if (s->parent[i] == i) /* first run of its component: its top pixel starts the border */
            perimeter += es_border_length(s->grid, rows, cols, runs[i].x - x0 + 1,
                                          runs[i].y0 - y0 + 1, NULL);
    out->perimeter = perimeter;
    out->simplicity = perimeter > 0 ? sqrt(4.0 * ES_PI * (double)area) / perimeter : NAN;
    return ES_OK;
}

int es_shape_from_rle(const es_rle *m, es_shape_scratch *s, es_shape_stats *out, es_error *err) {
    ES_CHECK(es_runs_from_rle(m, s, err));
    return es_shape_from_runs(s, out, err);
}

int es_shape_from_mask(const uint8_t *mask, uint32_t h, uint32_t w, es_shape_scratch *s,
                       es_shape_stats *out, es_error *err) {
    ES_CHECK(es_runs_from_mask(mask, h, w, s, err));
    return es_shape_from_runs(s, out, err);
}
