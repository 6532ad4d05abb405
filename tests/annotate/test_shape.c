/* test_shape.c: entity geometry for the dataset statistics, on shapes whose values are
 * derived by hand (METRICS.md "Dataset statistics": convexity, simplicity), and the fast
 * run-based path against a plain all-pixels reference on random masks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/rle.h"
#include "es_test.h"
#include "shape.h"

#define W 64
#define H 48
static uint8_t mask[H * W];
static es_shape_scratch scratch;

static void clear(void) { memset(mask, 0, sizeof mask); }
static void set(int x, int y) { mask[y * W + x] = 1; }
static es_shape_stats shape(void) {
    es_shape_stats st;
    es_error err = {0};
    CHECK_OK(es_shape_from_mask(mask, H, W, &scratch, &st, &err), &err);
    return st;
}

static void test_square_has_convexity_one(void) {
    clear();
    for (int y = 5; y < 15; y++)
        for (int x = 7; x < 17; x++) set(x, y);
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.area, 100);
    CHECK_EQ_INT(st.n_components, 1);
    CHECK_NEAR(st.hull_area, 100.0, 1e-12);          /* 10 x 10 pixel squares */
    CHECK_NEAR(st.hull_area_centres, 81.0, 1e-12);   /* 9 x 9 between centres */
    CHECK_NEAR(st.convexity, 1.0, 1e-12);
    CHECK_NEAR(st.perimeter, 36.0, 1e-12);           /* 4 sides of 9 steps */
    CHECK_NEAR(st.simplicity, sqrt(4 * M_PI * 100) / 36.0, 1e-12);
}

static void test_single_pixel(void) {
    clear();
    set(3, 4);
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.area, 1);
    CHECK_NEAR(st.hull_area, 1.0, 1e-12);
    CHECK_NEAR(st.convexity, 1.0, 1e-12);
    CHECK_NEAR(st.perimeter, 0.0, 1e-12);
    CHECK(isnan(st.simplicity)); /* no border to measure: left out of the mean */
}

static void test_pixel_at_image_corner(void) {
    clear();
    set(0, 0);
    set(W - 1, H - 1);
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.n_components, 2);
    /* centres (0,0) and (63,47): a segment; grown by the pixel square: 0 + 63 + 47 + 1 */
    CHECK_NEAR(st.hull_area, 111.0, 1e-12);
    CHECK_NEAR(st.convexity, 2.0 / 111.0, 1e-12);
}

static void test_l_shape_by_hand(void) {
    /* #..
     * #..
     * ###   area 5; hull of the squares: (0,0) (1,0) (3,2) (3,3) (0,3), area 7 */
    clear();
    set(0, 0), set(0, 1), set(0, 2), set(1, 2), set(2, 2);
    es_shape_stats st = shape();
    CHECK_NEAR(st.hull_area_centres, 2.0, 1e-12);
    CHECK_NEAR(st.hull_area, 7.0, 1e-12);
    CHECK_NEAR(st.convexity, 5.0 / 7.0, 1e-12);
    /* one side walks round the corner pixel (4 steps), the other cuts it (2 + sqrt 2) */
    CHECK_NEAR(st.perimeter, 6.0 + sqrt(2.0), 1e-12);
}

static void test_thick_l_shape_by_hand(void) {
    /* ##..
     * ##..
     * ####
     * ####   area 12; squares' hull (0,0) (2,0) (4,2) (4,4) (0,4): 16 - 2 = 14.
     * Border through centres (x, y): (0,0) (1,0) (1,1) then diagonal to (2,2) (the empty
     * (2,1) is cut), (3,2) (3,3), back along y = 3 to (0,3), up to (0,0):
     * 1 + 1 + sqrt2 + 1 + 1 + 3 + 3 = 10 + sqrt2. */
    clear();
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            if (!(x >= 2 && y < 2)) set(x + 1, y + 1);
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.area, 12);
    CHECK_NEAR(st.hull_area, 14.0, 1e-12);
    CHECK_NEAR(st.convexity, 12.0 / 14.0, 1e-12);
    CHECK_NEAR(st.perimeter, 10.0 + sqrt(2.0), 1e-12);
}

static void test_line_and_diagonal(void) {
    clear();
    for (int x = 10; x < 15; x++) set(x, 20);
    es_shape_stats st = shape();
    CHECK_NEAR(st.convexity, 1.0, 1e-12);
    CHECK_NEAR(st.perimeter, 8.0, 1e-12); /* there and back */
    clear();
    set(0, 0), set(1, 1), set(2, 2);
    st = shape();
    CHECK_EQ_INT(st.n_components, 1); /* 8-connected */
    CHECK_NEAR(st.hull_area, 5.0, 1e-12);   /* 0 + 2 + 2 + 1 */
    CHECK_NEAR(st.perimeter, 4 * sqrt(2.0), 1e-12);
}

static void test_disc_simplicity_near_one(void) {
    for (int r = 20; r <= 22; r++) {
        clear();
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                if ((x - 32) * (x - 32) + (y - 23) * (y - 23) <= r * r) set(x, y);
        es_shape_stats st = shape();
        CHECK_EQ_INT(st.n_components, 1);
        CHECK_MSG(fabs(st.simplicity - 1.0) < 0.10, "radius %d: simplicity %.4f", r, st.simplicity);
        CHECK_MSG(st.convexity > 0.95 && st.convexity <= 1.0, "radius %d: convexity %.4f", r, st.convexity);
    }
}

static void test_ring_ignores_hole(void) {
    clear();
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++)
            if (x == 0 || y == 0 || x == 9 || y == 9) set(x + 2, y + 2);
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.area, 36);
    CHECK_NEAR(st.perimeter, 36.0, 1e-12); /* outer border only */
    CHECK_NEAR(st.convexity, 36.0 / 100.0, 1e-12);
}

/* Plain reference: hull of every corner of every foreground pixel, sorted with qsort. */
static int cmp_pt(const void *a, const void *b) {
    const double *p = a, *q = b;
    if (p[0] != q[0]) return p[0] < q[0] ? -1 : 1;
    return p[1] < q[1] ? -1 : p[1] > q[1];
}

static void test_random_masks_match_reference_and_rle(void) {
    srand(7);
    double *pts = malloc(sizeof(double) * 8 * W * H), *hull = malloc(sizeof(double) * (8 * W * H + 2));
    for (int trial = 0; trial < 200; trial++) {
        clear();
        int blobs = 1 + rand() % 4;
        for (int b = 0; b < blobs; b++) {
            int cx = rand() % W, cy = rand() % H, r = 1 + rand() % 12;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    if ((x - cx) * (x - cx) + 2 * (y - cy) * (y - cy) <= r * r && rand() % 8) set(x, y);
        }
        size_t n = 0;
        uint64_t area = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                if (mask[y * W + x]) {
                    area++;
                    for (int c = 0; c < 4; c++) {
                        pts[2 * n] = x + (c & 1);
                        pts[2 * n + 1] = y + (c >> 1);
                        n++;
                    }
                }
        qsort(pts, n, 2 * sizeof(double), cmp_pt);
        double ref = area ? es_hull_area_sorted(pts, n, hull) : 0.0;
        es_shape_stats st = shape();
        CHECK_EQ_INT(st.area, area);
        if (area) CHECK_NEAR(st.hull_area, ref, 1e-9);
        /* the RLE route gives the same numbers */
        es_rle rle = ES_RLE_EMPTY;
        es_error err = {0};
        CHECK_OK(es_rle_encode(&rle, mask, H, W, &err), &err);
        es_shape_stats sr;
        CHECK_OK(es_shape_from_rle(&rle, &scratch, &sr, &err), &err);
        CHECK_EQ_INT(sr.area, st.area);
        CHECK_NEAR(sr.perimeter, st.perimeter, 1e-9);
        CHECK_NEAR(sr.hull_area, st.hull_area, 1e-9);
        CHECK_EQ_INT(sr.n_components, st.n_components);
        es_rle_free(&rle);
    }
    free(pts);
    free(hull);
}

static void test_empty_and_corrupt_rle(void) {
    clear();
    es_shape_stats st = shape();
    CHECK_EQ_INT(st.area, 0);
    CHECK_NEAR(st.convexity, 0.0, 0);
    uint32_t bad[2] = {5, 100}; /* sums past 4x4 */
    es_rle r = {4, 4, 2, bad};
    es_error err = {0};
    CHECK(es_shape_from_rle(&r, &scratch, &st, &err) == ES_ERR_FORMAT);
}

int main(void) {
    ES_RUN(test_square_has_convexity_one);
    ES_RUN(test_single_pixel);
    ES_RUN(test_pixel_at_image_corner);
    ES_RUN(test_l_shape_by_hand);
    ES_RUN(test_thick_l_shape_by_hand);
    ES_RUN(test_line_and_diagonal);
    ES_RUN(test_disc_simplicity_near_one);
    ES_RUN(test_ring_ignores_hole);
    ES_RUN(test_random_masks_match_reference_and_rle);
    ES_RUN(test_empty_and_corrupt_rle);
    es_shape_scratch_free(&scratch);
    ES_TEST_END();
}
