/* annotate/plots.h: histograms as PNG (own rasteriser + es_png_write), for
 * `entseg-annotate stats --plots DIR`. */
#ifndef ENTSEG_ANNOTATE_PLOTS_H
#define ENTSEG_ANNOTATE_PLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "stats.h"

/* A bar chart of n counts, 640 x 400 px: title on top, the largest count on the y axis,
 * x_first / x_last under the first and last bar, x_label under the axis. */
int es_plot_histogram(const char *path, const char *title, const uint64_t *counts, size_t n,
                      const char *x_first, const char *x_last, const char *x_label,
                      es_error *err);

/* Writes DIR/entities_per_image.png, DIR/resolution.png, DIR/entity_area.png (creates DIR
 * when missing). */
int es_stats_write_plots(const es_dataset_stats *s, const char *dir, es_error *err);

#endif
