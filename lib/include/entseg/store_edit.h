/* entseg/store_edit.h: single-entity edits on an opened, writable store (used by
 * entseg-annotate's labels and mask edits).
 *
 * These calls change one row each and check only that row (sizes, ids, the mask's area and
 * bbox are recomputed); the non-overlap invariant involves the whole image, so a caller
 * editing a ground-truth store runs its edits inside es_store_begin / es_store_commit and
 * calls es_store_check_image_overlap before committing (rollback on error). Unknown ids
 * give ES_ERR_INVALID naming the id.
 *
 * Ownership: es_store_get_entity fills a caller-owned es_entity whose mask the caller
 * frees with es_rle_free. Masks passed in are copied (encoded), never modified.
 */
#ifndef ENTSEG_STORE_EDIT_H
#define ENTSEG_STORE_EDIT_H

#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"
#include "entseg/store.h"

/* One entity by id, with its mask. */
int es_store_get_entity(es_store *s, int64_t entity_id, es_entity *out, es_error *err);
/* The image an entity belongs to, without reading its mask. */
int es_store_entity_image(es_store *s, int64_t entity_id, int64_t *image_id, es_error *err);
/* Replaces an entity's mask (must have its image's size and at least one pixel); area and
 * bbox follow. */
int es_store_update_entity_mask(es_store *s, int64_t entity_id, const es_rle *mask,
                                es_error *err);
/* Adds one entity to an image that may already have entities. Assigns e->id, e->area,
 * e->bbox; e->source_order < 0 means "after the image's last entity". */
int es_store_insert_entity(es_store *s, int64_t image_id, es_entity *e, es_error *err);
/* Removes one entity (its pixels become void). */
int es_store_delete_entity(es_store *s, int64_t entity_id, es_error *err);
/* Sets (label_id >= 1) or clears (ES_NONE) an entity's vocabulary label. */
int es_store_set_entity_label(es_store *s, int64_t entity_id, int64_t label_id, es_error *err);
/* ES_ERR_OVERLAP naming the first two non-crowd entities of image_id that share a pixel;
 * ES_OK for prediction stores and stores created with overlapping_instances. */
int es_store_check_image_overlap(es_store *s, int64_t image_id, es_error *err);

#endif
