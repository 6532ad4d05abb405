/* test_coco_panoptic.c: coco-panoptic and panoptic-pred on the shared reference data.
 *
 * Golden masks: panopticapi's detection-format JSON gives every segment of its two sample
 * images as a pycocotools RLE string (same images, same segment order): each stored mask
 * must encode to exactly that string. The fixtures' gt.json files give the segment counts.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "convert.h"
#include "convert_test_util.h"
#include "es_test.h"

static const char *panopticapi(const char *rel) {
    static char buf[4][4096];
    static int slot = 0;
    char *p = buf[slot++ % 4];
    snprintf(p, 4096, "%s", es_test_shared("data/coco-panopticapi/sample_data"));
    strncat(p, rel, 4095 - strlen(p));
    return p;
}

static void every_mask_equals_the_pycocotools_rle_string(void) {
    const char *tmp = es_test_tmpdir();
    const char *db = tpath(tmp, "panopticapi.db");
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.threads = 2, .quiet = 1, .report = &rep};
    CHECK_OK(es_convert_coco_panoptic(panopticapi("/panoptic_examples.json"), panopticapi("/panoptic_examples"), db,
                                      ES_CROWD_IGNORE, &c, &err),
             &err);
    CHECK_EQ_INT(rep.images, 2);
    CHECK_EQ_INT(rep.entities, 50);
    CHECK_EQ_INT(rep.crowd, 3);
    CHECK_EQ_INT(rep.declared_area_differs, 0); /* the README verified every area */
    es_convert_report_free(&rep);

    cJSON *det = es_test_read_json(panopticapi("/panoptic_coco_detection_format.json"));
    CHECK(det != NULL);
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    if (!det || !s) return;
    CHECK_EQ_INT(es_store_entity_count(s), 50);
    const cJSON *anns = cJSON_GetObjectItem(det, "annotations");
    int64_t cur_image = -1;
    es_entity *ents = NULL;
    size_t n = 0, k = 0;
    int matched = 0;
    for (const cJSON *a = anns->child; a; a = a->next) {
        int64_t image = (int64_t)cJSON_GetObjectItem(a, "image_id")->valuedouble;
        if (image != cur_image) {
            es_entities_free(ents, n);
            ents = NULL;
            n = k = 0;
            int64_t id = ES_NONE;
            CHECK_OK(es_store_find_image_by_source_id(s, image, &id, &err), &err);
            CHECK(id != ES_NONE);
            CHECK_OK(es_store_read_entities(s, id, &ents, &n, &err), &err);
            cur_image = image;
        }
        if (k >= n) {
            CHECK_MSG(0, "image %lld has fewer entities than the detection JSON", (long long)image);
            break;
        }
        const es_entity *e = &ents[k];
        CHECK_EQ_INT(e->source_order, (int64_t)k);
        const cJSON *seg = cJSON_GetObjectItem(a, "segmentation");
        char *str = NULL;
        CHECK_OK(es_rle_to_string(&e->mask, &str, &err), &err);
        const char *want = cJSON_GetObjectItem(seg, "counts")->valuestring;
        CHECK_MSG(str && !strcmp(str, want), "image %lld segment %zu RLE differs", (long long)image, k);
        matched += str && !strcmp(str, want);
        free(str);
        CHECK_EQ_INT(e->area, (int64_t)cJSON_GetObjectItem(a, "area")->valuedouble);
        CHECK_NEAR(e->declared_area, cJSON_GetObjectItem(a, "area")->valuedouble, 0);
        CHECK_EQ_INT(e->is_crowd, (int)cJSON_GetObjectItem(a, "iscrowd")->valuedouble);
        CHECK_EQ_INT(e->category_id, (int64_t)cJSON_GetObjectItem(a, "category_id")->valuedouble);
        k++;
    }
    CHECK_EQ_INT(matched, 50);
    es_entities_free(ents, n);

    /* images: source id, name = file_name stem, categories with isthing */
    es_image *imgs = NULL;
    size_t ni = 0;
    CHECK_OK(es_store_images(s, &imgs, &ni, &err), &err);
    CHECK_EQ_INT(ni, 2);
    if (ni == 2) {
        CHECK(!strcmp(imgs[0].name, "000000142238"));
        CHECK_EQ_INT(imgs[0].source_id, 142238);
        CHECK_EQ_INT(imgs[0].width, 640);
        CHECK_EQ_INT(imgs[0].height, 427);
    }
    es_images_free(imgs, ni);
    es_category *cats = NULL;
    size_t nc = 0;
    CHECK_OK(es_store_categories(s, &cats, &nc, &err), &err);
    CHECK_EQ_INT(nc, 133);
    int things = 0;
    for (size_t i = 0; i < nc; i++) things += cats[i].isthing == 1;
    CHECK_EQ_INT(things, 80);
    es_categories_free(cats, nc);
    es_store_close(s);
    cJSON_Delete(det);
}

static void crowd_drop_leaves_crowd_pixels_unlabeled(void) {
    const char *db = tpath(es_test_tmpdir(), "drop.db");
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .threads = 1, .report = &rep};
    CHECK_OK(es_convert_coco_panoptic(panopticapi("/panoptic_examples.json"), panopticapi("/panoptic_examples"), db,
                                      ES_CROWD_DROP, &c, &err),
             &err);
    CHECK_EQ_INT(rep.entities, 47);
    CHECK_EQ_INT(rep.crowd, 0);
    CHECK_EQ_INT(rep.crowd_dropped, 3);
    es_convert_report_free(&rep);
}

/* Each fixture: every segment one entity, crowd kept as ignore, segments_info order kept. */
static void check_fixture(const char *name, int64_t images, int64_t segments, int64_t crowd) {
    char rel[256], dir[4096], db[4200];
    snprintf(rel, sizeof rel, "fixtures/%s", name);
    snprintf(dir, sizeof dir, "%s", es_test_shared(rel));
    snprintf(db, sizeof db, "%s/%s.db", es_test_tmpdir(), name);
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .threads = 2, .report = &rep};
    CHECK_OK(es_convert_coco_panoptic(tpath(dir, "gt.json"), tpath(dir, "gt"), db, ES_CROWD_IGNORE, &c, &err), &err);
    CHECK_EQ_INT(rep.images, images);
    CHECK_EQ_INT(rep.entities, segments);
    CHECK_EQ_INT(rep.crowd, crowd);
    es_convert_report_free(&rep);

    /* the predictions too, both routes */
    char pdb[4200], idb[4200];
    snprintf(pdb, sizeof pdb, "%s/%s_pan.db", es_test_tmpdir(), name);
    snprintf(idb, sizeof idb, "%s/%s_inst.db", es_test_tmpdir(), name);
    CHECK_OK(es_convert_panoptic_pred(tpath(dir, "pred_panoptic.json"), tpath(dir, "pred_panoptic"), db, pdb, &c, &err),
             &err);
    es_convert_report_free(&rep);
    CHECK_OK(es_convert_coco_results(tpath(dir, "pred_instances.json"), db, idb, &c, &err), &err);
    es_convert_report_free(&rep);

    /* predictions count equals the JSON's */
    cJSON *res = es_test_read_json(tpath(dir, "pred_instances.json"));
    es_store *s = NULL;
    CHECK_OK(es_store_open(idb, ES_OPEN_READ, &s, &err), &err);
    if (s && res) {
        CHECK_EQ_INT(es_store_entity_count(s), cJSON_GetArraySize(res));
        CHECK_EQ_INT(es_store_get_kind(s), ES_STORE_PRED);
        CHECK_EQ_INT(es_store_image_count(s), images);
    }
    es_store_close(s);
    cJSON_Delete(res);
}

static void fixtures_convert_with_every_segment(void) {
    check_fixture("tiny", 3, 6, 1);
    check_fixture("small", 40, 688, 18);
    check_fixture("coco_sample", 2, 50, 3);
}

/* Predictions from coco-results keep input order per image and the scores. */
static void coco_results_keep_order_and_scores(void) {
    const char *dir = es_test_shared("fixtures/tiny");
    const char *db = tpath(es_test_tmpdir(), "tiny.db");
    const char *idb = tpath(es_test_tmpdir(), "tiny_inst.db");
    es_error err = {0};
    es_store *s = NULL;
    CHECK_OK(es_store_open(idb, ES_OPEN_READ, &s, &err), &err);
    cJSON *res = es_test_read_json(tpath(dir, "pred_instances.json"));
    if (!s || !res) {
        es_store_close(s);
        cJSON_Delete(res);
        return;
    }
    int64_t id = ES_NONE;
    CHECK_OK(es_store_find_image_by_source_id(s, 1, &id, &err), &err);
    es_entity *ents = NULL;
    size_t n = 0;
    CHECK_OK(es_store_read_entities(s, id, &ents, &n, &err), &err);
    size_t k = 0;
    for (const cJSON *r = res->child; r; r = r->next) {
        if ((int)cJSON_GetObjectItem(r, "image_id")->valuedouble != 1) continue;
        if (k >= n) break;
        CHECK_NEAR(ents[k].score, cJSON_GetObjectItem(r, "score")->valuedouble, 0);
        char *str = NULL;
        CHECK_OK(es_rle_to_string(&ents[k].mask, &str, &err), &err);
        CHECK(str && !strcmp(str, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "segmentation"), "counts")->valuestring));
        free(str);
        k++;
    }
    CHECK_EQ_INT(k, n);
    es_entities_free(ents, n);
    es_store_close(s);
    cJSON_Delete(res);
    (void)db;
}

int main(void) {
    ES_RUN(every_mask_equals_the_pycocotools_rle_string);
    ES_RUN(crowd_drop_leaves_crowd_pixels_unlabeled);
    ES_RUN(fixtures_convert_with_every_segment);
    ES_RUN(coco_results_keep_order_and_scores);
    ES_TEST_END();
}
