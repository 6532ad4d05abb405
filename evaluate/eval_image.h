/* evaluate/eval_image.h: one image as the metrics see it, after loading from the stores.
 *
 * The driver (eval.c) reads both stores, applies the ground-truth choices (area source,
 * --compat entity) and the overlap policy, and hands each metric an es_eval_image. Metrics
 * accumulate per-image records and never touch the stores themselves.
 *
 * Ownership: the driver owns every array and mask here and frees them with
 * es_eval_image_clear(); metrics only read (const).
 */
#ifndef ENTSEG_EVAL_IMAGE_H
#define ENTSEG_EVAL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/rle.h"

typedef struct es_eval_gt {
    es_rle mask;          /* h x w */
    uint64_t pixels;      /* pixel count of mask */
    double area;          /* area used for area ranges and the PQ union: the declared area
                             (--area-source declared, default) when the source gave one,
                             else pixels; under --compat entity the inclusive-bbox area */
    int is_crowd;         /* crowd / ignore region */
    int64_t category_id;  /* source category, -1 when none */
    int isthing;          /* 1 thing, 0 stuff, -1 unknown */
    int64_t source_order; /* order in the source annotation (panopticapi's crowd rule) */
    int64_t entity_id;    /* store id, for per-image reports */
} es_eval_gt;

typedef struct es_eval_dt {
    es_rle mask;          /* h x w */
    uint64_t pixels;      /* pixel count of mask (the prediction's area) */
    double score;
    int64_t category_id;  /* -1 when none */
    int64_t input_index;  /* position among the image's predictions as given (tie order) */
    int64_t entity_id;    /* store id */
} es_eval_dt;

typedef struct es_eval_image {
    int64_t image_id;     /* gt store id */
    int64_t source_id;    /* source image id: COCOeval orders images by it (METRICS AP 2) */
    const char *name;
    uint32_t height, width;
    size_t n_gt;
    es_eval_gt *gt;       /* (n_gt) in source order (non-crowd and crowd mixed, as stored) */
    size_t n_dt;
    es_eval_dt *dt;       /* (n_dt) non-overlapping predictions (after the overlap policy),
                             in input order; masks left empty by painting are dropped */
    size_t n_dt_raw;
    es_eval_dt *dt_raw;   /* (n_dt_raw) predictions as given, in input order */
} es_eval_image;

void es_eval_image_clear(es_eval_image *img);

#endif
