/* convert/convert.h: the converters as library calls (libentseg_convert), used by the
 * entseg-convert CLI and by entseg-eval's on-the-fly route (results.json gt.json).
 *
 * Each converter reads an outside format and writes a new store at out_db (built under a
 * temporary name, moved into place only on success: a failure leaves nothing at out_db, or
 * the existing file untouched). Errors name the file and the image / segment.
 * Options structs are zero-initialisable: zero means the documented default.
 */
#ifndef ENTSEG_CONVERT_H
#define ENTSEG_CONVERT_H

#include "entseg/error.h"

typedef enum { ES_CROWD_IGNORE = 0, ES_CROWD_DROP = 1 } es_crowd_mode;
typedef enum { ES_GT_OVERLAP_ERROR = 0, ES_GT_OVERLAP_PAINT = 1, ES_GT_OVERLAP_KEEP = 2 } es_gt_overlap_mode;

typedef struct es_convert_common {
    int threads;        /* <= 0: all cores */
    int quiet;          /* no progress bar, no summary */
    int lenient;        /* skip bad images (listed in a warning) instead of failing */
    int replace;        /* replace an existing out_db */
} es_convert_common;

/* COCO panoptic ground truth: JSON + PNG directory. */
int es_convert_coco_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                             es_crowd_mode crowd, const es_convert_common *c, es_error *err);

/* COCO instances ground truth (polygons, RLE). */
int es_convert_coco_instances(const char *json_path, const char *out_db, es_gt_overlap_mode overlap,
                              const es_convert_common *c, es_error *err);

/* COCO results (detectron2 / mmdetection) as predictions, image ids resolved against gt_db. */
int es_convert_coco_results(const char *json_path, const char *gt_db, const char *out_db,
                            const es_convert_common *c, es_error *err);

/* COCO panoptic predictions (segments_info may carry score; default 1.0). */
int es_convert_panoptic_pred(const char *json_path, const char *png_dir, const char *gt_db,
                             const char *out_db, const es_convert_common *c, es_error *err);

#endif
