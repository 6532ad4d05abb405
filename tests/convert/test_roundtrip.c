/* test_roundtrip.c: in -> out -> in gives the same masks for every export format; merge
 * and split keep every image and entity.
 */
#include <cjson/cJSON.h>

#include "convert.h"
#include "convert_test_util.h"
#include "es_test.h"

static const char *tmp, *fixture;
static es_convert_common quiet = {0, 1, 0, 0, NULL};

/* Same images (by name) with the same masks, crowd flags (and scores) in the same order.
 * skip_crowd_in_a: B lacks A's crowd regions and orders by id (label maps): then each
 * entity of A is looked up in B by its mask. */
static void same_masks(const char *a_db, const char *b_db, int skip_crowd_in_a, int compare_scores) {
    es_error err = {0};
    es_store *a = NULL, *b = NULL;
    CHECK_OK(es_store_open(a_db, ES_OPEN_READ, &a, &err), &err);
    CHECK_OK(es_store_open(b_db, ES_OPEN_READ, &b, &err), &err);
    if (!a || !b) {
        es_store_close(a);
        es_store_close(b);
        return;
    }
    es_image *imgs = NULL;
    size_t ni = 0;
    CHECK_OK(es_store_images(a, &imgs, &ni, &err), &err);
    CHECK_EQ_INT(es_store_image_count(b), (int64_t)ni);
    int64_t compared = 0;
    for (size_t i = 0; i < ni; i++) {
        int64_t bid = ES_NONE;
        CHECK_OK(es_store_find_image_by_name(b, imgs[i].name, &bid, &err), &err);
        CHECK_MSG(bid != ES_NONE, "image %s missing after the round trip", imgs[i].name);
        if (bid == ES_NONE) continue;
        es_entity *ea = NULL, *eb = NULL;
        size_t na = 0, nb = 0;
        CHECK_OK(es_store_read_entities(a, imgs[i].id, &ea, &na, &err), &err);
        CHECK_OK(es_store_read_entities(b, bid, &eb, &nb, &err), &err);
        size_t j = 0;
        for (size_t k = 0; k < na; k++) {
            if (skip_crowd_in_a && ea[k].is_crowd) continue;
            if (j >= nb) {
                CHECK_MSG(0, "image %s: fewer entities after the round trip", imgs[i].name);
                break;
            }
            size_t at = j;
            if (skip_crowd_in_a) /* label maps are ordered by id: find the same mask */
                for (at = 0; at < nb; at++)
                    if (es_rle_intersection_area(&ea[k].mask, &eb[at].mask) == ea[k].area) break;
            if (at == nb) at = j;
            char *sa = NULL, *sb = NULL;
            es_rle_to_string(&ea[k].mask, &sa, NULL);
            es_rle_to_string(&eb[at].mask, &sb, NULL);
            CHECK_MSG(sa && sb && !strcmp(sa, sb), "image %s entity %zu: mask differs", imgs[i].name, k);
            CHECK_EQ_INT(ea[k].is_crowd, eb[at].is_crowd);
            if (compare_scores) CHECK_NEAR(ea[k].score, eb[at].score, 0);
            free(sa);
            free(sb);
            j++;
            compared++;
        }
        CHECK_EQ_INT(j, nb);
        es_entities_free(ea, na);
        es_entities_free(eb, nb);
    }
    CHECK(compared > 0);
    es_images_free(imgs, ni);
    es_store_close(a);
    es_store_close(b);
}

static void setup(void) {
    tmp = es_test_tmpdir();
    fixture = es_test_shared("fixtures/small");
    es_error err = {0};
    CHECK_OK(es_convert_coco_panoptic(tpath(fixture, "gt.json"), tpath(fixture, "gt"), tpath(tmp, "gt.db"),
                                      ES_CROWD_IGNORE, &quiet, &err),
             &err);
    CHECK_OK(es_convert_coco_results(tpath(fixture, "pred_instances.json"), tpath(tmp, "gt.db"), tpath(tmp, "pred.db"),
                                     &quiet, &err),
             &err);
    CHECK_OK(es_convert_panoptic_pred(tpath(fixture, "pred_panoptic.json"), tpath(fixture, "pred_panoptic"),
                                      tpath(tmp, "gt.db"), tpath(tmp, "pan.db"), &quiet, &err),
             &err);
}

static void coco_panoptic_round_trip(void) {
    es_error err = {0};
    CHECK_OK(es_export(ES_EXPORT_COCO_PANOPTIC, tpath(tmp, "gt.db"), tpath(tmp, "out_pan.json"), NULL, 0, NULL, &err),
             &err);
    CHECK_OK(es_convert_coco_panoptic(tpath(tmp, "out_pan.json"), tpath(tmp, "out_pan"), tpath(tmp, "gt_pan.db"),
                                      ES_CROWD_IGNORE, &quiet, &err),
             &err);
    same_masks(tpath(tmp, "gt.db"), tpath(tmp, "gt_pan.db"), 0, 0);
    /* predictions keep their scores */
    CHECK_OK(es_export(ES_EXPORT_COCO_PANOPTIC, tpath(tmp, "pan.db"), tpath(tmp, "out_pred.json"), NULL, 0, NULL, &err),
             &err);
    CHECK_OK(es_convert_panoptic_pred(tpath(tmp, "out_pred.json"), tpath(tmp, "out_pred"), tpath(tmp, "gt.db"),
                                      tpath(tmp, "pan2.db"), &quiet, &err),
             &err);
    same_masks(tpath(tmp, "pan.db"), tpath(tmp, "pan2.db"), 0, 1);
}

static void coco_instances_round_trip_keeps_pycocotools_strings(void) {
    es_error err = {0};
    CHECK_OK(es_export(ES_EXPORT_COCO_INSTANCES, tpath(tmp, "gt.db"), tpath(tmp, "out_inst.json"), NULL, 0, NULL, &err),
             &err);
    CHECK_OK(es_convert_coco_instances(tpath(tmp, "out_inst.json"), tpath(tmp, "gt_inst.db"), ES_GT_OVERLAP_ERROR, &quiet,
                                       &err),
             &err);
    same_masks(tpath(tmp, "gt.db"), tpath(tmp, "gt_inst.db"), 0, 0);

    /* results out: the same strings, in the same order, as the detectron2-style input */
    CHECK_OK(es_export(ES_EXPORT_COCO_INSTANCES, tpath(tmp, "pred.db"), tpath(tmp, "out_res.json"), NULL, 0, NULL, &err),
             &err);
    char *t1 = es_test_read_file(tpath(fixture, "pred_instances.json"), NULL), *t2 = es_test_read_file(tpath(tmp, "out_res.json"), NULL);
    cJSON *a = cJSON_Parse(t1), *b = cJSON_Parse(t2);
    free(t1);
    free(t2);
    CHECK(a && b);
    if (a && b) {
        CHECK_EQ_INT(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
        /* the export groups by image (store order), keeping each image's input order: the
         * k-th result of an image in the input is the k-th of that image in the output */
        int same = 0, n = 0;
        for (const cJSON *x = a->child; x; x = x->next, n++) {
            double img = cJSON_GetObjectItem(x, "image_id")->valuedouble;
            int k = 0;
            for (const cJSON *p = a->child; p != x; p = p->next) k += cJSON_GetObjectItem(p, "image_id")->valuedouble == img;
            const cJSON *y = b->child;
            for (int seen = -1; y; y = y->next)
                if (cJSON_GetObjectItem(y, "image_id")->valuedouble == img && ++seen == k) break;
            if (!y) continue;
            const char *sx = cJSON_GetObjectItem(cJSON_GetObjectItem(x, "segmentation"), "counts")->valuestring;
            const char *sy = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "segmentation"), "counts")->valuestring;
            same += !strcmp(sx, sy) && cJSON_GetObjectItem(x, "score")->valuedouble == cJSON_GetObjectItem(y, "score")->valuedouble;
        }
        CHECK_EQ_INT(same, n);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    CHECK_OK(es_convert_coco_results(tpath(tmp, "out_res.json"), tpath(tmp, "gt.db"), tpath(tmp, "pred2.db"), &quiet, &err),
             &err);
    same_masks(tpath(tmp, "pred.db"), tpath(tmp, "pred2.db"), 0, 1);
}

static void label_maps_round_trip(void) {
    es_error err = {0};
    es_export_report rep = {0};
    CHECK_OK(es_export(ES_EXPORT_LABEL_MAPS, tpath(tmp, "gt.db"), tpath(tmp, "maps"), NULL, 0, &rep, &err), &err);
    CHECK_EQ_INT(rep.crowd_left_out, 18);
    CHECK_OK(es_convert_label_maps(tpath(tmp, "maps"), NULL, NULL, tpath(tmp, "gt_maps.db"), &quiet, &err), &err);
    same_masks(tpath(tmp, "gt.db"), tpath(tmp, "gt_maps.db"), 1, 0);
    /* predictions: maps + scores.json */
    CHECK_OK(es_export(ES_EXPORT_LABEL_MAPS, tpath(tmp, "pan.db"), tpath(tmp, "pmaps"), NULL, 0, NULL, &err), &err);
    CHECK_OK(es_convert_label_maps(tpath(tmp, "pmaps"), tpath(tmp, "pmaps/scores.json"), tpath(tmp, "gt.db"),
                                   tpath(tmp, "pan_maps.db"), &quiet, &err),
             &err);
    same_masks(tpath(tmp, "pan.db"), tpath(tmp, "pan_maps.db"), 1, 1); /* by id order */
}

static void label_maps_read_8_16_32_bit_files(void) {
    const char *dir = tpath(tmp, "depths");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(system(cmd) == 0);
    /* the same 3x2 map in four encodings: ids 0 (void), 5, 9 */
    const uint32_t ids[6] = {5, 5, 0, 9, 9, 9};
    es_pixels p8 = ES_PIXELS_EMPTY, p16 = ES_PIXELS_EMPTY, p32 = ES_PIXELS_EMPTY;
    CHECK_OK(es_pixels_alloc(&p8, 3, 2, 1, 1, NULL), (es_error *)NULL);
    CHECK_OK(es_pixels_alloc(&p16, 3, 2, 1, 2, NULL), (es_error *)NULL);
    CHECK_OK(es_pixels_alloc(&p32, 3, 2, 1, 4, NULL), (es_error *)NULL);
    for (int i = 0; i < 6; i++) {
        ((uint8_t *)p8.data)[i] = (uint8_t)ids[i];
        ((uint16_t *)p16.data)[i] = (uint16_t)(ids[i] * 1000);
        ((uint32_t *)p32.data)[i] = ids[i] * 100000;
    }
    CHECK_OK(es_png_write(tpath(dir, "a8.png"), &p8, NULL), (es_error *)NULL);
    CHECK_OK(es_png_write(tpath(dir, "b16.png"), &p16, NULL), (es_error *)NULL);
    CHECK_OK(es_tiff_write(tpath(dir, "c32.tif"), &p32, NULL), (es_error *)NULL);
    CHECK_OK(es_tiff_write(tpath(dir, "d16.tiff"), &p16, NULL), (es_error *)NULL);
    es_pixels_free(&p8);
    es_pixels_free(&p16);
    es_pixels_free(&p32);
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = quiet;
    c.report = &rep;
    CHECK_OK(es_convert_label_maps(dir, NULL, NULL, tpath(tmp, "depths.db"), &c, &err), &err);
    CHECK_EQ_INT(rep.images, 4);
    CHECK_EQ_INT(rep.entities, 8);
    es_convert_report_free(&rep);
    es_store *s = NULL;
    CHECK_OK(es_store_open(tpath(tmp, "depths.db"), ES_OPEN_READ, &s, &err), &err);
    for (int64_t im = 1; s && im <= 4; im++) {
        es_entity *e = NULL;
        size_t n = 0;
        CHECK_OK(es_store_read_entities(s, im, &e, &n, &err), &err);
        CHECK_EQ_INT(n, 2);
        if (n == 2) {
            CHECK_EQ_INT(e[0].area, 2);
            CHECK_EQ_INT(e[1].area, 3);
        }
        es_entities_free(e, n);
    }
    es_store_close(s);
}

static void merge_and_split_keep_everything(void) {
    es_error err = {0};
    const char *tiny = es_test_shared("fixtures/tiny");
    CHECK_OK(es_convert_coco_panoptic(tpath(tiny, "gt.json"), tpath(tiny, "gt"), tpath(tmp, "tiny.db"), ES_CROWD_IGNORE,
                                      &quiet, &err),
             &err);
    const char *in[2] = {tpath(tmp, "gt.db"), tpath(tmp, "tiny.db")};
    CHECK_OK(es_store_merge(in, 2, tpath(tmp, "merged.db"), &quiet, &err), &err);
    es_store *s = NULL;
    CHECK_OK(es_store_open(tpath(tmp, "merged.db"), ES_OPEN_READ, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(es_store_image_count(s), 43);
        CHECK_EQ_INT(es_store_entity_count(s), 688 + 6);
    }
    es_store_close(s);
    /* the same store twice: image names clash */
    const char *twice[2] = {tpath(tmp, "tiny.db"), tpath(tmp, "tiny.db")};
    CHECK(es_store_merge(twice, 2, tpath(tmp, "twice.db"), &quiet, &err) != 0);
    CHECK(!file_exists(tpath(tmp, "twice.db")));
    /* a ground-truth store and a prediction store do not merge */
    const char *mixed[2] = {tpath(tmp, "gt.db"), tpath(tmp, "pred.db")};
    CHECK(es_store_merge(mixed, 2, tpath(tmp, "mixed.db"), &quiet, &err) != 0);

    CHECK_OK(es_store_split(tpath(tmp, "merged.db"), 0.8, 1, NULL, tpath(tmp, "train.db"), tpath(tmp, "val.db"), &quiet,
                            &err),
             &err);
    es_store *a = NULL, *b = NULL;
    CHECK_OK(es_store_open(tpath(tmp, "train.db"), ES_OPEN_READ, &a, &err), &err);
    CHECK_OK(es_store_open(tpath(tmp, "val.db"), ES_OPEN_READ, &b, &err), &err);
    if (a && b) {
        CHECK_EQ_INT(es_store_image_count(a), 34); /* round(0.8 * 43) */
        CHECK_EQ_INT(es_store_image_count(a) + es_store_image_count(b), 43);
        CHECK_EQ_INT(es_store_entity_count(a) + es_store_entity_count(b), 694);
    }
    es_store_close(a);
    es_store_close(b);
    write_text(tpath(tmp, "list.txt"), "tiny_000002\ntiny_000003\n");
    CHECK_OK(es_store_split(tpath(tmp, "merged.db"), 0, 0, tpath(tmp, "list.txt"), tpath(tmp, "two.db"), NULL, &quiet,
                            &err),
             &err);
    CHECK_OK(es_store_open(tpath(tmp, "two.db"), ES_OPEN_READ, &a, &err), &err);
    if (a) CHECK_EQ_INT(es_store_image_count(a), 2);
    es_store_close(a);
}

int main(void) {
    setup();
    ES_RUN(coco_panoptic_round_trip);
    ES_RUN(coco_instances_round_trip_keeps_pycocotools_strings);
    ES_RUN(label_maps_round_trip);
    ES_RUN(label_maps_read_8_16_32_bit_files);
    ES_RUN(merge_and_split_keep_everything);
    ES_TEST_END();
}
