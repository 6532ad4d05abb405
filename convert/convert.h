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

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"

typedef enum { ES_CROWD_IGNORE = 0, ES_CROWD_DROP = 1 } es_crowd_mode;
typedef enum { ES_GT_OVERLAP_ERROR = 0, ES_GT_OVERLAP_PAINT = 1, ES_GT_OVERLAP_KEEP = 2 } es_gt_overlap_mode;

/* What a conversion found, for the CLI's summary (also stored as meta "convert_report").
 * Filled when es_convert_common.report is set; release with es_convert_report_free. */
typedef struct es_convert_report {
    int64_t images;                 /* images written */
    int64_t entities;               /* entities written (crowd included) */
    int64_t crowd;                  /* crowd / ignore regions written */
    int64_t crowd_dropped;          /* crowd segments dropped (--crowd drop) */
    int64_t declared_area_differs;  /* declared area != pixel count */
    int64_t id_zero;                /* source segment / annotation ids equal to 0 */
    int64_t empty_segments;         /* declared segments with no pixels, not stored */
    int64_t overlaps_painted;       /* pixels given to a smaller instance (--overlap paint) */
    char **skipped;                 /* (nskipped) "image: reason" (--lenient) */
    size_t nskipped;
    char **warnings;                /* (nwarnings) one line each */
    size_t nwarnings;
} es_convert_report;

void es_convert_report_free(es_convert_report *r);

typedef struct es_convert_common {
    int threads;        /* <= 0: all cores */
    int quiet;          /* no progress bar, no summary */
    int lenient;        /* skip bad images (listed in a warning) instead of failing */
    int replace;        /* replace an existing out_db */
    es_convert_report *report; /* optional out: counts and warnings (caller frees) */
} es_convert_common;

/* COCO panoptic ground truth: JSON + PNG directory. */
int es_convert_coco_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                             es_crowd_mode crowd, const es_convert_common *c, es_error *err);

/* COCO instances ground truth (polygons, RLE). */
int es_convert_coco_instances(const char *json_path, const char *out_db, es_gt_overlap_mode overlap,
                              const es_convert_common *c, es_error *err);

/* EntitySeg release (COCO instances layout, RLE masks): category_id_ori -> label vocabulary,
 * img_source -> image source. */
int es_convert_entityseg(const char *json_path, const char *out_db, es_gt_overlap_mode overlap,
                         const es_convert_common *c, es_error *err);

/* COCO results (detectron2 / mmdetection) as predictions, image ids resolved against gt_db. */
int es_convert_coco_results(const char *json_path, const char *gt_db, const char *out_db,
                            const es_convert_common *c, es_error *err);

/* COCO panoptic predictions (segments_info may carry score; default 1.0). */
int es_convert_panoptic_pred(const char *json_path, const char *png_dir, const char *gt_db,
                             const char *out_db, const es_convert_common *c, es_error *err);

/* A directory of id maps (8/16-bit PNG, 8/16/32-bit TIFF; 0 = void), one image per file.
 * scores_json == NULL: ground truth. Otherwise predictions: scores_json gives one score per
 * id ({"<image name>": {"<id>": score}}), images matched by name against gt_db. */
int es_convert_label_maps(const char *dir, const char *scores_json, const char *gt_db, const char *out_db,
                          const es_convert_common *c, es_error *err);

/* ADE20K: the panoptic layout of the usual preparation (categories 0..149; a stuff segment
 * left without pixels is no entity, stale declared areas kept), or the raw
 * ADEChallengeData2016 layout under root (annotations/<split>, annotations_instance/<split>). */
int es_convert_ade20k_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                               const es_convert_common *c, es_error *err);
int es_convert_ade20k_raw(const char *root, const char *split, const char *out_db, const es_convert_common *c,
                          es_error *err);

/* Cityscapes: cityscapes_panoptic_*.json + PNGs, or raw gtFine/<split>/<city>/<name>_gtFine_instanceIds.png. */
int es_convert_cityscapes_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                                   const es_convert_common *c, es_error *err);
int es_convert_cityscapes_raw(const char *root, const char *split, const char *out_db, const es_convert_common *c,
                              es_error *err);

/* ---- out of the store ---- */
typedef enum { ES_EXPORT_COCO_PANOPTIC = 0, ES_EXPORT_COCO_INSTANCES = 1, ES_EXPORT_LABEL_MAPS = 2 } es_export_format;

typedef struct es_export_report {
    int64_t images, entities;
    int64_t crowd_left_out; /* label maps: crowd regions have no place in an id map */
} es_export_report;

/* Writes store db in an outside format (see docs/formats.md):
 *  coco-panoptic: out = the JSON, PNGs into png_dir (NULL: out without its extension);
 *  coco-instances: out = the JSON (GT: images/annotations/categories; predictions: results list);
 *  label-maps: out = a directory of id maps (+ scores.json for predictions).
 * The JSON is written under a temporary name and moved into place on success. */
int es_export(es_export_format format, const char *db, const char *out, const char *png_dir, int replace,
              es_export_report *rep, es_error *err);

/* Concatenates stores of one kind (images must have distinct names) into out_db. */
int es_store_merge(const char *const *dbs, size_t n, const char *out_db, const es_convert_common *c, es_error *err);

/* Splits db by image: the images named in list_file (one name per line), or a seeded random
 * fraction `ratio` of them, go to first_db, the rest to rest_db (NULL: not written). */
int es_store_split(const char *db, double ratio, unsigned seed, const char *list_file, const char *first_db,
                   const char *rest_db, const es_convert_common *c, es_error *err);

#endif
