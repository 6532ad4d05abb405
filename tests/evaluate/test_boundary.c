/* test_boundary.c: boundary bands (evaluate/boundary.h) against a plain dense oracle.
 *
 * The oracle is boundary-iou-api's definition written out slowly (METRICS boundary 2,
 * STYLE item 7): pad the mask with one ring of zeros, erode d times with a 3x3 square,
 * band = mask - eroded. Random masks of many shapes and sizes, d from 1 to 20, border
 * cases; the band width with rounding at x.5 derived by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boundary.h"
#include "boundary_internal.h" /* es_bitmask_count_rows */
#include "es_test.h"

/* Row-major dense mask -> column-major RLE (test-only encoder, first run background). */
static es_rle dense_to_rle(const uint8_t *m, uint32_t h, uint32_t w) {
    es_rle r = {h, w, 0, NULL};
    uint64_t n = (uint64_t)h * w;
    r.cnts = malloc(sizeof *r.cnts * (n + 2));
    uint32_t run = 0;
    int v = 0;
    for (uint32_t x = 0; x < w; x++)
        for (uint32_t y = 0; y < h; y++) {
            int p = m[(size_t)y * w + x] != 0;
            if (p != v) {
                r.cnts[r.m++] = run;
                run = 0;
                v = p;
            }
            run++;
        }
    if (n > 0) r.cnts[r.m++] = run;
    return r;
}

static void rle_to_dense(const es_rle *r, uint8_t *m) {
    uint64_t pos = 0;
    memset(m, 0, (size_t)r->h * r->w);
    for (uint32_t i = 0; i < r->m; i++) {
        for (uint32_t j = 0; j < r->cnts[i]; j++, pos++)
            if (i & 1) m[(pos % r->h) * r->w + pos / r->h] = 1;
    }
}

/* The slow oracle: erode d times with a 3x3 square, zeros outside the image. */
static void oracle_band(const uint8_t *m, uint32_t h, uint32_t w, uint32_t d, uint8_t *band) {
    size_t n = (size_t)h * w;
    uint8_t *cur = malloc(n ? n : 1), *next = malloc(n ? n : 1);
    memcpy(cur, m, n);
    for (uint32_t it = 0; it < d; it++) {
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                int keep = 1;
                for (int dy = -1; dy <= 1 && keep; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        long yy = (long)y + dy, xx = (long)x + dx;
                        if (yy < 0 || xx < 0 || yy >= (long)h || xx >= (long)w ||
                            !cur[yy * w + xx]) {
                            keep = 0;
                            break;
                        }
                    }
                next[(size_t)y * w + x] = (uint8_t)keep;
            }
        memcpy(cur, next, n);
    }
    for (size_t i = 0; i < n; i++) band[i] = m[i] && !cur[i];
    free(cur);
    free(next);
}

static uint32_t rnd_state = 12345u;
static uint32_t rnd(void) {
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return rnd_state >> 8;
}

/* A random mask: a few filled rectangles and discs, some speckle, maybe the full image. */
static void random_mask(uint8_t *m, uint32_t h, uint32_t w) {
    memset(m, 0, (size_t)h * w);
    uint32_t kind = rnd() % 6;
    if (kind == 0) { /* full image */
        memset(m, 1, (size_t)h * w);
        return;
    }
    uint32_t shapes = 1 + rnd() % 4;
    for (uint32_t s = 0; s < shapes; s++) {
        long cx = rnd() % w, cy = rnd() % h;
        long rx = 1 + rnd() % (w / 2 + 1), ry = 1 + rnd() % (h / 2 + 1);
        int disc = rnd() % 2;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                long dx = (long)x - cx, dy = (long)y - cy;
                int in = disc ? (dx * dx * ry * ry + dy * dy * rx * rx <= rx * rx * ry * ry)
                              : (labs(dx) <= rx && labs(dy) <= ry);
                if (in) m[(size_t)y * w + x] = 1;
            }
    }
    if (kind == 5) /* speckle: holes and islands */
        for (uint32_t i = 0; i < (h * w) / 10; i++) m[rnd() % (h * w)] ^= 1;
}

static int compare_band(const uint8_t *m, uint32_t h, uint32_t w, uint32_t d) {
    size_t n = (size_t)h * w;
    uint8_t *want = malloc(n), *got = malloc(n), *mask_back = malloc(n);
    es_rle r = dense_to_rle(m, h, w);
    es_bitmask band = ES_BITMASK_EMPTY, mask = ES_BITMASK_EMPTY, plain = ES_BITMASK_EMPTY;
    es_error err = {0};
    int bad = 0;
    oracle_band(m, h, w, d, want);
    CHECK_OK(es_boundary_band(&band, &mask, &r, d, &err), &err);
    CHECK_OK(es_bitmask_from_rle(&plain, &r, &err), &err);
    uint64_t want_area = 0, mask_area = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            want_area += want[i];
            mask_area += m[i] != 0;
            if (es_bitmask_get(&band, x, y) != want[i]) bad++;
            if (es_bitmask_get(&mask, x, y) != (m[i] != 0)) bad++;
            if (es_bitmask_get(&plain, x, y) != (m[i] != 0)) bad++;
        }
    CHECK_EQ_INT(band.area, want_area);
    CHECK_EQ_INT(mask.area, mask_area);
    CHECK_EQ_INT(plain.area, mask_area);
    /* band -> RLE -> dense round trip, and the RLE equals the test encoder's runs */
    es_rle br = ES_RLE_EMPTY;
    CHECK_OK(es_bitmask_to_rle(&br, &band, &err), &err);
    rle_to_dense(&br, got);
    CHECK(memcmp(got, want, n) == 0);
    es_rle wr = dense_to_rle(want, h, w);
    CHECK_EQ_INT(br.m, wr.m);
    if (br.m == wr.m) CHECK(memcmp(br.cnts, wr.cnts, sizeof *br.cnts * br.m) == 0);
    es_rle mr = ES_RLE_EMPTY;
    CHECK_OK(es_bitmask_to_rle(&mr, &mask, &err), &err);
    rle_to_dense(&mr, mask_back);
    for (size_t i = 0; i < n; i++)
        if (mask_back[i] != (m[i] != 0)) {
            bad++;
            break;
        }
    if (bad) printf("  mismatch: %u x %u, d = %u, %d pixels\n", h, w, d, bad);
    CHECK(bad == 0);
    free(r.cnts);
    free(wr.cnts);
    es_rle_free(&br);
    es_rle_free(&mr);
    es_bitmask_free(&band);
    es_bitmask_free(&mask);
    es_bitmask_free(&plain);
    free(want);
    free(got);
    free(mask_back);
    return bad;
}

/* METRICS boundary 1: d = round half to even of ratio * diagonal, at least 1. */
static void test_width_rounds_half_to_even(void) {
    /* 375^2 + 500^2 = 625^2: 0.02 * 625 = 12.5 -> 12 */
    CHECK_EQ_INT(es_boundary_width(0.02, 375, 500), 12);
    /* 405^2 + 540^2 = 675^2: 0.02 * 675 = 13.5 -> 14 */
    CHECK_EQ_INT(es_boundary_width(0.02, 405, 540), 14);
    /* 30 x 40: diagonal 50 -> 1.0 */
    CHECK_EQ_INT(es_boundary_width(0.02, 30, 40), 1);
    /* 10 x 10: 0.28 -> 0 -> at least 1 */
    CHECK_EQ_INT(es_boundary_width(0.02, 10, 10), 1);
    /* 480 x 640: diagonal 800 -> 16 */
    CHECK_EQ_INT(es_boundary_width(0.02, 480, 640), 16);
    /* 300 x 400: diagonal 500, ratio 0.005 -> 2.5 -> 2; ratio 0.007 -> 3.5 -> 4 */
    CHECK_EQ_INT(es_boundary_width(0.005, 300, 400), 2);
    CHECK_EQ_INT(es_boundary_width(0.007, 300, 400), 4);
    CHECK_EQ_INT(es_boundary_width(-1.0, 300, 400), 1);
    CHECK_EQ_INT(es_boundary_width(NAN, 300, 400), 1);
}

/* Hand-derived bands: the image border counts as background. */
static void test_band_by_hand(void) {
    es_error err = {0};
    uint8_t m[81];
    /* 5 x 5 full image, d = 1: the outer ring of 16 pixels */
    memset(m, 1, 25);
    es_rle r = dense_to_rle(m, 5, 5);
    es_bitmask b = ES_BITMASK_EMPTY;
    CHECK_OK(es_boundary_band(&b, NULL, &r, 1, &err), &err);
    CHECK_EQ_INT(b.area, 16);
    CHECK_EQ_INT(es_bitmask_get(&b, 2, 2), 0);
    CHECK_EQ_INT(es_bitmask_get(&b, 0, 2), 1);
    es_bitmask_free(&b);
    /* d = 2 on the same: everything but the centre pixel */
    CHECK_OK(es_boundary_band(&b, NULL, &r, 2, &err), &err);
    CHECK_EQ_INT(b.area, 24);
    es_bitmask_free(&b);
    /* d = 3: everything */
    CHECK_OK(es_boundary_band(&b, NULL, &r, 3, &err), &err);
    CHECK_EQ_INT(b.area, 25);
    es_bitmask_free(&b);
    free(r.cnts);
    /* 9 x 9 image, 3 x 3 square in the middle, d = 1: 8 pixels, the centre survives */
    memset(m, 0, 81);
    for (int y = 3; y < 6; y++)
        for (int x = 3; x < 6; x++) m[y * 9 + x] = 1;
    r = dense_to_rle(m, 9, 9);
    CHECK_OK(es_boundary_band(&b, NULL, &r, 1, &err), &err);
    CHECK_EQ_INT(b.area, 8);
    CHECK_EQ_INT(es_bitmask_get(&b, 4, 4), 0);
    es_bitmask_free(&b);
    free(r.cnts);
    /* a 1-pixel mask is its own band */
    memset(m, 0, 81);
    m[0] = 1;
    r = dense_to_rle(m, 9, 9);
    CHECK_OK(es_boundary_band(&b, NULL, &r, 1, &err), &err);
    CHECK_EQ_INT(b.area, 1);
    es_bitmask_free(&b);
    free(r.cnts);
    /* an empty mask has an empty band */
    memset(m, 0, 81);
    r = dense_to_rle(m, 9, 9);
    CHECK_OK(es_boundary_band(&b, NULL, &r, 4, &err), &err);
    CHECK_EQ_INT(b.area, 0);
    CHECK_EQ_INT(b.ncols, 0);
    es_bitmask_free(&b);
    free(r.cnts);
}

static void test_band_matches_oracle_on_random_masks(void) {
    static const uint32_t sizes[][2] = {{1, 1},   {1, 17},  {17, 1},  {5, 5},   {30, 40},
                                        {63, 10}, {64, 9},  {65, 33}, {128, 7}, {20, 130},
                                        {129, 70}, {200, 3}, {3, 200}, {100, 100}};
    int fails = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t h = sizes[s][0], w = sizes[s][1];
        uint8_t *m = malloc((size_t)h * w);
        for (int trial = 0; trial < 12; trial++) {
            random_mask(m, h, w);
            uint32_t d = 1 + rnd() % 20;
            if (trial == 0) d = 1;
            fails += compare_band(m, h, w, d) != 0;
        }
        free(m);
    }
    CHECK_EQ_INT(fails, 0);
}

/* Border cases: masks touching each image edge and corner. */
static void test_band_at_image_borders(void) {
    uint32_t h = 40, w = 50;
    uint8_t *m = malloc((size_t)h * w);
    for (int corner = 0; corner < 8; corner++) {
        memset(m, 0, (size_t)h * w);
        uint32_t x0 = (corner & 1) ? w - 12 : 0, y0 = (corner & 2) ? h - 9 : 0;
        if (corner >= 4) { /* whole rows or columns along an edge */
            x0 = corner == 4 || corner == 6 ? 0 : w - 12;
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = x0; x < x0 + 12; x++) m[y * w + x] = 1;
        } else {
            for (uint32_t y = y0; y < y0 + 9; y++)
                for (uint32_t x = x0; x < x0 + 12; x++) m[y * w + x] = 1;
        }
        for (uint32_t d = 1; d <= 7; d += 3) CHECK(compare_band(m, h, w, d) == 0);
    }
    free(m);
}

/* Intersections, unions and differences of bitmasks against dense counts. */
static void test_set_operations_match_dense_counts(void) {
    uint32_t h = 70, w = 90;
    size_t n = (size_t)h * w;
    uint8_t *a = malloc(n), *b = malloc(n);
    es_error err = {0};
    for (int trial = 0; trial < 30; trial++) {
        random_mask(a, h, w);
        random_mask(b, h, w);
        uint64_t inter = 0, area_a = 0, uni = 0;
        for (size_t i = 0; i < n; i++) {
            inter += a[i] && b[i];
            area_a += a[i] != 0;
            uni += a[i] || b[i];
        }
        es_rle ra = dense_to_rle(a, h, w), rb = dense_to_rle(b, h, w);
        es_bitmask ba, bb, all;
        CHECK_OK(es_bitmask_from_rle(&ba, &ra, &err), &err);
        CHECK_OK(es_bitmask_from_rle(&bb, &rb, &err), &err);
        CHECK_EQ_INT(es_bitmask_intersection(&ba, &bb), inter);
        CHECK_EQ_INT(es_bitmask_intersection(&bb, &ba), inter);
        CHECK_EQ_INT(es_bitmask_difference(&ba, &bb), area_a - inter);
        CHECK_OK(es_bitmask_zeros(&all, h, w, &err), &err);
        uint64_t ov = 99;
        CHECK_OK(es_bitmask_or(&all, &ba, &ov, &err), &err);
        CHECK_EQ_INT(ov, 0);
        CHECK_OK(es_bitmask_or(&all, &bb, &ov, &err), &err);
        CHECK_EQ_INT(ov, inter);
        CHECK_EQ_INT(all.area, uni);
        /* a frame that is not inside the destination is refused */
        if (bb.area && ba.area && (bb.x0 < ba.x0 || bb.word0 < ba.word0))
            CHECK(es_bitmask_or(&ba, &bb, NULL, &err) == ES_ERR_INVALID);
        es_bitmask_free(&ba);
        es_bitmask_free(&bb);
        es_bitmask_free(&all);
        free(ra.cnts);
        free(rb.cnts);
    }
    free(a);
    free(b);
}

static void test_boundary_iou_by_hand(void) {
    /* two 5x5 squares in a 20x20 image, offset by one column, d = 1:
     * band A = 16 pixels (x 2..6), band B = 16 pixels (x 3..7); shared: the columns x 3..6
     * of the top and bottom rows (4 + 4) plus column x 6 rows 3..5 of A's right edge lying
     * on... counted from the definitions below, not guessed */
    uint8_t a[400] = {0}, b[400] = {0};
    for (int y = 2; y < 7; y++)
        for (int x = 2; x < 7; x++) a[y * 20 + x] = 1;
    for (int y = 2; y < 7; y++)
        for (int x = 3; x < 8; x++) b[y * 20 + x] = 1;
    /* A's band: rows 2 and 6 (x 2..6) and columns 2 and 6 (y 3..5): 16 pixels.
     * B's band: rows 2 and 6 (x 3..7) and columns 3 and 7 (y 3..5): 16 pixels.
     * Shared: rows 2 and 6 at x 3..6 (8 pixels); A's column 6 vs B's column 3/7: none.
     * IoU = 8 / (16 + 16 - 8) = 1/3. */
    es_rle ra = dense_to_rle(a, 20, 20), rb = dense_to_rle(b, 20, 20);
    es_bitmask ba, bb;
    es_error err = {0};
    CHECK_OK(es_boundary_band(&ba, NULL, &ra, 1, &err), &err);
    CHECK_OK(es_boundary_band(&bb, NULL, &rb, 1, &err), &err);
    CHECK_EQ_INT(ba.area, 16);
    CHECK_EQ_INT(bb.area, 16);
    CHECK_EQ_INT(es_bitmask_intersection(&ba, &bb), 8);
    CHECK(es_boundary_iou(&ba, &bb) == 8.0 / 24.0);
    es_bitmask_free(&ba);
    es_bitmask_free(&bb);
    free(ra.cnts);
    free(rb.cnts);
}

/* es_bitmask_count_rows against dense counts, and the band cache against es_boundary_band. */
static void test_row_counts_and_band_cache(void) {
    uint32_t h = 150, w = 60;
    uint8_t *m = malloc((size_t)h * w);
    es_error err = {0};
    es_band_cache *cache = NULL;
    CHECK_OK(es_band_cache_create(&cache, h, w, 0.02, 3, 2, &err), &err);
    CHECK_EQ_INT(es_band_cache_width(cache), es_boundary_width(0.02, h, w));
    for (int trial = 0; trial < 5; trial++) {
        random_mask(m, h, w);
        es_rle r = dense_to_rle(m, h, w);
        es_bitmask b;
        CHECK_OK(es_bitmask_from_rle(&b, &r, &err), &err);
        for (int q = 0; q < 200; q++) {
            uint32_t x = rnd() % (w + 2), y0 = rnd() % (h + 1), y1 = y0 + rnd() % (h + 1 - y0);
            uint64_t want = 0;
            for (uint32_t y = y0; y < y1 && x < w; y++) want += m[(size_t)y * w + x] != 0;
            CHECK_EQ_INT(es_bitmask_count_rows(&b, x, y0, y1), want);
        }
        es_bitmask_free(&b);
        /* the cache gives the band es_boundary_band gives, and the same object twice */
        es_bitmask direct;
        const es_bitmask *cached = NULL, *again = NULL;
        CHECK_OK(es_boundary_band(&direct, NULL, &r, es_band_cache_width(cache), &err), &err);
        int is_gt = trial < 3;
        size_t idx = is_gt ? (size_t)trial : (size_t)trial - 3;
        CHECK_OK(es_band_cache_get(cache, is_gt, idx, &r, &cached, &err), &err);
        CHECK_OK(es_band_cache_get(cache, is_gt, idx, &r, &again, &err), &err);
        CHECK(cached == again);
        CHECK_EQ_INT(cached->area, direct.area);
        CHECK_EQ_INT(es_bitmask_intersection(cached, &direct), direct.area);
        es_bitmask_free(&direct);
        free(r.cnts);
    }
    const es_bitmask *band;
    es_rle other = {h + 1, w, 0, NULL};
    CHECK(es_band_cache_get(cache, 0, 2, &other, &band, &err) == ES_ERR_INVALID); /* index */
    es_band_cache *c2 = NULL;
    CHECK_OK(es_band_cache_create(&c2, h, w, 0.02, 1, 1, &err), &err);
    CHECK(es_band_cache_get(c2, 1, 0, &other, &band, &err) == ES_ERR_INVALID); /* size */
    es_band_cache_free(c2);
    es_band_cache_free(cache);
    es_band_cache_free(NULL);
    free(m);
}

static void test_bad_runs_are_rejected(void) {
    uint32_t cnts[3] = {5, 3, 2}; /* sums to 10, image is 3 x 3 */
    es_rle r = {3, 3, 3, cnts};
    es_bitmask b;
    es_error err = {0};
    CHECK(es_boundary_band(&b, NULL, &r, 1, &err) == ES_ERR_FORMAT);
    CHECK(b.bits == NULL);
    CHECK(es_bitmask_from_rle(&b, &r, &err) == ES_ERR_FORMAT);
    cnts[2] = 0; /* sums to 8 */
    CHECK(es_bitmask_from_rle(&b, &r, &err) == ES_ERR_FORMAT);
    uint32_t extra[3] = {9, 1, 0}; /* a foreground run after all 9 pixels */
    es_rle over = {3, 3, 2, extra};
    CHECK(es_bitmask_from_rle(&b, &over, &err) == ES_ERR_FORMAT);
    CHECK(es_boundary_band(&b, NULL, &over, 2, &err) == ES_ERR_FORMAT);
    es_rle none = {3, 3, 2, NULL};
    CHECK(es_bitmask_from_rle(&b, &none, &err) == ES_ERR_FORMAT);
    es_bitmask_free(NULL);
}

int main(void) {
    ES_RUN(test_width_rounds_half_to_even);
    ES_RUN(test_band_by_hand);
    ES_RUN(test_band_matches_oracle_on_random_masks);
    ES_RUN(test_band_at_image_borders);
    ES_RUN(test_set_operations_match_dense_counts);
    ES_RUN(test_boundary_iou_by_hand);
    ES_RUN(test_row_counts_and_band_cache);
    ES_RUN(test_bad_runs_are_rejected);
    ES_TEST_END();
}
