/* store_edit.c: single-row entity edits for entseg-annotate (see entseg/store_edit.h).
 * Each call is one statement; transactions and the image-wide overlap check are the
 * caller's, so an edit made of several rows is all-or-nothing. */
#include <stdlib.h>
#include <string.h>

#include "entseg/store_edit.h"
#include "store_internal.h"

/* Prepares sql into *st (not cached: edits are rare). */
static int prepare(es_store *s, const char *sql, sqlite3_stmt **st, es_error *err) {
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? ES_OK : store_sql_error(s, rc, "preparing an edit", err);
}

int es_store_get_entity(es_store *s, int64_t entity_id, es_entity *out, es_error *err) {
    sqlite3_stmt *st;
    ES_CHECK(prepare(s, "SELECT " STORE_ENTITY_COLUMNS " FROM entities WHERE id = ?", &st, err));
    sqlite3_bind_int64(st, 1, entity_id);
    int rc = sqlite3_step(st), status = ES_OK;
    *out = es_entity_default();
    if (rc == SQLITE_ROW) status = store_entity_from_row(s, st, 0, out, err);
    else if (rc == SQLITE_DONE)
        status = es_error_set(err, ES_ERR_INVALID, "%s: no entity with id %lld", s->path,
                              (long long)entity_id);
    else status = store_sql_error(s, rc, "reading an entity", err);
    sqlite3_finalize(st);
    return status;
}

static int check_mask(es_store *s, const es_rle *mask, uint32_t h, uint32_t w, const char *what,
                       es_error *err) {
    if (mask->h != h || mask->w != w)
        return es_error_set(err, ES_ERR_INVALID, "%s: %s: mask is %ux%u, image is %ux%u", s->path,
                            what, mask->w, mask->h, w, h);
    ES_CHECK(es_rle_validate(mask, err));
    if (es_rle_area(mask) == 0)
        return es_error_set(err, ES_ERR_INVALID, "%s: %s: empty mask", s->path, what);
    return ES_OK;
}

/* Binds mask, area, bbox_x..bbox_h at columns col..col+5. */
static int bind_mask(es_store *s, sqlite3_stmt *st, int col, const es_rle *mask, es_error *err) {
    const uint8_t *blob = NULL;
    size_t n = 0;
    ES_CHECK(es_mask_blob_encode(s->codec, mask, &blob, &n, err));
    double bbox[4];
    es_rle_to_bbox(mask, bbox);
    sqlite3_bind_blob(st, col, blob, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, col + 1, (sqlite3_int64)es_rle_area(mask));
    for (int k = 0; k < 4; k++) sqlite3_bind_double(st, col + 2 + k, bbox[k]);
    return ES_OK;
}

/* Runs a write statement that must change exactly one row of entities. */
static int step_one(es_store *s, sqlite3_stmt *st, int64_t entity_id, const char *what,
                    es_error *err) {
    int status = ES_OK, rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) status = store_sql_error(s, rc, what, err);
    else if (sqlite3_changes(s->db) != 1)
        status = es_error_set(err, ES_ERR_INVALID, "%s: no entity with id %lld", s->path,
                              (long long)entity_id);
    sqlite3_finalize(st);
    return status;
}

int es_store_entity_image(es_store *s, int64_t entity_id, int64_t *image_id, es_error *err) {
    sqlite3_stmt *st;
    ES_CHECK(prepare(s, "SELECT image_id FROM entities WHERE id = ?", &st, err));
    sqlite3_bind_int64(st, 1, entity_id);
    int rc = sqlite3_step(st), status = ES_OK;
    if (rc == SQLITE_ROW) *image_id = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        status = es_error_set(err, ES_ERR_INVALID, "%s: no entity with id %lld", s->path, (long long)entity_id);
    else status = store_sql_error(s, rc, "reading an entity", err);
    sqlite3_finalize(st);
    return status;
}

int es_store_update_entity_mask(es_store *s, int64_t entity_id, const es_rle *mask,
                                es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    int64_t image_id = ES_NONE;
    uint32_t h, w;
    ES_CHECK(es_store_entity_image(s, entity_id, &image_id, err));
    ES_CHECK(store_image_size(s, image_id, &h, &w, err));
    ES_CHECK(check_mask(s, mask, h, w, "update entity mask", err));
    sqlite3_stmt *st;
    ES_CHECK(prepare(s, "UPDATE entities SET mask = ?, area = ?, bbox_x = ?, bbox_y = ?, bbox_w = ?, "
                        "bbox_h = ? WHERE id = ?", &st, err));
    int rc = bind_mask(s, st, 1, mask, err);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_bind_int64(st, 7, entity_id);
    return step_one(s, st, entity_id, "update entity mask", err);
}

int es_store_insert_entity(es_store *s, int64_t image_id, es_entity *e, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    uint32_t h, w;
    ES_CHECK(store_image_size(s, image_id, &h, &w, err));
    ES_CHECK(check_mask(s, &e->mask, h, w, "insert entity", err));
    if (s->kind == ES_STORE_PRED && !(e->score == e->score && e->score - e->score == 0))
        return es_error_set(err, ES_ERR_INVALID, "%s: insert entity: score is not finite", s->path);
    int64_t order = e->source_order;
    if (order < 0) {
        sqlite3_stmt *q;
        ES_CHECK(prepare(s, "SELECT COALESCE(MAX(source_order), -1) + 1 FROM entities WHERE image_id = ?",
                         &q, err));
        sqlite3_bind_int64(q, 1, image_id);
        order = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_finalize(q);
    }
    sqlite3_stmt *st;
    ES_CHECK(prepare(s,
        "INSERT INTO entities (image_id, mask, area, bbox_x, bbox_y, bbox_w, bbox_h, is_crowd, "
        "score, label_id, category_id, isthing, source_segment_id, declared_area, source_order) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err));
    sqlite3_bind_int64(st, 1, image_id);
    int rc = bind_mask(s, st, 2, &e->mask, err);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_bind_int(st, 8, e->is_crowd ? 1 : 0);
    sqlite3_bind_double(st, 9, e->score);
    store_bind_id(st, 10, e->label_id);
    store_bind_id(st, 11, e->category_id);
    sqlite3_bind_int(st, 12, e->isthing);
    store_bind_id(st, 13, e->source_segment_id);
    if (e->declared_area == e->declared_area) sqlite3_bind_double(st, 14, e->declared_area);
    else sqlite3_bind_null(st, 14);
    sqlite3_bind_int64(st, 15, order);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        rc = store_sql_error(s, rc, "inserting an entity", err);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    e->id = sqlite3_last_insert_rowid(s->db);
    e->image_id = image_id;
    e->area = es_rle_area(&e->mask);
    es_rle_to_bbox(&e->mask, e->bbox);
    e->source_order = order;
    return ES_OK;
}

int es_store_delete_entity(es_store *s, int64_t entity_id, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    sqlite3_stmt *st;
    ES_CHECK(prepare(s, "DELETE FROM entities WHERE id = ?", &st, err));
    sqlite3_bind_int64(st, 1, entity_id);
    return step_one(s, st, entity_id, "delete entity", err);
}

int es_store_set_entity_label(es_store *s, int64_t entity_id, int64_t label_id, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    if (label_id != ES_NONE) {
        int exists;
        ES_CHECK(store_label_exists(s, label_id, "reading labels", &exists, err));
        if (!exists)
            return es_error_set(err, ES_ERR_INVALID, "%s: no label with id %lld", s->path,
                                (long long)label_id);
    }
    sqlite3_stmt *st;
    ES_CHECK(prepare(s, "UPDATE entities SET label_id = ? WHERE id = ?", &st, err));
    store_bind_id(st, 1, label_id);
    sqlite3_bind_int64(st, 2, entity_id);
    return step_one(s, st, entity_id, "set entity label", err);
}

int es_store_check_image_overlap(es_store *s, int64_t image_id, es_error *err) {
    if (s->kind != ES_STORE_GT || s->overlapping_instances) return ES_OK;
    es_entity *ents = NULL;
    size_t n = 0;
    ES_CHECK(es_store_read_entities(s, image_id, &ents, &n, err));
    int status = ES_OK;
    for (size_t i = 0; i < n && !status; i++) {
        if (ents[i].is_crowd) continue;
        for (size_t j = i + 1; j < n && !status; j++) {
            if (ents[j].is_crowd) continue;
            if (es_rle_intersection_area(&ents[i].mask, &ents[j].mask) > 0)
                status = es_error_set(err, ES_ERR_OVERLAP,
                                      "%s: image %lld: entities %lld and %lld would overlap",
                                      s->path, (long long)image_id, (long long)ents[i].id,
                                      (long long)ents[j].id);
        }
    }
    es_entities_free(ents, n);
    return status;
}
