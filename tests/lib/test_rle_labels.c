/* test_rle_labels.c: es_rle_encode_labels gives, for every id of a label map, exactly the
 * runs of es_rle_encode on that id's binary mask (and the pycocotools reference encoder),
 * on random maps of many kinds, and on one 15,000 x 10,000 map. */
#include <stdint.h>

#include "es_test.h"
#include "entseg/rle.h"
#include "lib/test_rle_reference.h"
#include "../../lib/src/rle_internal.h" /* es_rle_encode_labels_paths */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x > y ? 1 : x < y ? -1 : 0;
}

/* Every code path of the encoder: the default, and each forced variant. */
static const int paths[] = {ES_LABELS_AUTO,
                            ES_LABELS_NO_AVX2 | ES_LABELS_NARROW,
                            ES_LABELS_NO_AVX2 | ES_LABELS_WIDE,
                            ES_LABELS_SCALAR | ES_LABELS_NARROW,
                            ES_LABELS_SCALAR | ES_LABELS_WIDE,
                            ES_LABELS_WIDE,
                            ES_LABELS_NARROW};
#define N_PATHS (sizeof paths / sizeof paths[0])

/* Two encodings are the same masks. */
static int same_label_rles(const es_label_rles *a, const es_label_rles *b) {
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->ids[i] != b->ids[i] || a->areas[i] != b->areas[i] || a->rles[i].m != b->rles[i].m ||
            memcmp(a->rles[i].cnts, b->rles[i].cnts, sizeof *a->rles[i].cnts * a->rles[i].m))
            return 0;
    return 1;
}

/* Checks encode_labels of map against per-id reference encodings, on every path. */
static void check_map(const uint32_t *map, uint32_t h, uint32_t w, const char *what) {
    es_error err = {0};
    size_t n = (size_t)h * w;
    es_label_rles got = {0};
    CHECK_OK(es_rle_encode_labels(&got, map, h, w, &err), &err);
    for (size_t p = 1; p < N_PATHS; p++) {
        es_label_rles other = {0};
        CHECK_OK(es_rle_encode_labels_paths(&other, map, h, w, paths[p], &err), &err);
        CHECK_MSG(same_label_rles(&got, &other), "%s %ux%u: path %d differs", what, h, w, paths[p]);
        es_label_rles_free(&other);
    }
    /* distinct non-zero ids, ascending */
    uint32_t *ids = malloc(sizeof *ids * (n + 1));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (map[i]) ids[k++] = map[i];
    qsort(ids, k, sizeof *ids, cmp_u32);
    size_t distinct = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || ids[i] != ids[i - 1]) ids[distinct++] = ids[i];
    CHECK_MSG(got.n == distinct, "%s %ux%u: %zu ids, want %zu", what, h, w, got.n, distinct);
    uint8_t *mask = malloc(n + 1);
    for (size_t j = 0; j < got.n && j < distinct; j++) {
        CHECK_EQ_INT(got.ids[j], ids[j]);
        for (size_t i = 0; i < n; i++) mask[i] = map[i] == ids[j];
        CHECK_MSG(ref_rle_equals_mask(&got.rles[j], mask, h, w), "%s %ux%u id %u", what, h, w, ids[j]);
        CHECK_EQ_INT(got.areas[j], ref_area(mask, n));
    }
    free(mask);
    free(ids);
    es_label_rles_free(&got);
}

typedef enum { MAP_VOID, MAP_ONE_ID, MAP_RECTS, MAP_NOISE_FEW, MAP_NOISE_MANY, MAP_STRIPES_H,
               MAP_STRIPES_V, MAP_CHECKER, MAP_N } map_kind;

static void make_map(uint32_t *map, uint32_t h, uint32_t w, map_kind kind) {
    size_t n = (size_t)h * w;
    memset(map, 0, sizeof *map * n);
    /* ids as panoptic PNGs give them (R + 256 G + 65536 B) and the extremes */
    uint32_t palette[8] = {1, 2, 7, 3937500, 0xFFFFFFu, 0xFFFFFFFFu, 65536, 0x80000000u};
    switch (kind) {
    case MAP_VOID: break;
    case MAP_ONE_ID:
        for (size_t i = 0; i < n; i++) map[i] = 0xFFFFFFFFu;
        break;
    case MAP_RECTS:
        for (int r = 0, nr = 1 + (int)ref_randn(30); r < nr; r++) {
            uint32_t x0 = ref_randn(w), y0 = ref_randn(h);
            uint32_t x1 = x0 + 1 + ref_randn(w - x0), y1 = y0 + 1 + ref_randn(h - y0);
            uint32_t id = ref_randn(4) ? 1 + ref_randn(300) : palette[ref_randn(8)];
            for (uint32_t y = y0; y < y1; y++)
                for (uint32_t x = x0; x < x1; x++) map[(size_t)y * w + x] = id;
        }
        break;
    case MAP_NOISE_FEW:
        for (size_t i = 0; i < n; i++) map[i] = ref_randn(3);
        break;
    case MAP_NOISE_MANY:
        for (size_t i = 0; i < n; i++) map[i] = (uint32_t)ref_rand();
        break;
    case MAP_STRIPES_H:
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) map[(size_t)y * w + x] = palette[(y / 3) % 8];
        break;
    case MAP_STRIPES_V:
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) map[(size_t)y * w + x] = palette[(x / 2) % 8];
        break;
    case MAP_CHECKER:
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) map[(size_t)y * w + x] = (x + y) % 2 ? 5 : 0;
        break;
    default: break;
    }
}

/* check_map on a fresh h x w map of one kind, named "<prefix>kind K" in failures. */
static void check_map_kind(uint32_t h, uint32_t w, int kind, const char *prefix) {
    uint32_t *map = malloc(sizeof *map * h * w);
    make_map(map, h, w, (map_kind)kind);
    char what[32];
    snprintf(what, sizeof what, "%skind %d", prefix, kind);
    check_map(map, h, w, what);
    free(map);
}

static void every_id_equals_its_own_binary_encoding(void) {
    static const uint32_t sizes[][2] = {{1, 1}, {1, 40}, {40, 1}, {2, 3},   {16, 16}, {15, 17},
                                        {33, 31}, {48, 64}, {7, 100}, {100, 7}, {61, 47},
                                        {32, 9}, {64, 23}, {65, 16}, {97, 50}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int kind = 0; kind < MAP_N; kind++)
            for (int rep = 0; rep < 4; rep++) check_map_kind(sizes[s][0], sizes[s][1], kind, "");
}

/* Maps from 2048 columns on take the row-by-row bitmap path (rle_encode_labels.c). */
static void wide_maps_equal_their_binary_encodings(void) {
    static const uint32_t sizes[][2] = {{1, 2048}, {3, 2049}, {37, 2100}, {70, 4001}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int kind = 0; kind < MAP_N; kind++) {
            uint32_t h = sizes[s][0], w = sizes[s][1];
            /* the per-id check is O(ids * pixels): all-distinct noise only on small maps */
            if (kind == MAP_NOISE_MANY && (size_t)h * w > 10000) continue;
            check_map_kind(h, w, kind, "wide ");
        }
}

static void empty_map_gives_no_masks(void) {
    es_error err = {0};
    es_label_rles got = {0};
    CHECK_OK(es_rle_encode_labels(&got, NULL, 0, 10, &err), &err);
    CHECK(got.n == 0);
    es_label_rles_free(&got);
    es_label_rles_free(NULL);
    CHECK_EQ_INT(es_rle_encode_labels(&got, NULL, 70000, 70000, &err), ES_ERR_INVALID);
}

/* 15,000 x 10,000 (1.5e8 pixels): a void frame, a full-height band, a box with a hole,
 * a 1-px id at the last pixel and one thin diagonal. Checked id by id against es_rle_encode
 * (itself checked against the reference above) and decoded back. */
static void a_15000_by_10000_map_round_trips(void) {
    const uint32_t h = 10000, w = 15000;
    size_t n = (size_t)h * w;
    uint32_t *map = malloc(sizeof *map * n);
    uint8_t *mask = malloc(n), *back = malloc(n);
    if (!map || !mask || !back) {
        free(map), free(mask), free(back);
        CHECK_MSG(0, "cannot allocate the 15000 x 10000 map");
        return;
    }
    for (uint32_t y = 0; y < h; y++) {
        uint32_t *row = map + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t id = 1;                                          /* background id */
            if (x < 7 || y < 3 || x >= w - 5 || y >= h - 2) id = 0;   /* void frame */
            else if (x >= 4000 && x < 6000) id = 2;                   /* full-height band */
            else if (x >= 9000 && x < 14000 && y >= 1000 && y < 9000 &&
                     !(x >= 10000 && x < 13000 && y >= 3000 && y < 7000))
                id = 3;                                               /* box with a hole */
            row[x] = id;
        }
        row[(uint64_t)y * w / h] = 4;                                 /* diagonal */
    }
    map[n - 1] = 0xFFFFFFFFu; /* 1 px in the corner */
    es_error err = {0};
    es_label_rles got = {0};
    CHECK_OK(es_rle_encode_labels(&got, map, h, w, &err), &err);
    CHECK_EQ_INT(got.n, 5);
    uint64_t total = 0;
    for (size_t j = 0; j < got.n; j++) {
        for (size_t i = 0; i < n; i++) mask[i] = map[i] == got.ids[j];
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, mask, h, w, &err), &err);
        CHECK_MSG(r.m == got.rles[j].m && !memcmp(r.cnts, got.rles[j].cnts, sizeof *r.cnts * r.m),
                  "id %u", got.ids[j]);
        es_rle_decode(&got.rles[j], back);
        CHECK_MSG(!memcmp(back, mask, n), "decode of id %u", got.ids[j]);
        char *s = NULL;
        es_rle parsed = ES_RLE_EMPTY;
        CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
        CHECK_OK(es_rle_from_string(&parsed, s, h, w, &err), &err);
        CHECK(parsed.m == r.m && !memcmp(parsed.cnts, r.cnts, sizeof *r.cnts * r.m));
        total += got.areas[j];
        free(s);
        es_rle_free(&parsed);
        es_rle_free(&r);
    }
    CHECK_EQ_INT(got.ids[4], 0xFFFFFFFFu);
    CHECK_EQ_INT(got.areas[4], 1);
    /* the band: 2000 columns x (h - 5) rows, less the diagonal's pixels x = floor(1.5 y)
     * inside it, y = 2667 .. 3999 */
    CHECK_EQ_INT(got.areas[1], 2000u * (h - 5) - 1333);
    uint64_t void_px = 0;
    for (size_t i = 0; i < n; i++) void_px += map[i] == 0;
    CHECK_EQ_INT(total + void_px, n);
    es_label_rles_free(&got);
    free(map), free(mask), free(back);
}

int main(void) {
    ES_RUN(empty_map_gives_no_masks);
    ES_RUN(every_id_equals_its_own_binary_encoding);
    ES_RUN(wide_maps_equal_their_binary_encodings);
    ES_RUN(a_15000_by_10000_map_round_trips);
    ES_TEST_END();
}
