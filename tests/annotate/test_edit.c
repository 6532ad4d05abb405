/* test_edit.c: mask edits keep the non-overlap invariant, are recorded and undone; bad
 * edits give one error and leave the store untouched (byte-identical entity rows). */
#include <sqlite3.h>
#include <stdio.h>

#include "annotate_fixture.h"
#include "edit.h"
#include "entseg/image.h"
#include "entseg/store_edit.h"
#include "es_test.h"
#include "history.h"

static char db[4096];
static es_store *s;

/* A fingerprint of every entity row: sum over rows of a hash of all columns. */
static uint64_t fingerprint(void) {
    sqlite3 *h = es_store_sqlite(s);
    sqlite3_stmt *st;
    uint64_t sum = 0;
    if (sqlite3_prepare_v2(h, "SELECT id, image_id, mask, area, label_id, is_crowd FROM entities ORDER BY id", -1, &st, NULL))
        return 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t x = 1469598103934665603ull;
        const uint8_t *blob = sqlite3_column_blob(st, 2);
        int n = sqlite3_column_bytes(st, 2);
        for (int i = 0; i < n; i++) x = (x ^ blob[i]) * 1099511628211ull;
        x ^= (uint64_t)sqlite3_column_int64(st, 0) * 31 + (uint64_t)sqlite3_column_int64(st, 3) * 7 +
             (uint64_t)sqlite3_column_int64(st, 4) * 3 + (uint64_t)sqlite3_column_int64(st, 1);
        sum = sum * 1000003 + x;
    }
    sqlite3_finalize(st);
    return sum;
}

static uint64_t area_of(int64_t id) {
    es_entity e;
    es_error err = {0};
    if (es_store_get_entity(s, id, &e, &err)) return 0;
    uint64_t a = e.area;
    es_rle_free(&e.mask);
    return a;
}

static int64_t entity_count(void) { return es_store_entity_count(s); }

static void fresh_store(void) {
    es_error err = {0};
    CHECK_OK(fixture_reopen(db, &s, &err), &err);
}

static void test_merge_and_undo(void) {
    fresh_store();
    uint64_t before = fingerprint();
    es_error err = {0};
    es_edit_result r;
    int64_t ids[2] = {1, 2};
    CHECK_OK(es_edit_merge(s, ids, 2, "merge 1,2", &r, &err), &err);
    CHECK_EQ_INT(area_of(1), 640);
    CHECK_EQ_INT(area_of(2), 0); /* gone */
    CHECK_EQ_INT(r.n_deleted, 1);
    CHECK_EQ_INT(r.pixels, 320);
    CHECK_OK(es_store_check_image_overlap(s, 1, &err), &err);
    int64_t hid;
    char *cmd = NULL;
    CHECK_OK(es_history_undo(s, &hid, &cmd, &err), &err);
    CHECK(hid == r.history_id);
    CHECK(cmd && !strcmp(cmd, "merge 1,2"));
    free(cmd);
    CHECK(fingerprint() == before);
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK(hid == ES_NONE); /* nothing left */
}

static void test_split_into_components(void) {
    fresh_store();
    es_error err = {0};
    es_edit_result r;
    CHECK_OK(es_edit_split(s, 3, "split 3", &r, &err), &err);
    CHECK_EQ_INT(r.n_new, 1);
    CHECK_EQ_INT(area_of(3), 16);
    CHECK_EQ_INT(area_of(r.first_new_id), 16);
    CHECK_EQ_INT(entity_count(), 6);
    /* a rectangle is one component: nothing to split, store untouched */
    uint64_t before = fingerprint();
    CHECK(es_edit_split(s, 1, "split 1", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "one connected component") != NULL);
    CHECK(fingerprint() == before);
}

static void test_delete_then_fill_new_and_neighbour(void) {
    fresh_store();
    es_error err = {0};
    es_edit_result r;
    CHECK_OK(es_edit_delete(s, 2, "delete 2", &r, &err), &err);
    CHECK_EQ_INT(entity_count(), 4);
    /* give the void strip x 20..29, y 0..15 to entity 1 (touches it) */
    es_region rect = {NULL, 20, 0, 10, 16};
    CHECK_OK(es_edit_fill(s, 1, &rect, 1, NULL, 0, "fill", &r, &err), &err);
    CHECK_EQ_INT(area_of(1), 320 + 160);
    /* a new entity from a rectangle of void */
    es_region rect2 = {NULL, 30, 0, 10, 16};
    CHECK_OK(es_edit_fill(s, 1, &rect2, ES_NONE, "sky", 0, "fill new", &r, &err), &err);
    CHECK_EQ_INT(r.n_new, 1);
    CHECK_EQ_INT(area_of(r.first_new_id), 160);
    CHECK_OK(es_store_check_image_overlap(s, 1, &err), &err);
    /* undo twice: back to after the delete */
    int64_t hid;
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK_EQ_INT(area_of(1), 320);
    CHECK_EQ_INT(entity_count(), 4);
}

static void test_fill_errors_leave_store_untouched(void) {
    fresh_store();
    uint64_t before = fingerprint();
    es_error err = {0};
    es_edit_result r;
    /* covers entity 2's pixels: an overlap */
    es_region over = {NULL, 15, 0, 10, 5};
    CHECK(es_edit_fill(s, 1, &over, ES_NONE, NULL, 0, "x", &r, &err) == ES_ERR_OVERLAP);
    CHECK(strstr(err.msg, "entity") != NULL);
    CHECK(fingerprint() == before);
    /* --void-only keeps the void part: but x 15..24, y 0..4 has no void pixels */
    CHECK(es_edit_fill(s, 1, &over, ES_NONE, NULL, 1, "x", &r, &err) == ES_ERR_INVALID);
    /* far from entity 1: does not touch */
    es_region far = {NULL, 44, 20, 4, 4};
    CHECK(es_edit_fill(s, 1, &far, 1, NULL, 0, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "does not touch") != NULL);
    /* rectangle outside the image */
    es_region out = {NULL, 60, 40, 10, 10};
    CHECK(es_edit_fill(s, 1, &out, ES_NONE, NULL, 0, "x", &r, &err) == ES_ERR_INVALID);
    /* unknown entity / image / crowd entity / entity of another image */
    CHECK(es_edit_delete(s, 999, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "999") != NULL);
    CHECK(es_edit_fill(s, 77, &far, ES_NONE, NULL, 0, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(es_edit_delete(s, 4, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "crowd") != NULL);
    int64_t ids[2] = {1, 5};
    CHECK(es_edit_merge(s, ids, 2, "x", &r, &err) == ES_ERR_INVALID);
    /* a bad label for the new entity */
    CHECK(es_edit_fill(s, 1, &far, ES_NONE, " bad", 0, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(fingerprint() == before);
    /* and nothing of it is in the history */
    int64_t hid;
    CHECK_OK(es_history_undo(s, &hid, NULL, &err), &err);
    CHECK(hid == ES_NONE);
}

static void write_png(const char *path, uint32_t w, uint32_t h, const uint8_t *v) {
    es_pixels p = ES_PIXELS_EMPTY;
    es_error err = {0};
    CHECK_OK(es_pixels_alloc(&p, w, h, 1, 1, &err), &err);
    memcpy(p.data, v, (size_t)w * h);
    CHECK_OK(es_png_write(path, &p, &err), &err);
    es_pixels_free(&p);
}

static void test_paint_mask_and_labelmap(void) {
    fresh_store();
    char png[4200];
    uint8_t m[64 * 48];
    es_error err = {0};
    es_edit_result r;
    /* paint x 10..29, y 0..15 into entity 1: takes 160 px from entity 2 */
    memset(m, 0, sizeof m);
    fixture_rect(m, 64, 10, 0, 29, 15);
    snprintf(png, sizeof png, "%s/paint.png", es_test_tmpdir());
    write_png(png, 64, 48, m);
    es_region reg = {png, 0, 0, 0, 0};
    CHECK_OK(es_edit_paint(s, 1, &reg, 1, NULL, "paint", &r, &err), &err);
    CHECK_EQ_INT(area_of(1), 480);
    CHECK_EQ_INT(area_of(2), 160);
    CHECK_EQ_INT(r.pixels, 160);
    /* a label map giving all of entity 2's remaining pixels (x 30..39) to entity 3 */
    memset(m, 0, sizeof m);
    for (int y = 0; y <= 15; y++)
        for (int x = 30; x <= 39; x++) m[y * 64 + x] = 3;
    snprintf(png, sizeof png, "%s/map.png", es_test_tmpdir());
    write_png(png, 64, 48, m);
    CHECK_OK(es_edit_paint_labelmap(s, 1, png, "labelmap", &r, &err), &err);
    CHECK_EQ_INT(area_of(3), 32 + 160);
    CHECK_EQ_INT(r.n_deleted, 1); /* entity 2 emptied */
    CHECK_OK(es_store_check_image_overlap(s, 1, &err), &err);
    /* wrong size: one error, untouched */
    uint64_t before = fingerprint();
    snprintf(png, sizeof png, "%s/small.png", es_test_tmpdir());
    write_png(png, 32, 32, m);
    es_region small = {png, 0, 0, 0, 0};
    CHECK(es_edit_paint(s, 1, &small, 1, NULL, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "32x32") != NULL && strstr(err.msg, "64x48") != NULL);
    CHECK(es_edit_paint_labelmap(s, 1, png, "x", &r, &err) == ES_ERR_INVALID);
    /* a label-map value that is no entity of the image */
    memset(m, 0, sizeof m);
    m[5] = 5; /* entity 5 belongs to image 2 */
    snprintf(png, sizeof png, "%s/badmap.png", es_test_tmpdir());
    write_png(png, 64, 48, m);
    CHECK(es_edit_paint_labelmap(s, 1, png, "x", &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "value 5") != NULL);
    CHECK(es_edit_paint_labelmap(s, 1, "/nonexistent.png", "x", &r, &err) != ES_OK);
    CHECK(fingerprint() == before);
}

int main(void) {
    snprintf(db, sizeof db, "%s/edit.db", es_test_tmpdir());
    ES_RUN(test_merge_and_undo);
    ES_RUN(test_split_into_components);
    ES_RUN(test_delete_then_fill_new_and_neighbour);
    ES_RUN(test_fill_errors_leave_store_untouched);
    ES_RUN(test_paint_mask_and_labelmap);
    es_store_close(s);
    ES_TEST_END();
}
