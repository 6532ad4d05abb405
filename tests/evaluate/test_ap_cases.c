/* tests/evaluate/test_ap_cases.c: hand-built cases where COCOeval's semantics are subtle,
 * each with its expected numbers derived by hand in the comment above it (never from our
 * own output). Masks are axis-aligned rectangles on small images.
 */
#include <stdint.h>

#include "entseg/rle.h"
#include "cocoeval.h"
#include "es_test.h"
#include "eval.h"

#define W 100
#define H 100

/* A rectangle [x0, x0+w) x [y0, y0+h) as an RLE of an H x W image. */
static es_rle rect(int x0, int y0, int w, int h) {
    static uint8_t buf[H * W];
    memset(buf, 0, sizeof buf);
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) buf[y * W + x] = 1;
    es_rle r = ES_RLE_EMPTY;
    es_error err = {0};
    es_rle_encode(&r, buf, H, W, &err);
    return r;
}

typedef struct builder {
    es_eval_image img[8];
    size_t n;
} builder;

static es_eval_image *add_image(builder *b, int64_t source_id) {
    es_eval_image *im = &b->img[b->n++];
    memset(im, 0, sizeof *im);
    im->image_id = (int64_t)b->n;
    im->source_id = source_id;
    im->name = "case";
    im->height = H;
    im->width = W;
    im->gt = calloc(200, sizeof *im->gt);
    im->dt_raw = calloc(200, sizeof *im->dt_raw);
    return im;
}

static void add_gt(es_eval_image *im, es_rle m, int crowd) {
    es_eval_gt *g = &im->gt[im->n_gt];
    g->mask = m;
    g->pixels = es_rle_area(&m);
    g->area = (double)g->pixels;
    g->is_crowd = crowd;
    g->category_id = 1;
    g->isthing = 1;
    g->source_order = (int64_t)im->n_gt;
    g->entity_id = (int64_t)im->n_gt; /* ids start at 0: id 0 must match normally */
    im->n_gt++;
}

static void add_dt(es_eval_image *im, es_rle m, double score) {
    es_eval_dt *d = &im->dt_raw[im->n_dt_raw];
    d->mask = m;
    d->pixels = es_rle_area(&m);
    d->score = score;
    d->category_id = 1;
    d->input_index = (int64_t)im->n_dt_raw;
    d->entity_id = 1000 + (int64_t)im->n_dt_raw;
    im->n_dt_raw++;
}

static void builder_free(builder *b) {
    for (size_t i = 0; i < b->n; i++) es_eval_image_clear(&b->img[i]);
}

static int run(builder *b, es_eval_options *o, es_eval_result *r) {
    es_error err = {0};
    if (!o->metrics) o->metrics = ES_METRIC_AP_E | ES_METRIC_AP_M;
    o->quiet = 1;
    int rc = es_eval_run_images(b->img, b->n, o, r, &err);
    if (rc) printf("  es_eval_run_images: %s\n", err.msg);
    return rc;
}

/* METRICS AP 1: numpy linspace: the 9th IoU threshold is 0.8999999999999999, so an IoU of
 * exactly 0.9 matches there; 0.75 is exact (summary AP75 finds it). */
static void thresholds_equal_numpy_linspace(void) {
    es_coco_params p;
    es_coco_params_default(&p);
    CHECK(p.iou_thrs[8] == nextafter(0.9, 0));
    CHECK(p.iou_thrs[5] == 0.75);
    CHECK(p.iou_thrs[0] == 0.5 && p.iou_thrs[9] == 0.95);
    CHECK(p.rec_thrs[100] == 1.0 && p.rec_thrs[1] == 0.01);
}

/* GT 10x10 (100 px); prediction 9x10 inside it: IoU = 90/100 = 0.9 exactly, a TP at the 9
 * thresholds up to 0.8999999999999999 and a miss at 0.95. Each matched threshold has
 * precision 1 at every recall threshold, so AP = 9*101 / (10*101) = 0.9; AR100 = 0.9. */
static void iou_of_exactly_point_nine_matches_at_the_ninth_threshold(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(10, 10, 10, 10), 0);
    add_dt(im, rect(10, 10, 9, 10), 0.5);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 0.9, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 0.9, 1e-15);
    CHECK_NEAR(r.ap_m.stats[3], 0.9, 1e-15); /* 100 px: small */
    CHECK(r.ap_m.stats[4] == -1 && r.ap_m.stats[5] == -1);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS AP 2: a score tie across images goes to the smaller source image id. Image
 * source id 2 (listed first) holds an FP, image source id 1 a TP, both score 0.5, npig = 2.
 * Order TP, FP: rc = [.5, .5], precision envelope [1, .5]: recall thresholds 0..0.50 (51 of
 * 101) see 1, the rest 0 -> AP = 51/101 at every IoU. (FP first would give 51*0.5/101.) */
static void score_tie_across_images_goes_to_smaller_image_id(void) {
    builder b = {0};
    es_eval_image *a = add_image(&b, 2);
    add_gt(a, rect(0, 0, 10, 10), 0);
    add_dt(a, rect(50, 50, 10, 10), 0.5);
    es_eval_image *c = add_image(&b, 1);
    add_gt(c, rect(0, 0, 10, 10), 0);
    add_dt(c, rect(0, 0, 10, 10), 0.5);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 51.0 / 101.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 0.5, 1e-15);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS AP 2: a tie inside one image keeps input order. GT g; predictions FP then TP,
 * both 0.7: order FP, TP: rc = [0, 1], pr = [0, .5], envelope [.5, .5] -> AP = 0.5. */
static void score_tie_inside_an_image_keeps_input_order(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 10, 10), 0);
    add_dt(im, rect(50, 50, 10, 10), 0.7);
    add_dt(im, rect(0, 0, 10, 10), 0.7);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 0.5, 1e-15);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS AP 3-4: a crowd GT absorbs any number of detections (IoU = intersection / det
 * area = 1 here) and they are ignored. Two detections inside the crowd score 0.99 / 0.98,
 * the TP 0.9: all ignored but the TP -> AP = 1. (Counted as FPs they would give 1/3.)
 * The crowd is not a GT to find: npig = 1, AR = 1. */
static void crowd_absorbs_many_detections(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 10, 10), 0);
    add_gt(im, rect(40, 40, 40, 40), 1);
    add_dt(im, rect(45, 45, 10, 10), 0.99);
    add_dt(im, rect(60, 60, 10, 10), 0.98);
    add_dt(im, rect(0, 0, 10, 10), 0.9);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 1.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 1.0, 1e-15);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* Ground-truth images without predictions count as misses; an image without GT and without
 * predictions changes nothing; predictions on an image without GT (or on void: COCOeval has
 * no void) are FPs. Image 1: GT + exact TP (0.9); image 2: GT, no predictions; image 3:
 * nothing; image 4: one prediction (0.8), no GT. Order TP, FP, npig = 2: rc = [.5, .5],
 * pr = [1, .5] -> AP = 51/101, AR100 = 0.5. */
static void images_without_predictions_and_predictions_on_void(void) {
    builder b = {0};
    es_eval_image *i1 = add_image(&b, 1);
    add_gt(i1, rect(0, 0, 10, 10), 0);
    add_dt(i1, rect(0, 0, 10, 10), 0.9);
    es_eval_image *i2 = add_image(&b, 2);
    add_gt(i2, rect(0, 0, 10, 10), 0);
    add_image(&b, 3);
    es_eval_image *i4 = add_image(&b, 4);
    add_dt(i4, rect(20, 20, 10, 10), 0.8);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 51.0 / 101.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 0.5, 1e-15);
    CHECK_EQ_INT(r.n_images_without_predictions, 2);
    CHECK(r.notes && strstr(r.notes, "2 ground-truth images have no predictions"));
    es_eval_result_free(&r);
    builder_free(&b);
}

/* More than 100 predictions: 100 FPs (1 px each, score 0.9) and the exact TP at 0.5 (rank
 * 101) -> cut at maxDets 100: AP = 0 and AR100 = 0. With --max-dets 1,10,101 the TP is
 * kept: precision 1/101 at recall 1 is the envelope everywhere -> AP = 1/101, AR = 1. */
static void more_than_max_dets_predictions_are_cut(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 10, 10), 0);
    for (int k = 0; k < 100; k++) add_dt(im, rect(20 + k % 50, 50 + k / 50, 1, 1), 0.9);
    add_dt(im, rect(0, 0, 10, 10), 0.5);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 0.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 0.0, 1e-15);
    es_eval_result_free(&r);
    o.n_max_dets = 3;
    o.max_dets[0] = 1, o.max_dets[1] = 10, o.max_dets[2] = 101;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 1.0 / 101.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[8], 1.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[6], 0.0, 1e-15); /* AR at 1 detection: an FP */
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS AP^e: painting. P1 (0.9) box A 10x10 at (0,0); P2 (0.8) box B 10x10 at (7,2),
 * overlapping A in 3x8 = 24 px; P3 (0.7) 3x3 inside A -> left empty, dropped. GT = B.
 * Painted P2 keeps 76 px, IoU 0.76: a TP at .50 .. .75 (6 thresholds; 0.75 is exact),
 * P1 is an FP (IoU 24/176). AP^m: order FP, TP(IoU 1), FP -> envelope .5 at every recall
 * threshold -> AP^m = 0.5. AP^e: 6 thresholds at 0.5, 4 at 0 -> AP^e = 3/10 = 0.3.
 * Overlap report: 2 predictions changed (P2, P3), 1 dropped, 24 + 9 = 33 pixels. */
static void overlap_resolve_paints_highest_score_first(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(7, 2, 10, 10), 0);
    add_dt(im, rect(0, 0, 10, 10), 0.9);
    add_dt(im, rect(7, 2, 10, 10), 0.8);
    add_dt(im, rect(2, 2, 3, 3), 0.7);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[0], 0.5, 1e-15);
    CHECK_NEAR(r.ap_e.stats[0], 0.3, 1e-15);
    CHECK_EQ_INT(r.overlap_predictions_changed, 2);
    CHECK_EQ_INT(r.overlap_predictions_dropped, 1);
    CHECK_EQ_INT(r.overlap_pixels_changed, 33);
    es_eval_result_free(&r);

    o.overlap = ES_OVERLAP_ALLOW; /* AP^e == AP^m */
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_e.stats[0], 0.5, 1e-15);
    es_eval_result_free(&r);

    o.overlap = ES_OVERLAP_ERROR;
    es_error err = {0};
    o.quiet = 1;
    CHECK_EQ_INT(es_eval_run_images(b.img, b.n, &o, &r, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "overlap") != NULL);
    builder_free(&b);
}

/* Equal scores in painting: the earlier prediction wins the shared pixels. P1 and P2 both
 * 0.5, P2 listed second, both cover box B (the GT): P1 keeps all of B (TP), P2 is emptied
 * and dropped -> AP^e = 1 (and 1 prediction dropped, 100 pixels). */
static void overlap_tie_goes_to_the_earlier_prediction(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(30, 30, 10, 10), 0);
    add_dt(im, rect(30, 30, 10, 10), 0.5);
    add_dt(im, rect(30, 30, 10, 10), 0.5);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_e.stats[0], 1.0, 1e-15);
    CHECK_EQ_INT(r.overlap_predictions_dropped, 1);
    CHECK_EQ_INT(r.overlap_pixels_changed, 100);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS AP 5: area bounds are inclusive: a 32x32 GT (1024 px) is in both "small" and
 * "medium", so a TP on it gives APs = APm = 1; APl = -1 (no GT there). */
static void area_bounds_are_inclusive(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 32, 32), 0);
    add_dt(im, rect(0, 0, 32, 32), 0.9);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_m.stats[3], 1.0, 1e-15);
    CHECK_NEAR(r.ap_m.stats[4], 1.0, 1e-15);
    CHECK(r.ap_m.stats[5] == -1);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* --compat entity: crowd dropped and GT area = (x2-x1)*(y2-y1) of the inclusive extents: a
 * 33x33 box (1089 px, "medium") gets area 32*32 = 1024, still medium but also small now; a
 * 1 px GT gets area 0 (small). With a TP on each: APs = APm = 1 in compat mode; in the
 * default mode the 33x33 GT is medium only and the 1 px GT small only. The crowd region
 * (which would absorb the 0.95 detection) is dropped, so that detection is an FP. */
static void compat_entity_uses_inclusive_bbox_area_and_drops_crowd(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 33, 33), 0);
    add_gt(im, rect(50, 50, 1, 1), 0);
    add_gt(im, rect(70, 70, 20, 20), 1);
    add_dt(im, rect(70, 70, 5, 5), 0.95);
    add_dt(im, rect(0, 0, 33, 33), 0.9);
    add_dt(im, rect(50, 50, 1, 1), 0.8);
    es_eval_options o = {0};
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    /* default: crowd absorbs the 0.95 detection -> both TPs, AP = 1 */
    CHECK_NEAR(r.ap_m.stats[0], 1.0, 1e-15);
    es_eval_result_free(&r);
    o.compat_entity = 1;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    /* compat: FP (0.95), TP, TP, npig 2: rc [0,.5,1], pr [0,.5,2/3] -> envelope 2/3 at
       every recall threshold: AP = 2/3; small holds both GTs (areas 1024 and 0). */
    CHECK_NEAR(r.ap_e.stats[0], 2.0 / 3.0, 1e-12);
    CHECK_NEAR(r.ap_e.stats[3], 2.0 / 3.0, 1e-12);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* METRICS boundary: 100x100 image, d = round(0.02 * sqrt(2) * 100) = round(2.83) = 3. GT
 * 10x10 at (10,10); the prediction is the same square 1 px to the right. Mask IoU =
 * 90/110 = 0.818. Bands: a 10x10 square eroded 3 times keeps its inner 4x4, so each band
 * has 84 px; the squares overlap in 9x10 = 90 px, of which the two inner 4x4 blocks
 * (x 13..16 and 14..17, y 13..16) cover 5x4 = 20, so the bands share 70 px: boundary IoU
 * = 70 / (84 + 84 - 70) = 0.714. AP^e: TP at 7 thresholds (.50 .. .80) -> 0.7; boundary
 * AP: min(0.818, 0.714) matches at 5 (.50 .. .70) -> 0.5. */
static void boundary_ap_takes_the_smaller_of_mask_and_boundary_iou(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(10, 10, 10, 10), 0);
    add_dt(im, rect(11, 10, 10, 10), 0.9);
    es_eval_options o = {0};
    o.metrics = ES_METRIC_AP_E | ES_METRIC_BOUNDARY_AP;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    CHECK_OK(run(&b, &o, &r), (es_error *)NULL);
    CHECK_NEAR(r.ap_e.stats[0], 0.7, 1e-15);
    CHECK_NEAR(r.boundary_ap.stats[0], 0.5, 1e-15);
    es_eval_result_free(&r);
    builder_free(&b);
}

/* Bad input: a NaN score is refused with one message naming the image. */
static void nan_score_is_an_error(void) {
    builder b = {0};
    es_eval_image *im = add_image(&b, 1);
    add_gt(im, rect(0, 0, 10, 10), 0);
    add_dt(im, rect(0, 0, 10, 10), NAN);
    es_eval_options o = {0};
    o.quiet = 1;
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    es_error err = {0};
    CHECK_EQ_INT(es_eval_run_images(b.img, b.n, &o, &r, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "NaN") != NULL);
    builder_free(&b);
}

int main(void) {
    ES_RUN(thresholds_equal_numpy_linspace);
    ES_RUN(iou_of_exactly_point_nine_matches_at_the_ninth_threshold);
    ES_RUN(score_tie_across_images_goes_to_smaller_image_id);
    ES_RUN(score_tie_inside_an_image_keeps_input_order);
    ES_RUN(crowd_absorbs_many_detections);
    ES_RUN(images_without_predictions_and_predictions_on_void);
    ES_RUN(more_than_max_dets_predictions_are_cut);
    ES_RUN(overlap_resolve_paints_highest_score_first);
    ES_RUN(overlap_tie_goes_to_the_earlier_prediction);
    ES_RUN(area_bounds_are_inclusive);
    ES_RUN(compat_entity_uses_inclusive_bbox_area_and_drops_crowd);
    ES_RUN(boundary_ap_takes_the_smaller_of_mask_and_boundary_iou);
    ES_RUN(nan_score_is_an_error);
    ES_TEST_END();
}
