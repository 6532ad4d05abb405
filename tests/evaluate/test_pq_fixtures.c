/* test_pq_fixtures.c: PQ and boundary PQ on the golden cases in ../shared/fixtures against
 * the numbers panopticapi and boundary-iou-api gave (expected.json): pq_agnostic,
 * pq_classes, pq_agnostic_reversed_gt_order, boundary_pq.agnostic / .classes; every double
 * to 1e-12, counts exactly.
 *
 * The loader here is the test's own (not the evaluator's; masks from the library's
 * es_rle_encode_labels): COCO panoptic gt.json + the PNGs in gt/, pred_panoptic.json + the
 * PNGs in pred_panoptic/ (already painted predictions) -> es_eval_image, keeping
 * segments_info order as source order and the declared areas.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "entseg/rle.h"
#include "es_test.h"
#include "es_test_io.h"
#include "pq.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* masks[k] for wanted[k] (n of them, any order, may repeat; an id absent from the map gets
 * an empty mask); pixels[k] their counts. */
static void label_rles(const uint32_t *labels, uint32_t h, uint32_t w, const uint32_t *wanted,
                       size_t n, es_rle *masks, uint64_t *pixels) {
    es_error err = {0};
    es_label_rles lr = {0};
    CHECK_OK(es_rle_encode_labels(&lr, labels, h, w, &err), &err);
    for (size_t k = 0; k < n; k++) {
        const uint32_t *hit = lr.n ? bsearch(&wanted[k], lr.ids, lr.n, sizeof *lr.ids, cmp_u32) : NULL;
        masks[k] = ES_RLE_EMPTY;
        if (hit) {
            CHECK_OK(es_rle_copy(&masks[k], &lr.rles[hit - lr.ids], &err), &err);
            pixels[k] = lr.areas[hit - lr.ids];
        } else {
            CHECK_OK(es_rle_zeros(&masks[k], h, w, &err), &err);
            pixels[k] = 0;
        }
    }
    es_label_rles_free(&lr);
}

typedef struct fixture {
    size_t n_images;
    es_eval_image *images;
    size_t n_cats;
    es_pq_category *cats;
} fixture;

static double num(const cJSON *o, const char *key) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static int cat_isthing(const fixture *f, int64_t id) {
    for (size_t i = 0; i < f->n_cats; i++)
        if (f->cats[i].id == id) return f->cats[i].isthing;
    return -1;
}

/* Loads dir/{gt.json, gt, pred_panoptic.json, pred_panoptic}; reverse: each image's
 * segments_info in reverse order (pq_agnostic_reversed_gt_order). 0 on success. */
static int load_fixture(const char *dir, int reverse, fixture *f) {
    char path[4096];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/gt.json", dir);
    cJSON *gt = es_test_read_json(path);
    snprintf(path, sizeof path, "%s/pred_panoptic.json", dir);
    cJSON *pred = es_test_read_json(path);
    if (!gt || !pred) {
        printf("  cannot read %s/gt.json or pred_panoptic.json\n", dir);
        return -1;
    }
    const cJSON *cats = cJSON_GetObjectItem(gt, "categories"), *c;
    f->n_cats = (size_t)cJSON_GetArraySize(cats);
    f->cats = calloc(f->n_cats, sizeof *f->cats);
    size_t k = 0;
    cJSON_ArrayForEach(c, cats) {
        f->cats[k].id = (int64_t)num(c, "id");
        f->cats[k].isthing = (int)num(c, "isthing");
        k++;
    }
    const cJSON *anns = cJSON_GetObjectItem(gt, "annotations"), *a;
    f->n_images = (size_t)cJSON_GetArraySize(anns);
    f->images = calloc(f->n_images, sizeof *f->images);
    size_t ii = 0;
    cJSON_ArrayForEach(a, anns) {
        es_eval_image *img = &f->images[ii++];
        int64_t image_id = (int64_t)num(a, "image_id");
        const char *file = cJSON_GetObjectItem(a, "file_name")->valuestring;
        const cJSON *pa = NULL, *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(pred, "annotations")) {
            if ((int64_t)num(p, "image_id") == image_id) pa = p;
        }
        if (!pa) {
            printf("  image %lld has no prediction entry\n", (long long)image_id);
            return -1;
        }
        img->image_id = image_id;
        img->source_id = image_id;
        char *name = malloc(strlen(file) + 1);
        strcpy(name, file);
        img->name = name;
        uint32_t h, w, ph, pw;
        snprintf(path, sizeof path, "%s/gt/%s", dir, file);
        uint32_t *gids = es_test_read_panoptic_png(path, &h, &w);
        snprintf(path, sizeof path, "%s/pred_panoptic/%s", dir,
                 cJSON_GetObjectItem(pa, "file_name")->valuestring);
        uint32_t *pids = es_test_read_panoptic_png(path, &ph, &pw);
        if (!gids || !pids || ph != h || pw != w) {
            printf("  cannot read the PNGs of image %lld\n", (long long)image_id);
            return -1;
        }
        img->height = h;
        img->width = w;
        /* ground truth, in segments_info order (or reversed) */
        const cJSON *segs = cJSON_GetObjectItem(a, "segments_info");
        size_t ng = (size_t)cJSON_GetArraySize(segs);
        uint32_t *want = malloc((ng ? ng : 1) * sizeof *want);
        uint64_t *pix = malloc((ng ? ng : 1) * sizeof *pix);
        es_rle *masks = malloc((ng ? ng : 1) * sizeof *masks);
        for (size_t i = 0; i < ng; i++) {
            size_t src = reverse ? ng - 1 - i : i;
            want[i] = (uint32_t)num(cJSON_GetArrayItem(segs, (int)src), "id");
        }
        label_rles(gids, h, w, want, ng, masks, pix);
        img->n_gt = ng;
        img->gt = calloc(ng ? ng : 1, sizeof *img->gt);
        for (size_t i = 0; i < ng; i++) {
            size_t src = reverse ? ng - 1 - i : i;
            const cJSON *s = cJSON_GetArrayItem(segs, (int)src);
            es_eval_gt *g = &img->gt[i];
            g->mask = masks[i];
            g->pixels = pix[i];
            g->area = num(s, "area");
            g->is_crowd = (int)num(s, "iscrowd");
            g->category_id = (int64_t)num(s, "category_id");
            g->isthing = cat_isthing(f, g->category_id);
            g->source_order = (int64_t)i;
            g->entity_id = (int64_t)want[i];
        }
        free(want);
        free(pix);
        free(masks);
        /* predictions */
        const cJSON *psegs = cJSON_GetObjectItem(pa, "segments_info");
        size_t nd = (size_t)cJSON_GetArraySize(psegs);
        want = malloc((nd ? nd : 1) * sizeof *want);
        pix = malloc((nd ? nd : 1) * sizeof *pix);
        masks = malloc((nd ? nd : 1) * sizeof *masks);
        for (size_t i = 0; i < nd; i++)
            want[i] = (uint32_t)num(cJSON_GetArrayItem(psegs, (int)i), "id");
        label_rles(pids, h, w, want, nd, masks, pix);
        img->n_dt = nd;
        img->dt = calloc(nd ? nd : 1, sizeof *img->dt);
        for (size_t i = 0; i < nd; i++) {
            const cJSON *s = cJSON_GetArrayItem(psegs, (int)i);
            es_eval_dt *d = &img->dt[i];
            d->mask = masks[i];
            d->pixels = pix[i];
            d->score = num(s, "score");
            d->category_id = (int64_t)num(s, "category_id");
            d->input_index = (int64_t)num(s, "pred_index");
            d->entity_id = (int64_t)want[i];
        }
        free(want);
        free(pix);
        free(masks);
        free(gids);
        free(pids);
    }
    cJSON_Delete(gt);
    cJSON_Delete(pred);
    return 0;
}

static void free_fixture(fixture *f) {
    for (size_t i = 0; i < f->n_images; i++) {
        es_eval_image *img = &f->images[i];
        for (size_t k = 0; k < img->n_gt; k++) free(img->gt[k].mask.cnts);
        for (size_t k = 0; k < img->n_dt; k++) free(img->dt[k].mask.cnts);
        free(img->gt);
        free(img->dt);
        free((char *)img->name);
    }
    free(f->images);
    free(f->cats);
}

#define TOL 1e-12

static void check_group(const cJSON *exp, const es_pq_group *g, const char *what,
                        const char *name) {
    const cJSON *e = cJSON_GetObjectItem(exp, name);
    if (!e) return; /* not recorded for this variant */
    if (cJSON_IsNull(e)) {
        CHECK_MSG(g->n == 0 && isnan(g->pq), "%s %s should be null", what, name);
        return;
    }
    CHECK_MSG(fabs(num(e, "pq") - g->pq) <= TOL, "%s %s pq %.17g vs %.17g", what, name,
              num(e, "pq"), g->pq);
    CHECK_MSG(fabs(num(e, "sq") - g->sq) <= TOL, "%s %s sq %.17g vs %.17g", what, name,
              num(e, "sq"), g->sq);
    CHECK_MSG(fabs(num(e, "rq") - g->rq) <= TOL, "%s %s rq %.17g vs %.17g", what, name,
              num(e, "rq"), g->rq);
    CHECK_MSG((int64_t)num(e, "n") == g->n, "%s %s n %g vs %lld", what, name, num(e, "n"),
              (long long)g->n);
}

static void check_summary(const cJSON *exp, const es_pq_summary *s, const char *what) {
    CHECK_MSG(exp != NULL, "%s missing in expected.json", what);
    if (!exp) return;
    check_group(exp, &s->all, what, "All");
    check_group(exp, &s->things, what, "Things");
    check_group(exp, &s->stuff, what, "Stuff");
    const cJSON *per = cJSON_GetObjectItem(exp, "per_class");
    CHECK_EQ_INT(cJSON_GetArraySize(per), s->n_classes);
    for (size_t i = 0; i < s->n_classes; i++) {
        const es_pq_class *c = &s->classes[i];
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)c->id);
        const cJSON *e = cJSON_GetObjectItem(per, key);
        CHECK_MSG(e != NULL, "%s class %s missing", what, key);
        if (!e) continue;
        CHECK_MSG((uint64_t)num(e, "tp") == c->tp && (uint64_t)num(e, "fp") == c->fp &&
                      (uint64_t)num(e, "fn") == c->fn,
                  "%s class %s tp/fp/fn %g/%g/%g vs %llu/%llu/%llu", what, key, num(e, "tp"),
                  num(e, "fp"), num(e, "fn"), (unsigned long long)c->tp,
                  (unsigned long long)c->fp, (unsigned long long)c->fn);
        CHECK_MSG(fabs(num(e, "iou_sum") - c->iou_sum) <= TOL, "%s class %s iou_sum %.17g vs %.17g",
                  what, key, num(e, "iou_sum"), c->iou_sum);
        CHECK_MSG(fabs(num(e, "pq") - c->pq) <= TOL && fabs(num(e, "sq") - c->sq) <= TOL &&
                      fabs(num(e, "rq") - c->rq) <= TOL,
                  "%s class %s pq/sq/rq", what, key);
    }
}

static int run_case(const fixture *f, int crowd_union, es_pq_results *r) {
    es_error err = {0};
    es_pq_options o = es_pq_options_default();
    o.classes = 1;
    o.boundary = 1;
    o.crowd_union = crowd_union;
    o.dilation_ratio = 0.02;
    o.categories = f->cats;
    o.n_categories = f->n_cats;
    es_pq_eval *ev = NULL;
    int rc = es_pq_eval_create(&ev, &o, f->n_images, &err);
    for (size_t i = 0; rc == ES_OK && i < f->n_images; i++)
        rc = es_pq_eval_image(ev, i, &f->images[i], &err);
    if (rc == ES_OK) rc = es_pq_eval_summarize(ev, r, &err);
    if (rc) printf("  pq failed: %s\n", err.msg);
    es_pq_eval_free(ev);
    return rc;
}

static void check_case(const char *name) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", es_test_shared("fixtures"));
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", name);
    char path[4200];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    cJSON *exp = es_test_read_json(path);
    CHECK(exp != NULL);
    if (!exp) return;
    CHECK(fabs(num(exp, "dilation_ratio") - 0.02) == 0);
    fixture f, fr;
    CHECK(load_fixture(dir, 0, &f) == 0);
    CHECK(load_fixture(dir, 1, &fr) == 0);
    es_pq_results r, rr, ru;
    CHECK_OK(run_case(&f, 0, &r), (es_error *)NULL);
    CHECK_OK(run_case(&fr, 0, &rr), (es_error *)NULL);
    CHECK_OK(run_case(&f, 1, &ru), (es_error *)NULL);
    const cJSON *b = cJSON_GetObjectItem(exp, "boundary_pq");
    check_summary(cJSON_GetObjectItem(exp, "pq_agnostic"), &r.summary[ES_PQ_MASK_AGNOSTIC],
                  "pq_agnostic");
    check_summary(cJSON_GetObjectItem(exp, "pq_classes"), &r.summary[ES_PQ_MASK_CLASSES],
                  "pq_classes");
    check_summary(cJSON_GetObjectItem(exp, "pq_agnostic_reversed_gt_order"),
                  &rr.summary[ES_PQ_MASK_AGNOSTIC], "pq_agnostic_reversed_gt_order");
    check_summary(cJSON_GetObjectItem(b, "agnostic"), &r.summary[ES_PQ_BOUNDARY_AGNOSTIC],
                  "boundary_pq.agnostic");
    check_summary(cJSON_GetObjectItem(b, "classes"), &r.summary[ES_PQ_BOUNDARY_CLASSES],
                  "boundary_pq.classes");
    const cJSON *counts = cJSON_GetObjectItem(exp, "counts");
    CHECK_EQ_INT(r.images_several_crowds[0], num(counts, "images_multi_crowd_agnostic"));
    CHECK_EQ_INT(r.images_several_crowds[1], num(counts, "images_multi_crowd_same_class"));
    /* the union rule does not depend on annotation order */
    const es_pq_class *u = &ru.summary[ES_PQ_MASK_AGNOSTIC].classes[0];
    CHECK(u->tp == r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].tp);
    CHECK(u->fp <= r.summary[ES_PQ_MASK_AGNOSTIC].classes[0].fp);
    printf("  %s: PQ %.6f (TP %llu FP %llu FN %llu), classes PQ %.6f, boundary PQ %.6f; crowd "
           "rule mattered in %llu images (agnostic); union rule FP %llu\n",
           name, r.summary[0].all.pq, (unsigned long long)r.summary[0].classes[0].tp,
           (unsigned long long)r.summary[0].classes[0].fp,
           (unsigned long long)r.summary[0].classes[0].fn, r.summary[1].all.pq,
           r.summary[2].all.pq, (unsigned long long)r.images_rule_changes[0],
           (unsigned long long)u->fp);
    es_pq_results_free(&r);
    es_pq_results_free(&rr);
    es_pq_results_free(&ru);
    free_fixture(&f);
    free_fixture(&fr);
    cJSON_Delete(exp);
}

/* Two threads filling alternate slots, each image with its own shared band cache (as the
 * driver does when boundary AP runs too), give bit-identical results to one thread. */
typedef struct half_job {
    es_pq_eval *ev;
    const fixture *f;
    size_t first;
    int rc;
} half_job;

static void *run_half(void *arg) {
    half_job *j = arg;
    es_error err = {0};
    for (size_t i = j->first; i < j->f->n_images && !j->rc; i += 2) {
        const es_eval_image *img = &j->f->images[i];
        es_band_cache *bands = NULL;
        j->rc = es_band_cache_create(&bands, img->height, img->width, 0.02, img->n_gt, img->n_dt,
                                     &err);
        /* another metric asks for a few bands first */
        for (size_t k = 0; !j->rc && k < img->n_dt && k < 3; k++) {
            const es_bitmask *b;
            j->rc = es_band_cache_get(bands, 0, k, &img->dt[k].mask, &b, &err);
        }
        if (!j->rc) j->rc = es_pq_eval_image_bands(j->ev, i, img, bands, &err);
        es_band_cache_free(bands);
    }
    if (j->rc) printf("  thread %zu: %s\n", j->first, err.msg);
    return NULL;
}

static void test_threads_and_shared_bands_give_identical_results(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/small", es_test_shared("fixtures"));
    fixture f;
    CHECK(load_fixture(dir, 0, &f) == 0);
    es_pq_results one, two;
    CHECK(run_case(&f, 0, &one) == 0);
    es_error err = {0};
    es_pq_options o = es_pq_options_default();
    o.classes = o.boundary = 1;
    o.categories = f.cats;
    o.n_categories = f.n_cats;
    es_pq_eval *ev = NULL;
    CHECK_OK(es_pq_eval_create(&ev, &o, f.n_images, &err), &err);
    half_job jobs[2] = {{ev, &f, 0, 0}, {ev, &f, 1, 0}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, run_half, &jobs[t]);
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    CHECK(jobs[0].rc == 0 && jobs[1].rc == 0);
    CHECK_OK(es_pq_eval_summarize(ev, &two, &err), &err);
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        CHECK(memcmp(&one.summary[v].all, &two.summary[v].all, sizeof(es_pq_group)) == 0);
        CHECK_EQ_INT(one.summary[v].n_classes, two.summary[v].n_classes);
        for (size_t k = 0; k < one.summary[v].n_classes; k++)
            CHECK(memcmp(&one.summary[v].classes[k], &two.summary[v].classes[k],
                         sizeof(es_pq_class)) == 0);
    }
    es_pq_eval_free(ev);
    es_pq_results_free(&one);
    es_pq_results_free(&two);
    free_fixture(&f);
}

static void test_tiny_matches_references(void) { check_case("tiny"); }
static void test_small_matches_references(void) { check_case("small"); }
static void test_coco_sample_matches_references(void) { check_case("coco_sample"); }

int main(void) {
    ES_RUN(test_tiny_matches_references);
    ES_RUN(test_small_matches_references);
    ES_RUN(test_coco_sample_matches_references);
    ES_RUN(test_threads_and_shared_bands_give_identical_results);
    ES_TEST_END();
}
