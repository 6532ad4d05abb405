/* test_check.c: `entseg-convert check` passes a clean synthetic store and finds each kind
 * of damage injected with SQL: a corrupt mask blob, a wrong area, a wrong bbox, overlapping
 * ground-truth entities, a mask of the wrong size, an infinite score, a file that is not a
 * store. Each damaged copy must exit 1 and name the image (and entity) in its JSON. */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "convert_test_util.h"
#include "es_test.h"
#include "es_test_io.h"
#include "synth.h"

static int sql(const char *db, const char *statement) {
    sqlite3 *h = NULL;
    char *msg = NULL;
    int rc = sqlite3_open(db, &h);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, statement, NULL, NULL, &msg);
    if (rc != SQLITE_OK) printf("  sql on %s failed: %s\n", db, msg ? msg : sqlite3_errmsg(h));
    sqlite3_free(msg);
    sqlite3_close(h);
    return rc;
}

/* Runs check with --json; returns its exit code and the parsed JSON (caller deletes). */
static int run_check(const char *db, cJSON **out) {
    const char *json = es_test_tmp_file("check.json");
    remove(json);
    char *argv[] = {"check", (char *)db, "--json", (char *)json, NULL};
    int rc = es_cmd_check(4, argv);
    *out = es_test_read_json(json);
    return rc;
}

/* Some problem in j mentions `needle` and (when entity_id > 0) that entity. */
static int has_problem(const cJSON *j, const char *needle, double entity_id) {
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "problems")) {
        const cJSON *msg = cJSON_GetObjectItem(p, "problem"), *eid = cJSON_GetObjectItem(p, "entity_id");
        int id_ok = entity_id <= 0 || (eid && eid->valuedouble == entity_id);
        if (msg && strstr(msg->valuestring, needle) && id_ok) return 1;
    }
    return 0;
}

static char clean_db[4096];

static void make_clean_store(void) {
    es_synth_options o = es_synth_options_default();
    o.images = 3;
    o.min_width = o.max_width = 120;
    o.min_height = o.max_height = 90;
    o.min_entities = 8;
    o.max_entities = 20;
    o.no_full = 1;
    o.seed = 9;
    es_convert_common c = {.quiet = 1, .replace = 1};
    es_error err;
    snprintf(clean_db, sizeof clean_db, "%s", es_test_tmp_file("clean.db"));
    CHECK_OK(es_synth_generate(clean_db, &o, &c, &err), &err);
    cJSON *j = NULL;
    CHECK_EQ_INT(run_check(clean_db, &j), 0);
    CHECK(j && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    CHECK(j && cJSON_GetObjectItem(j, "entities")->valuedouble >= 24);
    cJSON_Delete(j);
    char *argv[] = {"check", (char *)clean_db, "--files", NULL};
    CHECK_EQ_INT(es_cmd_check(3, argv), 0);
}

/* A damaged copy of the clean store must fail check with a problem containing needle. */
static void expect_damage_found(const char *name, const char *statement, const char *needle, double entity_id) {
    const char *db = es_test_tmp_file(name);
    CHECK(copy_file(clean_db, db) == 0);
    CHECK_OK(sql(db, statement), (es_error *)NULL);
    cJSON *j = NULL;
    CHECK_EQ_INT(run_check(db, &j), 1);
    CHECK(j && cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")));
    CHECK_MSG(j && has_problem(j, needle, entity_id), "%s: no problem mentioning '%s' (entity %g)", name, needle,
              entity_id);
    cJSON_Delete(j);
}

static void corrupt_blob_is_found(void) {
    expect_damage_found("blob.db", "UPDATE entities SET mask = X'01FF00FF13' WHERE id = 4", "entity 4", 0);
}
static void truncated_blob_is_found(void) {
    expect_damage_found("blob2.db", "UPDATE entities SET mask = substr(mask, 1, length(mask) / 2) WHERE id = 7",
                        "entit", 0);
}
static void wrong_area_is_found(void) {
    expect_damage_found("area.db", "UPDATE entities SET area = area + 1 WHERE id = 5", "stored area", 5);
}
static void wrong_bbox_is_found(void) {
    expect_damage_found("bbox.db", "UPDATE entities SET bbox_w = bbox_w + 2 WHERE id = 3", "stored bbox", 3);
}
static void overlap_is_found(void) {
    /* a second copy of entity 2 in its image: two ground-truth entities with the same pixels */
    expect_damage_found("overlap.db",
                        "INSERT INTO entities (image_id, mask, area, bbox_x, bbox_y, bbox_w, bbox_h, is_crowd, score,"
                        " isthing, source_order) SELECT image_id, mask, area, bbox_x, bbox_y, bbox_w, bbox_h, 0, 1.0,"
                        " isthing, 999 FROM entities WHERE id = 2",
                        "overlaps", 2);
}
static void wrong_size_is_found(void) {
    expect_damage_found("size.db", "UPDATE images SET width = width + 1 WHERE id = 2", "another image size", 0);
}
static void infinite_score_is_found(void) {
    expect_damage_found("score.db", "UPDATE entities SET score = 9e999 WHERE id = 6", "not finite", 6);
}
static void not_a_store_is_an_error(void) {
    const char *db = es_test_tmp_file("text.db");
    FILE *f = fopen(db, "w");
    fputs("this is not a database, just text long enough to look like a header......\n", f);
    fclose(f);
    cJSON *j = NULL;
    CHECK_EQ_INT(run_check(db, &j), 1);
    CHECK(j && has_problem(j, "cannot open", 0));
    cJSON_Delete(j);
    CHECK_EQ_INT(run_check(es_test_tmp_file("missing.db"), &j), 1);
    cJSON_Delete(j);
}
static void missing_image_file_is_found_with_files(void) {
    const char *db = es_test_tmp_file("files.db");
    CHECK(copy_file(clean_db, db) == 0);
    CHECK_OK(sql(db, "UPDATE images SET path = 'nowhere/x.png' WHERE id = 1"), (es_error *)NULL);
    char *argv[] = {"check", (char *)db, "--files", NULL};
    CHECK_EQ_INT(es_cmd_check(3, argv), 1);
    char *plain[] = {"check", (char *)db, NULL};
    CHECK_EQ_INT(es_cmd_check(2, plain), 0); /* files are only checked when asked */
}

int main(void) {
    ES_RUN(make_clean_store);
    ES_RUN(corrupt_blob_is_found);
    ES_RUN(truncated_blob_is_found);
    ES_RUN(wrong_area_is_found);
    ES_RUN(wrong_bbox_is_found);
    ES_RUN(overlap_is_found);
    ES_RUN(wrong_size_is_found);
    ES_RUN(infinite_score_is_found);
    ES_RUN(not_a_store_is_an_error);
    ES_RUN(missing_image_file_is_found_with_files);
    ES_TEST_END();
}
