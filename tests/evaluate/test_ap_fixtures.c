/* tests/evaluate/test_ap_fixtures.c: the metric core (es_eval_run_images) against the
 * reference numbers in ../shared (pycocotools, boundary-iou-api, panopticapi), loading the
 * inputs with the test-only loader (no converters involved):
 *  - fixtures tiny / small / coco_sample: ap_m, ap_e (default --overlap resolve), boundary_ap,
 *    ap_e_entity_ref (--compat entity) and the class-agnostic PQ, all stats to 1e-12;
 *  - coco-val2014-100: class-aware segm AP (ap_classes) of the official fake results;
 *  - fce-boundary-synthetic: class-aware boundary AP of polygon GT / DT.
 */
#include "es_test.h"
#include "fixture_loader.h"

#define TOL 1e-12

static void check_fixture(const char *name) {
    char dir[4096], path[4200], png[4200];
    snprintf(dir, sizeof dir, "%s", es_test_shared("fixtures"));
    snprintf(path, sizeof path, "%s/%s/gt.json", dir, name);
    snprintf(png, sizeof png, "%s/%s/gt", dir, name);
    fx_set s = {0};
    CHECK(fx_load_panoptic_gt(path, png, &s) == 0);
    snprintf(path, sizeof path, "%s/%s/pred_instances.json", dir, name);
    CHECK(fx_load_results(path, &s, 0) == 0);
    snprintf(path, sizeof path, "%s/%s/expected.json", dir, name);
    cJSON *exp = es_test_read_json(path);
    CHECK(exp != NULL);
    if (!exp) return;

    es_eval_options o = {0};
    o.metrics = ES_METRIC_AP_E | ES_METRIC_AP_M | ES_METRIC_BOUNDARY_AP | ES_METRIC_PQ;
    o.threads = 2;
    o.quiet = 1;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    es_error err = {0};
    CHECK_OK(es_eval_run_images(s.imgs, s.n, &o, &r, &err), &err);
    char what[256];
    snprintf(what, sizeof what, "%s ap_m", name);
    CHECK(!fx_check_stats(what, &r.ap_m, cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "ap_m"), "stats"), TOL));
    snprintf(what, sizeof what, "%s ap_e", name);
    CHECK(!fx_check_stats(what, &r.ap_e, cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "ap_e"), "stats"), TOL));
    snprintf(what, sizeof what, "%s boundary_ap", name);
    CHECK(!fx_check_stats(what, &r.boundary_ap,
                          cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "boundary_ap"), "stats"), TOL));
    /* class-agnostic PQ (the PQ family, here as a driver integration check) */
    const cJSON *pc = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "pq_agnostic"), "per_class"), "1");
    if (pc) {
        CHECK(r.pq.computed);
        CHECK_EQ_INT(r.pq.tp, cJSON_GetObjectItem(pc, "tp")->valueint);
        CHECK_EQ_INT(r.pq.fp, cJSON_GetObjectItem(pc, "fp")->valueint);
        CHECK_EQ_INT(r.pq.fn, cJSON_GetObjectItem(pc, "fn")->valueint);
        CHECK_NEAR(r.pq.pq, cJSON_GetObjectItem(pc, "pq")->valuedouble, TOL);
        CHECK_NEAR(r.pq.iou_sum, cJSON_GetObjectItem(pc, "iou_sum")->valuedouble, TOL);
    }
    es_eval_result_free(&r);

    o.metrics = ES_METRIC_AP_E;
    o.compat_entity = 1;
    CHECK_OK(es_eval_run_images(s.imgs, s.n, &o, &r, &err), &err);
    snprintf(what, sizeof what, "%s ap_e_entity_ref", name);
    CHECK(!fx_check_stats(what, &r.ap_e,
                          cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "ap_e_entity_ref"), "stats"), TOL));
    es_eval_result_free(&r);
    cJSON_Delete(exp);
    fx_free(&s);
}

static void fixture_tiny(void) { check_fixture("tiny"); }
static void fixture_small(void) { check_fixture("small"); }
static void fixture_coco_sample(void) { check_fixture("coco_sample"); }

/* ../shared/data/README.md: pycocotools stats of the fake segm results (useCats=1). */
static void coco_val2014_fake_segm_ap_classes(void) {
    static const double want[12] = {0.3195452758576433, 0.5622883972521636, 0.29892653412086784,
                                    0.3873740315997838, 0.31018272403369485, 0.3269339071005138,
                                    0.2682297225711534, 0.41544868114906375, 0.4168394992198818,
                                    0.4694498622754236, 0.37675922666197265, 0.3814715099715099};
    fx_set s = {0};
    CHECK(fx_load_instances_gt(es_test_shared("data/coco-val2014-100/instances_val2014_100.json"), &s) == 0);
    CHECK(fx_load_results(es_test_shared("data/coco-val2014-100/instances_val2014_fakesegm100_results.json"),
                          &s, 0) == 0);
    es_eval_options o = {0};
    o.metrics = ES_METRIC_AP_CLASSES | ES_METRIC_AP_M;
    o.quiet = 1;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    es_error err = {0};
    CHECK_OK(es_eval_run_images(s.imgs, s.n, &o, &r, &err), &err);
    CHECK(r.ap_classes.computed);
    for (int i = 0; i < 12; i++) CHECK_NEAR(r.ap_classes.stats[i], want[i], TOL);
    es_eval_result_free(&r);
    fx_free(&s);
}

/* ../shared/data/README.md: boundary-iou-api stats on faster_coco_eval's synthetic shapes. */
static void fce_boundary_synthetic(void) {
    static const double want[12] = {0.6947194719471946, 0.6947194719471946, 0.6947194719471946, -1,
                                    0.7367986798679867, 0.0, 0.6666666666666666, 0.75, 0.75, -1,
                                    0.7916666666666666, 0.0};
    fx_set s = {0};
    CHECK(fx_load_instances_gt(es_test_shared("data/fce-boundary-synthetic/gt_dataset.json"), &s) == 0);
    CHECK(fx_load_results(es_test_shared("data/fce-boundary-synthetic/dt_dataset.json"), &s, 0) == 0);
    es_eval_options o = {0};
    o.metrics = ES_METRIC_BOUNDARY_AP_CLASSES;
    o.quiet = 1;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    es_error err = {0};
    CHECK_OK(es_eval_run_images(s.imgs, s.n, &o, &r, &err), &err);
    CHECK(r.boundary_ap_classes.computed);
    for (int i = 0; i < 12; i++) CHECK_NEAR(r.boundary_ap_classes.stats[i], want[i], TOL);
    es_eval_result_free(&r);
    fx_free(&s);
}

int main(void) {
    ES_RUN(fixture_tiny);
    ES_RUN(fixture_small);
    ES_RUN(fixture_coco_sample);
    ES_RUN(coco_val2014_fake_segm_ap_classes);
    ES_RUN(fce_boundary_synthetic);
    ES_TEST_END();
}
