/* test_store.c: the entity store (entseg/store.h): what is written reads back exactly,
 * every invariant of the header is enforced and leaves the store untouched, transactions
 * behave, and files that are not (current) entseg stores are refused with a clear error. */
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "../../lib/src/mask_blob.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test.h"
#include "es_test_io.h"
#include "test_rle_reference.h"

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* Files in the temp dir whose name starts with prefix (leftover temporaries). */
static int count_files_with_prefix(const char *prefix) {
    DIR *d = opendir(es_test_tmpdir());
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
    if (d) closedir(d);
    return n;
}

/* A label map of an h x w image: k non-overlapping regions (vertical bands with a disc
 * cut into them), id 0 = void on the right margin. */
static uint32_t *make_label_map(uint32_t h, uint32_t w, uint32_t k) {
    uint32_t *ids = calloc((size_t)h * w, sizeof *ids);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            if (x >= w - w / 8) continue;
            uint32_t id = 1 + (x * k) / w;
            double dx = x - w / 3.0, dy = y - h / 2.0;
            if (dx * dx + dy * dy < (h / 4.0) * (h / 4.0)) id = k;
            ids[(size_t)y * w + x] = id;
        }
    return ids;
}

/* The entities of a label map, source_order = reversed id order (to test ordering). */
static es_entity *entities_of(const uint32_t *ids, uint32_t h, uint32_t w, size_t *n) {
    es_label_rles lr;
    es_error err = {0};
    if (es_rle_encode_labels(&lr, ids, h, w, &err)) {
        printf("encode_labels: %s\n", err.msg);
        *n = 0;
        return NULL;
    }
    es_entity *ents = calloc(lr.n ? lr.n : 1, sizeof *ents);
    for (size_t i = 0; i < lr.n; i++) {
        ents[i] = es_entity_default();
        ents[i].mask = lr.rles[i];
        lr.rles[i] = ES_RLE_EMPTY;
        ents[i].source_segment_id = 1000 + lr.ids[i];
        ents[i].category_id = lr.ids[i] % 3; /* 0 is a valid category */
        ents[i].isthing = (int)(lr.ids[i] % 2);
        ents[i].source_order = (int64_t)(lr.n - i);
        ents[i].declared_area = i == 0 ? NAN : (double)lr.areas[i] + 0.5;
    }
    *n = lr.n;
    es_label_rles_free(&lr);
    return ents;
}

static void free_ents(es_entity *ents, size_t n) {
    for (size_t i = 0; i < n; i++) es_rle_free(&ents[i].mask);
    free(ents);
}

/* Adds image `name` (h x w, no source) with the entities_of its label map. */
static void add_map_image(es_store *s, char *name, const uint32_t *ids, uint32_t h, uint32_t w, es_error *err) {
    size_t n;
    es_entity *ents = entities_of(ids, h, w, &n);
    es_image img = {0, name, w, h, NULL, NULL, NULL, ES_NONE};
    CHECK_OK(es_store_add_image(s, &img, err), err);
    CHECK_OK(es_store_add_entities(s, img.id, ents, n, err), err);
    free_ents(ents, n);
}

/* Image image_id reads back with exactly the masks of entities_of(ids), in source order. */
static void check_map_reads_back(es_store *s, int64_t image_id, const uint32_t *ids, uint32_t h, uint32_t w,
                                 es_error *err) {
    size_t n_expected, n;
    es_entity *expected = entities_of(ids, h, w, &n_expected), *ents;
    CHECK_OK(es_store_read_entities(s, image_id, &ents, &n, err), err);
    CHECK_EQ_INT(n, n_expected);
    for (size_t k = 0; k < n && n == n_expected; k++)
        CHECK(ref_rle_same(&ents[k].mask, &expected[n - 1 - k].mask)); /* source_order was reversed */
    es_entities_free(ents, n);
    free_ents(expected, n_expected);
}

static uint64_t pixel_count(const uint32_t *ids, size_t n, uint32_t id) {
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) c += ids[i] == id;
    return c;
}

/* Builds a GT store of 3 images (40x30, 64x48, 17x5) at path. */
static void build_small_store(const char *path, int replace) {
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, "test_store", "{\"seed\": 1}", replace};
    es_store *s;
    CHECK_OK(es_store_create(path, &opt, &s, &err), &err);
    if (!s) return;
    es_category cat = {0, "wall", "building", 0};
    CHECK_OK(es_store_add_category(s, &cat, &err), &err);
    es_category cat2 = {1, "person", NULL, 1};
    CHECK_OK(es_store_add_category(s, &cat2, &err), &err);
    static const uint32_t sizes[3][3] = {{30, 40, 4}, {48, 64, 7}, {5, 17, 2}};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "img%d", i);
        es_image img = {0, name, sizes[i][1], sizes[i][0], "synth", "val", NULL, 500 + i};
        CHECK_OK(es_store_add_image(s, &img, &err), &err);
        CHECK_EQ_INT(img.id, i + 1);
        uint32_t *ids = make_label_map(sizes[i][0], sizes[i][1], sizes[i][2]);
        size_t n;
        es_entity *ents = entities_of(ids, sizes[i][0], sizes[i][1], &n);
        CHECK_OK(es_store_add_entities(s, img.id, ents, n, &err), &err);
        for (size_t k = 0; k < n; k++) {
            CHECK(ents[k].id > 0);
            CHECK_EQ_INT(ents[k].image_id, img.id);
            CHECK_EQ_INT(ents[k].area,
                         pixel_count(ids, (size_t)sizes[i][0] * sizes[i][1],
                                     (uint32_t)(ents[k].source_segment_id - 1000)));
        }
        free_ents(ents, n);
        free(ids);
    }
    CHECK_OK(es_store_finish(s, &err), &err);
}

static void test_written_entities_read_back_exactly(void) {
    const char *path = es_test_tmp_file("small.db");
    build_small_store(path, 0);
    CHECK(file_exists(path));
    CHECK_EQ_INT(count_files_with_prefix("small.db.tmp"), 0);
    es_error err = {0};
    es_store *s;
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_get_kind(s), ES_STORE_GT);
    CHECK_EQ_INT(es_store_schema_version(s), es_store_schema_version_current());
    CHECK_EQ_INT(es_store_schema_version(s), 2);
    CHECK_EQ_INT(es_store_image_count(s), 3);
    CHECK_EQ_INT(es_store_entity_count(s), 4 + 7 + 2);
    CHECK(es_store_mask_bytes(s) > 0);
    char *v;
    CHECK_OK(es_store_meta_get(s, "creator", &v, &err), &err);
    CHECK(v && !strcmp(v, "test_store"));
    free(v);
    CHECK_OK(es_store_meta_get(s, "kind", &v, &err), &err);
    CHECK(v && !strcmp(v, "gt"));
    free(v);
    CHECK_OK(es_store_meta_get(s, "no such key", &v, &err), &err);
    CHECK(v == NULL);

    es_image *imgs;
    size_t nimg;
    CHECK_OK(es_store_images(s, &imgs, &nimg, &err), &err);
    CHECK_EQ_INT(nimg, 3);
    if (nimg == 3) {
        CHECK(!strcmp(imgs[1].name, "img1") && imgs[1].width == 64 && imgs[1].height == 48);
        CHECK(!strcmp(imgs[1].source, "synth") && !strcmp(imgs[1].split, "val"));
        CHECK(imgs[1].path == NULL && imgs[1].source_id == 501);
    }
    es_images_free(imgs, nimg);
    int64_t id;
    CHECK_OK(es_store_find_image_by_name(s, "img2", &id, &err), &err);
    CHECK_EQ_INT(id, 3);
    CHECK_OK(es_store_find_image_by_name(s, "nope", &id, &err), &err);
    CHECK_EQ_INT(id, ES_NONE);
    CHECK_OK(es_store_find_image_by_source_id(s, 501, &id, &err), &err);
    CHECK_EQ_INT(id, 2);

    /* image 2's entities come back in source order with the masks written */
    uint32_t *ids = make_label_map(48, 64, 7);
    size_t n_expected;
    es_entity *expected = entities_of(ids, 48, 64, &n_expected);
    es_entity *ents;
    size_t n;
    CHECK_OK(es_store_read_entities(s, 2, &ents, &n, &err), &err);
    CHECK_EQ_INT(n, n_expected);
    for (size_t i = 0; i < n && n == n_expected; i++) {
        const es_entity *want = &expected[n - 1 - i]; /* source_order was reversed */
        CHECK_EQ_INT(ents[i].source_order, (int64_t)(i + 1));
        CHECK(ref_rle_same(&ents[i].mask, &want->mask));
        CHECK_EQ_INT(ents[i].source_segment_id, want->source_segment_id);
        CHECK_EQ_INT(ents[i].category_id, want->category_id);
        CHECK_EQ_INT(ents[i].isthing, want->isthing);
        CHECK_EQ_INT(ents[i].label_id, ES_NONE);
        CHECK_EQ_INT(ents[i].is_crowd, 0);
        CHECK_NEAR(ents[i].score, 1.0, 0);
        CHECK(isnan(want->declared_area) ? isnan(ents[i].declared_area)
                                         : ents[i].declared_area == want->declared_area);
        double bbox[4];
        es_rle_to_bbox(&want->mask, bbox);
        for (int k = 0; k < 4; k++) CHECK_NEAR(ents[i].bbox[k], bbox[k], 0);
        CHECK_EQ_INT(ents[i].area, es_rle_area(&want->mask));
    }
    es_entities_free(ents, n);
    free_ents(expected, n_expected);
    free(ids);

    es_category *cats;
    size_t ncat;
    CHECK_OK(es_store_categories(s, &cats, &ncat, &err), &err);
    CHECK_EQ_INT(ncat, 2);
    if (ncat == 2) {
        CHECK(cats[0].id == 0 && !strcmp(cats[0].name, "wall") && !strcmp(cats[0].supercategory, "building"));
        CHECK(cats[1].id == 1 && cats[1].supercategory == NULL && cats[1].isthing == 1);
    }
    es_categories_free(cats, ncat);

    es_label *labels;
    size_t nl;
    CHECK_OK(es_store_labels(s, &labels, &nl, &err), &err);
    CHECK_EQ_INT(nl, 3);
    if (nl == 3) {
        CHECK(!strcmp(labels[0].name, "unknown") && !strcmp(labels[1].name, "blurred") &&
              !strcmp(labels[2].name, "supercategory_other"));
    }
    es_labels_free(labels, nl);
    int64_t lid;
    CHECK_OK(es_store_label_get_or_create(s, "blurred", ES_NONE, &lid, &err), &err);
    CHECK_EQ_INT(lid, 2);
    CHECK_EQ_INT(es_store_label_get_or_create(s, "tree", ES_NONE, &lid, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "read-only") != NULL);
    es_store_close(s);
}

typedef struct scan_log {
    int images;
    int entities;
    int64_t last_image;
    int masks_present;
    int stop_after;
} scan_log;

static int log_scan(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    scan_log *log = ctx;
    CHECK(img->id > log->last_image);
    log->last_image = img->id;
    log->images++;
    log->entities += (int)n;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(ents[i].image_id, img->id);
        if (i) CHECK(ents[i].source_order >= ents[i - 1].source_order);
        if (ents[i].mask.m) {
            log->masks_present++;
            CHECK(ents[i].mask.h == img->height && ents[i].mask.w == img->width);
        }
    }
    if (n) { /* a callback may move a mask out */
        es_rle taken = ents[0].mask;
        ents[0].mask = ES_RLE_EMPTY;
        es_rle_free(&taken);
    }
    if (log->stop_after && log->images == log->stop_after)
        return es_error_set(err, ES_ERR_INVALID, "stopped");
    return 0;
}

static void test_scan_streams_images_in_order(void) {
    const char *path = es_test_tmp_file("scan.db");
    build_small_store(path, 0);
    es_error err = {0};
    es_store *s;
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    scan_log log = {0};
    CHECK_OK(es_store_scan(s, ES_NONE, ES_NONE, 0, log_scan, &log, &err), &err);
    CHECK_EQ_INT(log.images, 3);
    CHECK_EQ_INT(log.entities, 13);
    CHECK_EQ_INT(log.masks_present, 13);
    scan_log range = {0};
    CHECK_OK(es_store_scan(s, 2, 3, ES_SCAN_NO_MASKS, log_scan, &range, &err), &err);
    CHECK_EQ_INT(range.images, 2);
    CHECK_EQ_INT(range.entities, 9);
    CHECK_EQ_INT(range.masks_present, 0);
    scan_log stop = {0};
    stop.stop_after = 1;
    CHECK_EQ_INT(es_store_scan(s, ES_NONE, ES_NONE, 0, log_scan, &stop, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(stop.images, 1);
    es_store_close(s);
}

/* Adds one image of size w x h with the given masks; returns the status. */
static int add_image_with(es_store *s, const char *name, uint32_t w, uint32_t h, es_entity *ents,
                          size_t n, es_error *err) {
    es_image img = {0, (char *)name, w, h, NULL, NULL, NULL, ES_NONE};
    int rc = es_store_add_image(s, &img, err);
    if (rc) return rc;
    return es_store_add_entities(s, img.id, ents, n, err);
}

/* A w x h mask with the box [x0, x1) x [y0, y1). */
static es_rle box_mask(uint32_t w, uint32_t h, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
    uint8_t *m = calloc((size_t)w * h, 1);
    for (uint32_t y = y0; y < y1; y++)
        for (uint32_t x = x0; x < x1; x++) m[(size_t)y * w + x] = 1;
    es_rle r = ES_RLE_EMPTY;
    es_error err = {0};
    if (es_rle_encode(&r, m, h, w, &err)) printf("encode: %s\n", err.msg);
    free(m);
    return r;
}

static void test_invariants_are_enforced(void) {
    const char *path = es_test_tmp_file("inv.db");
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, NULL, NULL, 0};
    es_store *s;
    CHECK_OK(es_store_create(path, &opt, &s, &err), &err);
    if (!s) return;
    es_entity e[3] = {es_entity_default(), es_entity_default(), es_entity_default()};
    e[0].mask = box_mask(20, 10, 0, 0, 5, 5);
    e[1].mask = box_mask(20, 10, 4, 4, 9, 9); /* overlaps e[0] at (4,4) */
    e[1].source_segment_id = 77;
    e[2].mask = box_mask(20, 10, 10, 0, 20, 10);

    /* METRICS-free invariant: GT entities of an image never overlap */
    CHECK_EQ_INT(add_image_with(s, "overlap", 20, 10, e, 3, &err), ES_ERR_OVERLAP);
    CHECK(strstr(err.msg, "'overlap'") && strstr(err.msg, "entity 0") &&
          strstr(err.msg, "entity 1 (source segment 77)") && strstr(err.msg, "x=4 y=4"));
    printf("  overlap message: %s\n", err.msg);
    CHECK_EQ_INT(es_store_entity_count(s), 0); /* nothing written */
    int64_t img_id;
    CHECK_OK(es_store_find_image_by_name(s, "overlap", &img_id, &err), &err);
    /* crowd regions may overlap entities: the same batch with e[1] as crowd is accepted */
    e[1].is_crowd = 1;
    CHECK_OK(es_store_add_entities(s, img_id, e, 3, &err), &err);
    CHECK_EQ_INT(es_store_entity_count(s), 3);
    CHECK_EQ_INT(e[0].area, 25);
    CHECK_NEAR(e[1].bbox[0], 4, 0);
    CHECK_NEAR(e[1].bbox[3], 5, 0);
    /* a second batch for the same image */
    CHECK_EQ_INT(es_store_add_entities(s, img_id, e, 1, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "already has entities") != NULL);

    es_image img = {0, "other", 30, 10, NULL, NULL, NULL, ES_NONE};
    CHECK_OK(es_store_add_image(s, &img, &err), &err);
    es_entity bad = es_entity_default();
    bad.mask = box_mask(20, 10, 0, 0, 2, 2); /* image is 30 wide */
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "'other'") && strstr(err.msg, "20x10"));
    es_rle_free(&bad.mask);
    bad.mask = box_mask(30, 10, 0, 0, 2, 2);
    bad.score = NAN;
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "not finite") != NULL);
    bad.score = INFINITY;
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    bad.score = 0.5;
    bad.area = 5; /* the mask has 4 pixels */
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "area") != NULL);
    bad.area = 0;
    bad.label_id = 999;
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    bad.label_id = ES_NONE;
    bad.mask.cnts[0]++; /* runs no longer sum to h*w */
    CHECK_EQ_INT(es_store_add_entities(s, img.id, &bad, 1, &err), ES_ERR_INVALID);
    bad.mask.cnts[0]--;
    CHECK_EQ_INT(es_store_entity_count(s), 3);
    bad.area = 4;
    CHECK_OK(es_store_add_entities(s, img.id, &bad, 1, &err), &err);
    es_image dup = {0, "other", 5, 5, NULL, NULL, NULL, ES_NONE};
    CHECK_EQ_INT(es_store_add_image(s, &dup, &err), ES_ERR_INVALID);
    es_image zero = {0, "zero", 0, 5, NULL, NULL, NULL, ES_NONE};
    CHECK_EQ_INT(es_store_add_image(s, &zero, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_store_add_entities(s, 12345, &bad, 1, &err), ES_ERR_INVALID);
    int64_t lid, child;
    CHECK_OK(es_store_label_get_or_create(s, "tree", ES_NONE, &lid, &err), &err);
    CHECK_OK(es_store_label_get_or_create(s, "oak", lid, &child, &err), &err);
    CHECK(child != lid && child > 3);
    CHECK_EQ_INT(es_store_label_get_or_create(s, "elm", 4242, &child, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_store_meta_set(s, "kind", "pred", &err), ES_ERR_INVALID);
    CHECK_OK(es_store_meta_set(s, "note", "hello", &err), &err);
    es_category c = {0, "wall", NULL, 0};
    CHECK_OK(es_store_add_category(s, &c, &err), &err);
    CHECK_EQ_INT(es_store_add_category(s, &c, &err), ES_ERR_INVALID);
    CHECK_OK(es_store_finish(s, &err), &err);
    es_rle_free(&bad.mask);

    /* stores that allow overlaps: prediction stores and overlapping-instance GT */
    for (int kind = 0; kind < 2; kind++) {
        es_store_options o = {kind ? ES_STORE_PRED : ES_STORE_GT, kind ? 0 : 1, NULL, NULL, 1};
        CHECK_OK(es_store_create(es_test_tmp_file("overlap_ok.db"), &o, &s, &err), &err);
        if (!s) continue;
        e[1].is_crowd = 0;
        e[1].score = 0.25;
        CHECK_OK(add_image_with(s, "overlap", 20, 10, e, 3, &err), &err);
        CHECK_EQ_INT(es_store_overlapping_instances(s), !kind);
        CHECK_OK(es_store_finish(s, &err), &err);
        CHECK_OK(es_store_open(es_test_tmp_file("overlap_ok.db"), ES_OPEN_READ, &s, &err), &err);
        if (s) {
            CHECK_EQ_INT(es_store_overlapping_instances(s), !kind);
            CHECK_EQ_INT(es_store_get_kind(s), kind ? ES_STORE_PRED : ES_STORE_GT);
            es_entity *got;
            size_t n;
            CHECK_OK(es_store_read_entities(s, 1, &got, &n, &err), &err);
            CHECK(n == 3 && got[1].score == 0.25);
            es_entities_free(got, n);
            es_store_close(s);
        }
    }
    for (int i = 0; i < 3; i++) es_rle_free(&e[i].mask);
}

/* STYLE 7: the run-merge overlap check against a plain oracle, pixel by pixel on decoded
 * masks, over random boxes (some crowd) on random image sizes. */
static void test_overlap_check_matches_pixel_oracle(void) {
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, NULL, NULL, 1};
    es_store *s;
    CHECK_OK(es_store_create(es_test_tmp_file("oracle.db"), &opt, &s, &err), &err);
    if (!s) return;
    uint64_t state = 12345;
    int overlaps = 0, clean = 0;
    for (int trial = 0; trial < 300; trial++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t w = 1 + (uint32_t)(state >> 40) % 40, h = 1 + (uint32_t)(state >> 20) % 30;
        size_t n = 1 + (size_t)(state >> 50) % 6;
        es_entity ents[6];
        uint8_t *count = calloc((size_t)w * h, 1);
        for (size_t k = 0; k < n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x0 = (uint32_t)(state >> 33) % w, y0 = (uint32_t)(state >> 45) % h;
            uint32_t x1 = x0 + 1 + (uint32_t)(state >> 13) % (w - x0), y1 = y0 + 1 + (uint32_t)(state >> 23) % (h - y0);
            if (trial % 3 == 0) { /* thin, mostly disjoint stripes */
                x0 = (uint32_t)k * w / (uint32_t)n;
                x1 = x0 + 1 > (uint32_t)(k + 1) * w / (uint32_t)n ? x0 + 1 : (uint32_t)(k + 1) * w / (uint32_t)n;
                if (x1 > w) x1 = w;
            }
            ents[k] = es_entity_default();
            ents[k].mask = box_mask(w, h, x0, y0, x1, y1);
            ents[k].is_crowd = (state >> 7) % 5 == 0;
            if (!ents[k].is_crowd) {
                uint8_t *m = malloc((size_t)w * h);
                es_rle_decode(&ents[k].mask, m);
                for (size_t p = 0; p < (size_t)w * h; p++) count[p] += m[p];
                free(m);
            }
        }
        int expect_overlap = 0;
        for (size_t p = 0; p < (size_t)w * h; p++) expect_overlap |= count[p] > 1;
        free(count);
        char name[32];
        snprintf(name, sizeof name, "t%d", trial);
        int rc = add_image_with(s, name, w, h, ents, n, &err);
        CHECK_EQ_INT(rc, expect_overlap ? ES_ERR_OVERLAP : ES_OK);
        overlaps += expect_overlap;
        clean += !expect_overlap;
        for (size_t k = 0; k < n; k++) es_rle_free(&ents[k].mask);
    }
    printf("  %d images with overlaps refused, %d without accepted\n", overlaps, clean);
    CHECK(overlaps > 20 && clean > 20);
    es_store_close(s);
}

static void test_create_never_touches_the_target_until_finish(void) {
    const char *path = es_test_tmp_file("target.db");
    build_small_store(path, 0);
    es_error err = {0};
    es_store *s = NULL;
    es_store_options keep = {ES_STORE_GT, 0, NULL, NULL, 0};
    CHECK_EQ_INT(es_store_create(path, &keep, &s, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "already exists") != NULL);
    CHECK(s == NULL);
    /* replace: the old store stays until finish; close without finish discards the new one */
    es_store_options replace = {ES_STORE_PRED, 0, NULL, NULL, 1};
    CHECK_OK(es_store_create(path, &replace, &s, &err), &err);
    CHECK_EQ_INT(count_files_with_prefix("target.db.tmp"), 1);
    es_store_close(s);
    CHECK_EQ_INT(count_files_with_prefix("target.db.tmp"), 0);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(es_store_get_kind(s), ES_STORE_GT);
        CHECK_EQ_INT(es_store_image_count(s), 3);
        es_store_close(s);
    }
    CHECK_OK(es_store_create(path, &replace, &s, &err), &err);
    CHECK_OK(es_store_finish(s, &err), &err);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (s) {
        CHECK_EQ_INT(es_store_get_kind(s), ES_STORE_PRED);
        CHECK_EQ_INT(es_store_image_count(s), 0);
        es_store_close(s);
    }
    CHECK_EQ_INT(count_files_with_prefix("target.db.tmp"), 0);
    /* a created store's own savepoints */
    CHECK_OK(es_store_create(es_test_tmp_file("sp.db"), &keep, &s, &err), &err);
    CHECK_OK(es_store_begin(s, &err), &err);
    es_image img = {0, "a", 4, 4, NULL, NULL, NULL, ES_NONE};
    CHECK_OK(es_store_add_image(s, &img, &err), &err);
    es_store_rollback(s);
    CHECK_EQ_INT(es_store_image_count(s), 0);
    CHECK_OK(es_store_finish(s, &err), &err);
}

static void test_opened_store_transactions(void) {
    const char *path = es_test_tmp_file("txn.db");
    build_small_store(path, 0);
    es_error err = {0};
    es_store *s;
    CHECK_OK(es_store_open(path, ES_OPEN_WRITE, &s, &err), &err);
    if (!s) return;
    CHECK_OK(es_store_begin(s, &err), &err);
    es_image img = {0, "new", 8, 8, NULL, NULL, NULL, ES_NONE};
    CHECK_OK(es_store_add_image(s, &img, &err), &err);
    CHECK_EQ_INT(es_store_image_count(s), 4);
    es_store_rollback(s);
    CHECK_EQ_INT(es_store_image_count(s), 3);
    CHECK_OK(es_store_begin(s, &err), &err);
    CHECK_OK(es_store_add_image(s, &img, &err), &err);
    CHECK_OK(es_store_commit(s, &err), &err);
    CHECK_EQ_INT(es_store_commit(s, &err), ES_ERR_INVALID);
    /* closing with a transaction open drops it */
    CHECK_OK(es_store_begin(s, &err), &err);
    es_image img2 = {0, "dropped", 8, 8, NULL, NULL, NULL, ES_NONE};
    CHECK_OK(es_store_add_image(s, &img2, &err), &err);
    es_store_close(s);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_image_count(s), 4);
    CHECK_EQ_INT(es_store_add_image(s, &img2, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_store_finish(s, &err), ES_ERR_INVALID); /* frees s */
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void sql_on(const char *path, const char *sql) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    CHECK_MSG(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_free(msg);
    sqlite3_close(db);
}

static void test_files_that_are_not_current_stores_are_refused(void) {
    es_error err = {0};
    es_store *s = NULL;
    const char *missing = es_test_tmp_file("missing.db");
    CHECK_EQ_INT(es_store_open(missing, ES_OPEN_READ, &s, &err), ES_ERR_IO);
    CHECK(strstr(err.msg, missing) != NULL);

    const char *text = es_test_tmp_file("text.db");
    write_file(text, "this is a text file, not a database, but it is long enough to look like one....\n");
    CHECK_EQ_INT(es_store_open(text, ES_OPEN_READ, &s, &err), ES_ERR_FORMAT);
    CHECK(strstr(err.msg, text) && strstr(err.msg, "not an SQLite database"));
    CHECK_EQ_INT(es_store_open(text, ES_OPEN_WRITE, &s, &err), ES_ERR_FORMAT);
    printf("  %s\n", err.msg);

    const char *other = es_test_tmp_file("other.db");
    sql_on(other, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    CHECK_EQ_INT(es_store_open(other, ES_OPEN_WRITE, &s, &err), ES_ERR_SCHEMA);
    CHECK(strstr(err.msg, other) && strstr(err.msg, "not an entseg store"));
    printf("  %s\n", err.msg);

    const char *newer = es_test_tmp_file("newer.db");
    build_small_store(newer, 0);
    sql_on(newer, "PRAGMA user_version = 3");
    CHECK_EQ_INT(es_store_open(newer, ES_OPEN_READ, &s, &err), ES_ERR_SCHEMA);
    CHECK(strstr(err.msg, newer) && strstr(err.msg, "newer"));
    printf("  %s\n", err.msg);
    CHECK_EQ_INT(es_store_open(newer, ES_OPEN_WRITE, &s, &err), ES_ERR_SCHEMA);
    CHECK(s == NULL);
}

/* Schema version 1 as it was: no entities.declared_area, no images_by_source_id. */
static const char schema_v1[] =
    "PRAGMA application_id = 1163088978; PRAGMA user_version = 1;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE images (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " width INTEGER NOT NULL CHECK (width > 0), height INTEGER NOT NULL CHECK (height > 0),"
    " source TEXT, split TEXT, path TEXT, source_id INTEGER);"
    "CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL, supercategory TEXT,"
    " isthing INTEGER NOT NULL DEFAULT -1);"
    "CREATE TABLE labels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " parent_id INTEGER REFERENCES labels (id));"
    "INSERT INTO labels VALUES (1, 'unknown', NULL), (2, 'blurred', NULL),"
    " (3, 'supercategory_other', NULL);"
    "CREATE TABLE entities (id INTEGER PRIMARY KEY, image_id INTEGER NOT NULL REFERENCES images (id),"
    " mask BLOB NOT NULL, area INTEGER NOT NULL, bbox_x REAL NOT NULL, bbox_y REAL NOT NULL,"
    " bbox_w REAL NOT NULL, bbox_h REAL NOT NULL, is_crowd INTEGER NOT NULL DEFAULT 0,"
    " score REAL NOT NULL DEFAULT 1.0, label_id INTEGER REFERENCES labels (id), category_id INTEGER,"
    " isthing INTEGER NOT NULL DEFAULT -1, source_segment_id INTEGER, source_order INTEGER NOT NULL);"
    "CREATE INDEX entities_by_image ON entities (image_id, source_order);"
    "INSERT INTO meta VALUES ('format', 'entseg-store'), ('kind', 'gt'),"
    " ('overlapping_instances', '0');"
    "INSERT INTO images VALUES (1, 'old', 20, 10, 'coco', 'val', NULL, 42);";

static void test_version_1_store_is_migrated_on_write(void) {
    const char *path = es_test_tmp_file("v1.db");
    sql_on(path, schema_v1);
    /* one entity with a real blob */
    es_rle r = box_mask(20, 10, 2, 3, 6, 7);
    es_mask_codec *codec;
    es_error err = {0};
    CHECK_OK(es_mask_codec_create(&codec, &err), &err);
    const uint8_t *blob;
    size_t n;
    CHECK_OK(es_mask_blob_encode(codec, &r, &blob, &n, &err), &err);
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO entities (image_id, mask, area, bbox_x, bbox_y, bbox_w, bbox_h,"
                       " source_order) VALUES (1, ?1, 16, 2, 3, 4, 4, 0)",
                       -1, &st, NULL);
    sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    es_mask_codec_free(codec);

    es_store *s = NULL;
    CHECK_EQ_INT(es_store_open(path, ES_OPEN_READ, &s, &err), ES_ERR_SCHEMA);
    CHECK(strstr(err.msg, "older") && strstr(err.msg, "for writing"));
    CHECK_OK(es_store_open(path, ES_OPEN_WRITE, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_schema_version(s), 2);
    es_store_close(s);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(es_store_schema_version(s), 2);
    int64_t id;
    CHECK_OK(es_store_find_image_by_source_id(s, 42, &id, &err), &err);
    CHECK_EQ_INT(id, 1);
    es_entity *ents;
    CHECK_OK(es_store_read_entities(s, 1, &ents, &n, &err), &err);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK(ref_rle_same(&ents[0].mask, &r));
        CHECK(isnan(ents[0].declared_area));
    }
    es_entities_free(ents, n);
    /* the migrated index is there, as in a fresh store */
    sqlite3_stmt *q;
    sqlite3_prepare_v2(es_store_sqlite(s),
                       "SELECT count(*) FROM sqlite_master WHERE name = 'images_by_source_id'", -1,
                       &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    es_store_close(s);
    es_rle_free(&r);
}

/* XORs byte offset of entity id's mask blob with 0x55, in place. */
static void flip_blob_byte(const char *path, int64_t id, size_t offset) {
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT mask FROM entities WHERE id = ?1", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    uint8_t *blob = malloc(n + 1);
    memcpy(blob, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);
    CHECK(offset < n);
    if (offset < n) blob[offset] ^= 0x55;
    sqlite3_prepare_v2(db, "UPDATE entities SET mask = ?2 WHERE id = ?1", -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, blob, (int)n, SQLITE_TRANSIENT);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(blob);
}

static void test_corrupt_blob_in_store_is_a_format_error(void) {
    const char *path = es_test_tmp_file("corrupt.db");
    build_small_store(path, 0);
    /* flip a byte in the middle of entity 6's blob */
    flip_blob_byte(path, 6, 6);
    sql_on(path, "UPDATE entities SET mask = x'01' WHERE id = 12");
    es_error err = {0};
    es_store *s;
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    es_entity *ents;
    size_t n;
    CHECK_EQ_INT(es_store_read_entities(s, 2, &ents, &n, &err), ES_ERR_FORMAT);
    CHECK(strstr(err.msg, "entity 6") && strstr(err.msg, "corrupt mask blob"));
    printf("  %s\n", err.msg);
    CHECK_EQ_INT(es_store_read_entities(s, 3, &ents, &n, &err), ES_ERR_FORMAT);
    CHECK_OK(es_store_read_entities(s, 1, &ents, &n, &err), &err);
    es_entities_free(ents, n);
    scan_log log = {0};
    CHECK_EQ_INT(es_store_scan(s, ES_NONE, ES_NONE, 0, log_scan, &log, &err), ES_ERR_FORMAT);
    CHECK_EQ_INT(log.images, 1);
    scan_log nomask = {0};
    CHECK_OK(es_store_scan(s, ES_NONE, ES_NONE, ES_SCAN_NO_MASKS, log_scan, &nomask, &err), &err);
    CHECK_EQ_INT(nomask.images, 3);
    es_store_close(s);
}

/* A store with more masks than the training threshold gets a zstd dictionary; later masks
 * name it, and everything reads back exactly (also after reopening). */
static void test_large_store_trains_a_dictionary(void) {
    const char *path = es_test_tmp_file("dict.db");
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, NULL, NULL, 0};
    es_store *s;
    CHECK_OK(es_store_create(path, &opt, &s, &err), &err);
    if (!s) return;
    enum { IMAGES = 1400, H = 24, W = 32 };
    for (int i = 0; i < IMAGES; i++) {
        uint32_t *ids = make_label_map(H, W, 3 + (uint32_t)(i % 4));
        for (int k = 0; k < i % 7; k++) ids[(size_t)(k * 3 % H) * W + (size_t)(i + k) % 20] = 9;
        char name[32];
        snprintf(name, sizeof name, "d%d", i);
        add_map_image(s, name, ids, H, W, &err);
        free(ids);
    }
    CHECK_OK(es_store_finish(s, &err), &err);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT count(*), sum(length(data)) FROM mask_dictionaries", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1);
    int64_t dict_bytes = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    /* coding byte (offset 1) has the dictionary flag on the later masks */
    sqlite3_prepare_v2(db, "SELECT mask FROM entities", -1, &q, NULL);
    int with_dict = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const uint8_t *blob = sqlite3_column_blob(q, 0);
        with_dict += sqlite3_column_bytes(q, 0) > 1 && (blob[1] & ES_BLOB_ZSTD_DICT);
    }
    sqlite3_finalize(q);
    printf("  dictionary %lld bytes; %d of %lld masks use it\n", (long long)dict_bytes, with_dict,
           (long long)es_store_entity_count(s));
    CHECK(with_dict > 0);
    for (int i = 0; i < IMAGES; i += 97) {
        uint32_t *ids = make_label_map(H, W, 3 + (uint32_t)(i % 4));
        for (int k = 0; k < i % 7; k++) ids[(size_t)(k * 3 % H) * W + (size_t)(i + k) % 20] = 9;
        check_map_reads_back(s, i + 1, ids, H, W, &err);
        free(ids);
    }
    es_store_close(s);
}

/* A created store's savepoint rolled back after enough masks to train a dictionary: the
 * dictionary never outlives its row; what is kept reads back exactly. */
static void test_dictionary_survives_savepoint_rollback(void) {
    const char *path = es_test_tmp_file("dict_sp.db");
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, NULL, NULL, 0};
    es_store *s;
    CHECK_OK(es_store_create(path, &opt, &s, &err), &err);
    if (!s) return;
    enum { H = 24, W = 32 };
    for (int round = 0; round < 2; round++) {
        if (round == 0) CHECK_OK(es_store_begin(s, &err), &err);
        for (int i = 0; i < 700; i++) {
            uint32_t *ids = make_label_map(H, W, 3 + (uint32_t)(i % 4));
            char name[32];
            snprintf(name, sizeof name, "r%d_%d", round, i);
            add_map_image(s, name, ids, H, W, &err);
            free(ids);
        }
        if (round == 0) es_store_rollback(s);
    }
    CHECK_EQ_INT(es_store_image_count(s), 700);
    CHECK_OK(es_store_finish(s, &err), &err);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    if (!s) return;
    scan_log log = {0};
    CHECK_OK(es_store_scan(s, ES_NONE, ES_NONE, 0, log_scan, &log, &err), &err);
    CHECK_EQ_INT(log.images, 700);
    for (int i = 0; i < 700; i += 101) {
        uint32_t *ids = make_label_map(H, W, 3 + (uint32_t)(i % 4));
        check_map_reads_back(s, i + 1, ids, H, W, &err);
        free(ids);
    }
    es_store_close(s);
}

int main(void) {
    ES_RUN(test_written_entities_read_back_exactly);
    ES_RUN(test_scan_streams_images_in_order);
    ES_RUN(test_invariants_are_enforced);
    ES_RUN(test_overlap_check_matches_pixel_oracle);
    ES_RUN(test_create_never_touches_the_target_until_finish);
    ES_RUN(test_opened_store_transactions);
    ES_RUN(test_files_that_are_not_current_stores_are_refused);
    ES_RUN(test_version_1_store_is_migrated_on_write);
    ES_RUN(test_corrupt_blob_in_store_is_a_format_error);
    ES_RUN(test_large_store_trains_a_dictionary);
    ES_RUN(test_dictionary_survives_savepoint_rollback);
    ES_TEST_END();
}
