/* annotate/stats.h: the EntitySeg paper's Table 2 columns for a store, overall and per
 * source dataset (METRICS.md "Dataset statistics"), plus what the histograms need.
 *
 * Definitions (also printed with every report, see es_stats_definitions):
 *  - resolution: (mean width + mean height) / 2 is the table's column; mean width, mean
 *    height and mean sqrt(width * height) are reported beside it;
 *  - entities per image: mean and max of the non-crowd entities per image;
 *  - complexity = convexity = area / convex hull area (shape.h: hull of the pixel squares),
 *    mean over entities; complexity_centres uses OpenCV's hull of pixel centres instead;
 *  - simplicity = sqrt(4 pi area) / outer perimeter through pixel centres (shape.h), mean
 *    over entities with a perimeter (single-pixel entities are left out and counted);
 *  - valid area = mean over images of the fraction of pixels covered by entities
 *    (valid_area_pooled: all covered pixels / all pixels).
 * Crowd / ignore rows are skipped everywhere (counted in crowd_skipped). Sums run in image
 * id order whatever the thread count, so results are identical for any --threads.
 *
 * Ownership: es_dataset_stats_compute fills a caller-owned struct released with
 * es_dataset_stats_free (NULL-safe, idempotent).
 */
#ifndef ENTSEG_ANNOTATE_STATS_H
#define ENTSEG_ANNOTATE_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "entseg/error.h"

typedef struct es_stats_group {
    char *source;                  /* "all" for the whole store; "(none)" for no source */
    uint64_t images, entities, max_entities, crowd_skipped;
    double mean_width, mean_height;
    double resolution;             /* (mean_width + mean_height) / 2: the table's column */
    double mean_sqrt_pixels;       /* mean of sqrt(width * height) */
    double entities_per_image;
    double complexity;             /* mean convexity (hull of pixel squares) */
    double complexity_centres;     /* mean convexity with OpenCV's hull of pixel centres */
    double simplicity;             /* mean over entities with a perimeter */
    uint64_t simplicity_skipped;   /* entities without a perimeter (single pixels) */
    double valid_area;             /* mean per-image covered fraction */
    double valid_area_pooled;      /* covered pixels / pixels */
} es_stats_group;

#define ES_STATS_AREA_BINS 48      /* bin k: areas in [2^k, 2^(k+1)) */

typedef struct es_dataset_stats {
    char *store_path;
    size_t n_groups;
    es_stats_group *groups;        /* (n_groups) [0] = all, then sources by name */
    size_t n_images;
    uint32_t *widths, *heights;    /* (n_images) in image id order */
    uint32_t *entity_counts;       /* (n_images) non-crowd entities */
    uint64_t *covered;             /* (n_images) pixels covered by entities */
    double *sum_convexity;         /* (n_images) sums over the image's entities */
    double *sum_simplicity;        /* (n_images) over entities with a perimeter */
    uint32_t *simplicity_n;        /* (n_images) */
    uint64_t area_hist[ES_STATS_AREA_BINS];
} es_dataset_stats;

/* Reads every image and entity of the store at path with `threads` threads (<= 0: all
 * cores), one read handle each. quiet = 0 shows a progress bar on a terminal. */
int es_dataset_stats_compute(const char *path, int threads, int quiet, es_dataset_stats *out,
                             es_error *err);
void es_dataset_stats_free(es_dataset_stats *s);

/* One line naming every definition used (the report prints it). */
const char *es_stats_definitions(void);
/* The table as text, and as JSON (schemas/annotate-stats.schema.json shape: store,
 * definitions, groups[]) to path ("-" = stdout). */
void es_dataset_stats_print(const es_dataset_stats *s, FILE *f);
int es_dataset_stats_write_json(const es_dataset_stats *s, const char *path, es_error *err);

#endif
