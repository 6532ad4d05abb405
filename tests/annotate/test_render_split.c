/* test_render_split.c: render writes a PNG of the image's size and counts TP / FP /
 * misses against a perturbed copy; split is deterministic, keeps the candidate closest to
 * the candidates' average, and refuses impossible sizes. */
#include <stdio.h>

#include "annotate_fixture.h"
#include "edit.h"
#include "entseg/image.h"
#include "es_test.h"
#include "render.h"
#include "split.h"

static char a_db[4096], b_db[4096];

static void test_render_plain_and_pred(void) {
    es_error err = {0};
    CHECK_OK(fixture_store(a_db, &err), &err);
    CHECK_OK(fixture_store(b_db, &err), &err);
    es_store *s = NULL;
    CHECK_OK(es_store_open(b_db, ES_OPEN_WRITE, &s, &err), &err);
    es_edit_result r;
    CHECK_OK(es_edit_delete(s, 2, "d", &r, &err), &err);
    es_region box = {NULL, 44, 18, 6, 6};
    CHECK_OK(es_edit_fill(s, 1, &box, ES_NONE, NULL, 0, "f", &r, &err), &err);
    es_store_close(s);

    char out[4200];
    snprintf(out, sizeof out, "%s/a1.png", es_test_tmpdir());
    es_render_options opt = {0};
    opt.labels = 1;
    es_render_info info;
    CHECK_OK(es_render(a_db, "1", out, &opt, &info, &err), &err);
    CHECK_EQ_INT(info.entities, 3);
    CHECK_EQ_INT(info.crowd, 1);
    CHECK_EQ_INT(info.background_found, 0); /* no image file: grey */
    es_pixels px = ES_PIXELS_EMPTY;
    CHECK_OK(es_image_read(out, 0, &px, &err), &err);
    CHECK(px.width == 64 && px.height == 48 && px.channels == 3);
    /* a void pixel far from every entity keeps the neutral grey */
    const uint8_t *d = px.data;
    size_t at = (size_t)(25 * 64 + 2) * 3;
    CHECK(d[at] == 128 && d[at + 1] == 128 && d[at + 2] == 128);
    es_pixels_free(&px);

    opt.pred_db = b_db;
    opt.labels = 0;
    CHECK_OK(es_render(a_db, "a", out, &opt, &info, &err), &err);
    CHECK_EQ_INT(info.tp, 2);
    CHECK_EQ_INT(info.fp, 1);
    CHECK_EQ_INT(info.misses, 1);
    CHECK(es_render(a_db, "nosuch", out, &opt, &info, &err) == ES_ERR_INVALID);
    CHECK(strstr(err.msg, "nosuch") != NULL);
    opt.pred_db = "/nonexistent.db";
    CHECK(es_render(a_db, "1", out, &opt, &info, &err) != ES_OK);
}

/* 12 images with 1..12 entities, sizes growing: features vary across candidates. */
static void fake_stats(es_dataset_stats *st) {
    memset(st, 0, sizeof *st);
    size_t n = 12;
    st->n_images = n;
    st->widths = calloc(n, sizeof *st->widths);
    st->heights = calloc(n, sizeof *st->heights);
    st->entity_counts = calloc(n, sizeof *st->entity_counts);
    st->covered = calloc(n, sizeof *st->covered);
    st->sum_convexity = calloc(n, sizeof *st->sum_convexity);
    st->sum_simplicity = calloc(n, sizeof *st->sum_simplicity);
    st->simplicity_n = calloc(n, sizeof *st->simplicity_n);
    for (size_t i = 0; i < n; i++) {
        st->widths[i] = 100 + 10 * (uint32_t)i;
        st->heights[i] = 80;
        st->entity_counts[i] = (uint32_t)i + 1;
        st->covered[i] = 4000 + 100 * i;
        st->sum_convexity[i] = 0.5 * (double)(i + 1);
        st->sum_simplicity[i] = 0.7 * (double)(i + 1);
        st->simplicity_n[i] = (uint32_t)i + 1;
    }
}

static void test_split_choice(void) {
    es_dataset_stats st;
    fake_stats(&st);
    es_error err = {0};
    es_split_result r1, r2;
    CHECK_OK(es_split_choose(&st, 4, 20, 7, &r1, &err), &err);
    CHECK_OK(es_split_choose(&st, 4, 20, 7, &r2, &err), &err);
    CHECK_EQ_INT(r1.chosen, r2.chosen);
    CHECK(!memcmp(r1.test, r2.test, 4 * sizeof *r1.test)); /* same seed, same split */
    for (size_t k = 1; k < 4; k++) CHECK(r1.test[k - 1] < r1.test[k]);
    for (size_t c = 0; c < r1.n_candidates; c++) CHECK(r1.distance[r1.chosen] <= r1.distance[c]);
    /* the chosen features are its images' own: entities per image = mean of (index + 1) */
    double ent = 0;
    for (size_t k = 0; k < 4; k++) ent += (double)(r1.test[k] + 1);
    CHECK_NEAR(r1.features[r1.chosen * ES_SPLIT_FEATURES + 0], ent / 4, 1e-12);
    CHECK_NEAR(r1.features[r1.chosen * ES_SPLIT_FEATURES + 2], 0.5, 1e-12); /* convexity 0.5 everywhere */
    CHECK_NEAR(r1.all[0], 6.5, 1e-12);
    es_split_free(&r2);
    CHECK(es_split_choose(&st, 12, 20, 7, &r2, &err) == ES_ERR_INVALID);
    CHECK(es_split_choose(&st, 0, 20, 7, &r2, &err) == ES_ERR_INVALID);
    CHECK(es_split_choose(&st, 3, 0, 7, &r2, &err) == ES_ERR_INVALID);
    es_split_free(&r1);
    es_dataset_stats_free(&st);
}

int main(void) {
    snprintf(a_db, sizeof a_db, "%s/a.db", es_test_tmpdir());
    snprintf(b_db, sizeof b_db, "%s/b.db", es_test_tmpdir());
    ES_RUN(test_render_plain_and_pred);
    ES_RUN(test_split_choice);
    ES_TEST_END();
}
