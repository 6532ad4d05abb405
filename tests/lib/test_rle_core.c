/* test_rle_core.c: es_rle encode/decode, queries, set operations and the string form,
 * each checked against the dense reference in test_rle_reference.h on masks of every shape
 * class, plus hand-derived pycocotools cases and bad input. */
#include <stdint.h>

#include "es_test.h"
#include "entseg/rle.h"
#include "lib/test_rle_reference.h"

/* Sizes that exercise 1-pixel edges and the SIMD tails (w around 16 and 32). */
static const uint32_t sizes[][2] = {{1, 1}, {1, 7}, {9, 1}, {2, 2},  {3, 5},  {16, 16}, {17, 33},
                                    {31, 15}, {40, 30}, {64, 65}, {5, 100}, {100, 3}, {48, 47}};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

static void encoding_round_trips_on_every_shape_class(void) {
    es_error err = {0};
    for (size_t s = 0; s < N_SIZES; s++)
        for (int shape = 0; shape < REF_N_SHAPES; shape++)
            for (int rep = 0; rep < 3; rep++) {
                uint32_t h = sizes[s][0], w = sizes[s][1];
                size_t n = (size_t)h * w;
                uint8_t *m = malloc(n), *back = malloc(n);
                ref_make_mask(m, h, w, shape);
                es_rle r = ES_RLE_EMPTY;
                CHECK_OK(es_rle_encode(&r, m, h, w, &err), &err);
                CHECK_MSG(ref_rle_equals_mask(&r, m, h, w), "%ux%u shape %d", h, w, shape);
                CHECK_OK(es_rle_validate(&r, &err), &err);
                es_rle_decode(&r, back);
                int same = 1;
                for (size_t i = 0; i < n; i++) same &= back[i] == (m[i] != 0);
                CHECK_MSG(same, "decode %ux%u shape %d", h, w, shape);
                CHECK_EQ_INT(es_rle_area(&r), ref_area(m, n));
                double bb[4], rb[4];
                es_rle_to_bbox(&r, bb);
                ref_bbox(m, h, w, rb);
                CHECK_MSG(!memcmp(bb, rb, sizeof bb), "bbox %ux%u shape %d: %g %g %g %g vs %g %g %g %g",
                          h, w, shape, bb[0], bb[1], bb[2], bb[3], rb[0], rb[1], rb[2], rb[3]);
                /* string round trip */
                char *str = NULL;
                CHECK_OK(es_rle_to_string(&r, &str, &err), &err);
                es_rle back_r = ES_RLE_EMPTY;
                CHECK_OK(es_rle_from_string(&back_r, str, h, w, &err), &err);
                CHECK(back_r.m == r.m && !memcmp(back_r.cnts, r.cnts, sizeof *r.cnts * r.m));
                free(str);
                es_rle_free(&back_r);
                es_rle_free(&r);
                free(m);
                free(back);
            }
}

static void empty_image_has_no_runs(void) {
    es_error err = {0};
    es_rle r = ES_RLE_EMPTY;
    CHECK_OK(es_rle_encode(&r, NULL, 0, 5, &err), &err);
    CHECK_EQ_INT(r.m, 0);
    CHECK_EQ_INT(r.w, 5);
    CHECK_OK(es_rle_validate(&r, &err), &err);
    CHECK_EQ_INT(es_rle_area(&r), 0);
    char *s = NULL;
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    CHECK(s && s[0] == 0);
    free(s);
    es_rle_free(&r);
    /* pycocotools writes a 0 x 0 mask as counts [0] / "0" */
    CHECK_OK(es_rle_from_string(&r, "0", 0, 0, &err), &err);
    CHECK_EQ_INT(r.m, 0);
    es_rle_free(&r);
    CHECK_OK(es_rle_zeros(&r, 3, 4, &err), &err);
    CHECK(r.m == 1 && r.cnts[0] == 12);
    es_rle_free(&r);
    es_rle_free(NULL);
    es_rle_free(&r); /* freeing twice is fine: free empties the struct */
}

/* Hand-derived: 3x3 (h=3 rows, w=3 cols) with the middle column and pixel (0,2) set.
 * Column-major: col0 = 0 0 0, col1 = 1 1 1, col2 = 1 0 0 -> runs 3, 4, 2. */
static void hand_built_mask_gives_known_runs_and_string(void) {
    es_error err = {0};
    const uint8_t m[9] = {0, 1, 1,
                          0, 1, 0,
                          0, 1, 0};
    es_rle r = ES_RLE_EMPTY;
    CHECK_OK(es_rle_encode(&r, m, 3, 3, &err), &err);
    CHECK_EQ_INT(r.m, 3);
    CHECK(r.cnts[0] == 3 && r.cnts[1] == 4 && r.cnts[2] == 2);
    double bb[4];
    es_rle_to_bbox(&r, bb);
    /* The run spans columns 1-2: rleToBbox takes the full height there. */
    CHECK(bb[0] == 1 && bb[1] == 0 && bb[2] == 2 && bb[3] == 3);
    char *s = NULL;
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    CHECK_MSG(strcmp(s, "342") == 0, "got %s", s);
    free(s);
    es_rle_free(&r);
}

/* Hand-derived strings: deltas against cnts[i-2] from the 4th count, multi-char values,
 * negative deltas. Runs {3, 100, 50, 90, 10}: 3 -> "3"; 100 = 0b11 00100 -> groups 4,3 ->
 * '4'+0x20 = 'T', '3'; 50 = 0b1 10010 -> 18|0x20 = 50+48 = 'b', 1 -> '1';
 * 90-100 = -10 -> 22 (0x16, sign bit set, x>>5 == -1) -> 'F'; 10-50 = -40 -> 24|0x20 = 'h',
 * then -2 & 0x1f = 30 -> 'N'. */
static void string_form_matches_hand_derived_pycocotools_output(void) {
    es_error err = {0};
    const uint32_t cnts[5] = {3, 100, 50, 90, 10};
    es_rle r = ES_RLE_EMPTY;
    CHECK_OK(es_rle_from_counts(&r, cnts, 5, 1, 253, &err), &err);
    char *s = NULL;
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    CHECK_MSG(strcmp(s, "3T3b1FhN") == 0, "got %s", s);
    es_rle back = ES_RLE_EMPTY;
    CHECK_OK(es_rle_from_string(&back, s, 1, 253, &err), &err);
    CHECK(back.m == 5 && !memcmp(back.cnts, cnts, sizeof cnts));
    free(s);
    es_rle_free(&back);
    es_rle_free(&r);
    /* 16 needs two groups: "`0" */
    const uint32_t c16[1] = {16};
    CHECK_OK(es_rle_from_counts(&r, c16, 1, 4, 4, &err), &err);
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    CHECK_MSG(strcmp(s, "`0") == 0, "got %s", s);
    free(s);
    es_rle_free(&r);
}

static void large_counts_survive_the_string_form(void) {
    es_error err = {0};
    /* 15000 x 10000: runs near 2^27 and large negative deltas */
    const uint32_t cnts[3] = {0, 149999999u, 1};
    es_rle r = ES_RLE_EMPTY;
    CHECK_OK(es_rle_from_counts(&r, cnts, 3, 15000, 10000, &err), &err);
    char *s = NULL;
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    es_rle back = ES_RLE_EMPTY;
    CHECK_OK(es_rle_from_string(&back, s, 15000, 10000, &err), &err);
    CHECK(back.m == 3 && !memcmp(back.cnts, cnts, sizeof *cnts * 3));
    free(s);
    es_rle_free(&back);
    es_rle_free(&r);
    const uint32_t c2[5] = {100000000u, 1, 7, 49999990u, 2};
    CHECK_OK(es_rle_from_counts(&r, c2, 5, 15000, 10000, &err), &err);
    CHECK_OK(es_rle_to_string(&r, &s, &err), &err);
    CHECK_OK(es_rle_from_string(&back, s, 15000, 10000, &err), &err);
    CHECK(back.m == 5 && !memcmp(back.cnts, c2, sizeof c2));
    free(s);
    es_rle_free(&back);
    es_rle_free(&r);
}

/* Two random masks of random classes, same size. */
static void make_pair(uint32_t h, uint32_t w, uint8_t *a, uint8_t *b, es_rle *ra, es_rle *rb) {
    es_error err = {0};
    ref_make_mask(a, h, w, (int)ref_randn(REF_N_SHAPES));
    ref_make_mask(b, h, w, (int)ref_randn(REF_N_SHAPES));
    if (ref_randn(4) == 0) memcpy(b, a, (size_t)h * w); /* identical masks: IoU 1 */
    CHECK_OK(es_rle_encode(ra, a, h, w, &err), &err);
    CHECK_OK(es_rle_encode(rb, b, h, w, &err), &err);
}

/* STYLE 7: the dense reference is the oracle for the run walks. */
static void overlap_queries_match_the_dense_reference(void) {
    for (int t = 0; t < 3000; t++) {
        uint32_t h = 1 + ref_randn(40), w = 1 + ref_randn(40);
        size_t n = (size_t)h * w;
        uint8_t *a = malloc(n), *b = malloc(n);
        es_rle ra = ES_RLE_EMPTY, rb = ES_RLE_EMPTY;
        make_pair(h, w, a, b, &ra, &rb);
        uint64_t i, u;
        ref_counts(a, b, n, &i, &u);
        CHECK_EQ_INT(es_rle_intersection_area(&ra, &rb), i);
        CHECK_EQ_INT(es_rle_union_area(&ra, &rb), u);
        for (int crowd = 0; crowd < 2; crowd++) {
            double got = es_rle_iou(&ra, &rb, crowd), want = ref_iou(a, b, n, crowd);
            CHECK_MSG(got == want, "iou %ux%u crowd %d: %.17g vs %.17g", h, w, crowd, got, want);
        }
        uint64_t area_a = ref_area(a, n);
        double ioa = area_a ? (double)i / (double)area_a : 0;
        CHECK(es_rle_ioa(&ra, &rb) == ioa);
        es_rle_free(&ra);
        es_rle_free(&rb);
        free(a);
        free(b);
    }
}

static void set_operations_match_the_dense_reference(void) {
    es_error err = {0};
    for (int t = 0; t < 2000; t++) {
        uint32_t h = 1 + ref_randn(40), w = 1 + ref_randn(40);
        size_t n = (size_t)h * w;
        uint8_t *a = malloc(n), *b = malloc(n), *c = malloc(n), *want = malloc(n);
        es_rle ra = ES_RLE_EMPTY, rb = ES_RLE_EMPTY, rc = ES_RLE_EMPTY, out = ES_RLE_EMPTY;
        make_pair(h, w, a, b, &ra, &rb);
        ref_make_mask(c, h, w, (int)ref_randn(REF_N_SHAPES));
        CHECK_OK(es_rle_encode(&rc, c, h, w, &err), &err);

        for (size_t i = 0; i < n; i++) want[i] = a[i] || b[i];
        CHECK_OK(es_rle_union(&out, &ra, &rb, &err), &err);
        CHECK(ref_rle_equals_mask(&out, want, h, w));
        es_rle_free(&out);
        for (size_t i = 0; i < n; i++) want[i] = a[i] && b[i];
        CHECK_OK(es_rle_intersect(&out, &ra, &rb, &err), &err);
        CHECK(ref_rle_equals_mask(&out, want, h, w));
        es_rle_free(&out);
        for (size_t i = 0; i < n; i++) want[i] = a[i] && !b[i];
        CHECK_OK(es_rle_difference(&out, &ra, &rb, &err), &err);
        CHECK(ref_rle_equals_mask(&out, want, h, w));
        es_rle_free(&out);

        es_rle three[3] = {ra, rb, rc};
        for (size_t i = 0; i < n; i++) want[i] = a[i] || b[i] || c[i];
        CHECK_OK(es_rle_merge(&out, three, 3, 0, &err), &err);
        CHECK(ref_rle_equals_mask(&out, want, h, w));
        es_rle_free(&out);
        for (size_t i = 0; i < n; i++) want[i] = a[i] && b[i] && c[i];
        CHECK_OK(es_rle_merge(&out, three, 3, 1, &err), &err);
        CHECK(ref_rle_equals_mask(&out, want, h, w));
        es_rle_free(&out);
        CHECK_OK(es_rle_merge(&out, three, 1, 1, &err), &err);
        CHECK(ref_rle_equals_mask(&out, a, h, w));
        es_rle_free(&out);

        es_rle_free(&ra);
        es_rle_free(&rb);
        es_rle_free(&rc);
        free(a), free(b), free(c), free(want);
    }
    es_rle out = ES_RLE_EMPTY;
    CHECK_OK(es_rle_merge(&out, NULL, 0, 0, &err), &err);
    CHECK(out.m == 0 && out.h == 0 && out.w == 0);
}

/* rleIou gates on the boxes: differently sized masks give -1 only when boxes overlap. */
static void iou_follows_pycocotools_on_size_mismatch_and_crowd(void) {
    es_error err = {0};
    es_rle a = ES_RLE_EMPTY, b = ES_RLE_EMPTY;
    const uint32_t ca[3] = {0, 4, 12}, cb[3] = {0, 2, 23};
    CHECK_OK(es_rle_from_counts(&a, ca, 3, 4, 4, &err), &err);  /* column 0 */
    CHECK_OK(es_rle_from_counts(&b, cb, 3, 5, 5, &err), &err);  /* (0,0),(1,0) of 5x5 */
    CHECK(es_rle_iou(&a, &b, 0) == -1);
    CHECK(es_rle_ioa(&a, &b) == -1);
    es_rle_free(&b);
    const uint32_t cfar[2] = {24, 1};
    CHECK_OK(es_rle_from_counts(&b, cfar, 2, 5, 5, &err), &err); /* far corner of 5x5 */
    CHECK(es_rle_iou(&a, &b, 0) == 0);
    es_rle_free(&b);
    /* crowd: i / area(dt). dt = column 0 (4 px), gt = first two columns (8 px) */
    CHECK_OK(es_rle_from_counts(&b, (const uint32_t[]){0, 8, 8}, 3, 4, 4, &err), &err);
    CHECK(es_rle_iou(&a, &b, 1) == 1.0);
    CHECK(es_rle_iou(&a, &b, 0) == 0.5);
    CHECK(es_rle_ioa(&a, &b) == 1.0);
    CHECK(es_rle_ioa(&b, &a) == 0.5);
    es_rle_free(&a);
    es_rle_free(&b);
}

static void malformed_strings_are_format_errors(void) {
    es_error err = {0};
    es_rle r = ES_RLE_EMPTY;
    struct { const char *s; uint32_t h, w; } bad[] = {
        {"`", 4, 4},          /* truncated: continuation bit on the last char */
        {"3T", 1, 253},       /* truncated mid-value */
        {"3 2", 1, 5},        /* space is below '0' */
        {"3p", 1, 3},         /* 'p' is above 'o' */
        {"\x7f", 1, 1},
        {"\xff\xfe", 1, 1},
        {"34", 3, 3},         /* sums to 7, not 9 */
        {"", 2, 2},           /* no runs for 4 pixels */
        {"oooooooooooo0", 1, 1}, /* too many groups */
        {"0F", 1, 1},         /* negative count */
        {"00000O", 1, 1},     /* delta makes count 3 negative */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = es_rle_from_string(&r, bad[i].s, bad[i].h, bad[i].w, &err);
        CHECK_MSG(rc == ES_ERR_FORMAT, "case %zu (\"%s\") gave %d", i, bad[i].s, rc);
        CHECK(r.m == 0 && r.cnts == NULL);
        CHECK(err.msg[0] != 0);
    }
    /* too large an image is INVALID */
    CHECK_EQ_INT(es_rle_from_string(&r, "0", 70000, 70000, &err), ES_ERR_INVALID);
    /* counts that do not sum to h*w */
    const uint32_t c[2] = {3, 4};
    CHECK_EQ_INT(es_rle_from_counts(&r, c, 2, 2, 2, &err), ES_ERR_FORMAT);
    es_rle v = {2, 2, 2, (uint32_t *)c};
    CHECK_EQ_INT(es_rle_validate(&v, &err), ES_ERR_FORMAT);
}

/* A tiny fuzzer: random strings never crash; the ones accepted re-encode to themselves
 * after canonical parsing (parse -> print -> parse gives the same runs). */
static void random_strings_never_crash(void) {
    es_error err = {0};
    char s[32];
    int accepted = 0;
    for (int t = 0; t < 20000; t++) {
        size_t len = ref_randn(12);
        for (size_t i = 0; i < len; i++) s[i] = (char)(ref_randn(8) ? 48 + ref_randn(64) : ref_randn(256));
        s[len] = 0;
        es_rle r = ES_RLE_EMPTY;
        uint32_t h = 1 + ref_randn(8), w = 1 + ref_randn(8);
        if (es_rle_from_string(&r, s, h, w, &err) == ES_OK) {
            accepted++;
            CHECK_OK(es_rle_validate(&r, &err), &err);
            char *again = NULL;
            CHECK_OK(es_rle_to_string(&r, &again, &err), &err);
            es_rle r2 = ES_RLE_EMPTY;
            CHECK_OK(es_rle_from_string(&r2, again, h, w, &err), &err);
            CHECK(r2.m == r.m && (r.m == 0 || !memcmp(r.cnts, r2.cnts, sizeof *r.cnts * r.m)));
            free(again);
            es_rle_free(&r2);
        }
        es_rle_free(&r);
    }
    (void)accepted;
}

static void set_operations_reject_size_mismatch(void) {
    es_error err = {0};
    es_rle a = ES_RLE_EMPTY, b = ES_RLE_EMPTY, out = ES_RLE_EMPTY;
    CHECK_OK(es_rle_zeros(&a, 3, 4, &err), &err);
    CHECK_OK(es_rle_zeros(&b, 4, 3, &err), &err);
    CHECK_EQ_INT(es_rle_union(&out, &a, &b, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_intersect(&out, &a, &b, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_rle_difference(&out, &a, &b, &err), ES_ERR_INVALID);
    es_rle two[2] = {a, b};
    CHECK_EQ_INT(es_rle_merge(&out, two, 2, 0, &err), ES_ERR_INVALID);
    CHECK(out.cnts == NULL);
    CHECK_EQ_INT(es_rle_intersection_area(&a, &b), 0);
    es_rle_free(&a);
    es_rle_free(&b);
}

static void init_and_copy_own_their_runs(void) {
    es_error err = {0};
    uint32_t c[3] = {1, 2, 3};
    es_rle a = ES_RLE_EMPTY, b = ES_RLE_EMPTY;
    CHECK_OK(es_rle_init(&a, 2, 3, 3, c, &err), &err);
    c[0] = 9;
    CHECK_EQ_INT(a.cnts[0], 1);
    CHECK_OK(es_rle_copy(&b, &a, &err), &err);
    CHECK(b.cnts != a.cnts && b.m == 3 && b.cnts[2] == 3 && b.h == 2 && b.w == 3);
    es_rle_free(&a);
    es_rle_free(&b);
    CHECK_EQ_INT(es_rle_init(&a, 2, 3, 3, NULL, &err), ES_ERR_INVALID);
    CHECK_OK(es_rle_init(&a, 0, 0, 0, NULL, &err), &err);
}

int main(void) {
    ES_RUN(init_and_copy_own_their_runs);
    ES_RUN(empty_image_has_no_runs);
    ES_RUN(hand_built_mask_gives_known_runs_and_string);
    ES_RUN(string_form_matches_hand_derived_pycocotools_output);
    ES_RUN(large_counts_survive_the_string_form);
    ES_RUN(encoding_round_trips_on_every_shape_class);
    ES_RUN(overlap_queries_match_the_dense_reference);
    ES_RUN(set_operations_match_the_dense_reference);
    ES_RUN(iou_follows_pycocotools_on_size_mismatch_and_crowd);
    ES_RUN(set_operations_reject_size_mismatch);
    ES_RUN(malformed_strings_are_format_errors);
    ES_RUN(random_strings_never_crash);
    ES_TEST_END();
}
