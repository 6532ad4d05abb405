/* store_open.c: the life of an es_store: create (under a temporary name, one transaction),
 * finish (commit, sync, move into place), open, close, explicit transactions, store-level
 * facts and meta, and the statement cache the other store_*.c files share.
 *
 * PRAGMA choices (deliberate, see docs/store-format.md):
 *  - created stores are private temporary files until finish, so durability during the
 *    build buys nothing: journal_mode = MEMORY (rollback of a refused batch still works),
 *    synchronous = OFF, locking_mode = EXCLUSIVE, a 64 MiB page cache. finish() fsyncs the
 *    file before the rename and the directory after it, so what appears at path is whole.
 *  - opened stores keep SQLite's rollback journal and synchronous = FULL: an edit killed
 *    half-way is rolled back by the next open.
 *  - readers get a 64 MiB cache and memory-mapped I/O (256 MiB) for the scan path.
 */
#define _GNU_SOURCE /* link, fsync, O_DIRECTORY */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_IMAGE_INSERT] = "INSERT INTO images (name, width, height, source, split, path, "
                          "source_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_IMAGE_GET] = "SELECT " STORE_IMAGE_COLUMNS " FROM images WHERE id = ?1",
    [STMT_IMAGE_BY_NAME] = "SELECT id FROM images WHERE name = ?1",
    [STMT_IMAGE_BY_SOURCE_ID] = "SELECT id FROM images WHERE source_id = ?1 ORDER BY id LIMIT 1",
    [STMT_IMAGE_HAS_ENTITIES] = "SELECT 1 FROM entities WHERE image_id = ?1 LIMIT 1",
    [STMT_ENTITY_INSERT] =
        "INSERT INTO entities (image_id, mask, area, bbox_x, bbox_y, bbox_w, bbox_h, "
        "is_crowd, score, label_id, category_id, isthing, source_segment_id, declared_area, "
        "source_order) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [STMT_ENTITY_READ] = "SELECT " STORE_ENTITY_COLUMNS
                         " FROM entities WHERE image_id = ?1 ORDER BY source_order, id",
    [STMT_LABEL_EXISTS] = "SELECT 1 FROM labels WHERE id = ?1",
    [STMT_LABEL_BY_NAME] = "SELECT id FROM labels WHERE name = ?1",
    [STMT_LABEL_INSERT] = "INSERT INTO labels (name, parent_id) VALUES (?1, ?2)",
    [STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [STMT_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

static int status_of_sqlite(int rc) {
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return ES_ERR_FORMAT;
    case SQLITE_NOMEM: return ES_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG: return ES_ERR_INVALID;
    case SQLITE_ERROR: return ES_ERR_INTERNAL;
    default: return ES_ERR_IO; /* CANTOPEN, IOERR, FULL, BUSY, LOCKED, READONLY, PERM */
    }
}

int store_sql_error(es_store *s, int sqlite_rc, const char *what, es_error *err) {
    const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlite_rc);
    return es_error_set(err, status_of_sqlite(sqlite_rc), "%s: %s: %s",
                        s && s->path ? s->path : "store", what, msg);
}

int store_exec(es_store *s, const char *sql, es_error *err) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, sql, err);
    return ES_OK;
}

int store_stmt(es_store *s, store_stmt_id id, sqlite3_stmt **st, es_error *err) {
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            s->stmt[id] = NULL;
            return store_sql_error(s, rc, "preparing a query", err);
        }
    } else {
        sqlite3_reset(s->stmt[id]);
        sqlite3_clear_bindings(s->stmt[id]);
    }
    *st = s->stmt[id];
    return ES_OK;
}

int store_require_writable(es_store *s, es_error *err) {
    if (!s->writable)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: store is opened read-only; open it with ES_OPEN_WRITE to change it",
                            s->path);
    return ES_OK;
}

char *store_column_strdup(sqlite3_stmt *st, int col) {
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t) return NULL;
    return strdup((const char *)t);
}

int store_bind_text(sqlite3_stmt *st, int col, const char *text) {
    return text ? sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, col);
}

int store_bind_id(sqlite3_stmt *st, int col, int64_t id) {
    return id == ES_NONE ? sqlite3_bind_null(st, col) : sqlite3_bind_int64(st, col, id);
}

int64_t store_column_id(sqlite3_stmt *st, int col) {
    return sqlite3_column_type(st, col) == SQLITE_NULL ? ES_NONE : sqlite3_column_int64(st, col);
}

static void store_free(es_store *s) {
    if (!s) return;
    for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    if (s->db) sqlite3_close_v2(s->db);
    es_mask_codec_free(s->codec);
    store_dict_free_samples(s);
    free(s->path);
    free(s->tmp_path);
    free(s);
}

static int store_alloc(const char *path, es_store **out, es_error *err) {
    if (!path || !*path) return es_error_set(err, ES_ERR_INVALID, "store: no path given");
    es_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = es_mask_codec_create(&s->codec, err);
    if (rc) {
        store_free(s);
        return rc;
    }
    *out = s;
    return ES_OK;
}

static int open_db(es_store *s, const char *file, int flags, es_error *err) {
    int rc = sqlite3_open_v2(file, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "cannot open", err);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    return ES_OK;
}

/* A fresh file next to path (same directory, so the final rename is atomic). */
static int make_temp_file(es_store *s, es_error *err) {
    static atomic_uint counter;
    size_t len = strlen(s->path) + 64;
    s->tmp_path = malloc(len);
    if (!s->tmp_path) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(s->tmp_path, len, "%s.tmp-%ld-%u", s->path, (long)getpid(),
                 atomic_fetch_add(&counter, 1) + (unsigned)time(NULL) * 7919u);
        int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return ES_OK;
        }
        if (errno != EEXIST) {
            int e = errno;
            free(s->tmp_path);
            s->tmp_path = NULL;
            return es_error_set(err, ES_ERR_IO, "%s: cannot create a file beside it: %s",
                                s->path, strerror(e));
        }
    }
    free(s->tmp_path);
    s->tmp_path = NULL;
    return es_error_set(err, ES_ERR_IO, "%s: cannot find a free temporary name", s->path);
}

static int meta_put(es_store *s, const char *key, const char *value, es_error *err) {
    sqlite3_stmt *st = NULL;
    ES_CHECK(store_stmt(s, STMT_META_SET, &st, err));
    store_bind_text(st, 1, key);
    store_bind_text(st, 2, value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "writing meta", err);
    return ES_OK;
}

int es_store_create(const char *path, const es_store_options *opt, es_store **out,
                    es_error *err) {
    static const es_store_options defaults = {ES_STORE_GT, 0, NULL, NULL, 0};
    if (!opt) opt = &defaults;
    *out = NULL;
    if (opt->kind != ES_STORE_GT && opt->kind != ES_STORE_PRED)
        return es_error_set(err, ES_ERR_INVALID, "%s: unknown store kind %d", path ? path : "",
                            (int)opt->kind);
    es_store *s = NULL;
    ES_CHECK(store_alloc(path, &s, err));
    struct stat st;
    if (!opt->replace && stat(path, &st) == 0) {
        store_free(s);
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: already exists; remove it or ask to replace it", path);
    }
    s->writable = 1;
    s->created = 1;
    s->replace = opt->replace;
    s->kind = opt->kind;
    s->overlapping_instances = opt->kind == ES_STORE_GT && opt->overlapping_instances;
    s->schema_version = ES_STORE_SCHEMA_VERSION;
    int rc = make_temp_file(s, err);
    if (!rc) rc = open_db(s, s->tmp_path, SQLITE_OPEN_READWRITE, err);
    if (!rc)
        rc = store_exec(s,
                        "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; "
                        "PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -65536; "
                        "PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = ON; BEGIN",
                        err);
    if (!rc) rc = store_schema_create(s, err);
    if (!rc) rc = meta_put(s, "format", "entseg-store", err);
    if (!rc) rc = meta_put(s, "kind", opt->kind == ES_STORE_GT ? "gt" : "pred", err);
    if (!rc) rc = meta_put(s, "overlapping_instances", s->overlapping_instances ? "1" : "0", err);
    if (!rc && opt->creator) rc = meta_put(s, "creator", opt->creator, err);
    if (!rc && opt->options) rc = meta_put(s, "options", opt->options, err);
    if (rc) {
        es_store_close(s);
        return rc;
    }
    *out = s;
    return ES_OK;
}

static int fsync_path(const char *path, int flags) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void fsync_parent_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(dir, ".");
    fsync_path(dir, O_RDONLY | O_DIRECTORY); /* best effort: some filesystems refuse it */
    free(dir);
}

/* Moves the finished file into place: rename when replacing, else link + unlink, which
 * fails instead of overwriting a file that appeared at path meanwhile. */
static int move_into_place(es_store *s, es_error *err) {
    if (s->replace) {
        if (rename(s->tmp_path, s->path) != 0)
            return es_error_set(err, ES_ERR_IO, "%s: cannot move the new store into place: %s",
                                s->path, strerror(errno));
        return ES_OK;
    }
    if (link(s->tmp_path, s->path) == 0) {
        unlink(s->tmp_path);
        return ES_OK;
    }
    if (errno == EEXIST)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: a file appeared there while the store was built; not replaced",
                            s->path);
    /* filesystems without hard links: check, then rename */
    struct stat st;
    if (stat(s->path, &st) == 0)
        return es_error_set(err, ES_ERR_INVALID, "%s: already exists; not replaced", s->path);
    if (rename(s->tmp_path, s->path) != 0)
        return es_error_set(err, ES_ERR_IO, "%s: cannot move the new store into place: %s",
                            s->path, strerror(errno));
    return ES_OK;
}

int es_store_finish(es_store *s, es_error *err) {
    if (!s) return es_error_set(err, ES_ERR_INVALID, "es_store_finish: no store");
    if (!s->created) {
        int rc = es_error_set(err, ES_ERR_INVALID,
                              "%s: finish is for created stores; use es_store_commit", s->path);
        es_store_close(s);
        return rc;
    }
    int rc = ES_OK;
    if (s->in_user_txn) rc = store_exec(s, "RELEASE es_user", err);
    s->in_user_txn = 0;
    if (!rc) rc = store_dict_finish(s, err);
    if (!rc) rc = store_exec(s, "COMMIT", err);
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
    if (!rc) {
        int crc = sqlite3_close(s->db);
        if (crc != SQLITE_OK) rc = store_sql_error(s, crc, "closing", err);
        else s->db = NULL;
    }
    if (!rc && fsync_path(s->tmp_path, O_RDONLY) != 0)
        rc = es_error_set(err, ES_ERR_IO, "%s: cannot sync the new store: %s", s->path,
                          strerror(errno));
    if (!rc) rc = move_into_place(s, err);
    if (!rc) {
        fsync_parent_dir(s->path);
        free(s->tmp_path);
        s->tmp_path = NULL;
        s->created = 0;
    }
    es_store_close(s);
    return rc;
}

static int needs_rollback(es_store *s) {
    int rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    return rc == SQLITE_READONLY_ROLLBACK;
}

static int roll_back_hot_journal(es_store *s, es_error *err) {
    sqlite3 *db;
    int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    sqlite3_close_v2(db);
    if (rc != SQLITE_OK)
        return es_error_set(err, ES_ERR_IO,
                            "%s: a writer was interrupted and its journal cannot be rolled back "
                            "(%s): open the store with write permission once",
                            s->path, sqlite3_errstr(rc));
    return ES_OK;
}

int es_store_open(const char *path, int mode, es_store **out, es_error *err) {
    *out = NULL;
    es_store *s = NULL;
    ES_CHECK(store_alloc(path, &s, err));
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        store_free(s);
        return es_error_set(err, ES_ERR_IO, "%s: cannot open store: %s", path, strerror(e));
    }
    s->writable = mode == ES_OPEN_WRITE;
    int rc = open_db(s, path, s->writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, err);
    if (!rc && !s->writable && needs_rollback(s)) {
        /* a writer was killed mid-transaction: its hot journal must be rolled back, which
         * a read-only handle cannot do; a short read-write open does it, then read on */
        sqlite3_close_v2(s->db);
        s->db = NULL;
        rc = roll_back_hot_journal(s, err);
        if (!rc) rc = open_db(s, path, SQLITE_OPEN_READONLY, err);
    }
    if (!rc) rc = store_schema_check(s, err); /* first: it names a file that is not a store */
    if (!rc) rc = store_dict_load(s, err);
    if (!rc)
        rc = store_exec(s,
                        s->writable ? "PRAGMA cache_size = -65536; PRAGMA foreign_keys = ON"
                                    : "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456",
                        err);
    if (rc) {
        store_free(s);
        return rc;
    }
    *out = s;
    return ES_OK;
}

void es_store_close(es_store *s) {
    if (!s) return;
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
    if (s->db) {
        sqlite3_close_v2(s->db); /* rolls back anything not committed */
        s->db = NULL;
    }
    if (s->created && s->tmp_path) unlink(s->tmp_path);
    store_free(s);
}

int es_store_begin(es_store *s, es_error *err) {
    if (s->in_user_txn)
        return es_error_set(err, ES_ERR_INVALID, "%s: a transaction is already open", s->path);
    const char *sql = s->created ? "SAVEPOINT es_user" : s->writable ? "BEGIN IMMEDIATE" : "BEGIN";
    ES_CHECK(store_exec(s, sql, err));
    s->in_user_txn = 1;
    return ES_OK;
}

int es_store_commit(es_store *s, es_error *err) {
    if (!s->in_user_txn)
        return es_error_set(err, ES_ERR_INVALID, "%s: commit without begin", s->path);
    ES_CHECK(store_exec(s, s->created ? "RELEASE es_user" : "COMMIT", err));
    s->in_user_txn = 0;
    return ES_OK;
}

void es_store_rollback(es_store *s) {
    if (!s || !s->in_user_txn) return;
    for (int i = 0; i < STMT_COUNT; i++)
        if (s->stmt[i]) sqlite3_reset(s->stmt[i]);
    sqlite3_exec(s->db, s->created ? "ROLLBACK TO es_user; RELEASE es_user" : "ROLLBACK", NULL,
                 NULL, NULL);
    s->in_user_txn = 0;
    store_set_image_size(s, 0, 0, 0); /* image ids may be reused */
}

es_store_kind es_store_get_kind(const es_store *s) { return s->kind; }
int es_store_overlapping_instances(const es_store *s) { return s->overlapping_instances; }
int es_store_schema_version(const es_store *s) { return s->schema_version; }
int es_store_schema_version_current(void) { return ES_STORE_SCHEMA_VERSION; }
const char *es_store_path(const es_store *s) { return s->path; }
void *es_store_sqlite(es_store *s) { return s->db; }

int es_store_meta_set(es_store *s, const char *key, const char *value, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    if (!key) return es_error_set(err, ES_ERR_INVALID, "%s: meta key is NULL", s->path);
    if (!strcmp(key, "format") || !strcmp(key, "kind") || !strcmp(key, "overlapping_instances"))
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: meta key '%s' is fixed when the store is created", s->path, key);
    return meta_put(s, key, value, err);
}

int es_store_meta_get(es_store *s, const char *key, char **value, es_error *err) {
    *value = NULL;
    sqlite3_stmt *st = NULL;
    ES_CHECK(store_stmt(s, STMT_META_GET, &st, err));
    store_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL && !(*value = store_column_strdup(st, 0))) {
            sqlite3_reset(st);
            return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
        }
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "reading meta", err);
    return ES_OK;
}
