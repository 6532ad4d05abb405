/* annotate/edit.h: mask edits of one image of a ground-truth store that keep the
 * non-overlap invariant: merge, split, delete, fill void pixels, paint.
 *
 * Each call is one transaction recorded in the edit history (history.h, kind 'image':
 * the image's entity rows before the edit) and undoable with es_history_undo. Any error
 * (unknown image or entity, a crowd region named as an entity, a PNG of the wrong size,
 * an edit that would make entities overlap, ...) leaves the store untouched and is
 * described in one line.
 *
 * Connectivity: 8-connected (diagonal neighbours touch), as the shape statistics and
 * OpenCV's border following see a component.
 *
 * Crowd / ignore rows are never changed and may overlap anything, as the store allows.
 * Stores of predictions or of overlapping instances are refused (ES_ERR_INVALID): their
 * pixels have no single owner.
 */
#ifndef ENTSEG_ANNOTATE_EDIT_H
#define ENTSEG_ANNOTATE_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/store.h"

/* A region of an image: a mask PNG (non-zero pixels; gray, gray+alpha uses gray, RGB(A)
 * any channel) of the image's size, or a rectangle inside the image. */
typedef struct es_region {
    const char *png;          /* NULL: use the rectangle */
    uint32_t x, y, w, h;      /* rectangle, when png is NULL */
} es_region;

/* What an edit did, for the CLI's one-line summary. */
typedef struct es_edit_result {
    int64_t history_id;
    int64_t entity_id;        /* the entity that received pixels (merge, fill, paint, split: kept) */
    size_t n_new;             /* entities created */
    int64_t first_new_id;     /* ids of new entities are first_new_id .. (ascending) */
    size_t n_deleted;         /* entities removed (emptied or merged away) */
    size_t n_changed;         /* entities whose mask changed */
    uint64_t pixels;          /* pixels moved */
} es_edit_result;

/* Merges entities ids[0..n) (n >= 2, one image) into ids[0], which keeps its id, label
 * and provenance. */
int es_edit_merge(es_store *s, const int64_t *ids, size_t n, const char *command,
                  es_edit_result *res, es_error *err);
/* Splits an entity into its 8-connected components: the largest (first in raster order
 * on ties) keeps the id; the others become new entities with its label and category.
 * An entity of one component is an error (nothing to split). */
int es_edit_split(es_store *s, int64_t entity_id, const char *command, es_edit_result *res,
                  es_error *err);
/* Deletes an entity; its pixels become void. */
int es_edit_delete(es_store *s, int64_t entity_id, const char *command, es_edit_result *res,
                   es_error *err);
/* Gives the region's void pixels to target (which must touch them, 8-connected), or to a
 * new entity when target is ES_NONE (labelled label when not NULL). The region must not
 * cover other entities' pixels (ES_ERR_OVERLAP) unless void_only, which keeps just its
 * void pixels. */
int es_edit_fill(es_store *s, int64_t image_id, const es_region *r, int64_t target,
                 const char *label, int void_only, const char *command, es_edit_result *res,
                 es_error *err);
/* Paints the region into target (or a new entity when ES_NONE), taking the pixels from
 * whichever entities held them; entities left empty are deleted. */
int es_edit_paint(es_store *s, int64_t image_id, const es_region *r, int64_t target,
                  const char *label, const char *command, es_edit_result *res, es_error *err);
/* Paints a label-map PNG (gray ids, or RGB as R + 256 G + 65536 B) of the image's size:
 * each non-zero value is an entity id of this image that receives those pixels; 0 keeps
 * a pixel as it is. */
int es_edit_paint_labelmap(es_store *s, int64_t image_id, const char *png, const char *command,
                           es_edit_result *res, es_error *err);

#endif
