/* store_scan.c: streams images with their entities, the evaluator's input path.
 *
 * Two queries walked side by side (a merge join on image id): images in id order, and all
 * entities of the range in (image_id, source_order, id) order, which is the order of the
 * entities_by_image index, so SQLite never sorts. Masks are decoded with the store's one
 * codec; the entity array is reused from image to image. */
#include "store_internal.h"

#include <stdlib.h>

static const char scan_images_sql[] =
    "SELECT " STORE_IMAGE_COLUMNS " FROM images WHERE id BETWEEN ?1 AND ?2 ORDER BY id";
static const char scan_entities_sql[] =
    "SELECT " STORE_ENTITY_COLUMNS " FROM entities WHERE image_id BETWEEN ?1 AND ?2 "
    "ORDER BY image_id, source_order, id";
/* Without masks: the blob column is not read at all (its overflow pages stay on disk). */
static const char scan_entities_no_masks_sql[] =
    "SELECT " STORE_ENTITY_COLUMNS_NO_MASK " FROM entities WHERE image_id BETWEEN ?1 AND ?2 "
    "ORDER BY image_id, source_order, id";

int es_store_scan(es_store *s, int64_t first, int64_t last, int flags, es_scan_fn fn, void *ctx,
                  es_error *err) {
    int64_t lo = first == ES_NONE ? INT64_MIN : first, hi = last == ES_NONE ? INT64_MAX : last;
    int no_masks = (flags & ES_SCAN_NO_MASKS) != 0;
    sqlite3_stmt *img_st = NULL, *ent_st = NULL;
    int rc = sqlite3_prepare_v2(s->db, scan_images_sql, -1, &img_st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, no_masks ? scan_entities_no_masks_sql : scan_entities_sql,
                                -1, &ent_st, NULL);
    if (rc != SQLITE_OK) {
        int status = store_sql_error(s, rc, "preparing the scan", err);
        sqlite3_finalize(img_st);
        return status;
    }
    sqlite3_bind_int64(img_st, 1, lo);
    sqlite3_bind_int64(img_st, 2, hi);
    sqlite3_bind_int64(ent_st, 1, lo);
    sqlite3_bind_int64(ent_st, 2, hi);

    es_entity *ents = NULL;
    size_t cap = 0, n = 0;
    int status = ES_OK;
    int ent_rc = sqlite3_step(ent_st);
    int img_rc;
    while ((img_rc = sqlite3_step(img_st)) == SQLITE_ROW) {
        es_image img;
        status = store_image_from_row(img_st, &img, err);
        if (status) break;
        store_set_image_size(s, img.id, img.height, img.width);
        n = 0;
        while (ent_rc == SQLITE_ROW) {
            int64_t owner = sqlite3_column_int64(ent_st, 1);
            if (owner > img.id) break;
            if (owner == img.id) {
                status = store_entity_append(s, ent_st, no_masks, &ents, &n, &cap, err);
                if (status) break;
            }
            ent_rc = sqlite3_step(ent_st);
        }
        if (!status && ent_rc != SQLITE_ROW && ent_rc != SQLITE_DONE)
            status = store_sql_error(s, ent_rc, "scanning entities", err);
        if (!status) status = fn(ctx, &img, ents, n, err);
        for (size_t i = 0; i < n; i++) es_rle_free(&ents[i].mask);
        es_image_clear(&img);
        if (status) break;
    }
    if (!status && img_rc != SQLITE_DONE) status = store_sql_error(s, img_rc, "scanning images", err);
    free(ents);
    sqlite3_finalize(img_st);
    sqlite3_finalize(ent_st);
    return status;
}
