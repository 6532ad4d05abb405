/* test_stats.c: the Table 2 statistics of the fixture store, every number derived by hand
 * (METRICS.md "Dataset statistics"); per-source groups; thread-count independence;
 * histograms written as PNGs of the expected size. */
#include <stdio.h>

#include "annotate_fixture.h"
#include "entseg/image.h"
#include "es_test.h"
#include "plots.h"
#include "stats.h"

static char db[4096];

static const es_stats_group *group(const es_dataset_stats *st, const char *name) {
    for (size_t g = 0; g < st->n_groups; g++)
        if (!strcmp(st->groups[g].source, name)) return &st->groups[g];
    return NULL;
}

static double simp(double area, double perimeter) { return sqrt(4 * M_PI * area) / perimeter; }

static void test_table_values_by_hand(void) {
    es_error err = {0};
    es_dataset_stats st;
    CHECK_OK(es_dataset_stats_compute(db, 2, 1, &st, &err), &err);
    CHECK_EQ_INT(st.n_groups, 3);
    const es_stats_group *all = group(&st, "all"), *coco = group(&st, "coco"), *ade = group(&st, "ade20k");
    CHECK(all && coco && ade);
    if (!all || !coco || !ade) return;
    CHECK_EQ_INT(all->images, 2);
    CHECK_EQ_INT(all->entities, 4);       /* the crowd row is skipped */
    CHECK_EQ_INT(all->crowd_skipped, 1);
    CHECK_NEAR(all->mean_width, 48.0, 1e-12);
    CHECK_NEAR(all->mean_height, 40.0, 1e-12);
    CHECK_NEAR(all->resolution, 44.0, 1e-12);
    CHECK_NEAR(all->entities_per_image, 2.0, 1e-12);
    CHECK_EQ_INT(all->max_entities, 3);
    /* rectangles and the full image: 1; two 4x4 squares 28 rows apart: 32 / (3*31 + 3 + 31 + 1) */
    CHECK_NEAR(all->complexity, (1 + 1 + 0.25 + 1) / 4.0, 1e-12);
    /* 20x16 rectangles: border 2*(19+15); two 4x4 squares: 2*12; 32x32: 4*31 */
    double s_rect = simp(320, 68), s_two = simp(32, 24), s_full = simp(1024, 124);
    CHECK_NEAR(all->simplicity, (2 * s_rect + s_two + s_full) / 4.0, 1e-12);
    CHECK_NEAR(all->valid_area, (672.0 / 3072.0 + 1.0) / 2.0, 1e-12);
    CHECK_NEAR(all->valid_area_pooled, 1696.0 / 4096.0, 1e-12);
    CHECK_EQ_INT(coco->images, 1);
    CHECK_NEAR(coco->resolution, 56.0, 1e-12);
    CHECK_NEAR(coco->complexity, 2.25 / 3.0, 1e-12);
    CHECK_NEAR(ade->valid_area, 1.0, 1e-12);
    CHECK_NEAR(ade->simplicity, s_full, 1e-12);
    /* the same numbers on one thread */
    es_dataset_stats one;
    CHECK_OK(es_dataset_stats_compute(db, 1, 1, &one, &err), &err);
    CHECK(one.n_groups == st.n_groups && !memcmp(&one.groups[0].complexity, &st.groups[0].complexity, sizeof(double)));
    CHECK(one.groups[0].simplicity == st.groups[0].simplicity);
    es_dataset_stats_free(&one);
    /* the area histogram: 320, 320 in [256, 512); 32 in [32, 64); 1024 in [1024, 2048) */
    CHECK_EQ_INT(st.area_hist[8], 2);
    CHECK_EQ_INT(st.area_hist[5], 1);
    CHECK_EQ_INT(st.area_hist[10], 1);
    char dir[4200], png[4300];
    snprintf(dir, sizeof dir, "%s/plots", es_test_tmpdir());
    CHECK_OK(es_stats_write_plots(&st, dir, &err), &err);
    const char *names[3] = {"entities_per_image.png", "resolution.png", "entity_area.png"};
    for (int i = 0; i < 3; i++) {
        uint32_t w = 0, h = 0;
        snprintf(png, sizeof png, "%s/%s", dir, names[i]);
        CHECK_OK(es_image_read_size(png, &w, &h, &err), &err);
        CHECK(w == 640 && h == 400);
    }
    char json[4200];
    snprintf(json, sizeof json, "%s/stats.json", es_test_tmpdir());
    CHECK_OK(es_dataset_stats_write_json(&st, json, &err), &err);
    es_dataset_stats_free(&st);
}

static void test_bad_inputs(void) {
    es_error err = {0};
    es_dataset_stats st;
    CHECK(es_dataset_stats_compute("/nonexistent/x.db", 1, 1, &st, &err) != ES_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/not_a_store.db", es_test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("hello, not sqlite", f);
    fclose(f);
    CHECK(es_dataset_stats_compute(path, 1, 1, &st, &err) != ES_OK);
    CHECK(err.msg[0] != 0);
}

int main(void) {
    snprintf(db, sizeof db, "%s/stats.db", es_test_tmpdir());
    es_error err = {0};
    if (fixture_store(db, &err)) {
        printf("fixture: %s\n", err.msg);
        return 1;
    }
    ES_RUN(test_table_values_by_hand);
    ES_RUN(test_bad_inputs);
    ES_TEST_END();
}
