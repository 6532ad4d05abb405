/* annotate_fixture.h: a small hand-made ground-truth store for the annotate tests.
 *
 * image 1 "a" (64 x 48, source coco):
 *   entity 1: rectangle x 0..19, y 0..15 (320 px)
 *   entity 2: rectangle x 20..39, y 0..15 (320 px), touching entity 1
 *   entity 3: two 4x4 squares at x 50..53, y 2..5 and x 50..53, y 30..33 (32 px, 2 parts)
 *   entity 4: crowd region x 0..63, y 40..47 (512 px), overlapping nothing here
 *   the rest is void
 * image 2 "b" (32 x 32, source ade20k):
 *   entity 5: the whole image (1024 px)
 * Entity ids are as listed (assigned in insertion order). */
#ifndef ANNOTATE_FIXTURE_H
#define ANNOTATE_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/rle.h"
#include "entseg/store.h"

static void fixture_rect(uint8_t *m, uint32_t w, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
    for (uint32_t y = y0; y <= y1; y++)
        for (uint32_t x = x0; x <= x1; x++) m[y * w + x] = 1;
}

static int fixture_entity(es_entity *e, const uint8_t *m, uint32_t h, uint32_t w, int crowd, int order, es_error *err) {
    *e = es_entity_default();
    e->is_crowd = crowd;
    e->score = 1.0;
    e->isthing = 1;
    e->category_id = 7;
    e->source_order = order;
    return es_rle_encode(&e->mask, m, h, w, err);
}

/* Writes the store at path (replacing it). */
static int fixture_store(const char *path, es_error *err) {
    es_store_options opt = {0};
    opt.kind = ES_STORE_GT;
    opt.creator = "annotate tests";
    opt.replace = 1;
    es_store *s = NULL;
    int rc = es_store_create(path, &opt, &s, err);
    if (rc) return rc;
    es_image a = {0};
    a.name = "a", a.width = 64, a.height = 48, a.source = "coco", a.split = "val", a.source_id = 10;
    es_image b = {0};
    b.name = "b", b.width = 32, b.height = 32, b.source = "ade20k", b.split = "val", b.source_id = 20;
    uint8_t m[64 * 48];
    es_entity e[4];
    memset(e, 0, sizeof e);
    if (!(rc = es_store_add_image(s, &a, err)) && !(rc = es_store_add_image(s, &b, err))) {
        memset(m, 0, sizeof m);
        fixture_rect(m, 64, 0, 0, 19, 15);
        rc = fixture_entity(&e[0], m, 48, 64, 0, 0, err);
        memset(m, 0, sizeof m);
        fixture_rect(m, 64, 20, 0, 39, 15);
        if (!rc) rc = fixture_entity(&e[1], m, 48, 64, 0, 1, err);
        memset(m, 0, sizeof m);
        fixture_rect(m, 64, 50, 2, 53, 5);
        fixture_rect(m, 64, 50, 30, 53, 33);
        if (!rc) rc = fixture_entity(&e[2], m, 48, 64, 0, 2, err);
        memset(m, 0, sizeof m);
        fixture_rect(m, 64, 0, 40, 63, 47);
        if (!rc) rc = fixture_entity(&e[3], m, 48, 64, 1, 3, err);
        if (!rc) rc = es_store_add_entities(s, a.id, e, 4, err);
        for (int k = 0; k < 4; k++) es_rle_free(&e[k].mask);
    }
    if (!rc) {
        memset(m, 1, 32 * 32);
        rc = fixture_entity(&e[0], m, 32, 32, 0, 0, err);
        if (!rc) rc = es_store_add_entities(s, b.id, e, 1, err);
        es_rle_free(&e[0].mask);
    }
    if (rc) {
        es_store_close(s);
        return rc;
    }
    return es_store_finish(s, err);
}

/* Closes *s, writes the fixture store at path afresh and opens it for writing in *s
 * (NULL on failure). */
static inline int fixture_reopen(const char *path, es_store **s, es_error *err) {
    es_store_close(*s);
    *s = NULL;
    int rc = fixture_store(path, err);
    return rc ? rc : es_store_open(path, ES_OPEN_WRITE, s, err);
}

#endif
