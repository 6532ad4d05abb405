/* test_synth.c: the synthetic dataset is deterministic (same seed -> the same store
 * content and PNG bytes, whatever the thread count; another seed -> another dataset) and
 * really holds what real data has: disconnected entities, holes, thin structures, 1 px
 * entities, crowd regions disjoint from entities, void pixels, image-filling entities when
 * asked, exactly 250 entities when asked; image paths point at PNGs of the right size;
 * `info --json` parses; synth-pred writes plausible predictions (ties, overlaps). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test.h"
#include "es_test_io.h"
#include "synth.h"

static int generate(const char *db, es_synth_options o, int threads) {
    es_convert_common c = {.threads = threads, .quiet = 1, .replace = 1};
    es_error err = {0, ""};
    int rc = es_synth_generate(db, &o, &c, &err);
    if (rc) printf("  es_synth_generate(%s): %s\n", db, err.msg);
    return rc;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t file_hash(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) h = fnv(h, buf, n);
    fclose(f);
    return h;
}

/* Everything a store says about images and entities, and the PNG bytes, folded into one hash. */
static uint64_t dataset_hash(const char *db) {
    es_error err;
    es_store *s = NULL;
    if (es_store_open(db, ES_OPEN_READ, &s, &err)) {
        printf("  open %s: %s\n", db, err.msg);
        return 0;
    }
    es_image *imgs = NULL;
    size_t n = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    es_store_images(s, &imgs, &n, &err);
    const char *slash = strrchr(db, '/');
    for (size_t i = 0; i < n; i++) {
        h = fnv(h, imgs[i].name, strlen(imgs[i].name));
        const char *file = strrchr(imgs[i].path, '/'); /* the folder is named after the store */
        h = fnv(h, file, strlen(file));
        h = fnv(h, &imgs[i].width, 4);
        h = fnv(h, &imgs[i].height, 4);
        char png[4096];
        snprintf(png, sizeof png, "%.*s/%s", (int)(slash - db), db, imgs[i].path);
        uint64_t fh = file_hash(png);
        h = fnv(h, &fh, 8);
        es_entity *e = NULL;
        size_t ne = 0;
        es_store_read_entities(s, imgs[i].id, &e, &ne, &err);
        for (size_t k = 0; k < ne; k++) {
            h = fnv(h, &e[k].is_crowd, sizeof e[k].is_crowd);
            h = fnv(h, &e[k].area, sizeof e[k].area);
            h = fnv(h, e[k].bbox, sizeof e[k].bbox);
            h = fnv(h, &e[k].score, sizeof e[k].score);
            h = fnv(h, &e[k].category_id, sizeof e[k].category_id);
            h = fnv(h, e[k].mask.cnts, e[k].mask.m * sizeof *e[k].mask.cnts);
        }
        es_entities_free(e, ne);
    }
    es_images_free(imgs, n);
    es_store_close(s);
    return h;
}

static es_synth_options small_options(void) {
    es_synth_options o = es_synth_options_default();
    o.images = 8;
    o.min_width = 96, o.min_height = 64, o.max_width = 200, o.max_height = 160;
    o.seed = 42;
    return o;
}

static void same_seed_same_dataset_any_thread_count(void) {
    es_synth_options o = small_options();
    const char *a = es_test_tmp_file("det_a.db"), *b = es_test_tmp_file("det_b.db"), *c = es_test_tmp_file("det_c.db");
    CHECK_OK(generate(a, o, 1), (es_error *)NULL);
    CHECK_OK(generate(b, o, 3), (es_error *)NULL);
    o.seed = 43;
    CHECK_OK(generate(c, o, 2), (es_error *)NULL);
    uint64_t ha = dataset_hash(a), hb = dataset_hash(b), hc = dataset_hash(c);
    CHECK(ha != 0);
    CHECK_MSG(ha == hb, "1 thread and 3 threads differ");
    CHECK_MSG(ha != hc, "another seed gave the same dataset");
    /* the same call twice over (with --replace) is stable too, and PNG bytes are identical */
    CHECK_OK(generate(b, small_options(), 2), (es_error *)NULL);
    CHECK(dataset_hash(b) == ha);
    CHECK(file_hash(es_test_tmp_file("det_a.db.images/synth_000003.png")) ==
          file_hash(es_test_tmp_file("det_b.db.images/synth_000003.png")));
}

/* ---- mask analysis on decoded masks ---- */

/* Connected components of the pixels equal to v in an h*w byte mask (8-connected when
 * eight, else 4); *inner gets how many do not touch the border. Returns the count. */
static int components(const uint8_t *m, uint32_t h, uint32_t w, uint8_t v, int eight, int *inner) {
    int32_t *lab = calloc((size_t)h * w, sizeof *lab);
    uint32_t *stack = malloc(sizeof *stack * (size_t)h * w);
    int n = 0;
    *inner = 0;
    for (uint32_t s = 0; s < h * w; s++) {
        if (m[s] != v || lab[s]) continue;
        n++;
        int border = 0;
        size_t top = 0;
        stack[top++] = s;
        lab[s] = n;
        while (top) {
            uint32_t p = stack[--top], y = p / w, x = p % w;
            if (x == 0 || y == 0 || x == w - 1 || y == h - 1) border = 1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    if (!dx && !dy) continue;
                    if (!eight && dx && dy) continue;
                    int64_t nx = (int64_t)x + dx, ny = (int64_t)y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                    uint32_t q = (uint32_t)(ny * w + nx);
                    if (m[q] == v && !lab[q]) {
                        lab[q] = n;
                        stack[top++] = q;
                    }
                }
        }
        if (!border) (*inner)++;
    }
    free(lab);
    free(stack);
    return n;
}

typedef struct coverage {
    int disconnected, holes, tiny, crowd, void_images, full, thin, max_entities;
} coverage;

static void analyse(const char *db, coverage *cv) {
    es_error err;
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    es_image *imgs = NULL;
    size_t n = 0;
    CHECK_OK(es_store_images(s, &imgs, &n, &err), &err);
    for (size_t i = 0; i < n; i++) {
        es_entity *e = NULL;
        size_t ne = 0;
        CHECK_OK(es_store_read_entities(s, imgs[i].id, &e, &ne, &err), &err);
        uint32_t h = imgs[i].height, w = imgs[i].width;
        uint8_t *m = malloc((size_t)h * w), *cover = calloc((size_t)h * w, 1);
        int things = 0;
        uint64_t total = 0;
        for (size_t k = 0; k < ne; k++) {
            es_rle_decode(&e[k].mask, m);
            for (size_t p = 0; p < (size_t)h * w; p++) {
                CHECK_MSG(!(m[p] && cover[p]), "image %s: pixel in two regions (crowd must be disjoint)", imgs[i].name);
                if (m[p]) cover[p] = 1;
            }
            total += e[k].area;
            if (e[k].is_crowd) {
                cv->crowd++;
                continue;
            }
            things++;
            if (e[k].area == 1) cv->tiny++;
            if (e[k].area == (uint64_t)w * h) cv->full++;
            double longest = e[k].bbox[2] > e[k].bbox[3] ? e[k].bbox[2] : e[k].bbox[3];
            if (longest >= 15 && e[k].area <= 2.5 * longest) cv->thin++;
            if (e[k].area < 3) continue;
            int inner;
            if (components(m, h, w, 1, 1, &inner) > 1) cv->disconnected++;
            components(m, h, w, 0, 0, &inner);
            if (inner > 0) cv->holes++;
            if (ne > 400) break; /* keep the test fast */
        }
        if (total < (uint64_t)w * h) cv->void_images++;
        if (things > cv->max_entities) cv->max_entities = things;
        free(m);
        free(cover);
        es_entities_free(e, ne);
    }
    es_images_free(imgs, n);
    es_store_close(s);
}

static void dataset_has_what_real_data_has(void) {
    es_synth_options o = small_options();
    o.images = 12;
    o.min_entities = 15;
    o.max_entities = 60;
    o.full_every = 6;
    const char *db = es_test_tmp_file("cover.db");
    CHECK_OK(generate(db, o, 2), (es_error *)NULL);
    coverage cv = {0};
    analyse(db, &cv);
    printf("  disconnected %d, with holes %d, thin %d, 1 px %d, crowd %d, images with void %d, full %d\n",
           cv.disconnected, cv.holes, cv.thin, cv.tiny, cv.crowd, cv.void_images, cv.full);
    CHECK(cv.disconnected >= 3);
    CHECK(cv.holes >= 3);
    CHECK(cv.thin >= 3);
    CHECK(cv.tiny >= 3);
    CHECK(cv.crowd >= 1);
    CHECK(cv.void_images >= 1);
    CHECK(cv.full >= 2);
    /* --full-every 6: images 5 and 11 are one entity covering everything */
    es_error err;
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    for (int64_t id = 6; s && id <= 12; id += 6) {
        es_image img;
        es_entity *e = NULL;
        size_t n = 0;
        CHECK_OK(es_store_get_image(s, id, &img, &err), &err);
        CHECK_OK(es_store_read_entities(s, id, &e, &n, &err), &err);
        CHECK_EQ_INT(n, 1);
        if (n == 1) CHECK_EQ_INT(e[0].area, (uint64_t)img.width * img.height);
        es_entities_free(e, n);
        es_image_clear(&img);
    }
    es_store_close(s);
}

static void exactly_250_entities_when_asked(void) {
    es_synth_options o = es_synth_options_default();
    o.images = 2;
    o.min_entities = o.max_entities = 250;
    o.no_full = 1;
    const char *db = es_test_tmp_file("many.db");
    CHECK_OK(generate(db, o, 2), (es_error *)NULL);
    es_error err;
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    for (int64_t id = 1; s && id <= 2; id++) {
        es_entity *e = NULL;
        size_t n = 0, things = 0;
        CHECK_OK(es_store_read_entities(s, id, &e, &n, &err), &err);
        for (size_t k = 0; k < n; k++) things += !e[k].is_crowd;
        CHECK_EQ_INT(things, 250);
        es_entities_free(e, n);
    }
    es_store_close(s);
}

static void switches_remove_features(void) {
    es_synth_options o = small_options();
    o.no_crowd = o.no_void = o.no_tiny = o.no_full = 1;
    o.min_entities = 3;
    o.max_entities = 12;
    const char *db = es_test_tmp_file("plain.db");
    CHECK_OK(generate(db, o, 1), (es_error *)NULL);
    coverage cv = {0};
    analyse(db, &cv);
    CHECK_EQ_INT(cv.crowd, 0);
    CHECK_EQ_INT(cv.void_images, 0);
    CHECK(cv.max_entities <= 12);
}

static void image_paths_point_at_pngs_of_the_right_size(void) {
    const char *db = es_test_tmp_file("det_a.db");
    es_error err;
    es_store *s = NULL;
    CHECK_OK(es_store_open(db, ES_OPEN_READ, &s, &err), &err);
    es_image *imgs = NULL;
    size_t n = 0;
    if (s) CHECK_OK(es_store_images(s, &imgs, &n, &err), &err);
    CHECK_EQ_INT(n, 8);
    for (size_t i = 0; i < n; i++) {
        CHECK(!strcmp(imgs[i].source, "synth"));
        es_pixels p;
        CHECK_OK(es_image_read(es_test_tmp_file(imgs[i].path), 0, &p, &err), &err);
        CHECK(p.width == imgs[i].width && p.height == imgs[i].height && p.channels == 3);
        CHECK(p.width >= 96 && p.width <= 200 && p.height >= 64 && p.height <= 160);
        es_pixels_free(&p);
    }
    es_images_free(imgs, n);
    es_store_close(s);
}

static void info_json_parses(void) {
    const char *json = es_test_tmp_file("info.json");
    char *argv[] = {"info", es_test_tmp_file("det_a.db"), "--json", (char *)json, NULL};
    CHECK_EQ_INT(es_cmd_info(4, argv), 0);
    cJSON *j = es_test_read_json(json);
    CHECK(j != NULL);
    if (!j) return;
    CHECK_EQ_INT(cJSON_GetObjectItem(j, "images")->valuedouble, 8);
    CHECK(!strcmp(cJSON_GetObjectItem(j, "kind")->valuestring, "ground_truth"));
    CHECK(cJSON_GetObjectItem(j, "entities")->valuedouble > 8);
    CHECK(cJSON_GetObjectItem(j, "mask_bytes")->valuedouble > 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "width"), "max")->valuedouble <= 200);
    cJSON_Delete(j);
}

static void predictions_are_plausible_and_deterministic(void) {
    es_synth_pred_options o = {5, 100, 0.4};
    es_convert_common c = {.quiet = 1, .replace = 1, .threads = 2};
    es_error err;
    const char *gt = es_test_tmp_file("det_a.db"), *p1 = es_test_tmp_file("pred1.db"), *p2 = es_test_tmp_file("pred2.db");
    CHECK_OK(es_synth_predictions(gt, p1, &o, &c, &err), &err);
    c.threads = 1;
    CHECK_OK(es_synth_predictions(gt, p2, &o, &c, &err), &err);
    CHECK(dataset_hash(p1) == dataset_hash(p2));
    es_store *s = NULL;
    CHECK_OK(es_store_open(p1, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_get_kind(s), ES_STORE_PRED);
    int ties = 0, overlaps = 0;
    int64_t total = 0;
    for (int64_t id = 1; id <= 8; id++) {
        es_entity *e = NULL;
        size_t n = 0;
        CHECK_OK(es_store_read_entities(s, id, &e, &n, &err), &err);
        total += (int64_t)n;
        for (size_t a = 0; a < n; a++) {
            CHECK(e[a].score > 0 && e[a].score <= 1);
            if (a && e[a].score > e[a - 1].score) CHECK_MSG(0, "not ordered by score");
            for (size_t b = a + 1; b < n; b++) {
                ties += e[a].score == e[b].score;
                overlaps += es_rle_intersection_area(&e[a].mask, &e[b].mask) > 0;
            }
        }
        es_entities_free(e, n);
    }
    es_store_close(s);
    printf("  %lld predictions, %d tied pairs, %d overlapping pairs\n", (long long)total, ties, overlaps);
    CHECK(total > 20);
    CHECK(ties > 0);
    CHECK(overlaps > 0);
    char *argv[] = {"check", (char *)p1, "--json", es_test_tmp_file("check_pred.json"), NULL};
    CHECK_EQ_INT(es_cmd_check(4, argv), 0);
}

static void bad_options_are_refused(void) {
    es_synth_options o = small_options();
    o.min_entities = 10, o.max_entities = 5;
    es_convert_common c = {.quiet = 1};
    es_error err;
    CHECK_EQ_INT(es_synth_generate(es_test_tmp_file("bad.db"), &o, &c, &err), ES_ERR_INVALID);
    o = small_options();
    o.max_width = 10; /* below min */
    CHECK_EQ_INT(es_synth_generate(es_test_tmp_file("bad.db"), &o, &c, &err), ES_ERR_INVALID);
    /* an existing store is not replaced without replace */
    o = small_options();
    CHECK(es_synth_generate(es_test_tmp_file("det_a.db"), &o, &c, &err) != ES_OK);
    char *argv[] = {"synth", "-o", es_test_tmp_file("bad.db"), "--size", "10x", NULL};
    CHECK_EQ_INT(es_cmd_synth(5, argv), 2);
}

int main(void) {
    ES_RUN(same_seed_same_dataset_any_thread_count);
    ES_RUN(dataset_has_what_real_data_has);
    ES_RUN(exactly_250_entities_when_asked);
    ES_RUN(switches_remove_features);
    ES_RUN(image_paths_point_at_pngs_of_the_right_size);
    ES_RUN(info_json_parses);
    ES_RUN(predictions_are_plausible_and_deterministic);
    ES_RUN(bad_options_are_refused);
    ES_TEST_END();
}
