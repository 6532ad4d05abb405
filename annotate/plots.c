/* plots.c: histogram PNGs of the dataset statistics. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entseg/image.h"
#include "plots.h"
#include "raster.h"

#define PLOT_W 640
#define PLOT_H 400
#define LEFT 70
#define RIGHT 20
#define TOP 40
#define BOTTOM 60

int es_plot_histogram(const char *path, const char *title, const uint64_t *counts, size_t n,
                      const char *x_first, const char *x_last, const char *x_label,
                      es_error *err) {
    es_pixels canvas = ES_PIXELS_EMPTY;
    ES_CHECK(es_pixels_alloc(&canvas, PLOT_W, PLOT_H, 3, 1, err));
    memset(canvas.data, 255, (size_t)PLOT_W * PLOT_H * 3);
    const es_rgb ink = {40, 40, 40}, bar = {70, 110, 180}, grid = {225, 225, 225};
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (counts[i] > max) max = counts[i];
    int x0 = LEFT, x1 = PLOT_W - RIGHT, y0 = TOP, y1 = PLOT_H - BOTTOM;
    for (int k = 1; k <= 4; k++) {
        int y = y1 - (y1 - y0) * k / 4;
        es_draw_line(&canvas, x0, y, x1, y, grid);
    }
    es_draw_text(&canvas, (PLOT_W - es_text_width(title, 2)) / 2, 10, title, 2, ink);
    if (n > 0 && max > 0) {
        double bw = (double)(x1 - x0) / (double)n;
        for (size_t i = 0; i < n; i++) {
            int h = (int)lround((double)(y1 - y0) * (double)counts[i] / (double)max);
            int a = x0 + (int)lround(bw * (double)i), b = x0 + (int)lround(bw * (double)(i + 1));
            if (b - a > 2) b--; /* a gap between wide bars */
            es_draw_rect(&canvas, a, y1 - h, b > a ? b : a + 1, y1, bar);
        }
    }
    es_draw_line(&canvas, x0, y1, x1, y1, ink);
    es_draw_line(&canvas, x0, y0, x0, y1, ink);
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)max);
    es_draw_text(&canvas, x0 - 6 - es_text_width(buf, 1), y0 - 3, buf, 1, ink);
    es_draw_text(&canvas, x0 - 12, y1 - 3, "0", 1, ink);
    if (x_first) es_draw_text(&canvas, x0, y1 + 6, x_first, 1, ink);
    if (x_last) es_draw_text(&canvas, x1 - es_text_width(x_last, 1), y1 + 6, x_last, 1, ink);
    if (x_label) es_draw_text(&canvas, (PLOT_W - es_text_width(x_label, 1)) / 2, y1 + 30, x_label, 1, ink);
    int rc = es_png_write(path, &canvas, err);
    es_pixels_free(&canvas);
    return rc;
}

static int plot_path(char *out, size_t cap, const char *dir, const char *name, es_error *err) {
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        return es_error_set(err, ES_ERR_INVALID, "%s: path too long", dir);
    return ES_OK;
}

int es_stats_write_plots(const es_dataset_stats *s, const char *dir, es_error *err) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return es_error_set(err, ES_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    char path[4096], first[32], last[32];
    int rc = ES_OK;

    /* entities per image: one bar per count 0..max (grouped when max > 100) */
    uint32_t max_e = 0;
    for (size_t i = 0; i < s->n_images; i++)
        if (s->entity_counts[i] > max_e) max_e = s->entity_counts[i];
    uint32_t step = max_e / 100 + 1, nb = max_e / step + 1;
    uint64_t *bins = calloc(nb > 128 ? nb : 128, sizeof *bins);
    if (!bins) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n_images; i++) bins[s->entity_counts[i] / step]++;
    snprintf(last, sizeof last, "%u", (nb - 1) * step);
    rc = plot_path(path, sizeof path, dir, "entities_per_image.png", err);
    if (!rc)
        rc = es_plot_histogram(path, "entities per image", bins, nb, "0", last,
                               step > 1 ? "entities per image (bars group several counts)" : "entities per image", err);

    /* resolution: (width + height) / 2 per image in bins of 32 px */
    if (!rc) {
        memset(bins, 0, (nb > 128 ? nb : 128) * sizeof *bins);
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t i = 0; i < s->n_images; i++) {
            uint32_t r = (s->widths[i] + s->heights[i]) / 2 / 32;
            if (r < lo) lo = r;
            if (r > hi) hi = r;
        }
        if (s->n_images == 0) lo = hi = 0;
        uint32_t span = hi - lo + 1, rstep = span / 64 + 1, rn = span / rstep + 1;
        for (size_t i = 0; i < s->n_images; i++) bins[((s->widths[i] + s->heights[i]) / 2 / 32 - lo) / rstep]++;
        snprintf(first, sizeof first, "%u", lo * 32);
        snprintf(last, sizeof last, "%u", (lo + (rn - 1) * rstep) * 32);
        rc = plot_path(path, sizeof path, dir, "resolution.png", err);
        if (!rc)
            rc = es_plot_histogram(path, "image resolution", bins, rn, first, last,
                                   "(width + height) / 2 in px", err);
    }

    /* entity area: log2 bins from the first to the last non-empty one */
    if (!rc) {
        int a = 0, b = ES_STATS_AREA_BINS - 1;
        while (a < b && !s->area_hist[a]) a++;
        while (b > a && !s->area_hist[b]) b--;
        snprintf(first, sizeof first, "2^%d", a);
        snprintf(last, sizeof last, "2^%d", b);
        rc = plot_path(path, sizeof path, dir, "entity_area.png", err);
        if (!rc)
            rc = es_plot_histogram(path, "entity area", s->area_hist + a, (size_t)(b - a + 1), first,
                                   last, "area in pixels, log2 bins", err);
    }
    free(bins);
    return rc;
}
