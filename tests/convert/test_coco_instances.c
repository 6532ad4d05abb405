/* test_coco_instances.c: coco-instances on real COCO instance GT (polygons + uncompressed
 * RLE crowd), coco-results on the official fake segm results, and entityseg on a small
 * file in the EntitySeg release layout written here.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "convert.h"
#include "convert_test_util.h"
#include "es_test.h"

static const char *tmp;

/* The JSON file parsed and the store opened for reading: 1 with both, else 0 with
 * neither (a store that does not open is a failed check). */
static int open_json_and_store(const char *json, const char *db, cJSON **root, es_store **s) {
    es_error err = {0};
    *root = es_test_read_json(json);
    *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, s, &err), &err);
    if (*root && *s) return 1;
    cJSON_Delete(*root);
    es_store_close(*s);
    return 0;
}

static void coco_val2014_subset_converts_with_overlap_keep(void) {
    const char *json = es_test_shared("data/coco-val2014-100/instances_val2014_100.json");
    const char *db = tpath(tmp, "inst.db");
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .threads = 2, .report = &rep};
    /* 82 of its images have overlapping instances: the default refuses */
    CHECK(es_convert_coco_instances(json, db, ES_GT_OVERLAP_ERROR, &c, &err) == ES_ERR_OVERLAP);
    CHECK(!file_exists(db));
    es_convert_report_free(&rep);
    CHECK_OK(es_convert_coco_instances(json, db, ES_GT_OVERLAP_KEEP, &c, &err), &err);
    CHECK_EQ_INT(rep.images, 100);
    CHECK_EQ_INT(rep.entities, 839);
    CHECK_EQ_INT(rep.crowd, 9);
    CHECK(rep.declared_area_differs > 800); /* polygon areas are not pixel counts */
    es_convert_report_free(&rep);

    /* every annotation keeps id, category, declared area; crowd masks (uncompressed RLE)
     * have exactly the area the counts give */
    cJSON *root;
    es_store *s;
    if (!open_json_and_store(json, db, &root, &s)) return;
    CHECK_EQ_INT(es_store_overlapping_instances(s), 1);
    int checked = 0, crowd_checked = 0;
    for (const cJSON *a = cJSON_GetObjectItem(root, "annotations")->child; a; a = a->next) {
        int64_t image = (int64_t)cJSON_GetObjectItem(a, "image_id")->valuedouble;
        int64_t id = ES_NONE;
        es_store_find_image_by_source_id(s, image, &id, &err);
        es_entity *e = NULL;
        size_t n = 0;
        CHECK_OK(es_store_read_entities(s, id, &e, &n, &err), &err);
        const es_entity *hit = NULL;
        for (size_t k = 0; k < n; k++)
            if (e[k].source_segment_id == (int64_t)cJSON_GetObjectItem(a, "id")->valuedouble) hit = &e[k];
        CHECK(hit != NULL);
        if (hit) {
            CHECK_NEAR(hit->declared_area, cJSON_GetObjectItem(a, "area")->valuedouble, 0);
            CHECK_EQ_INT(hit->category_id, (int64_t)cJSON_GetObjectItem(a, "category_id")->valuedouble);
            CHECK_EQ_INT(hit->is_crowd, (int)cJSON_GetObjectItem(a, "iscrowd")->valuedouble);
            const cJSON *seg = cJSON_GetObjectItem(a, "segmentation");
            if (cJSON_IsObject(seg)) {
                uint64_t fg = 0;
                int k = 0;
                for (const cJSON *v = cJSON_GetObjectItem(seg, "counts")->child; v; v = v->next, k++)
                    if (k & 1) fg += (uint64_t)v->valuedouble;
                CHECK_EQ_INT(hit->area, fg);
                crowd_checked++;
            }
            checked++;
        }
        es_entities_free(e, n);
    }
    CHECK_EQ_INT(checked, 839);
    CHECK_EQ_INT(crowd_checked, 9);
    cJSON_Delete(root);
    es_store_close(s);
}

static void fake_results_keep_their_rle_strings(void) {
    const char *json = es_test_shared("data/coco-val2014-100/instances_val2014_fakesegm100_results.json");
    const char *gt = tpath(tmp, "inst.db"), *db = tpath(tmp, "res.db");
    es_error err = {0};
    es_convert_common c = {.quiet = 1, .threads = 2};
    CHECK_OK(es_convert_coco_results(json, gt, db, &c, &err), &err);
    cJSON *root;
    es_store *s;
    if (!open_json_and_store(json, db, &root, &s)) return;
    CHECK_EQ_INT(es_store_entity_count(s), cJSON_GetArraySize(root));
    /* per image, the k-th result in the file is the entity with source_order k */
    int same = 0, n_all = 0;
    for (const cJSON *r = root->child; r; r = r->next, n_all++) {
        double img = cJSON_GetObjectItem(r, "image_id")->valuedouble;
        int k = 0;
        for (const cJSON *p = root->child; p != r; p = p->next) k += cJSON_GetObjectItem(p, "image_id")->valuedouble == img;
        int64_t id = ES_NONE;
        es_store_find_image_by_source_id(s, (int64_t)img, &id, &err);
        es_entity *e = NULL;
        size_t n = 0;
        es_store_read_entities(s, id, &e, &n, &err);
        if ((size_t)k < n) {
            char *str = NULL;
            es_rle_to_string(&e[k].mask, &str, NULL);
            same += str && !strcmp(str, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "segmentation"), "counts")->valuestring) &&
                    e[k].score == cJSON_GetObjectItem(r, "score")->valuedouble;
            free(str);
        }
        es_entities_free(e, n);
    }
    CHECK_EQ_INT(same, n_all);
    cJSON_Delete(root);
    es_store_close(s);
}

static void entityseg_labels_go_to_the_vocabulary(void) {
    /* two entities on a 4x3 image as RLE strings, labels as class names */
    uint8_t m1[12] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0}, m2[12] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0};
    es_rle r1 = ES_RLE_EMPTY, r2 = ES_RLE_EMPTY;
    char *s1 = NULL, *s2 = NULL;
    es_rle_encode(&r1, m1, 3, 4, NULL);
    es_rle_encode(&r2, m2, 3, 4, NULL);
    es_rle_to_string(&r1, &s1, NULL);
    es_rle_to_string(&r2, &s2, NULL);
    char text[2048];
    snprintf(text, sizeof text,
             "{\"images\": [{\"id\": 1, \"file_name\": \"entity/x_0001.jpg\", \"height\": 3, \"width\": 4, "
             "\"img_source\": \"coco\", \"url_flag\": \"0\"}],\n"
             " \"annotations\": [\n"
             "  {\"id\": 0, \"image_id\": 1, \"category_id\": 1, \"category_id_ori\": \"sky\", \"area\": 6, \"iscrowd\": 0,"
             "   \"bbox\": [0, 0, 2, 3], \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}},\n"
             "  {\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"category_id_ori\": \"man\", \"area\": 4, \"iscrowd\": 0,"
             "   \"bbox\": [2, 0, 2, 2], \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}}],\n"
             " \"categories\": [{\"id\": 1, \"name\": \"entity\"}]}\n",
             s1, s2);
    es_rle_free(&r1);
    es_rle_free(&r2);
    free(s1);
    free(s2);
    const char *json = tpath(tmp, "entityseg.json"), *db = tpath(tmp, "entityseg.db");
    write_text(json, text);
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .report = &rep};
    CHECK_OK(es_convert_entityseg(json, db, ES_GT_OVERLAP_ERROR, &c, &err), &err);
    CHECK_EQ_INT(rep.entities, 2);
    CHECK_EQ_INT(rep.id_zero, 1); /* annotation id 0: warned (METRICS.md AP 3) */
    es_convert_report_free(&rep);
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    es_label *labels = NULL;
    size_t nl = 0;
    CHECK_OK(es_store_labels(s, &labels, &nl, &err), &err);
    es_entity *e = NULL;
    size_t n = 0;
    CHECK_OK(es_store_read_entities(s, 1, &e, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    for (size_t k = 0; k < n; k++) {
        const char *want = k == 0 ? "sky" : "man";
        const char *got = NULL;
        for (size_t j = 0; j < nl; j++)
            if (labels[j].id == e[k].label_id) got = labels[j].name;
        CHECK_MSG(got && !strcmp(got, want), "entity %zu label %s, want %s", k, got ? got : "(none)", want);
    }
    CHECK_EQ_INT(e[0].source_segment_id, 0);
    es_image im = {0};
    CHECK_OK(es_store_get_image(s, 1, &im, &err), &err);
    CHECK(im.source && !strcmp(im.source, "coco"));
    CHECK(!strcmp(im.name, "x_0001"));
    es_image_clear(&im);
    es_entities_free(e, n);
    es_labels_free(labels, nl);
    es_store_close(s);
}

int main(void) {
    tmp = es_test_tmpdir();
    ES_RUN(coco_val2014_subset_converts_with_overlap_keep);
    ES_RUN(fake_results_keep_their_rle_strings);
    ES_RUN(entityseg_labels_go_to_the_vocabulary);
    ES_TEST_END();
}
