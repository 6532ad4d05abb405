/* evaluate/onthefly.h: `entseg-eval results.json gt.json`: COCO JSON inputs are converted
 * into temporary stores (convert/convert.h), then scored as stores, so both routes give the
 * same numbers. Ground truth: COCO panoptic when a PNG folder is given (--png-dir) or sits
 * beside the JSON under its name (COCO layout: panoptic_val2017.json + panoptic_val2017/),
 * else COCO instances (overlapping instances kept: mask AP semantics, PQ skipped).
 * Predictions: a COCO results list. Inputs that are stores pass through unchanged.
 *
 * Ownership: es_onthefly owns the temporary folder; es_onthefly_cleanup removes it (safe
 * on a zeroed struct). */
#ifndef ENTSEG_EVAL_ONTHEFLY_H
#define ENTSEG_EVAL_ONTHEFLY_H

#include "entseg/error.h"

typedef struct es_onthefly {
    char *dir;        /* temporary folder, or NULL */
    char *gt_db, *pred_db;
} es_onthefly;

int es_onthefly_prepare(es_onthefly *o, const char *pred, const char *gt, const char *png_dir,
                        int threads, const char **pred_db, const char **gt_db, es_error *err);
void es_onthefly_cleanup(es_onthefly *o);

#endif
