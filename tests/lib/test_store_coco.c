/* test_store_coco.c: the store on real data, the 50 COCO panoptic segments of ../shared
 * (skipped when ../shared is absent). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test.h"
#include "es_test_io.h"
#include "test_rle_reference.h"

/* The 50 real COCO panoptic segments: every mask round-trips through a store exactly, and
 * the store holds them in at most half the bytes of their source PNGs (issue 2's target). */
static void test_coco_samples_round_trip_in_half_the_png_bytes(void) {
    static const char *const pngs[] = {
        "data/coco-panopticapi/sample_data/panoptic_examples/000000142238.png",
        "data/coco-panopticapi/sample_data/panoptic_examples/000000439180.png"};
    const char *path = es_test_tmp_file("coco.db");
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, NULL, NULL, 0};
    es_store *s;
    CHECK_OK(es_store_create(path, &opt, &s, &err), &err);
    if (!s) return;
    es_label_rles lr[2];
    size_t png_bytes = 0, masks = 0;
    for (int i = 0; i < 2; i++) {
        const char *file = es_test_shared(pngs[i]);
        FILE *f = fopen(file, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            png_bytes += (size_t)ftell(f);
            fclose(f);
        }
        es_pixels px = ES_PIXELS_EMPTY;
        CHECK_OK(es_image_read(file, 0, &px, &err), &err);
        uint32_t *ids = malloc((size_t)px.width * px.height * sizeof *ids);
        CHECK_OK(es_pixels_to_ids(&px, ids, &err), &err);
        CHECK_OK(es_rle_encode_labels(&lr[i], ids, px.height, px.width, &err), &err);
        es_image img = {0, (char *)(i ? "000000439180" : "000000142238"), px.width, px.height,
                        "coco", "val", NULL, ES_NONE};
        CHECK_OK(es_store_add_image(s, &img, &err), &err);
        es_entity *ents = calloc(lr[i].n, sizeof *ents);
        for (size_t k = 0; k < lr[i].n; k++) {
            ents[k] = es_entity_default();
            ents[k].mask = lr[i].rles[k]; /* borrowed */
            ents[k].source_segment_id = lr[i].ids[k];
        }
        CHECK_OK(es_store_add_entities(s, img.id, ents, lr[i].n, &err), &err);
        for (size_t k = 0; k < lr[i].n; k++) CHECK_EQ_INT(ents[k].area, lr[i].areas[k]);
        masks += lr[i].n;
        free(ents);
        free(ids);
        es_pixels_free(&px);
    }
    CHECK_EQ_INT(masks, 50);
    int64_t bytes = es_store_mask_bytes(s);
    printf("  50 COCO masks: %lld bytes in the store, %zu in the PNGs (%.3fx)\n", (long long)bytes,
           png_bytes, (double)bytes / png_bytes);
    CHECK(bytes > 0 && (double)bytes <= 0.5 * (double)png_bytes);
    CHECK_OK(es_store_finish(s, &err), &err);
    CHECK_OK(es_store_open(path, ES_OPEN_READ, &s, &err), &err);
    for (int i = 0; s && i < 2; i++) {
        es_entity *ents;
        size_t n;
        CHECK_OK(es_store_read_entities(s, i + 1, &ents, &n, &err), &err);
        CHECK_EQ_INT(n, lr[i].n);
        for (size_t k = 0; k < n && n == lr[i].n; k++) {
            CHECK(ref_rle_same(&ents[k].mask, &lr[i].rles[k]));
            CHECK_EQ_INT(ents[k].source_segment_id, lr[i].ids[k]);
        }
        es_entities_free(ents, n);
    }
    es_store_close(s);
    es_label_rles_free(&lr[0]);
    es_label_rles_free(&lr[1]);
}

int main(void) {
    ES_RUN(test_coco_samples_round_trip_in_half_the_png_bytes);
    ES_TEST_END();
}
