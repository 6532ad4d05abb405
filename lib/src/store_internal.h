/* store_internal.h: what the store_*.c files share: the es_store struct, its cache of
 * prepared statements, and small SQLite helpers that turn SQLite errors into es_error. */
#ifndef ENTSEG_STORE_INTERNAL_H
#define ENTSEG_STORE_INTERNAL_H

#include <sqlite3.h>

#include "entseg/store.h"
#include "mask_blob.h"

/* The schema text compiled in from schemas/store.sql by lib/CMakeLists.txt. */
extern const char entseg_schema_sql[];

/* PRAGMA application_id of every entseg store: "ESTR". */
#define ES_STORE_APPLICATION_ID 0x45535452
/* The schema version this build writes (PRAGMA user_version). */
#define ES_STORE_SCHEMA_VERSION 2

/* Cached prepared statements, prepared on first use. */
typedef enum store_stmt_id {
    STMT_IMAGE_INSERT,
    STMT_IMAGE_GET,
    STMT_IMAGE_BY_NAME,
    STMT_IMAGE_BY_SOURCE_ID,
    STMT_IMAGE_HAS_ENTITIES,
    STMT_ENTITY_INSERT,
    STMT_ENTITY_READ,
    STMT_LABEL_EXISTS,
    STMT_LABEL_BY_NAME,
    STMT_LABEL_INSERT,
    STMT_META_GET,
    STMT_META_SET,
    STMT_COUNT
} store_stmt_id;

struct es_store {
    sqlite3 *db;
    char *path;          /* the path the user named */
    char *tmp_path;      /* created stores: the file being built, renamed on finish */
    int writable;
    int created;         /* 1: built by es_store_create, one open transaction */
    int replace;
    int in_user_txn;     /* es_store_begin was called */
    es_store_kind kind;
    int overlapping_instances;
    int schema_version;
    es_mask_codec *codec;
    sqlite3_stmt *stmt[STMT_COUNT];
    /* the size of the last image whose masks were decoded (blobs do not repeat it) */
    int64_t size_image_id;
    uint32_t size_h, size_w;
    /* created stores: payloads of the first masks, to train the store's dictionary */
    int dict_settled;       /* 1: a dictionary is in use, or training is over */
    int64_t dict_last_plain_id; /* entities up to this id were written without it */
    uint8_t *dict_samples;
    size_t *dict_sample_sizes;
    size_t dict_nsamples, dict_samples_bytes, dict_samples_cap;
};

/* Dictionary (store_dict.c). Thresholds: a created store trains once this many masks (or
 * bytes of payload) were written; a smaller one tries at es_store_finish. */
#define STORE_DICT_TRAIN_MASKS 2000
#define STORE_DICT_TRAIN_BYTES (4u << 20)
/* Stores that finish with fewer masks than this never try a dictionary. */
#define STORE_DICT_MIN_MASKS 100
/* Loads the newest dictionary of an opened store into its codec. */
int store_dict_load(es_store *s, es_error *err);
/* Keeps the payload of the mask just encoded as a training sample (created stores). */
void store_dict_collect(es_store *s);
/* Trains and stores the dictionary once enough samples are in; a failed training only
 * means no dictionary. */
int store_dict_maybe_train(es_store *s, es_error *err);
/* At es_store_finish: trains a dictionary for a store that stayed below the threshold
 * (when it pays), and re-encodes the masks written before the dictionary existed. */
int store_dict_finish(es_store *s, es_error *err);
/* Bytes of the dictionaries (counted in es_store_mask_bytes). */
int64_t store_dict_bytes(es_store *s);
void store_dict_free_samples(es_store *s);

/* Prepares (once) and resets statement id into *st. */
int store_stmt(es_store *s, store_stmt_id id, sqlite3_stmt **st, es_error *err);
/* Records the SQLite error of the handle as "<path>: <what>: <sqlite message>" with the
 * es_status that fits sqlite_rc; returns that status. */
int store_sql_error(es_store *s, int sqlite_rc, const char *what, es_error *err);
/* Runs SQL text without results. */
int store_exec(es_store *s, const char *sql, es_error *err);
/* Refuses writes on a store opened for reading. */
int store_require_writable(es_store *s, es_error *err);

/* Sets *exists to whether label label_id is in the vocabulary (store_vocab.c). A SQLite
 * error is recorded as "<path>: <what>: <sqlite message>". */
int store_label_exists(es_store *s, int64_t label_id, const char *what, int *exists,
                       es_error *err);

/* Schema and migrations (store_migrate.c). */
int store_schema_create(es_store *s, es_error *err);
/* Checks identity and version; migrates forward when s->writable. */
int store_schema_check(es_store *s, es_error *err);

/* The size of an image (cached for the last image asked); masks are decoded at that size. */
int store_image_size(es_store *s, int64_t image_id, uint32_t *h, uint32_t *w, es_error *err);
void store_set_image_size(es_store *s, int64_t image_id, uint32_t h, uint32_t w);

/* Returns a malloc'ed copy of a column's text, NULL for SQL NULL. */
char *store_column_strdup(sqlite3_stmt *st, int col);
/* Binds a nullable text / an int64 that is NULL when ES_NONE. */
int store_bind_text(sqlite3_stmt *st, int col, const char *text);
int store_bind_id(sqlite3_stmt *st, int col, int64_t id);
int64_t store_column_id(sqlite3_stmt *st, int col);

/* The image columns, in the order store_image_from_row reads them. */
#define STORE_IMAGE_COLUMNS "id, name, width, height, source, split, path, source_id"
/* Fills an es_image from the STORE_IMAGE_COLUMNS of the row; returns ES_ERR_NOMEM on
 * allocation failure. */
int store_image_from_row(sqlite3_stmt *st, es_image *img, es_error *err);
/* The entity columns but the mask, then all of them, in the order store_entity_from_row
 * reads them. */
#define STORE_ENTITY_COLUMNS_NO_MASK                                                     \
    "id, image_id, area, bbox_x, bbox_y, bbox_w, bbox_h, is_crowd, score, label_id, "    \
    "category_id, isthing, source_segment_id, declared_area, source_order"
#define STORE_ENTITY_COLUMNS STORE_ENTITY_COLUMNS_NO_MASK ", mask"
/* Fills e from the STORE_ENTITY_COLUMNS of the row, the mask decoded; with no_mask the row
 * needs only the STORE_ENTITY_COLUMNS_NO_MASK and the mask is left empty. */
int store_entity_from_row(es_store *s, sqlite3_stmt *st, int no_mask, es_entity *e,
                          es_error *err);
/* Appends the row's entity to *ents (n used, cap allocated; grown by doubling). On error
 * *ents keeps the n entities read before, for the caller to free. */
int store_entity_append(es_store *s, sqlite3_stmt *st, int no_mask, es_entity **ents,
                        size_t *n, size_t *cap, es_error *err);

#endif
