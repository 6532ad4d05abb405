/* test_ade_cityscapes.c: ADE20K and Cityscapes, each through its raw layout and its
 * panoptic-JSON layout, written by this test (no dataset file is shipped: their licences
 * forbid it). Both routes must give the same entities, with the expected provenance.
 */
#include <math.h>

#include "convert.h"
#include "convert_internal.h"
#include "convert_test_util.h"
#include "es_test.h"

static const char *tmp;
static es_convert_common quiet = {0, 1, 0, 0, NULL};

static void mkdirs(const char *path) {
    if (es_mkdir_p(path, NULL) != ES_OK) printf("  cannot create %s\n", path);
}

static int write_gray(const char *path, const uint32_t *v, uint32_t w, uint32_t h, uint32_t depth) {
    es_pixels p = ES_PIXELS_EMPTY;
    if (es_pixels_alloc(&p, w, h, 1, depth, NULL)) return -1;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        if (depth == 1) ((uint8_t *)p.data)[i] = (uint8_t)v[i];
        else ((uint16_t *)p.data)[i] = (uint16_t)v[i];
    }
    int rc = es_png_write(path, &p, NULL);
    es_pixels_free(&p);
    return rc;
}

/* Entities of the store's only image. */
static es_entity *entities_of(const char *db, size_t *n) {
    es_error err = {0};
    es_store *s = NULL;
    es_entity *e = NULL;
    *n = 0;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    if (!s) return NULL;
    CHECK_EQ_INT(es_store_image_count(s), 1);
    CHECK_OK(es_store_read_entities(s, 1, &e, n, &err), &err);
    es_store_close(s);
    return e;
}

static void same_entities(const es_entity *a, size_t na, const es_entity *b, size_t nb) {
    CHECK_EQ_INT(na, nb);
    for (size_t k = 0; k < na && k < nb; k++) {
        char *sa = NULL, *sb = NULL;
        es_rle_to_string(&a[k].mask, &sa, NULL);
        es_rle_to_string(&b[k].mask, &sb, NULL);
        CHECK_MSG(sa && sb && !strcmp(sa, sb), "entity %zu: masks differ", k);
        free(sa);
        free(sb);
        CHECK_EQ_INT(a[k].category_id, b[k].category_id);
        CHECK_EQ_INT(a[k].isthing, b[k].isthing);
        CHECK_EQ_INT(a[k].is_crowd, b[k].is_crowd);
    }
}

/* ADE20K 6x4. Semantic (1-based, 0 = ignore): wall (1) on row 0, sky (3) at (5,0) fully
 * covered by an instance, floor (4) on row 3, person (13, a thing class) on rows 1-2.
 * Instances: person class (instance class 4 -> scene 13) ids 1 and 2; one person pixel
 * (5,2) has no instance and must become void. */
static const uint32_t ade_sem[24] = {1, 1, 1, 1, 1, 3, 13, 13, 0, 0, 13, 13, 13, 13, 0, 0, 13, 13, 4, 4, 4, 4, 4, 4};
static const uint8_t ade_inst_g[24] = {0, 0, 0, 0, 0, 2, 1, 1, 0, 0, 2, 2, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};

static void ade20k_raw_and_json_routes_agree(void) {
    char root[4200], d1[4300], d2[4300];
    snprintf(root, sizeof root, "%s/ADEChallengeData2016", tmp);
    snprintf(d1, sizeof d1, "%s/annotations/validation", root);
    snprintf(d2, sizeof d2, "%s/annotations_instance/validation", root);
    mkdirs(d1);
    mkdirs(d2);
    CHECK(write_gray(tpath(d1, "ADE_val_00000001.png"), ade_sem, 6, 4, 1) == 0);
    es_pixels ins = ES_PIXELS_EMPTY;
    CHECK_OK(es_pixels_alloc(&ins, 6, 4, 3, 1, NULL), (es_error *)NULL);
    for (int i = 0; i < 24; i++) {
        uint8_t *px = (uint8_t *)ins.data + 3 * i;
        px[0] = ade_inst_g[i] ? 4 : 0; /* instance class 4 = person */
        px[1] = ade_inst_g[i];
        px[2] = 0;
    }
    CHECK_OK(es_png_write(tpath(d2, "ADE_val_00000001.png"), &ins, NULL), (es_error *)NULL);
    es_pixels_free(&ins);

    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = quiet;
    c.report = &rep;
    const char *raw_db = tpath(tmp, "ade_raw.db");
    CHECK_OK(es_convert_ade20k_raw(root, "validation", raw_db, &c, &err), &err);
    CHECK_EQ_INT(rep.entities, 4);      /* wall, floor, person 1, person 2 */
    CHECK_EQ_INT(rep.empty_segments, 1); /* sky: no pixel left */
    es_convert_report_free(&rep);
    size_t n = 0;
    es_entity *e = entities_of(raw_db, &n);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_INT(e[0].category_id, 0); /* wall: category 0 is real */
        CHECK_EQ_INT(e[0].isthing, 0);
        CHECK_EQ_INT(e[0].area, 5);
        CHECK_NEAR(e[0].declared_area, 5, 0);
        CHECK_EQ_INT(e[1].category_id, 3); /* floor */
        CHECK_EQ_INT(e[1].area, 6);
        CHECK_EQ_INT(e[2].category_id, 12); /* person, instance 1 */
        CHECK_EQ_INT(e[2].isthing, 1);
        CHECK_EQ_INT(e[2].area, 4);
        CHECK_EQ_INT(e[3].area, 4); /* instance 2: (5,0), (4,1), (5,1), (4,2) */
    }

    /* the same image in the prepared panoptic layout: stale sky area, sky segment empty */
    char pdir[4300];
    snprintf(pdir, sizeof pdir, "%s/ade20k_panoptic_val", tmp);
    mkdirs(pdir);
    uint32_t ids[24];
    for (int i = 0; i < 24; i++) {
        ids[i] = 0;
        if (ade_sem[i] == 1) ids[i] = 100;
        if (ade_sem[i] == 4) ids[i] = 103;
        if (ade_inst_g[i] == 1) ids[i] = 5001;
        if (ade_inst_g[i] == 2) ids[i] = 5002;
    }
    CHECK(write_id_png(tpath(pdir, "ADE_val_00000001.png"), ids, 6, 4) == 0);
    const char *json = tpath(tmp, "ade20k_panoptic_val.json");
    write_text(json,
               "{\"images\": [{\"id\": \"ADE_val_00000001\", \"file_name\": \"ADE_val_00000001.jpg\", \"width\": 6, \"height\": 4}],\n"
               " \"annotations\": [{\"image_id\": \"ADE_val_00000001\", \"file_name\": \"ADE_val_00000001.png\", \"segments_info\": [\n"
               "   {\"id\": 100, \"category_id\": 0, \"area\": 5, \"iscrowd\": 0},\n"
               "   {\"id\": 102, \"category_id\": 2, \"area\": 1, \"iscrowd\": 0},\n"
               "   {\"id\": 103, \"category_id\": 3, \"area\": 6, \"iscrowd\": 0},\n"
               "   {\"id\": 5001, \"category_id\": 12, \"area\": 4, \"iscrowd\": 0},\n"
               "   {\"id\": 5002, \"category_id\": 12, \"area\": 4, \"iscrowd\": 0}]}],\n"
               " \"categories\": [{\"id\": 0, \"name\": \"wall\", \"isthing\": 0}, {\"id\": 2, \"name\": \"sky\", \"isthing\": 0},\n"
               "   {\"id\": 3, \"name\": \"floor\", \"isthing\": 0}, {\"id\": 12, \"name\": \"person\", \"isthing\": 1}]}\n");
    c.report = &rep;
    const char *json_db = tpath(tmp, "ade_json.db");
    CHECK_OK(es_convert_ade20k_panoptic(json, pdir, json_db, &c, &err), &err);
    CHECK_EQ_INT(rep.empty_segments, 1);
    es_convert_report_free(&rep);
    size_t m = 0;
    es_entity *f = entities_of(json_db, &m);
    same_entities(e, n, f, m);
    es_entities_free(e, n);
    es_entities_free(f, m);
    /* the same store names the image by its id either way */
    es_store *s = NULL;
    int64_t id = ES_NONE;
    CHECK_OK(es_store_open(json_db, ES_OPEN_READ, &s, &err), &err);
    if (s) CHECK_OK(es_store_find_image_by_name(s, "ADE_val_00000001", &id, &err), &err);
    CHECK(id != ES_NONE);
    es_store_close(s);
}

/* Cityscapes 5x2 instanceIds: road (7), a person crowd group (24 < 1000), cars 26000 and
 * 26001, unlabeled (0), dynamic (5, ignored), a caravan (29000, ignored in evaluation). */
static const uint32_t cs_ids[10] = {7, 7, 24, 26000, 26001, 0, 5, 29000, 26000, 26001};

static void cityscapes_raw_and_json_routes_agree(void) {
    char root[4200], city[4300];
    snprintf(root, sizeof root, "%s/cityscapes", tmp);
    snprintf(city, sizeof city, "%s/gtFine/val/aachen", root);
    mkdirs(city);
    CHECK(write_gray(tpath(city, "aachen_000000_000019_gtFine_instanceIds.png"), cs_ids, 5, 2, 2) == 0);
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = quiet;
    c.report = &rep;
    const char *raw_db = tpath(tmp, "cs_raw.db");
    CHECK_OK(es_convert_cityscapes_raw(root, "val", raw_db, &c, &err), &err);
    CHECK_EQ_INT(rep.entities, 4);
    CHECK_EQ_INT(rep.crowd, 1);
    es_convert_report_free(&rep);
    size_t n = 0;
    es_entity *e = entities_of(raw_db, &n);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_INT(e[0].source_segment_id, 7);
        CHECK_EQ_INT(e[0].isthing, 0);
        CHECK_EQ_INT(e[0].area, 2);
        CHECK_EQ_INT(e[1].source_segment_id, 24);
        CHECK_EQ_INT(e[1].is_crowd, 1);
        CHECK_EQ_INT(e[2].source_segment_id, 26000);
        CHECK_EQ_INT(e[2].category_id, 26);
        CHECK_EQ_INT(e[2].area, 2);
        CHECK_EQ_INT(e[3].is_crowd, 0);
    }

    /* the panoptic layout createPanopticImgs.py writes for it */
    char pdir[4300];
    snprintf(pdir, sizeof pdir, "%s/cityscapes_panoptic_val", tmp);
    mkdirs(pdir);
    uint32_t ids[10];
    for (int i = 0; i < 10; i++) ids[i] = (cs_ids[i] == 0 || cs_ids[i] == 5 || cs_ids[i] == 29000) ? 0 : cs_ids[i];
    CHECK(write_id_png(tpath(pdir, "aachen_000000_000019_gtFine_panoptic.png"), ids, 5, 2) == 0);
    const char *json = tpath(tmp, "cityscapes_panoptic_val.json");
    write_text(json,
               "{\"images\": [{\"id\": \"aachen_000000_000019\", \"file_name\": \"aachen_000000_000019_leftImg8bit.png\", "
               "\"width\": 5, \"height\": 2}],\n"
               " \"annotations\": [{\"image_id\": \"aachen_000000_000019\", \"file_name\": "
               "\"aachen_000000_000019_gtFine_panoptic.png\", \"segments_info\": [\n"
               "   {\"id\": 7, \"category_id\": 7, \"area\": 2, \"iscrowd\": 0},\n"
               "   {\"id\": 24, \"category_id\": 24, \"area\": 1, \"iscrowd\": 1},\n"
               "   {\"id\": 26000, \"category_id\": 26, \"area\": 2, \"iscrowd\": 0},\n"
               "   {\"id\": 26001, \"category_id\": 26, \"area\": 2, \"iscrowd\": 0}]}],\n"
               " \"categories\": [{\"id\": 7, \"name\": \"road\", \"isthing\": 0}, {\"id\": 24, \"name\": \"person\", \"isthing\": 1},\n"
               "   {\"id\": 26, \"name\": \"car\", \"isthing\": 1}]}\n");
    const char *json_db = tpath(tmp, "cs_json.db");
    CHECK_OK(es_convert_cityscapes_panoptic(json, pdir, json_db, &quiet, &err), &err);
    size_t m = 0;
    es_entity *f = entities_of(json_db, &m);
    same_entities(e, n, f, m);
    es_entities_free(e, n);
    es_entities_free(f, m);
}

static void unknown_label_values_are_errors(void) {
    char root[4200], city[4300];
    snprintf(root, sizeof root, "%s/cs_bad", tmp);
    snprintf(city, sizeof city, "%s/gtFine/val/bonn", root);
    mkdirs(city);
    const uint32_t bad[4] = {7, 7, 40000, 7}; /* label 40 does not exist */
    CHECK(write_gray(tpath(city, "bonn_000000_000001_gtFine_instanceIds.png"), bad, 2, 2, 2) == 0);
    es_error err = {0};
    CHECK(es_convert_cityscapes_raw(root, "val", tpath(tmp, "cs_bad.db"), &quiet, &err) != 0);
    CHECK(strstr(err.msg, "bonn_000000_000001") != NULL && strstr(err.msg, "40000") != NULL);
    CHECK(!file_exists(tpath(tmp, "cs_bad.db")));
}

int main(void) {
    tmp = es_test_tmpdir();
    ES_RUN(ade20k_raw_and_json_routes_agree);
    ES_RUN(cityscapes_raw_and_json_routes_agree);
    ES_RUN(unknown_label_values_are_errors);
    ES_TEST_END();
}
