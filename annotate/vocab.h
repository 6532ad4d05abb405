/* annotate/vocab.h: entity labels and the open label vocabulary (EntitySeg's second
 * annotation stage): set labels one by one or in bulk, list the vocabulary with counts,
 * rename, merge (relabels every entity), reparent, export and import as JSON.
 *
 * Every call that writes is one transaction recorded in the edit history (history.h) and
 * undoable; on any error nothing is written. The special labels unknown, blurred and
 * supercategory_other always exist: they cannot be renamed or merged away.
 *
 * Label names: 1..ES_LABEL_NAME_MAX bytes of valid UTF-8, no control characters, no
 * leading or trailing white space (es_label_name_check).
 *
 * Images are named by store id or by name (es_resolve_image). Ownership: es_vocab_list
 * fills an array released with es_vocab_entries_free.
 */
#ifndef ENTSEG_ANNOTATE_VOCAB_H
#define ENTSEG_ANNOTATE_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/store.h"

#define ES_LABEL_NAME_MAX 128

int es_label_name_check(const char *name, es_error *err);
int es_label_is_special(const char *name);
/* The name of label id in labels[0..n) (as es_store_labels gives them); NULL for ES_NONE or
 * an id not there. */
const char *es_label_name_of(const es_label *labels, size_t n, int64_t id);

/* "12" -> image 12 if it exists, else the image named "12"; ES_ERR_INVALID when neither. */
int es_resolve_image(es_store *s, const char *text, int64_t *image_id, es_error *err);

/* Sets entity_id's label to name (created as a root when new); the entity must belong to
 * image_id. command is recorded in the history. */
int es_vocab_label_entity(es_store *s, int64_t image_id, int64_t entity_id, const char *name,
                          const char *command, es_error *err);
/* Bulk labels from a CSV (header image,entity,label; image by id or name; fields may be
 * "quoted") or a JSON array of {"image": id|name, "entity": id, "label": name}. All or
 * nothing: one bad row (named by line / index) writes nothing. *n gets the rows applied. */
int es_vocab_label_file(es_store *s, const char *path, const char *command, size_t *n,
                        es_error *err);

typedef struct es_vocab_entry {
    int64_t id;
    char *name;
    int64_t parent_id;   /* ES_NONE for a root */
    uint64_t count;      /* entities with this label */
} es_vocab_entry;
int es_vocab_list(es_store *s, es_vocab_entry **out, size_t *n, es_error *err);
void es_vocab_entries_free(es_vocab_entry *e, size_t n);
/* The id of a label name, ES_NONE when absent. */
int es_vocab_find(es_store *s, const char *name, int64_t *id, es_error *err);

int es_vocab_rename(es_store *s, const char *old_name, const char *new_name, const char *command,
                    es_error *err);
/* Relabels every entity labelled a as b, moves a's children under b, removes a. */
int es_vocab_merge(es_store *s, const char *a, const char *b, const char *command, es_error *err);
/* parent NULL or "" makes child a root; refuses cycles. */
int es_vocab_set_parent(es_store *s, const char *child, const char *parent, const char *command,
                        es_error *err);
/* {"labels": [{"name": ..., "parent": name|null, "count": n}, ...]} in id order. */
int es_vocab_export(es_store *s, const char *path, es_error *err);
/* Adds the file's labels that are missing and sets every listed parent (created when
 * missing); labels not in the file are kept. *added gets the number of new labels. */
int es_vocab_import(es_store *s, const char *path, const char *command, size_t *added,
                    es_error *err);

#endif
