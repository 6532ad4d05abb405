/* store_vocab.c: source categories and the open label vocabulary (a tree of names whose
 * roots include the special labels unknown, blurred and supercategory_other, inserted by
 * schemas/store.sql). */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int es_store_add_category(es_store *s, const es_category *c, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    if (!c->name || !*c->name)
        return es_error_set(err, ES_ERR_INVALID, "%s: category %lld needs a name", s->path,
                            (long long)c->id);
    if (c->isthing < -1 || c->isthing > 1)
        return es_error_set(err, ES_ERR_INVALID, "%s: category %lld: isthing is %d", s->path,
                            (long long)c->id, c->isthing);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO categories (id, name, supercategory, isthing) "
                                "VALUES (?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "adding a category", err);
    sqlite3_bind_int64(st, 1, c->id);
    store_bind_text(st, 2, c->name);
    store_bind_text(st, 3, c->supercategory);
    sqlite3_bind_int(st, 4, c->isthing);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return es_error_set(err, ES_ERR_INVALID, "%s: category id %lld ('%s') is already in the store",
                            s->path, (long long)c->id, c->name);
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "adding a category", err);
    return ES_OK;
}

int es_store_categories(es_store *s, es_category **out, size_t *n, es_error *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, name, supercategory, isthing FROM categories ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "listing categories", err);
    es_category *cats = NULL;
    size_t got = 0, cap = 0;
    int status = ES_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (got == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            es_category *p = realloc(cats, ncap * sizeof *p);
            if (!p) {
                status = ES_ERR_NOMEM;
                break;
            }
            cats = p;
            cap = ncap;
        }
        es_category *c = &cats[got];
        c->id = sqlite3_column_int64(st, 0);
        c->name = store_column_strdup(st, 1);
        c->supercategory = store_column_strdup(st, 2);
        c->isthing = sqlite3_column_int(st, 3);
        got++;
        if (!c->name || (!c->supercategory && sqlite3_column_type(st, 2) != SQLITE_NULL)) {
            status = ES_ERR_NOMEM;
            break;
        }
    }
    if (status == ES_ERR_NOMEM) status = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    else if (rc != SQLITE_DONE) status = store_sql_error(s, rc, "listing categories", err);
    sqlite3_finalize(st);
    if (status) {
        es_categories_free(cats, got);
        return status;
    }
    *out = cats;
    *n = got;
    return ES_OK;
}

void es_categories_free(es_category *c, size_t n) {
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].supercategory);
    }
    free(c);
}

int store_label_exists(es_store *s, int64_t label_id, const char *what, int *exists,
                       es_error *err) {
    sqlite3_stmt *st;
    *exists = 0;
    ES_CHECK(store_stmt(s, STMT_LABEL_EXISTS, &st, err));
    sqlite3_bind_int64(st, 1, label_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return store_sql_error(s, rc, what, err);
    *exists = rc == SQLITE_ROW;
    return ES_OK;
}

int es_store_label_get_or_create(es_store *s, const char *name, int64_t parent_id, int64_t *id,
                                 es_error *err) {
    *id = ES_NONE;
    if (!name || !*name) return es_error_set(err, ES_ERR_INVALID, "%s: a label needs a name", s->path);
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, STMT_LABEL_BY_NAME, &st, err));
    store_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return ES_OK;
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "looking up a label", err);
    ES_CHECK(store_require_writable(s, err));
    if (parent_id != ES_NONE) {
        int exists;
        ES_CHECK(store_label_exists(s, parent_id, "looking up a label", &exists, err));
        if (!exists)
            return es_error_set(err, ES_ERR_INVALID, "%s: label '%s': parent label id %lld does not exist",
                                s->path, name, (long long)parent_id);
    }
    ES_CHECK(store_stmt(s, STMT_LABEL_INSERT, &st, err));
    store_bind_text(st, 1, name);
    store_bind_id(st, 2, parent_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "adding a label", err);
    *id = sqlite3_last_insert_rowid(s->db);
    return ES_OK;
}

int es_store_labels(es_store *s, es_label **out, size_t *n, es_error *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, name, parent_id FROM labels ORDER BY id", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "listing labels", err);
    es_label *labels = NULL;
    size_t got = 0, cap = 0;
    int status = ES_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (got == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            es_label *p = realloc(labels, ncap * sizeof *p);
            if (!p) {
                status = ES_ERR_NOMEM;
                break;
            }
            labels = p;
            cap = ncap;
        }
        es_label *l = &labels[got++];
        l->id = sqlite3_column_int64(st, 0);
        l->name = store_column_strdup(st, 1);
        l->parent_id = store_column_id(st, 2);
        if (!l->name) {
            status = ES_ERR_NOMEM;
            break;
        }
    }
    if (status == ES_ERR_NOMEM) status = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    else if (rc != SQLITE_DONE) status = store_sql_error(s, rc, "listing labels", err);
    sqlite3_finalize(st);
    if (status) {
        es_labels_free(labels, got);
        return status;
    }
    *out = labels;
    *n = got;
    return ES_OK;
}

void es_labels_free(es_label *l, size_t n) {
    if (!l) return;
    for (size_t i = 0; i < n; i++) free(l[i].name);
    free(l);
}
