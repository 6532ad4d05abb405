/* test_bad_inputs.c: every bad input the converter issue lists gets one error naming the
 * file and the image / segment, a non-zero status, and no output store left behind.
 *
 * The test writes a tiny COCO panoptic dataset (2 images) and predictions for it, then one
 * broken copy per case.
 */
#include <math.h>

#include "convert.h"
#include "convert_test_util.h"
#include "es_test.h"

static const char *tmp;

/* Image 1 (4x3): ids 1 (left half), 2 (right half), row 2 void. Image 2 (3x2): id 7 everywhere. */
static const uint32_t img1[12] = {1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 0, 0};
static const uint32_t img2[6] = {7, 7, 7, 7, 7, 7};

static const char good_json[] =
    "{\"images\": [{\"id\": 11, \"file_name\": \"a.jpg\", \"width\": 4, \"height\": 3},\n"
    "              {\"id\": 12, \"file_name\": \"b.jpg\", \"width\": 3, \"height\": 2}],\n"
    " \"annotations\": [\n"
    "  {\"image_id\": 11, \"file_name\": \"a.png\", \"segments_info\": [\n"
    "     {\"id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 4},\n"
    "     {\"id\": 2, \"category_id\": 2, \"iscrowd\": 0, \"area\": 4}]},\n"
    "  {\"image_id\": 12, \"file_name\": \"b.png\", \"segments_info\": [\n"
    "     {\"id\": 7, \"category_id\": 1, \"iscrowd\": 1, \"area\": 6}]}],\n"
    " \"categories\": [{\"id\": 1, \"name\": \"person\", \"isthing\": 1}, {\"id\": 2, \"name\": \"sky\", \"isthing\": 0}]}\n";

/* Writes JSON text (good_json with one substring replaced) as name in tmp; returns its path. */
static const char *variant(const char *name, const char *from, const char *to) {
    char text[4096];
    const char *at = from ? strstr(good_json, from) : NULL;
    if (from && !at) {
        printf("  test bug: '%s' not in the JSON\n", from);
        exit(1);
    }
    if (at)
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good_json), good_json, to, at + strlen(from));
    else
        snprintf(text, sizeof text, "%s", good_json);
    const char *p = tpath(tmp, name);
    write_text(p, text);
    return p;
}

static const char *png_dir(void) {
    return tpath(tmp, "png");
}

static void setup(void) {
    tmp = es_test_tmpdir();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/png' '%s/png_missing' '%s/png_small'", tmp, tmp, tmp);
    CHECK(system(cmd) == 0);
    CHECK(write_id_png(tpath(tmp, "png/a.png"), img1, 4, 3) == 0);
    CHECK(write_id_png(tpath(tmp, "png/b.png"), img2, 3, 2) == 0);
    CHECK(write_id_png(tpath(tmp, "png_missing/a.png"), img1, 4, 3) == 0);
    CHECK(write_id_png(tpath(tmp, "png_small/a.png"), img1, 4, 3) == 0);
    CHECK(write_id_png(tpath(tmp, "png_small/b.png"), img2, 2, 3) == 0); /* 2 wide, 3 high */
}

/* Runs the GT converter on json/dir and checks: failure, the message names the file and
 * `item`, no store at out. */
static void expect_gt_failure(const char *json, const char *dir, const char *item, const char *what) {
    const char *out = tpath(tmp, "bad.db");
    remove(out);
    es_error err = {0};
    es_convert_common c = {.quiet = 1, .threads = 2};
    int rc = es_convert_coco_panoptic(json, dir, out, ES_CROWD_IGNORE, &c, &err);
    CHECK_MSG(rc != 0, "%s: converted although broken", what);
    CHECK_MSG(strstr(err.msg, json) != NULL, "%s: message does not name %s: %s", what, json, err.msg);
    CHECK_MSG(strstr(err.msg, item) != NULL, "%s: message does not name '%s': %s", what, item, err.msg);
    CHECK_MSG(strchr(err.msg, '\n') == NULL, "%s: message is not one line", what);
    CHECK_MSG(!file_exists(out), "%s: an output store was left behind", what);
    printf("    %-28s -> %s\n", what, err.msg);
}

static void the_good_dataset_converts(void) {
    const char *out = tpath(tmp, "good.db");
    es_error err = {0};
    es_convert_common c = {.quiet = 1};
    CHECK_OK(es_convert_coco_panoptic(variant("good.json", NULL, NULL), png_dir(), out, ES_CROWD_IGNORE, &c, &err), &err);
    CHECK(file_exists(out));
}

static void truncated_json_is_an_error(void) {
    char text[4096];
    snprintf(text, sizeof text, "%.*s", (int)(strlen(good_json) * 2 / 3), good_json);
    const char *p = tpath(tmp, "truncated.json");
    write_text(p, text);
    expect_gt_failure(p, png_dir(), "annotations", "truncated JSON");
    p = variant("malformed.json", "\"segments_info\": [\n     {\"id\": 1,", "\"segments_info\": [\n     {\"id\": 1,,");
    expect_gt_failure(p, png_dir(), "annotations[0]", "malformed JSON");
}

static void missing_png_is_an_error(void) {
    expect_gt_failure(variant("good.json", NULL, NULL), tpath(tmp, "png_missing"), "b.png", "missing PNG");
}

static void png_size_mismatch_is_an_error(void) {
    expect_gt_failure(variant("good.json", NULL, NULL), tpath(tmp, "png_small"), "image 12", "PNG size mismatch");
}

static void unknown_ids_both_ways_are_errors(void) {
    /* the PNG has id 2, the JSON does not */
    const char *p = variant("no2.json", ",\n     {\"id\": 2, \"category_id\": 2, \"iscrowd\": 0, \"area\": 4}", "");
    expect_gt_failure(p, png_dir(), "id 2", "PNG id not in JSON");
    /* the JSON has id 9, the PNG does not */
    p = variant("extra9.json", "{\"id\": 7,", "{\"id\": 9, \"category_id\": 1}, {\"id\": 7,");
    expect_gt_failure(p, png_dir(), "segment id 9", "JSON id not in PNG");
}

static void duplicate_ids_are_errors(void) {
    const char *p = variant("dup.json", "{\"id\": 2,", "{\"id\": 1,");
    expect_gt_failure(p, png_dir(), "duplicate segment id 1", "duplicate segment id");
    p = variant("dupimg.json", "{\"id\": 12,", "{\"id\": 11,");
    expect_gt_failure(p, png_dir(), "image 11", "duplicate image id");
}

static void an_existing_output_is_left_untouched(void) {
    const char *out = tpath(tmp, "keep.db");
    write_text(out, "precious");
    es_error err = {0};
    es_convert_common c = {.quiet = 1, .replace = 1};
    const char *p = variant("dup2.json", "{\"id\": 2,", "{\"id\": 1,");
    CHECK(es_convert_coco_panoptic(p, png_dir(), out, ES_CROWD_IGNORE, &c, &err) != 0);
    char *t = es_test_read_file(out, NULL);
    CHECK(t && !strcmp(t, "precious"));
    free(t);
    c.replace = 0; /* without --replace an existing file is refused up front */
    CHECK(es_convert_coco_panoptic(variant("good.json", NULL, NULL), png_dir(), out, ES_CROWD_IGNORE, &c, &err) != 0);
    CHECK(strstr(err.msg, "--replace") != NULL);
}

static void lenient_skips_bad_images_and_lists_them(void) {
    const char *out = tpath(tmp, "lenient.db");
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .lenient = 1, .threads = 2, .report = &rep};
    CHECK_OK(es_convert_coco_panoptic(variant("good.json", NULL, NULL), tpath(tmp, "png_small"), out, ES_CROWD_IGNORE, &c,
                                      &err),
             &err);
    CHECK_EQ_INT(rep.images, 1);
    CHECK_EQ_INT(rep.nskipped, 1);
    if (rep.nskipped) CHECK(strstr(rep.skipped[0], "b") != NULL);
    es_convert_report_free(&rep);
}

/* ---- predictions ---- */

static void expect_results_failure(const char *text, const char *item, const char *what) {
    const char *json = tpath(tmp, "res.json");
    write_text(json, text);
    const char *out = tpath(tmp, "pred.db");
    remove(out);
    es_error err = {0};
    es_convert_common c = {.quiet = 1};
    int rc = es_convert_coco_results(json, tpath(tmp, "good.db"), out, &c, &err);
    CHECK_MSG(rc != 0, "%s: converted although broken", what);
    CHECK_MSG(strstr(err.msg, json) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK_MSG(strstr(err.msg, item) != NULL, "%s: message does not name '%s': %s", what, item, err.msg);
    CHECK_MSG(!file_exists(out), "%s: an output store was left behind", what);
    printf("    %-28s -> %s\n", what, err.msg);
}

static void bad_results_are_errors(void) {
    /* "Qn1" is the 4x3 mask with every pixel background except... any valid 12-pixel string works */
    es_rle r = ES_RLE_EMPTY;
    uint8_t m[12] = {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};
    char *s = NULL;
    CHECK_OK(es_rle_encode(&r, m, 3, 4, NULL), (es_error *)NULL);
    CHECK_OK(es_rle_to_string(&r, &s, NULL), (es_error *)NULL);
    es_rle_free(&r);
    char text[2048];
    snprintf(text, sizeof text,
             "[{\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 0.5},\n"
             " {\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": NaN}]",
             s, s);
    expect_results_failure(text, "[1]", "NaN score");
    snprintf(text, sizeof text,
             "[{\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": -0.5}]",
             s);
    expect_results_failure(text, "results[0]", "negative score");
    snprintf(text, sizeof text,
             "[{\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}}]", s);
    expect_results_failure(text, "results[0]", "missing score");
    snprintf(text, sizeof text,
             "[{\"image_id\": 99, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 1}]",
             s);
    expect_results_failure(text, "image id 99", "unknown image id");
    snprintf(text, sizeof text,
             "[{\"image_id\": 12, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 1}]",
             s);
    expect_results_failure(text, "RLE size 3x4", "RLE size mismatch");
    expect_results_failure("[{\"image_id\": 11, \"score\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"!!\"}}]",
                           "results[0]", "corrupt RLE string");

    /* --lenient: the bad results are left out and listed, the good one kept */
    snprintf(text, sizeof text,
             "[{\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 0.5},\n"
             " {\"image_id\": 99, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 0.5},\n"
             " {\"image_id\": 12, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": 0.5},\n"
             " {\"image_id\": 11, \"category_id\": 1, \"segmentation\": {\"size\": [3, 4], \"counts\": \"%s\"}, \"score\": -1}]",
             s, s, s, s);
    const char *json = tpath(tmp, "res_lenient.json"), *out = tpath(tmp, "pred_lenient.db");
    write_text(json, text);
    es_error err = {0};
    es_convert_report rep = {0};
    es_convert_common c = {.quiet = 1, .lenient = 1, .report = &rep};
    CHECK_OK(es_convert_coco_results(json, tpath(tmp, "good.db"), out, &c, &err), &err);
    CHECK_EQ_INT(rep.entities, 1);
    CHECK_EQ_INT(rep.nskipped, 3);
    es_convert_report_free(&rep);
    free(s);
}

static void overlapping_gt_is_an_error(void) {
    /* two polygons covering the same pixels */
    const char *json = tpath(tmp, "overlap.json");
    write_text(json,
               "{\"images\": [{\"id\": 5, \"file_name\": \"o.jpg\", \"width\": 10, \"height\": 10}],\n"
               " \"annotations\": [\n"
               "  {\"id\": 51, \"image_id\": 5, \"category_id\": 1, \"iscrowd\": 0, \"area\": 16,"
               "   \"segmentation\": [[1, 1, 5, 1, 5, 5, 1, 5]]},\n"
               "  {\"id\": 52, \"image_id\": 5, \"category_id\": 1, \"iscrowd\": 0, \"area\": 16,"
               "   \"segmentation\": [[3, 3, 7, 3, 7, 7, 3, 7]]}],\n"
               " \"categories\": [{\"id\": 1, \"name\": \"thing\"}]}\n");
    const char *out = tpath(tmp, "overlap.db");
    es_error err = {0};
    es_convert_common c = {.quiet = 1};
    int rc = es_convert_coco_instances(json, out, ES_GT_OVERLAP_ERROR, &c, &err);
    CHECK(rc == ES_ERR_OVERLAP);
    CHECK(strstr(err.msg, json) && strstr(err.msg, "51") && strstr(err.msg, "52"));
    CHECK(!file_exists(out));
    printf("    %-28s -> %s\n", "overlapping GT", err.msg);
    /* keep: a store marked overlapping; paint: the smaller (later on ties) stays whole */
    CHECK_OK(es_convert_coco_instances(json, out, ES_GT_OVERLAP_KEEP, &c, &err), &err);
    es_store *s = NULL;
    CHECK_OK(es_store_open(out, ES_OPEN_READ, &s, &err), &err);
    if (s) CHECK_EQ_INT(es_store_overlapping_instances(s), 1);
    es_store_close(s);
    const char *out2 = tpath(tmp, "painted.db");
    es_convert_report rep = {0};
    c.report = &rep;
    CHECK_OK(es_convert_coco_instances(json, out2, ES_GT_OVERLAP_PAINT, &c, &err), &err);
    CHECK(rep.overlaps_painted > 0);
    es_convert_report_free(&rep);
    CHECK_OK(es_store_open(out2, ES_OPEN_READ, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(es_store_overlapping_instances(s), 0);
        es_entity *e = NULL;
        size_t n = 0;
        CHECK_OK(es_store_read_entities(s, 1, &e, &n, &err), &err);
        CHECK_EQ_INT(n, 2);
        if (n == 2) CHECK_EQ_INT(e[0].area + e[1].area, es_rle_union_area(&e[0].mask, &e[1].mask));
        es_entities_free(e, n);
    }
    es_store_close(s);
}

static void malformed_inputs_never_crash(void) {
    /* a few shapes of wrong JSON: each must fail cleanly */
    static const char *const texts[] = {
        "", "[", "{}", "{\"annotations\": 5}", "{\"images\": [1, 2], \"annotations\": []}",
        "{\"images\": [{\"id\": 1, \"file_name\": \"a\", \"width\": -4, \"height\": 3}], \"annotations\": []}",
        "{\"images\": [], \"annotations\": [{\"image_id\": 1}]}", "\"just a string\"", "{\"annotations\": [[[[[]]]]]}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *json = tpath(tmp, "weird.json");
        write_text(json, texts[i]);
        const char *out = tpath(tmp, "weird.db");
        es_error err = {0};
        es_convert_common c = {.quiet = 1};
        CHECK_MSG(es_convert_coco_panoptic(json, png_dir(), out, ES_CROWD_IGNORE, &c, &err) != 0, "panoptic case %zu", i);
        CHECK_MSG(es_convert_coco_instances(json, out, ES_GT_OVERLAP_ERROR, &c, &err) != 0, "instances case %zu", i);
        CHECK(!file_exists(out));
    }
}

/* Every prefix of a valid file is an error, never a crash (run under ASan in CI). */
static void every_truncation_fails_cleanly(void) {
    size_t len = strlen(good_json);
    int failed = 0, runs = 0;
    char json[4200], out[4200], pngs[4200]; /* tpath's buffers rotate: keep copies */
    snprintf(json, sizeof json, "%s", tpath(tmp, "prefix.json"));
    snprintf(out, sizeof out, "%s", tpath(tmp, "prefix.db"));
    snprintf(pngs, sizeof pngs, "%s", png_dir());
    for (size_t cut = 0; cut + 2 < len; cut += 3, runs++) {
        char text[4096];
        snprintf(text, sizeof text, "%.*s", (int)cut, good_json);
        write_text(json, text);
        es_error err = {0};
        es_convert_common c = {.quiet = 1};
        failed += es_convert_coco_panoptic(json, pngs, out, ES_CROWD_IGNORE, &c, &err) != 0;
        CHECK(!file_exists(out));
    }
    CHECK_EQ_INT(failed, runs);
}

int main(void) {
    setup();
    ES_RUN(the_good_dataset_converts);
    ES_RUN(truncated_json_is_an_error);
    ES_RUN(missing_png_is_an_error);
    ES_RUN(png_size_mismatch_is_an_error);
    ES_RUN(unknown_ids_both_ways_are_errors);
    ES_RUN(duplicate_ids_are_errors);
    ES_RUN(an_existing_output_is_left_untouched);
    ES_RUN(lenient_skips_bad_images_and_lists_them);
    ES_RUN(bad_results_are_errors);
    ES_RUN(overlapping_gt_is_an_error);
    ES_RUN(malformed_inputs_never_crash);
    ES_RUN(every_truncation_fails_cleanly);
    ES_TEST_END();
}
