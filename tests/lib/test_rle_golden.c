/* test_rle_golden.c: RLE against real COCO data in ../shared.
 * - the 50 segments of coco-panopticapi: each panoptic PNG id's mask, encoded alone
 *   (es_rle_encode) and with its whole map (es_rle_encode_labels), gives the pycocotools
 *   string of panoptic_coco_detection_format.json byte for byte, and the string parses
 *   back to the same runs;
 * - every compressed string in the cocoapi fake results and the golden fixtures parses and
 *   prints back to itself (pycocotools strings are canonical);
 * - the instance polygons of coco-val2014-100 rasterise to masks whose areas are close to
 *   the annotations' (shoelace) areas, and the crowd regions' uncompressed counts load.
 */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "es_test.h"
#include "es_test_io.h"
#include "entseg/rle.h"

static void panoptic_segments_encode_to_the_pycocotools_strings(void) {
    cJSON *pan = es_test_read_json(es_test_shared("data/coco-panopticapi/sample_data/panoptic_examples.json"));
    cJSON *det = es_test_read_json(es_test_shared("data/coco-panopticapi/sample_data/panoptic_coco_detection_format.json"));
    CHECK(pan && det);
    if (!pan || !det) return;
    /* The detection file lists the same 50 segments in the panoptic file's order. */
    cJSON *det_anns = cJSON_GetObjectItem(det, "annotations");
    int k = 0, compared = 0;
    es_error err = {0};
    cJSON *ann;
    cJSON_ArrayForEach(ann, cJSON_GetObjectItem(pan, "annotations")) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s",
                 es_test_shared("data/coco-panopticapi/sample_data/panoptic_examples"),
                 cJSON_GetObjectItem(ann, "file_name")->valuestring);
        uint32_t h = 0, w = 0;
        uint32_t *ids = es_test_read_panoptic_png(path, &h, &w);
        CHECK_MSG(ids != NULL, "cannot read %s", path);
        if (!ids) continue;
        es_label_rles all = {0};
        CHECK_OK(es_rle_encode_labels(&all, ids, h, w, &err), &err);
        uint8_t *mask = malloc((size_t)h * w);
        cJSON *seg;
        cJSON_ArrayForEach(seg, cJSON_GetObjectItem(ann, "segments_info")) {
            cJSON *d = cJSON_GetArrayItem(det_anns, k++);
            uint32_t id = (uint32_t)cJSON_GetObjectItem(seg, "id")->valuedouble;
            cJSON *rle = cJSON_GetObjectItem(d, "segmentation");
            const char *want = cJSON_GetObjectItem(rle, "counts")->valuestring;
            cJSON *size = cJSON_GetObjectItem(rle, "size");
            CHECK_EQ_INT(cJSON_GetArrayItem(size, 0)->valuedouble, h);
            CHECK_EQ_INT(cJSON_GetArrayItem(size, 1)->valuedouble, w);
            CHECK_EQ_INT(cJSON_GetObjectItem(d, "area")->valuedouble,
                         cJSON_GetObjectItem(seg, "area")->valuedouble);

            for (size_t i = 0; i < (size_t)h * w; i++) mask[i] = ids[i] == id;
            es_rle r = ES_RLE_EMPTY;
            CHECK_OK(es_rle_encode(&r, mask, h, w, &err), &err);
            char *got = NULL;
            CHECK_OK(es_rle_to_string(&r, &got, &err), &err);
            CHECK_MSG(got && strcmp(got, want) == 0, "segment %u: es_rle_encode string differs", id);
            CHECK_EQ_INT(es_rle_area(&r), cJSON_GetObjectItem(seg, "area")->valuedouble);
            double bb[4];
            es_rle_to_bbox(&r, bb);
            cJSON *jb = cJSON_GetObjectItem(seg, "bbox");
            for (int c = 0; c < 4; c++) CHECK_EQ_INT(bb[c], cJSON_GetArrayItem(jb, c)->valuedouble);

            /* the same segment out of the whole-map encoding */
            size_t slot = all.n;
            for (size_t i = 0; i < all.n; i++)
                if (all.ids[i] == id) slot = i;
            CHECK_MSG(slot < all.n, "segment %u missing from es_rle_encode_labels", id);
            if (slot < all.n) {
                char *got2 = NULL;
                CHECK_OK(es_rle_to_string(&all.rles[slot], &got2, &err), &err);
                CHECK_MSG(got2 && strcmp(got2, want) == 0, "segment %u: encode_labels string differs", id);
                CHECK_EQ_INT(all.areas[slot], es_rle_area(&r));
                free(got2);
            }
            /* and the string parses back to the runs */
            es_rle parsed = ES_RLE_EMPTY;
            CHECK_OK(es_rle_from_string(&parsed, want, h, w, &err), &err);
            CHECK(parsed.m == r.m && !memcmp(parsed.cnts, r.cnts, sizeof *r.cnts * r.m));
            compared++;
            free(got);
            es_rle_free(&parsed);
            es_rle_free(&r);
        }
        /* Every non-void id of the PNG is a segment: the map holds 18 and 32 of them. */
        CHECK(all.n == 18 || all.n == 32);
        es_label_rles_free(&all);
        free(mask);
        free(ids);
    }
    CHECK_EQ_INT(compared, 50);
    cJSON_Delete(pan);
    cJSON_Delete(det);
}

/* Parses every {size, counts-string} of a COCO results list and prints it back. */
static int strings_round_trip(const char *rel) {
    cJSON *res = es_test_read_json(es_test_shared(rel));
    CHECK_MSG(res != NULL, "cannot read %s", rel);
    if (!res) return 0;
    es_error err = {0};
    int n = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, res) {
        cJSON *seg = cJSON_GetObjectItem(item, "segmentation");
        cJSON *counts = cJSON_GetObjectItem(seg, "counts");
        if (!cJSON_IsString(counts)) continue;
        cJSON *size = cJSON_GetObjectItem(seg, "size");
        uint32_t h = (uint32_t)cJSON_GetArrayItem(size, 0)->valuedouble;
        uint32_t w = (uint32_t)cJSON_GetArrayItem(size, 1)->valuedouble;
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_from_string(&r, counts->valuestring, h, w, &err), &err);
        char *back = NULL;
        CHECK_OK(es_rle_to_string(&r, &back, &err), &err);
        CHECK_MSG(back && strcmp(back, counts->valuestring) == 0, "%s item %d", rel, n);
        /* decoding and re-encoding gives the same runs */
        uint8_t *m = malloc((size_t)h * w + 1);
        es_rle_decode(&r, m);
        es_rle again = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&again, m, h, w, &err), &err);
        CHECK(again.m == r.m && !memcmp(again.cnts, r.cnts, sizeof *r.cnts * r.m));
        free(m);
        free(back);
        es_rle_free(&again);
        es_rle_free(&r);
        n++;
    }
    cJSON_Delete(res);
    return n;
}

static void result_strings_print_back_to_themselves(void) {
    CHECK_EQ_INT(strings_round_trip("data/coco-val2014-100/instances_val2014_fakesegm100_results.json"), 734);
    CHECK(strings_round_trip("fixtures/small/pred_instances.json") > 0);
    CHECK(strings_round_trip("fixtures/coco_sample/pred_instances.json") > 0);
}

/* Shoelace area and perimeter of one polygon. */
static void polygon_measures(const double *xy, size_t k, double *area, double *perimeter) {
    double a = 0, p = 0;
    for (size_t i = 0; i < k; i++) {
        size_t j = (i + 1) % k;
        a += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
        p += hypot(xy[2 * j] - xy[2 * i], xy[2 * j + 1] - xy[2 * i + 1]);
    }
    *area = fabs(a) / 2;
    *perimeter = p;
}

static void coco_polygons_rasterise_to_about_their_area(void) {
    cJSON *inst = es_test_read_json(es_test_shared("data/coco-val2014-100/instances_val2014_100.json"));
    CHECK(inst != NULL);
    if (!inst) return;
    /* image id -> size */
    cJSON *images = cJSON_GetObjectItem(inst, "images");
    es_error err = {0};
    int n_poly = 0, n_crowd = 0;
    cJSON *ann;
    cJSON_ArrayForEach(ann, cJSON_GetObjectItem(inst, "annotations")) {
        double image_id = cJSON_GetObjectItem(ann, "image_id")->valuedouble;
        uint32_t h = 0, w = 0;
        cJSON *im;
        cJSON_ArrayForEach(im, images) if (cJSON_GetObjectItem(im, "id")->valuedouble == image_id) {
            h = (uint32_t)cJSON_GetObjectItem(im, "height")->valuedouble;
            w = (uint32_t)cJSON_GetObjectItem(im, "width")->valuedouble;
        }
        CHECK(h > 0 && w > 0);
        cJSON *seg = cJSON_GetObjectItem(ann, "segmentation");
        if (cJSON_IsObject(seg)) { /* crowd: uncompressed counts */
            cJSON *counts = cJSON_GetObjectItem(seg, "counts");
            size_t n = (size_t)cJSON_GetArraySize(counts);
            uint32_t *c = malloc(sizeof *c * n);
            for (size_t i = 0; i < n; i++) c[i] = (uint32_t)cJSON_GetArrayItem(counts, (int)i)->valuedouble;
            es_rle r = ES_RLE_EMPTY;
            CHECK_OK(es_rle_from_counts(&r, c, n, h, w, &err), &err);
            CHECK(es_rle_area(&r) > 0);
            /* the same counts against a wrong size are a format error */
            es_rle bad = ES_RLE_EMPTY;
            CHECK_EQ_INT(es_rle_from_counts(&bad, c, n, h + 1, w, &err), ES_ERR_FORMAT);
            es_rle_free(&r);
            free(c);
            n_crowd++;
            continue;
        }
        /* pycocotools frPyObjects + merge: the union of the parts */
        size_t parts = (size_t)cJSON_GetArraySize(seg);
        es_rle *rles = calloc(parts, sizeof *rles);
        double poly_area = 0, perimeter = 0;
        for (size_t p = 0; p < parts; p++) {
            cJSON *poly = cJSON_GetArrayItem(seg, (int)p);
            size_t nc = (size_t)cJSON_GetArraySize(poly);
            double *xy = malloc(sizeof *xy * (nc + 1));
            for (size_t i = 0; i < nc; i++) xy[i] = cJSON_GetArrayItem(poly, (int)i)->valuedouble;
            CHECK_OK(es_rle_from_polygon(&rles[p], xy, nc / 2, h, w, &err), &err);
            double a, per;
            polygon_measures(xy, nc / 2, &a, &per);
            poly_area += a;
            perimeter += per;
            free(xy);
        }
        es_rle merged = ES_RLE_EMPTY;
        CHECK_OK(es_rle_merge(&merged, rles, parts, 0, &err), &err);
        double mask_area = (double)es_rle_area(&merged);
        double ann_area = cJSON_GetObjectItem(ann, "area")->valuedouble;
        /* Rasterising moves the outline by at most about one pixel. */
        CHECK_MSG(fabs(mask_area - ann_area) <= 0.75 * perimeter + 4,
                  "annotation %.0f: mask area %.0f, annotation area %.1f, polygon area %.1f, perimeter %.1f",
                  cJSON_GetObjectItem(ann, "id")->valuedouble, mask_area, ann_area, poly_area, perimeter);
        (void)poly_area;
        double bb[4];
        es_rle_to_bbox(&merged, bb);
        cJSON *jb = cJSON_GetObjectItem(ann, "bbox");
        /* The mask lies inside the polygon's box (sharp spikes may fall between pixel
         * centres, so it can be smaller, never larger by more than a pixel). */
        double ax = cJSON_GetArrayItem(jb, 0)->valuedouble, ay = cJSON_GetArrayItem(jb, 1)->valuedouble;
        double aw = cJSON_GetArrayItem(jb, 2)->valuedouble, ah = cJSON_GetArrayItem(jb, 3)->valuedouble;
        CHECK_MSG(mask_area == 0 || (bb[0] >= ax - 1 && bb[1] >= ay - 1 && bb[0] + bb[2] <= ax + aw + 1 &&
                                     bb[1] + bb[3] <= ay + ah + 1),
                  "mask box %g %g %g %g, annotation box %g %g %g %g", bb[0], bb[1], bb[2], bb[3], ax, ay, aw, ah);
        es_rle_free(&merged);
        for (size_t p = 0; p < parts; p++) es_rle_free(&rles[p]);
        free(rles);
        n_poly++;
    }
    CHECK_EQ_INT(n_poly, 830);
    CHECK_EQ_INT(n_crowd, 9);
    cJSON_Delete(inst);
}

int main(void) {
    ES_RUN(panoptic_segments_encode_to_the_pycocotools_strings);
    ES_RUN(result_strings_print_back_to_themselves);
    ES_RUN(coco_polygons_rasterise_to_about_their_area);
    ES_TEST_END();
}
