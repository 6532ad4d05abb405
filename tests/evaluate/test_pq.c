/* test_pq.c: PQ / boundary PQ (evaluate/pq.h) on small scenes whose numbers are derived by
 * hand in the comments (METRICS "PQ, SQ, RQ" and "boundary PQ"). Every scene is a 30 x 40
 * image (rows x columns), so the band width is round(0.02 * 50) = 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_test.h"
#include "pq.h"

enum { H = 30, W = 40, MAXE = 16 };

typedef struct scene {
    es_eval_gt gt[MAXE];
    es_eval_dt dt[MAXE];
    size_t ng, nd;
} scene;

/* Row-major dense mask -> column-major RLE (test-only encoder). */
static es_rle dense_to_rle(const uint8_t *m) {
    es_rle r = {H, W, 0, malloc(sizeof(uint32_t) * (H * W + 2))};
    uint32_t run = 0;
    int v = 0;
    for (uint32_t x = 0; x < W; x++)
        for (uint32_t y = 0; y < H; y++) {
            int p = m[y * W + x] != 0;
            if (p != v) {
                r.cnts[r.m++] = run;
                run = 0;
                v = p;
            }
            run++;
        }
    r.cnts[r.m++] = run;
    return r;
}

/* A mask of the union of inclusive rectangles x0, y0, x1, y1 (n of them). */
static es_rle rects(int n, const int *xyxy) {
    uint8_t m[H * W] = {0};
    for (int i = 0; i < n; i++)
        for (int y = xyxy[4 * i + 1]; y <= xyxy[4 * i + 3]; y++)
            for (int x = xyxy[4 * i + 0]; x <= xyxy[4 * i + 2]; x++) m[y * W + x] = 1;
    return dense_to_rle(m);
}

static uint64_t rle_pixels(const es_rle *r) {
    uint64_t s = 0;
    for (uint32_t i = 1; i < r->m; i += 2) s += r->cnts[i];
    return s;
}

/* area < 0: the pixel count */
static void add_gt(scene *s, es_rle mask, double area, int crowd, int64_t cat) {
    es_eval_gt *g = &s->gt[s->ng];
    memset(g, 0, sizeof *g);
    g->mask = mask;
    g->pixels = rle_pixels(&mask);
    g->area = area < 0 ? (double)g->pixels : area;
    g->is_crowd = crowd;
    g->category_id = cat;
    g->isthing = 1;
    g->source_order = (int64_t)s->ng;
    g->entity_id = (int64_t)s->ng + 1;
    s->ng++;
}

static void add_dt(scene *s, es_rle mask, int64_t cat) {
    es_eval_dt *d = &s->dt[s->nd];
    memset(d, 0, sizeof *d);
    d->mask = mask;
    d->pixels = rle_pixels(&mask);
    d->score = 1.0 - 0.01 * (double)s->nd;
    d->category_id = cat;
    d->input_index = (int64_t)s->nd;
    d->entity_id = 100 + (int64_t)s->nd;
    s->nd++;
}

static es_eval_image scene_image(scene *s) {
    es_eval_image img;
    memset(&img, 0, sizeof img);
    img.image_id = 7;
    img.name = "hand";
    img.height = H;
    img.width = W;
    img.n_gt = s->ng;
    img.gt = s->gt;
    img.n_dt = s->nd;
    img.dt = s->dt;
    return img;
}

static void scene_free(scene *s) {
    for (size_t i = 0; i < s->ng; i++) free(s->gt[i].mask.cnts);
    for (size_t i = 0; i < s->nd; i++) free(s->dt[i].mask.cnts);
    s->ng = s->nd = 0;
}

static const es_pq_category two_cats[2] = {{1, 1}, {2, 0}}; /* 1 thing, 2 stuff */

static es_pq_options opts(int classes, int boundary, int crowd_union) {
    es_pq_options o = es_pq_options_default();
    o.classes = classes;
    o.boundary = boundary;
    o.crowd_union = crowd_union;
    o.categories = two_cats;
    o.n_categories = 2;
    return o;
}

/* Evaluates one scene; returns the status, results in *r. */
static int eval_scene(scene *s, const es_pq_options *o, es_pq_results *r, es_error *err) {
    es_pq_eval *ev = NULL;
    es_eval_image img = scene_image(s);
    int rc = es_pq_eval_create(&ev, o, 1, err);
    if (rc == ES_OK) rc = es_pq_eval_image(ev, 0, &img, err);
    if (rc == ES_OK) rc = es_pq_eval_summarize(ev, r, err);
    es_pq_eval_free(ev);
    return rc;
}

#define CHECK_COUNTS(c, TP, FP, FN)   \
    do {                              \
        CHECK_EQ_INT((c).tp, TP);     \
        CHECK_EQ_INT((c).fp, FP);     \
        CHECK_EQ_INT((c).fn, FN);     \
    } while (0)

/* GT 10x10 (100 px). A prediction on 50 of its pixels and nothing else: union =
 * 50 + 100 - 50 - 0 = 100, IoU exactly 0.5, which does NOT match (> 0.5 needed): one FN,
 * and the prediction (no void, no crowd) is a FP. PQ = 0 / (0 + 1/2 + 1/2) = 0. */
static void test_iou_of_exactly_half_does_not_match(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){0, 0, 9, 4}), 1);
    es_pq_options o = opts(0, 0, 0);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 0, 1, 1);
    CHECK(r.summary[ES_PQ_MASK_AGNOSTIC].all.pq == 0.0);
    CHECK_EQ_INT(r.summary[ES_PQ_MASK_AGNOSTIC].all.n, 1);
    es_pq_results_free(&r);
    scene_free(&s);
    /* one pixel more: 51 / 100 = 0.51 matches; PQ = SQ = 0.51, RQ = 1 */
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(2, (int[]){0, 0, 9, 4, 0, 5, 0, 5}), 1);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    const es_pq_summary *a = &r.summary[ES_PQ_MASK_AGNOSTIC];
    CHECK_COUNTS(a->classes[0], 1, 0, 0);
    CHECK(a->classes[0].iou_sum == 51.0 / 100.0);
    CHECK(a->all.pq == 0.51);
    CHECK(a->all.sq == 0.51);
    CHECK(a->all.rq == 1.0);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* GT 10x10 at the top left; the rest is void. p1: 10 px on the GT + 11 px of void:
 * 11/21 > 0.5, ignored (its IoU 10 / (21 + 100 - 10 - 11) = 0.1 does not match).
 * p2: 10 px on the GT + 10 px of void: 10/20 = 0.5 is not > 0.5, a FP. */
static void test_void_heavy_prediction_is_ignored(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(2, (int[]){0, 0, 9, 0, 20, 0, 30, 0}), 1);
    add_dt(&s, rects(2, (int[]){0, 9, 9, 9, 20, 9, 29, 9}), 1);
    es_pq_options o = opts(0, 0, 0);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 0, 1, 1);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* The void term in the union and the declared area (METRICS PQ 1).
 * p = GT (100 px) + a void column of 10: union = 110 + 100 - 100 - 10 = 100, IoU 1.
 * GT declared 110 (100 px), p = GT: union = 100 + 110 - 100 - 0 = 110, IoU 100/110. */
static void test_union_subtracts_void_and_uses_declared_area(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    es_pq_options o = opts(0, 0, 0);
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){0, 0, 10, 9}), 1);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 1, 0, 0);
    CHECK(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].iou_sum == 1.0);
    es_pq_results_free(&r);
    scene_free(&s);
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), 110, 0, 1);
    add_dt(&s, rects(1, (int[]){0, 0, 9, 9}), 1);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].iou_sum == 100.0 / 110.0);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* Two crowd regions of category 1, c1 (source order 1) and c2 (source order 2), and a
 * non-crowd GT g (order 0). p covers 8 px of c1 and 2 px of void.
 * Last-crowd rule (panopticapi): only c2 counts: (2 + 0) / 10 = 0.2 -> FP.
 * Union rule: (2 + 8) / 10 = 1 -> ignored. g is a FN either way.
 * With c1 placed after c2 in source order the last rule also ignores p. */
static void test_two_crowds_last_wins_or_union(void) {
    es_error err = {0};
    es_pq_results r;
    for (int variant = 0; variant < 3; variant++) {
        scene s = {0};
        add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
        add_gt(&s, rects(1, (int[]){20, 0, 29, 9}), -1, 1, 1);   /* c1 */
        add_gt(&s, rects(1, (int[]){20, 20, 29, 29}), -1, 1, 1); /* c2 */
        if (variant == 2) s.gt[1].source_order = 5; /* c1 is now the last crowd */
        add_dt(&s, rects(2, (int[]){20, 0, 27, 0, 0, 15, 1, 15}), 1);
        es_pq_options o = opts(1, 1, variant == 1);
        CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
        int fp = variant == 0 ? 1 : 0;
        for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
            CHECK(r.computed[v]);
            CHECK_COUNTS(r.summary[v].classes[0], 0, fp, 1);
        }
        CHECK_EQ_INT(r.crowd_union, variant == 1);
        CHECK_EQ_INT(r.images_several_crowds[0], 1);
        CHECK_EQ_INT(r.images_several_crowds[1], 1);
        CHECK_EQ_INT(r.images_rule_changes[0], variant != 2);
        CHECK_EQ_INT(r.images_rule_changes[1], variant != 2);
        es_pq_results_free(&r);
        scene_free(&s);
    }
}

/* A crowd region never matches; a prediction on it is excused only by the crowd of its own
 * category. p = the crowd of category 2 exactly. Agnostic: ignored (10/10 on "its" crowd).
 * Classes with p in category 1: the crowd is category 2 -> FP for category 1. */
static void test_crowd_never_matches_and_excuses_its_category_only(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 1, 2);
    add_dt(&s, rects(1, (int[]){0, 0, 9, 9}), 1);
    es_pq_options o = opts(1, 0, 0);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 0, 0, 0);
    CHECK(isnan(r.summary[ES_PQ_MASK_AGNOSTIC].all.pq)); /* no entity counted: null */
    cJSON *j = es_pq_json_agnostic(&r.summary[ES_PQ_MASK_AGNOSTIC]);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "PQ")));
    CHECK(cJSON_GetObjectItem(j, "TP")->valuedouble == 0);
    cJSON_Delete(j);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_CLASSES].classes[0], 0, 1, 0);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_CLASSES].classes[1], 0, 0, 0);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* Categories: g (cat 1, thing) and p = g's pixels in cat 2 (stuff). Agnostic: TP with IoU 1.
 * Classes: cat 1 FN, cat 2 FP; All n = 2 with PQ 0; Things n = 1, Stuff n = 1.
 * With p in cat 1 instead: Stuff has no class with counts -> n = 0, NaN (JSON null). */
static void test_categories_and_groups(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){0, 0, 9, 9}), 2);
    es_pq_options o = opts(1, 0, 0);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 1, 0, 0);
    const es_pq_summary *c = &r.summary[ES_PQ_MASK_CLASSES];
    CHECK_EQ_INT(c->n_classes, 2);
    CHECK_EQ_INT(c->classes[0].id, 1);
    CHECK_COUNTS(c->classes[0], 0, 0, 1);
    CHECK_COUNTS(c->classes[1], 0, 1, 0);
    CHECK_EQ_INT(c->all.n, 2);
    CHECK(c->all.pq == 0.0);
    CHECK_EQ_INT(c->things.n, 1);
    CHECK_EQ_INT(c->stuff.n, 1);
    es_pq_results_free(&r);
    s.dt[0].category_id = 1;
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    c = &r.summary[ES_PQ_MASK_CLASSES];
    CHECK_EQ_INT(c->things.n, 1);
    CHECK(c->things.pq == 1.0);
    CHECK_EQ_INT(c->stuff.n, 0);
    CHECK(isnan(c->stuff.pq));
    /* JSON: the keys; the empty group is null */
    cJSON *root = cJSON_CreateObject();
    CHECK_OK(es_pq_results_add_json(&r, root, &err), &err);
    cJSON *pq = cJSON_GetObjectItem(root, "pq");
    const char *keys[] = {"PQ", "SQ", "RQ", "TP", "FP", "FN", "IoU_sum"};
    for (int i = 0; i < 7; i++) CHECK(cJSON_IsNumber(cJSON_GetObjectItem(pq, keys[i])));
    cJSON *pc = cJSON_GetObjectItem(root, "pq_classes");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(pc, "Stuff")));
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(pc, "Things"), "n")->valuedouble == 1);
    cJSON *per = cJSON_GetObjectItem(pc, "per_class");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(per, "1"), "PQ")->valuedouble == 1.0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(per, "2"), "TP")->valuedouble == 0);
    CHECK(cJSON_GetObjectItem(root, "boundary_pq") == NULL);
    CHECK(strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "pq_crowd_rule"), "rule")
                     ->valuestring, "last") == 0);
    cJSON_Delete(root);
    es_pq_results_free(&r);
    /* a ground-truth category the list does not hold: counted per image (a FN of category 9
     * here) but never reported, as panopticapi's pq_average only walks the listed ones */
    s.gt[0].category_id = 9;
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    c = &r.summary[ES_PQ_MASK_CLASSES];
    CHECK_EQ_INT(c->n_classes, 2);
    CHECK_COUNTS(c->classes[0], 0, 1, 0); /* the prediction (category 1) is a FP */
    CHECK_EQ_INT(c->all.n, 1);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* Boundary PQ (d = 1). GT g = x 5..14, y 5..14: its band is the 36-px ring.
 * p1 = the same square shifted one column right (x 6..15): 90 px shared, its column x 15
 * (10 px) is void, so mask union = 100 + 100 - 90 - 10 = 100 and mask IoU = 0.9. Bands
 * (36-px rings each): shared are rows 5 and 14 at x 6..14 (18 px); p1's band in void is its
 * column x 15 (10 px): boundary union = 36 + 36 - 18 - 10 = 44, boundary IoU 18/44 < 0.5 ->
 * no match in boundary PQ (FN 1, FP 1: p1's void share 10/100), TP with 0.9 in mask PQ.
 * p2 = x 5..15 (g plus the void column): mask IoU = 100 / (110 + 100 - 100 - 10) = 1;
 * p2's band = rows 5, 14 (x 5..15: 22) + columns 5, 15 (y 6..13: 16) = 38 px; shared with
 * g's band: rows 5, 14 at x 5..14 (20) + column 5 (8) = 28; band in void: column x 15
 * (10); boundary union = 38 + 36 - 28 - 10 = 36 -> boundary IoU 28/36 = 7/9 -> TP 7/9. */
static void test_boundary_pq_by_hand(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    es_pq_options o = opts(0, 1, 0);
    add_gt(&s, rects(1, (int[]){5, 5, 14, 14}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){6, 5, 15, 14}), 1);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK_COUNTS(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 1, 0, 0);
    CHECK(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].iou_sum == 90.0 / 100.0);
    CHECK_COUNTS(r.summary[ES_PQ_BOUNDARY_AGNOSTIC].classes[0], 0, 1, 1);
    es_pq_results_free(&r);
    scene_free(&s);
    add_gt(&s, rects(1, (int[]){5, 5, 14, 14}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){5, 5, 15, 14}), 1);
    CHECK_OK(eval_scene(&s, &o, &r, &err), &err);
    CHECK(r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].iou_sum == 1.0);
    CHECK_COUNTS(r.summary[ES_PQ_BOUNDARY_AGNOSTIC].classes[0], 1, 0, 0);
    CHECK(r.summary[ES_PQ_BOUNDARY_AGNOSTIC].classes[0].iou_sum == 28.0 / 36.0);
    es_pq_results_free(&r);
    scene_free(&s);
}

/* Bad input: overlapping ground truth, mask sizes, unknown categories. */
static void test_bad_input_is_refused(void) {
    scene s = {0};
    es_error err = {0};
    es_pq_results r;
    es_pq_options o = opts(1, 0, 0);
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_gt(&s, rects(1, (int[]){9, 9, 12, 12}), -1, 0, 1);
    CHECK(eval_scene(&s, &o, &r, &err) == ES_ERR_OVERLAP);
    CHECK(strstr(err.msg, "hand") != NULL);
    scene_free(&s);
    add_gt(&s, rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s, rects(1, (int[]){0, 0, 9, 9}), 77);
    CHECK(eval_scene(&s, &o, &r, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "77") != NULL);
    s.dt[0].category_id = 1;
    s.dt[0].mask.h = 31;
    CHECK(eval_scene(&s, &o, &r, &err) == ES_ERR_INVALID);
    s.dt[0].mask.h = H;
    s.gt[0].area = NAN;
    CHECK(eval_scene(&s, &o, &r, &err) == ES_ERR_INVALID);
    s.gt[0].area = 100;
    s.gt[0].mask.cnts[0] += 1; /* runs no longer sum to h*w */
    CHECK(eval_scene(&s, &o, &r, &err) == ES_ERR_FORMAT);
    s.gt[0].mask.cnts[0] -= 1;
    /* a shared band cache made for another prediction list or another width is refused */
    {
        es_pq_options ob = opts(0, 1, 0);
        es_pq_eval *evb = NULL;
        es_band_cache *bc = NULL;
        es_eval_image img = scene_image(&s);
        CHECK_OK(es_pq_eval_create(&evb, &ob, 1, &err), &err);
        CHECK_OK(es_band_cache_create(&bc, H, W, 0.02, 1, 2, &err), &err);
        CHECK(es_pq_eval_image_bands(evb, 0, &img, bc, &err) == ES_ERR_INVALID);
        es_band_cache_free(bc);
        CHECK_OK(es_band_cache_create(&bc, H, W, 0.5, 1, 1, &err), &err);
        CHECK(es_pq_eval_image_bands(evb, 0, &img, bc, &err) == ES_ERR_INVALID);
        es_band_cache_free(bc);
        CHECK_OK(es_band_cache_create(&bc, H, W, 0.02, 1, 1, &err), &err);
        CHECK_OK(es_pq_eval_image_bands(evb, 0, &img, bc, &err), &err);
        CHECK(es_pq_eval_image_bands(evb, 1, &img, bc, &err) == ES_ERR_INVALID); /* slot */
        es_band_cache_free(bc);
        es_pq_eval_free(evb);
    }
    es_pq_category dup[2] = {{1, 1}, {1, 0}};
    o.categories = dup;
    es_pq_eval *ev = NULL;
    CHECK(es_pq_eval_create(&ev, &o, 1, &err) == ES_ERR_INVALID);
    CHECK(ev == NULL);
    scene_free(&s);
}

/* Empty images and images without predictions; slots merged in order; the shard record
 * round trip gives bit-identical results. */
static void test_slots_and_shard_records_round_trip(void) {
    es_error err = {0};
    es_pq_options o = opts(1, 1, 0);
    scene s[3];
    memset(s, 0, sizeof s);
    add_gt(&s[0], rects(1, (int[]){0, 0, 9, 9}), -1, 0, 1);
    add_dt(&s[0], rects(1, (int[]){0, 0, 9, 7}), 1);   /* IoU 0.8 */
    add_gt(&s[1], rects(1, (int[]){3, 3, 20, 20}), -1, 0, 2); /* no prediction: FN */
    add_dt(&s[2], rects(1, (int[]){0, 0, 3, 3}), 2);   /* image without ground truth: all void */
    es_pq_eval *ev = NULL, *merged = NULL;
    CHECK_OK(es_pq_eval_create(&ev, &o, 4, &err), &err); /* slot 3 never filled */
    CHECK_OK(es_pq_eval_create(&merged, &o, 4, &err), &err);
    for (int i = 2; i >= 0; i--) { /* any filling order */
        es_eval_image img = scene_image(&s[i]);
        CHECK_OK(es_pq_eval_image(ev, (size_t)i, &img, &err), &err);
    }
    for (int i = 0; i < 4; i++) {
        cJSON *j = es_pq_image_to_json(es_pq_eval_get_image(ev, (size_t)i));
        char *text = cJSON_PrintUnformatted(j);
        cJSON *back = cJSON_Parse(text);
        es_pq_image im;
        CHECK_OK(es_pq_image_from_json(&im, back, &err), &err);
        CHECK_OK(es_pq_eval_set_image(merged, (size_t)i, &im, &err), &err);
        es_pq_image_clear(&im);
        cJSON_Delete(j);
        cJSON_Delete(back);
        free(text);
    }
    es_pq_results a, b;
    CHECK_OK(es_pq_eval_summarize(ev, &a, &err), &err);
    CHECK_OK(es_pq_eval_summarize(merged, &b, &err), &err);
    /* agnostic: TP 1 (0.8), FN 1, image 2's prediction is all void: ignored */
    CHECK_COUNTS(a.summary[ES_PQ_MASK_AGNOSTIC].classes[0], 1, 0, 1);
    CHECK(a.summary[ES_PQ_MASK_AGNOSTIC].all.pq == 0.8 / 1.5);
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++)
        for (size_t k = 0; k < a.summary[v].n_classes; k++) {
            CHECK(memcmp(&a.summary[v].classes[k], &b.summary[v].classes[k],
                         sizeof(es_pq_class)) == 0);
        }
    CHECK(a.summary[ES_PQ_MASK_CLASSES].all.pq == b.summary[ES_PQ_MASK_CLASSES].all.pq);
    /* malformed records are refused */
    cJSON *bad = cJSON_Parse("{\"image_id\":1,\"v\":[[[1,-1,0,0,0]],null,null,null],"
                             "\"crowd\":[0,0,0,0]}");
    es_pq_image im;
    CHECK(es_pq_image_from_json(&im, bad, &err) == ES_ERR_FORMAT);
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"image_id\":1,\"v\":[]}");
    CHECK(es_pq_image_from_json(&im, bad, &err) == ES_ERR_FORMAT);
    cJSON_Delete(bad);
    es_pq_results_free(&a);
    es_pq_results_free(&b);
    es_pq_eval_free(ev);
    es_pq_eval_free(merged);
    for (int i = 0; i < 3; i++) scene_free(&s[i]);
}

/* The shard record reader on mutated input: never crashes, never accepts nonsense counts. */
static void test_record_reader_survives_mutations(void) {
    const char *good = "{\"image_id\":12,\"v\":[[[1,2,0,1,1.5]],[[3,1,1,0,0.75],[5,0,2,0,0]],"
                       "null,[]],\"crowd\":[1,0,0,1]}";
    es_error err = {0};
    es_pq_image im;
    cJSON *j = cJSON_Parse(good);
    CHECK_OK(es_pq_image_from_json(&im, j, &err), &err);
    CHECK_EQ_INT(im.n_records[1], 2);
    CHECK(im.records[0][0].iou_sum == 1.5);
    CHECK(im.computed[2] == 0 && im.computed[3] == 1);
    es_pq_image_clear(&im);
    cJSON_Delete(j);
    const char alphabet[] = "[]{},:0123456789.-e\"nul ";
    size_t len = strlen(good);
    char buf[256];
    uint32_t state = 99;
    int accepted = 0;
    for (int trial = 0; trial < 3000; trial++) {
        memcpy(buf, good, len + 1);
        for (int k = 0; k < 1 + trial % 4; k++) {
            state = state * 1103515245u + 12345u;
            size_t at = (state >> 8) % len;
            state = state * 1103515245u + 12345u;
            buf[at] = alphabet[(state >> 8) % (sizeof alphabet - 1)];
        }
        cJSON *m = cJSON_Parse(buf);
        if (!m) continue;
        if (es_pq_image_from_json(&im, m, &err) == ES_OK) {
            accepted++;
            for (int v = 0; v < ES_PQ_N_VARIANTS; v++)
                for (size_t r = 0; r < im.n_records[v]; r++) CHECK(im.records[v][r].iou_sum >= 0);
            es_pq_image_clear(&im);
        }
        cJSON_Delete(m);
    }
    CHECK(accepted > 0);
}

int main(void) {
    ES_RUN(test_iou_of_exactly_half_does_not_match);
    ES_RUN(test_void_heavy_prediction_is_ignored);
    ES_RUN(test_union_subtracts_void_and_uses_declared_area);
    ES_RUN(test_two_crowds_last_wins_or_union);
    ES_RUN(test_crowd_never_matches_and_excuses_its_category_only);
    ES_RUN(test_categories_and_groups);
    ES_RUN(test_boundary_pq_by_hand);
    ES_RUN(test_bad_input_is_refused);
    ES_RUN(test_slots_and_shard_records_round_trip);
    ES_RUN(test_record_reader_survives_mutations);
    ES_TEST_END();
}
