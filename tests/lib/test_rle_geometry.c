/* test_rle_geometry.c: polygons and boxes -> masks on hand-derived cases, and crop, pad and
 * nearest resize against dense references on masks of every shape class. */
#include <stdint.h>

#include "es_test.h"
#include "entseg/rle.h"
#include "lib/test_rle_reference.h"

/* pycocotools' rasterisation keeps the pixels whose centre (x+0.5, y+0.5) is inside the
 * polygon; the cases below put no centre on an edge, so that rule gives the mask by hand.
 * Every vertex is on the 1/5-pixel grid, so the upsampling rounds nothing away. */
static int centre_rule_mask(es_rle *r, int (*inside)(double, double), uint32_t h, uint32_t w) {
    uint8_t *m = malloc((size_t)h * w);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) m[(size_t)y * w + x] = (uint8_t)inside(x + 0.5, y + 0.5);
    int same = ref_rle_equals_mask(r, m, h, w);
    free(m);
    return same;
}

static int in_rect(double x, double y) { return x > 0.4 && x < 2.6 && y > 0.2 && y < 3.6; }
static int in_triangle(double x, double y) { return x > 0.2 && y > 0.2 && x + y < 5.4; }

static void polygons_cover_the_pixel_centres_inside_them(void) {
    es_error err = {0};
    es_rle r = ES_RLE_EMPTY;
    const double rect[8] = {0.4, 0.2, 0.4, 3.6, 2.6, 3.6, 2.6, 0.2};
    CHECK_OK(es_rle_from_polygon(&r, rect, 4, 6, 5, &err), &err);
    CHECK(centre_rule_mask(&r, in_rect, 6, 5));
    CHECK_EQ_INT(es_rle_area(&r), 3 * 4);
    es_rle_free(&r);
    /* the same rectangle listed clockwise from another corner */
    const double rect_cw[8] = {2.6, 3.6, 2.6, 0.2, 0.4, 0.2, 0.4, 3.6};
    CHECK_OK(es_rle_from_polygon(&r, rect_cw, 4, 6, 5, &err), &err);
    CHECK(centre_rule_mask(&r, in_rect, 6, 5));
    es_rle_free(&r);

    const double tri[6] = {0.2, 0.2, 5.2, 0.2, 0.2, 5.2};
    CHECK_OK(es_rle_from_polygon(&r, tri, 3, 7, 7, &err), &err);
    CHECK(centre_rule_mask(&r, in_triangle, 7, 7));
    CHECK_EQ_INT(es_rle_area(&r), 5 + 4 + 3 + 2 + 1);
    es_rle_free(&r);

    /* clipped by the image: the triangle in a 3 x 4 image keeps its top-left part */
    CHECK_OK(es_rle_from_polygon(&r, tri, 3, 3, 4, &err), &err);
    CHECK(centre_rule_mask(&r, in_triangle, 3, 4));
    es_rle_free(&r);
}

/* An integer box [x, y, w, h] covers exactly columns x..x+w-1 and rows y..y+h-1. */
static void integer_boxes_cover_exactly_their_pixels(void) {
    es_error err = {0};
    for (int t = 0; t < 500; t++) {
        uint32_t h = 1 + ref_randn(30), w = 1 + ref_randn(30);
        uint32_t x = ref_randn(w), y = ref_randn(h);
        uint32_t bw = 1 + ref_randn(w - x), bh = 1 + ref_randn(h - y);
        const double bb[4] = {x, y, bw, bh};
        es_rle r = ES_RLE_EMPTY;
        CHECK_OK(es_rle_from_bbox(&r, bb, h, w, &err), &err);
        uint8_t *m = calloc((size_t)h * w, 1);
        ref_fill_rect(m, h, w, x, y, x + bw, y + bh, 1);
        CHECK_MSG(ref_rle_equals_mask(&r, m, h, w), "box %u %u %u %u in %ux%u", x, y, bw, bh, h, w);
        double got[4];
        es_rle_to_bbox(&r, got);
        CHECK(!memcmp(got, bb, sizeof got));
        free(m);
        es_rle_free(&r);
    }
}

static void degenerate_polygons_give_valid_masks(void) {
    es_error err = {0};
    es_rle r = ES_RLE_EMPTY;
    const double far[6] = {-50, -50, -40, -50, -40, -40}; /* outside the image */
    CHECK_OK(es_rle_from_polygon(&r, far, 3, 8, 9, &err), &err);
    CHECK(r.m == 1 && r.cnts[0] == 72);
    es_rle_free(&r);
    CHECK_OK(es_rle_from_polygon(&r, NULL, 0, 8, 9, &err), &err);
    CHECK_EQ_INT(es_rle_area(&r), 0);
    es_rle_free(&r);
    const double point[2] = {3, 3};
    CHECK_OK(es_rle_from_polygon(&r, point, 1, 8, 9, &err), &err);
    CHECK_OK(es_rle_validate(&r, &err), &err);
    es_rle_free(&r);
    const double huge[6] = {0, 0, 1e300, 0, 0, 5};
    CHECK_EQ_INT(es_rle_from_polygon(&r, huge, 3, 8, 9, &err), ES_ERR_INVALID);
    const double nan_xy[6] = {0, 0, NAN, 0, 0, 5};
    CHECK_EQ_INT(es_rle_from_polygon(&r, nan_xy, 3, 8, 9, &err), ES_ERR_INVALID);
    /* a polygon over the whole image is the full mask */
    const double all[8] = {-1, -1, -1, 20, 20, 20, 20, -1};
    CHECK_OK(es_rle_from_polygon(&r, all, 4, 8, 9, &err), &err);
    CHECK_EQ_INT(es_rle_area(&r), 72);
    es_rle_free(&r);
}

static void crop_pad_resize_match_dense_references(void) {
    es_error err = {0};
    for (int t = 0; t < 3000; t++) {
        uint32_t h = 1 + ref_randn(25), w = 1 + ref_randn(25);
        uint8_t *m = malloc((size_t)h * w);
        ref_make_mask(m, h, w, (int)ref_randn(REF_N_SHAPES));
        es_rle r = ES_RLE_EMPTY, out = ES_RLE_EMPTY;
        CHECK_OK(es_rle_encode(&r, m, h, w, &err), &err);

        /* crop */
        uint32_t x = ref_randn(w + 1), y = ref_randn(h + 1);
        uint32_t cw = ref_randn(w - x + 1), ch = ref_randn(h - y + 1);
        CHECK_OK(es_rle_crop(&out, &r, x, y, cw, ch, &err), &err);
        uint8_t *c = malloc((size_t)cw * ch + 1);
        for (uint32_t yy = 0; yy < ch; yy++)
            for (uint32_t xx = 0; xx < cw; xx++) c[(size_t)yy * cw + xx] = m[(size_t)(y + yy) * w + x + xx];
        CHECK_MSG(ref_rle_equals_mask(&out, c, ch, cw), "crop %u,%u %ux%u of %ux%u", x, y, cw, ch, w, h);
        free(c);
        es_rle_free(&out);

        /* pad */
        uint32_t l = ref_randn(4), tp = ref_randn(4), rt = ref_randn(4), bt = ref_randn(4);
        uint32_t ph = h + tp + bt, pw = w + l + rt;
        CHECK_OK(es_rle_pad(&out, &r, l, tp, rt, bt, &err), &err);
        uint8_t *p = calloc((size_t)ph * pw, 1);
        for (uint32_t yy = 0; yy < h; yy++)
            for (uint32_t xx = 0; xx < w; xx++) p[(size_t)(yy + tp) * pw + xx + l] = m[(size_t)yy * w + xx];
        CHECK_MSG(ref_rle_equals_mask(&out, p, ph, pw), "pad %u %u %u %u", l, tp, rt, bt);
        free(p);
        es_rle_free(&out);

        /* resize: source of (y, x) is (min(y*h/nh, h-1), min(x*w/nw, w-1)) */
        uint32_t nh = 1 + ref_randn(50), nw = 1 + ref_randn(50);
        CHECK_OK(es_rle_resize_nearest(&out, &r, nh, nw, &err), &err);
        uint8_t *s = malloc((size_t)nh * nw);
        for (uint32_t yy = 0; yy < nh; yy++)
            for (uint32_t xx = 0; xx < nw; xx++) {
                uint32_t sy = (uint32_t)((uint64_t)yy * h / nh), sx = (uint32_t)((uint64_t)xx * w / nw);
                if (sy > h - 1) sy = h - 1;
                if (sx > w - 1) sx = w - 1;
                s[(size_t)yy * nw + xx] = m[(size_t)sy * w + sx];
            }
        CHECK_MSG(ref_rle_equals_mask(&out, s, nh, nw), "resize %ux%u -> %ux%u", h, w, nh, nw);
        free(s);
        es_rle_free(&out);

        es_rle_free(&r);
        free(m);
    }
}

static void geometry_rejects_bad_windows(void) {
    es_error err = {0};
    es_rle r = ES_RLE_EMPTY, out = ES_RLE_EMPTY;
    CHECK_OK(es_rle_zeros(&r, 4, 5, &err), &err);
    CHECK_EQ_INT(es_rle_crop(&out, &r, 3, 0, 3, 1, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_crop(&out, &r, 0, 4, 1, 1, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_crop(&out, &r, UINT32_MAX, 0, 2, 1, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_pad(&out, &r, 70000, 70000, 0, 0, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_resize_nearest(&out, &r, 70000, 70000, &err), ES_ERR_INVALID);
    CHECK(out.cnts == NULL);
    /* zero-sized results are empty masks */
    CHECK_OK(es_rle_crop(&out, &r, 2, 2, 0, 2, &err), &err);
    CHECK(out.m == 0 && out.w == 0 && out.h == 2);
    CHECK_OK(es_rle_resize_nearest(&out, &r, 0, 3, &err), &err);
    CHECK(out.m == 0);
    es_rle_free(&r);
}

int main(void) {
    ES_RUN(polygons_cover_the_pixel_centres_inside_them);
    ES_RUN(integer_boxes_cover_exactly_their_pixels);
    ES_RUN(degenerate_polygons_give_valid_masks);
    ES_RUN(crop_pad_resize_match_dense_references);
    ES_RUN(geometry_rejects_bad_windows);
    ES_TEST_END();
}
