/* evaluate/eval_load.h: turning store entities into an es_eval_image (eval_load.c).
 * The masks are moved out of the entities (their mask fields become empty); the image's
 * name, size and ids must be set by the caller first. On error the image holds what was
 * moved so far and es_eval_image_clear releases it. */
#ifndef ENTSEG_EVAL_LOAD_H
#define ENTSEG_EVAL_LOAD_H

#include "entseg/store.h"
#include "eval_internal.h"

typedef struct es_eval_load_opts {
    es_area_source area_source;
    int compat_entity;
} es_eval_load_opts;

int es_eval_load_gt(es_eval_image *img, es_entity *ents, size_t n, const es_eval_load_opts *o,
                    es_error *err);
/* from_gt_store: predictions taken from a ground-truth store (score 1.0, crowd skipped). */
int es_eval_load_pred(es_eval_image *img, es_entity *ents, size_t n, int from_gt_store,
                      es_error *err);

#endif
