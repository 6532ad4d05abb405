/* store_images.c: the images table: add, count, list, get, and lookups by name or by the
 * source's image id. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int store_image_from_row(sqlite3_stmt *st, es_image *img, es_error *err) {
    memset(img, 0, sizeof *img);
    img->id = sqlite3_column_int64(st, 0);
    img->width = (uint32_t)sqlite3_column_int64(st, 2);
    img->height = (uint32_t)sqlite3_column_int64(st, 3);
    img->source_id = store_column_id(st, 7);
    img->name = store_column_strdup(st, 1);
    img->source = store_column_strdup(st, 4);
    img->split = store_column_strdup(st, 5);
    img->path = store_column_strdup(st, 6);
    if (!img->name || (!img->source && sqlite3_column_type(st, 4) != SQLITE_NULL) ||
        (!img->split && sqlite3_column_type(st, 5) != SQLITE_NULL) ||
        (!img->path && sqlite3_column_type(st, 6) != SQLITE_NULL)) {
        es_image_clear(img);
        return es_error_set(err, ES_ERR_NOMEM, "reading image: out of memory");
    }
    return ES_OK;
}

int es_store_add_image(es_store *s, es_image *img, es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    if (!img->name || !*img->name)
        return es_error_set(err, ES_ERR_INVALID, "%s: an image needs a name", s->path);
    if (img->width == 0 || img->height == 0)
        return es_error_set(err, ES_ERR_INVALID, "%s: image '%s' has size %ux%u; both must be > 0",
                            s->path, img->name, img->width, img->height);
    int64_t existing;
    ES_CHECK(es_store_find_image_by_name(s, img->name, &existing, err));
    if (existing != ES_NONE)
        return es_error_set(err, ES_ERR_INVALID, "%s: image '%s' is already in the store (id %lld)",
                            s->path, img->name, (long long)existing);
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, STMT_IMAGE_INSERT, &st, err));
    store_bind_text(st, 1, img->name);
    sqlite3_bind_int64(st, 2, img->width);
    sqlite3_bind_int64(st, 3, img->height);
    store_bind_text(st, 4, img->source);
    store_bind_text(st, 5, img->split);
    store_bind_text(st, 6, img->path);
    store_bind_id(st, 7, img->source_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_sql_error(s, rc, "adding image", err);
        return es_error_prefix(err, "image '%s'", img->name);
    }
    img->id = sqlite3_last_insert_rowid(s->db);
    store_set_image_size(s, img->id, img->height, img->width); /* ids are reused after a rollback */
    return ES_OK;
}

static int64_t count_rows(es_store *s, const char *sql) {
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}

int64_t es_store_image_count(es_store *s) { return count_rows(s, "SELECT count(*) FROM images"); }

int es_store_images(es_store *s, es_image **out, size_t *n, es_error *err) {
    *out = NULL;
    *n = 0;
    int64_t count = es_store_image_count(s);
    if (count < 0) return store_sql_error(s, sqlite3_errcode(s->db), "counting images", err);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT " STORE_IMAGE_COLUMNS " FROM images ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) return store_sql_error(s, rc, "listing images", err);
    es_image *imgs = calloc(count ? (size_t)count : 1, sizeof *imgs);
    if (!imgs) {
        sqlite3_finalize(st);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory listing images", s->path);
    }
    size_t got = 0;
    int status = ES_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && got < (size_t)count) {
        status = store_image_from_row(st, &imgs[got], err);
        if (status) break;
        got++;
    }
    if (!status && rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = store_sql_error(s, rc, "listing images", err);
    sqlite3_finalize(st);
    if (status) {
        es_images_free(imgs, got);
        return status;
    }
    *out = imgs;
    *n = got;
    return ES_OK;
}

int es_store_get_image(es_store *s, int64_t image_id, es_image *out, es_error *err) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, STMT_IMAGE_GET, &st, err));
    sqlite3_bind_int64(st, 1, image_id);
    int rc = sqlite3_step(st);
    int status;
    if (rc == SQLITE_ROW) status = store_image_from_row(st, out, err);
    else if (rc == SQLITE_DONE)
        status = es_error_set(err, ES_ERR_INVALID, "%s: no image with id %lld", s->path,
                              (long long)image_id);
    else status = store_sql_error(s, rc, "reading image", err);
    sqlite3_reset(st);
    return status;
}

static int find_id(es_store *s, store_stmt_id id, const char *text, int64_t number,
                   int64_t *found, es_error *err) {
    *found = ES_NONE;
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, id, &st, err));
    if (text) store_bind_text(st, 1, text);
    else sqlite3_bind_int64(st, 1, number);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "looking up an image", err);
    return ES_OK;
}

int es_store_find_image_by_name(es_store *s, const char *name, int64_t *image_id, es_error *err) {
    if (!name) {
        *image_id = ES_NONE;
        return ES_OK;
    }
    return find_id(s, STMT_IMAGE_BY_NAME, name, 0, image_id, err);
}

int es_store_find_image_by_source_id(es_store *s, int64_t source_id, int64_t *image_id,
                                     es_error *err) {
    return find_id(s, STMT_IMAGE_BY_SOURCE_ID, NULL, source_id, image_id, err);
}

void store_set_image_size(es_store *s, int64_t image_id, uint32_t h, uint32_t w) {
    s->size_image_id = image_id;
    s->size_h = h;
    s->size_w = w;
}

int store_image_size(es_store *s, int64_t image_id, uint32_t *h, uint32_t *w, es_error *err) {
    if (s->size_image_id != image_id || image_id == 0) {
        es_image img;
        ES_CHECK(es_store_get_image(s, image_id, &img, err));
        store_set_image_size(s, image_id, img.height, img.width);
        es_image_clear(&img);
    }
    *h = s->size_h;
    *w = s->size_w;
    return ES_OK;
}

void es_image_clear(es_image *img) {
    if (!img) return;
    free(img->name);
    free(img->source);
    free(img->split);
    free(img->path);
    img->name = img->source = img->split = img->path = NULL;
}

void es_images_free(es_image *imgs, size_t n) {
    if (!imgs) return;
    for (size_t i = 0; i < n; i++) es_image_clear(&imgs[i]);
    free(imgs);
}
