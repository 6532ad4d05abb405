/* entseg/store.h: the entity store, one SQLite file per dataset or prediction set.
 *
 * A store holds images, their entities (masks as zstd-compressed COCO RLE blobs, see
 * docs/store-format.md), source categories, an open label vocabulary and meta (kind,
 * creator, options). The SQL schema is schemas/store.sql, compiled in and versioned with
 * PRAGMA user_version; older stores are migrated forward on open for writing, newer ones
 * are refused (ES_ERR_SCHEMA).
 *
 * Invariants enforced on every write (violations return an error and write nothing):
 *  - an entity's mask has the size of its image;
 *  - area and bbox are computed from the mask (callers need not fill them; if a caller
 *    fills a non-zero area that disagrees, the write is refused);
 *  - in a ground-truth store, non-crowd entities of one image never overlap, unless the
 *    store was created with overlapping_instances = 1 (plain instance GT for mask AP; its
 *    meta says so). Crowd / ignore regions may overlap anything.
 *  - prediction scores are finite.
 *
 * Transactions: a created store is built under a temporary name next to its path and
 * appears at path only on es_store_finish(); es_store_close() without finish discards it.
 * Edits to an opened store go through es_store_begin/commit/rollback; a killed writer
 * leaves the file as it was (SQLite journal).
 *
 * Ownership: es_store is opaque, created by es_store_create/es_store_open, released by
 * es_store_close (accepts NULL). Arrays returned by es_store_images/read_entities/... are
 * owned by the caller and released with the matching *_free function (accepts NULL).
 * Strings passed in are copied. One es_store must be used by one thread at a time; open
 * one handle per thread for parallel reads.
 */
#ifndef ENTSEG_STORE_H
#define ENTSEG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

typedef struct es_store es_store;

typedef enum es_store_kind {
    ES_STORE_GT = 0,   /* ground truth (an annotation of images) */
    ES_STORE_PRED = 1  /* predictions: entities carry scores, may overlap */
} es_store_kind;

/* -1 in an int64_t id field of this API means "none". */
#define ES_NONE (-1)

typedef struct es_image {
    int64_t id;          /* store id, assigned on insert (1, 2, ...) */
    char *name;          /* unique within the store, e.g. "000000142238" */
    uint32_t width, height;
    char *source;        /* source dataset, e.g. "coco", "ade20k", "synth"; may be NULL */
    char *split;         /* e.g. "train", "val"; may be NULL */
    char *path;          /* image file path (for training / rendering); may be NULL */
    int64_t source_id;   /* the source's image id (COCO image_id); ES_NONE if none */
} es_image;

typedef struct es_entity {
    int64_t id;              /* store id, assigned on insert */
    int64_t image_id;        /* store id of its image */
    es_rle mask;             /* h x w of the image */
    uint64_t area;           /* pixel count (computed on insert) */
    double bbox[4];          /* x, y, w, h as pycocotools toBbox (computed on insert) */
    int is_crowd;            /* 1: crowd / ignore region, not an entity */
    double score;            /* predictions: confidence; ground truth: 1.0 */
    int64_t label_id;        /* vocabulary label id, ES_NONE if unlabelled */
    /* provenance */
    int64_t category_id;     /* source category id (0 is valid: ADE20K), ES_NONE if none */
    int isthing;             /* 1 thing, 0 stuff, -1 unknown */
    int64_t source_segment_id; /* segment / annotation id in the source, ES_NONE if none */
    double declared_area;    /* the source's declared area, NaN when it gave none */
    int64_t source_order;    /* position in the source's list for this image */
} es_entity;

/* An es_entity with every optional field at "none" and an empty mask. Its source_order is
 * ES_NONE, which es_store_add_entities writes as the entity's index in its batch. */
es_entity es_entity_default(void);

typedef struct es_category {
    int64_t id;          /* source category id */
    char *name;
    char *supercategory; /* may be NULL */
    int isthing;         /* 1 thing, 0 stuff, -1 unknown */
} es_category;

typedef struct es_label {
    int64_t id;
    char *name;
    int64_t parent_id;   /* ES_NONE for a root */
} es_label;

typedef struct es_store_options {
    es_store_kind kind;
    int overlapping_instances; /* GT only: allow overlapping non-crowd entities */
    const char *creator;       /* e.g. "entseg-convert coco-panoptic 0.1"; may be NULL */
    const char *options;       /* free text / JSON of the options used; may be NULL */
    int replace;               /* 1: an existing file at path is replaced on finish */
} es_store_options;

/* Lifetime. */
int es_store_create(const char *path, const es_store_options *opt, es_store **out, es_error *err);
int es_store_finish(es_store *s, es_error *err); /* commit, close, move into place; frees s */
#define ES_OPEN_READ 0
#define ES_OPEN_WRITE 1
int es_store_open(const char *path, int mode, es_store **out, es_error *err);
void es_store_close(es_store *s);

/* Explicit transactions on an opened store (a created store is one transaction already). */
int es_store_begin(es_store *s, es_error *err);
int es_store_commit(es_store *s, es_error *err);
void es_store_rollback(es_store *s);

/* Store-level facts. */
es_store_kind es_store_get_kind(const es_store *s);
int es_store_overlapping_instances(const es_store *s);
int es_store_schema_version(const es_store *s);   /* PRAGMA user_version of the file */
int es_store_schema_version_current(void);        /* what this build writes */
const char *es_store_path(const es_store *s);

/* Meta key/value. get sets *value to a malloc'ed copy, or NULL when the key is absent. */
int es_store_meta_set(es_store *s, const char *key, const char *value, es_error *err);
int es_store_meta_get(es_store *s, const char *key, char **value, es_error *err);

/* Images. add assigns img->id; names must be unique; width, height > 0. */
int es_store_add_image(es_store *s, es_image *img, es_error *err);
int64_t es_store_image_count(es_store *s);
int es_store_images(es_store *s, es_image **out, size_t *n, es_error *err); /* by id */
int es_store_get_image(es_store *s, int64_t image_id, es_image *out, es_error *err);
/* Lookups: *image_id = ES_NONE when not found (not an error). */
int es_store_find_image_by_name(es_store *s, const char *name, int64_t *image_id, es_error *err);
int es_store_find_image_by_source_id(es_store *s, int64_t source_id, int64_t *image_id,
                                     es_error *err);
void es_image_clear(es_image *img);
void es_images_free(es_image *imgs, size_t n);

/* Entities. All entities of one image are written together (the non-overlap check needs
 * them all): es_store_add_entities assigns ids, area and bbox in ents[] and refuses the
 * whole batch on any violation. Calling it twice for one image is an error. */
int es_store_add_entities(es_store *s, int64_t image_id, es_entity *ents, size_t n, es_error *err);
/* Entities of one image ordered by source_order, then id. */
int es_store_read_entities(es_store *s, int64_t image_id, es_entity **out, size_t *n, es_error *err);
int64_t es_store_entity_count(es_store *s);
void es_entities_free(es_entity *ents, size_t n);

/* Streams every image with image id in [first, last] (ES_NONE for open ends), in id order,
 * with its entities (ordered as es_store_read_entities). The callback's arrays are valid
 * during the call only (it may move a mask out by replacing it with ES_RLE_EMPTY). A
 * non-zero return from the callback stops the scan and is returned. With
 * ES_SCAN_NO_MASKS the masks are left empty (no blob is decoded). */
#define ES_SCAN_NO_MASKS 1
typedef int (*es_scan_fn)(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err);
int es_store_scan(es_store *s, int64_t first, int64_t last, int flags, es_scan_fn fn, void *ctx,
                  es_error *err);

/* Categories (source categories, e.g. COCO's 133 panoptic classes). */
int es_store_add_category(es_store *s, const es_category *c, es_error *err);
int es_store_categories(es_store *s, es_category **out, size_t *n, es_error *err); /* by id */
void es_categories_free(es_category *c, size_t n);

/* Label vocabulary. Special labels "unknown", "blurred", "supercategory_other" always
 * exist. get_or_create returns the id of name, creating it under parent_id if new. */
int es_store_label_get_or_create(es_store *s, const char *name, int64_t parent_id, int64_t *id,
                                 es_error *err);
int es_store_labels(es_store *s, es_label **out, size_t *n, es_error *err); /* by id */
void es_labels_free(es_label *l, size_t n);

/* Bytes of compressed mask data (blobs) in the store. */
int64_t es_store_mask_bytes(es_store *s);

/* The raw SQLite handle, for components (annotate) that add their own tables/queries.
 * Returned as void* so this header does not need sqlite3.h. */
void *es_store_sqlite(es_store *s);

#endif
