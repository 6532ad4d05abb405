/* annotate/history.h: the edit history of a store and undo, in tables annotate owns
 * (created on first use; older readers ignore them):
 *
 *   annotate_history (id, time, command, kind, image_id, undone)
 *     one row per edit; kind 'image' = a mask edit of image_id, 'labels' = label or
 *     vocabulary edits;
 *   annotate_history_entities (history_id, <every column of entities>)
 *     kind 'image': the image's entity rows as they were before the edit;
 *   annotate_history_entity_labels (history_id, entity_id, label_id)
 *     kind 'labels': entity labels before the edit;
 *   annotate_history_labels (history_id, <every column of labels>)
 *     kind 'labels' with a vocabulary change: the whole vocabulary before it.
 *
 * An edit runs as: es_history_begin (opens the transaction, adds the row), the snapshot
 * calls for what it will change, the change, es_history_commit (or es_history_abort,
 * which rolls everything back: the store is untouched). es_history_undo restores the
 * newest edit not yet undone, in one transaction, and marks it undone.
 */
#ifndef ENTSEG_ANNOTATE_HISTORY_H
#define ENTSEG_ANNOTATE_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "entseg/error.h"
#include "entseg/store.h"

/* Starts a transaction and records command (the command line, for `history`). */
int es_history_begin(es_store *s, const char *command, const char *kind, int64_t image_id,
                     int64_t *history_id, es_error *err);
/* Saves every entity row of image_id (kind 'image'). */
int es_history_save_image(es_store *s, int64_t history_id, int64_t image_id, es_error *err);
/* Saves one entity's label (kind 'labels'); saving the same entity twice keeps the first. */
int es_history_save_entity_label(es_store *s, int64_t history_id, int64_t entity_id,
                                 es_error *err);
/* Saves the labels of every entity whose label_id is label_id. */
int es_history_save_labelled(es_store *s, int64_t history_id, int64_t label_id, es_error *err);
/* Saves the whole vocabulary (before renames, merges, parents, imports). */
int es_history_save_vocabulary(es_store *s, int64_t history_id, es_error *err);
int es_history_commit(es_store *s, es_error *err);
void es_history_abort(es_store *s);

/* Undoes the newest edit not undone; *history_id gets its id (ES_NONE: nothing to undo,
 * not an error) and *command its command (malloc'ed, may be NULL). */
int es_history_undo(es_store *s, int64_t *history_id, char **command, es_error *err);
/* Writes the history, newest first, one line per edit, at most limit lines (0: all). */
int es_history_print(es_store *s, FILE *f, size_t limit, es_error *err);

#endif
