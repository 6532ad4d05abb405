/* store_migrate.c: creating the schema, recognising an entseg store, and moving stores
 * written by older versions forward.
 *
 * The schema text (schemas/store.sql) sets PRAGMA user_version itself; migrations[] holds
 * one step per older version, applied in one transaction when a store is opened for
 * writing. A newer user_version is refused, never guessed at.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct store_migration {
    int from;        /* user_version this step upgrades */
    const char *sql; /* leaves the store at version from + 1 */
} store_migration;

static const store_migration migrations[] = {
    /* 1 -> 2: the source's declared area became a column (it was dropped before),
     * lookups by source image id got an index, and blobs may name a zstd dictionary. */
    {1, "ALTER TABLE entities ADD COLUMN declared_area REAL;"
        "CREATE INDEX images_by_source_id ON images (source_id);"
        "CREATE TABLE mask_dictionaries (id INTEGER PRIMARY KEY, data BLOB NOT NULL);"},
};

int store_schema_create(es_store *s, es_error *err) {
    ES_CHECK(store_exec(s, entseg_schema_sql, err));
    return ES_OK;
}

static int pragma_int(es_store *s, const char *sql, int64_t *value, es_error *err) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK) return ES_OK;
    if ((rc & 0xff) == SQLITE_NOTADB)
        return es_error_set(err, ES_ERR_FORMAT, "%s: not an entseg store: not an SQLite database",
                            s->path);
    return store_sql_error(s, rc, "reading the schema version", err);
}

static int migrate(es_store *s, int from, es_error *err) {
    ES_CHECK(store_exec(s, "BEGIN IMMEDIATE", err));
    int rc = ES_OK;
    for (int v = from; v < ES_STORE_SCHEMA_VERSION && !rc; v++) {
        const store_migration *step = NULL;
        for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++)
            if (migrations[i].from == v) step = &migrations[i];
        if (!step) {
            rc = es_error_set(err, ES_ERR_SCHEMA, "%s: no migration from schema version %d",
                              s->path, v);
            break;
        }
        rc = store_exec(s, step->sql, err);
        if (!rc) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
            rc = store_exec(s, sql, err);
        }
        if (rc) es_error_prefix(err, "migrating schema version %d to %d", v, v + 1);
    }
    if (rc) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return store_exec(s, "COMMIT", err);
}

static int read_meta_facts(es_store *s, es_error *err) {
    char *format = NULL, *kind = NULL, *overlap = NULL;
    int rc = es_store_meta_get(s, "format", &format, err);
    if (!rc) rc = es_store_meta_get(s, "kind", &kind, err);
    if (!rc) rc = es_store_meta_get(s, "overlapping_instances", &overlap, err);
    if (!rc && (!format || strcmp(format, "entseg-store") != 0))
        rc = es_error_set(err, ES_ERR_SCHEMA, "%s: not an entseg store: meta has no format mark",
                          s->path);
    if (!rc) {
        if (kind && !strcmp(kind, "gt")) s->kind = ES_STORE_GT;
        else if (kind && !strcmp(kind, "pred")) s->kind = ES_STORE_PRED;
        else
            rc = es_error_set(err, ES_ERR_SCHEMA, "%s: meta kind is '%s', not gt or pred",
                              s->path, kind ? kind : "(missing)");
    }
    if (!rc) s->overlapping_instances = overlap && !strcmp(overlap, "1");
    free(format);
    free(kind);
    free(overlap);
    return rc;
}

int store_schema_check(es_store *s, es_error *err) {
    int64_t app_id = 0, version = 0;
    ES_CHECK(pragma_int(s, "PRAGMA application_id", &app_id, err));
    ES_CHECK(pragma_int(s, "PRAGMA user_version", &version, err));
    if (app_id != ES_STORE_APPLICATION_ID || version < 1)
        return es_error_set(err, ES_ERR_SCHEMA,
                            "%s: not an entseg store (an SQLite database without the entseg "
                            "mark, application_id %lld)",
                            s->path, (long long)app_id);
    if (version > ES_STORE_SCHEMA_VERSION)
        return es_error_set(err, ES_ERR_SCHEMA,
                            "%s: store schema version %lld is newer than this build's %d: "
                            "update entseg to read it",
                            s->path, (long long)version, ES_STORE_SCHEMA_VERSION);
    if (version < ES_STORE_SCHEMA_VERSION) {
        if (!s->writable)
            return es_error_set(err, ES_ERR_SCHEMA,
                                "%s: store schema version %lld is older than this build's %d: "
                                "open it once for writing to migrate it",
                                s->path, (long long)version, ES_STORE_SCHEMA_VERSION);
        ES_CHECK(migrate(s, (int)version, err));
        version = ES_STORE_SCHEMA_VERSION;
    }
    s->schema_version = (int)version;
    return read_meta_facts(s, err);
}
