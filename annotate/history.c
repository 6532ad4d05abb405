/* history.c: edit history and undo (see history.h). Snapshots copy whole rows with
 * INSERT ... SELECT, so restoring puts back the same ids, masks and labels byte for byte.
 * The snapshot tables are created as copies of the store's own columns (CREATE TABLE ...
 * AS SELECT ... WHERE 0), so they follow the schema of the store they live in. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"

static int sql_error(sqlite3 *db, const char *what, es_error *err) {
    return es_error_set(err, ES_ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, es_error *err) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return sql_error(db, "history", err);
    return ES_OK;
}

static int ensure_tables(sqlite3 *db, es_error *err) {
    return exec(db,
                "CREATE TABLE IF NOT EXISTS annotate_history (id INTEGER PRIMARY KEY, time TEXT, "
                "command TEXT, kind TEXT, image_id INTEGER, undone INTEGER NOT NULL DEFAULT 0);"
                "CREATE TABLE IF NOT EXISTS annotate_history_entities AS "
                "SELECT 0 AS history_id, * FROM entities WHERE 0;"
                "CREATE INDEX IF NOT EXISTS annotate_history_entities_by_edit "
                "ON annotate_history_entities (history_id);"
                "CREATE TABLE IF NOT EXISTS annotate_history_entity_labels (history_id INTEGER, "
                "entity_id INTEGER, label_id INTEGER, PRIMARY KEY (history_id, entity_id));"
                "CREATE TABLE IF NOT EXISTS annotate_history_labels AS "
                "SELECT 0 AS history_id, * FROM labels WHERE 0;",
                err);
}

/* Runs sql with up to two int64 parameters. */
static int run(sqlite3 *db, const char *sql, int64_t a, int64_t b, es_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return sql_error(db, "history", err);
    int np = sqlite3_bind_parameter_count(st);
    if (np >= 1) sqlite3_bind_int64(st, 1, a);
    if (np >= 2) sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sql_error(db, "history", err);
    return ES_OK;
}

int es_history_begin(es_store *s, const char *command, const char *kind, int64_t image_id,
                     int64_t *history_id, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    ES_CHECK(es_store_begin(s, err));
    int rc = ensure_tables(db, err);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO annotate_history (time, command, kind, image_id) "
                                      "VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
        rc = sql_error(db, "history", err);
    if (!rc) {
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        sqlite3_bind_text(st, 1, when, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, command, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
        if (image_id == ES_NONE) sqlite3_bind_null(st, 4);
        else sqlite3_bind_int64(st, 4, image_id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = sql_error(db, "history", err);
        *history_id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(st);
    if (rc) es_store_rollback(s);
    return rc;
}

int es_history_save_image(es_store *s, int64_t history_id, int64_t image_id, es_error *err) {
    return run(es_store_sqlite(s),
               "INSERT INTO annotate_history_entities SELECT ?, * FROM entities WHERE image_id = ?",
               history_id, image_id, err);
}

int es_history_save_entity_label(es_store *s, int64_t history_id, int64_t entity_id,
                                 es_error *err) {
    return run(es_store_sqlite(s),
               "INSERT OR IGNORE INTO annotate_history_entity_labels SELECT ?, id, label_id "
               "FROM entities WHERE id = ?",
               history_id, entity_id, err);
}

int es_history_save_labelled(es_store *s, int64_t history_id, int64_t label_id, es_error *err) {
    return run(es_store_sqlite(s),
               "INSERT OR IGNORE INTO annotate_history_entity_labels SELECT ?, id, label_id "
               "FROM entities WHERE label_id = ?",
               history_id, label_id, err);
}

int es_history_save_vocabulary(es_store *s, int64_t history_id, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    /* once per edit */
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM annotate_history_labels WHERE history_id = ? LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(db, "history", err);
    sqlite3_bind_int64(st, 1, history_id);
    have = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (have) return ES_OK;
    return run(db, "INSERT INTO annotate_history_labels SELECT ?, * FROM labels", history_id, 0, err);
}

int es_history_commit(es_store *s, es_error *err) { return es_store_commit(s, err); }

void es_history_abort(es_store *s) { es_store_rollback(s); }

/* "a, b, c": the columns of table except history_id (malloc'ed). */
static char *snapshot_columns(sqlite3 *db, const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return NULL;
    size_t cap = 1024, len = 0;
    char *cols = calloc(cap, 1);
    while (cols && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (!name || !strcmp(name, "history_id")) continue;
        size_t need = len + strlen(name) + 8;
        if (need > cap) {
            char *p = realloc(cols, cap = need * 2);
            if (!p) {
                free(cols);
                cols = NULL;
                break;
            }
            cols = p;
        }
        len += (size_t)sprintf(cols + len, "%s\"%s\"", len ? ", " : "", name);
    }
    sqlite3_finalize(st);
    return cols;
}

/* Copies the snapshot rows of history_id from snap back into table. */
static int restore_rows(sqlite3 *db, const char *table, const char *snap, int64_t history_id,
                        es_error *err) {
    char *cols = snapshot_columns(db, snap);
    if (!cols) return es_error_set(err, ES_ERR_NOMEM, "history: cannot list the columns of %s", snap);
    size_t n = 2 * strlen(cols) + 256;
    char *sql = malloc(n);
    int rc = ES_OK;
    if (!sql) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    else {
        snprintf(sql, n, "INSERT INTO %s (%s) SELECT %s FROM %s WHERE history_id = ?", table, cols,
                 cols, snap);
        rc = run(db, sql, history_id, 0, err);
    }
    free(sql);
    free(cols);
    return rc;
}

int es_history_undo(es_store *s, int64_t *history_id, char **command, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    *history_id = ES_NONE;
    if (command) *command = NULL;
    ES_CHECK(es_store_begin(s, err));
    int rc = ensure_tables(db, err);
    sqlite3_stmt *st = NULL;
    int64_t id = ES_NONE, image_id = ES_NONE;
    char kind[16] = "";
    if (!rc && sqlite3_prepare_v2(db, "SELECT id, kind, image_id, command FROM annotate_history "
                                      "WHERE undone = 0 ORDER BY id DESC LIMIT 1",
                                  -1, &st, NULL) != SQLITE_OK)
        rc = sql_error(db, "history", err);
    if (!rc && sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        snprintf(kind, sizeof kind, "%s", (const char *)sqlite3_column_text(st, 1));
        image_id = sqlite3_column_type(st, 2) == SQLITE_NULL ? ES_NONE : sqlite3_column_int64(st, 2);
        if (command && sqlite3_column_text(st, 3)) *command = strdup((const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    if (!rc && id != ES_NONE) {
        rc = exec(db, "PRAGMA defer_foreign_keys = ON", err);
        if (!rc && !strcmp(kind, "image")) {
            rc = run(db, "DELETE FROM entities WHERE image_id = ?", image_id, 0, err);
            if (!rc) rc = restore_rows(db, "entities", "annotate_history_entities", id, err);
        }
        if (!rc && !strcmp(kind, "labels")) {
            int64_t nsnap = 0;
            if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM annotate_history_labels WHERE history_id = ?",
                                   -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_int64(st, 1, id);
                if (sqlite3_step(st) == SQLITE_ROW) nsnap = sqlite3_column_int64(st, 0);
                sqlite3_finalize(st);
            }
            rc = run(db, "UPDATE entities SET label_id = (SELECT h.label_id FROM "
                         "annotate_history_entity_labels h WHERE h.history_id = ?1 AND h.entity_id = "
                         "entities.id) WHERE id IN (SELECT entity_id FROM "
                         "annotate_history_entity_labels WHERE history_id = ?1)",
                     id, 0, err);
            if (!rc && nsnap > 0) {
                rc = exec(db, "DELETE FROM labels", err);
                if (!rc) rc = restore_rows(db, "labels", "annotate_history_labels", id, err);
            }
        }
        if (!rc) rc = run(db, "UPDATE annotate_history SET undone = 1 WHERE id = ?", id, 0, err);
    }
    if (!rc) rc = es_store_commit(s, err);
    else es_store_rollback(s);
    if (rc && command) {
        free(*command);
        *command = NULL;
    }
    if (!rc) *history_id = id;
    return rc;
}

int es_history_print(es_store *s, FILE *f, size_t limit, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, time, command, undone FROM annotate_history ORDER BY id DESC",
                           -1, &st, NULL) != SQLITE_OK) {
        /* no table yet: no history */
        fprintf(f, "(no edits recorded)\n");
        return ES_OK;
    }
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (!limit || k < limit)) {
        fprintf(f, "%6lld  %s  %s%s\n", (long long)sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                sqlite3_column_int(st, 3) ? "   (undone)" : "");
        k++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sql_error(db, "history", err);
    if (k == 0) fprintf(f, "(no edits recorded)\n");
    return ES_OK;
}
