/* bench_shape.c: per-entity geometry of the dataset statistics: the run-based path
 * (shape.c: work ~ the entity's bbox) against decoding each mask to the full image first
 * (what a dense implementation pays before any contour work). Prints entities/s of both
 * and their ratio on the entities of a store.
 * usage: bench-shape STORE.db [max_images] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entseg/store.h"
#include "shape.h"

typedef struct bench {
    es_rle *masks;
    size_t n, cap;
    size_t max_pixels;
} bench;

static int collect(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    bench *b = ctx;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].is_crowd) continue;
        if (b->n == b->cap) {
            es_rle *p = realloc(b->masks, (b->cap = b->cap ? 2 * b->cap : 1024) * sizeof *p);
            if (!p) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
            b->masks = p;
        }
        b->masks[b->n++] = ents[i].mask;
        ents[i].mask = ES_RLE_EMPTY; /* moved out */
        if ((size_t)img->width * img->height > b->max_pixels) b->max_pixels = (size_t)img->width * img->height;
    }
    return ES_OK;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench-shape STORE.db [max_images]\n");
        return 2;
    }
    int64_t last = argc > 2 ? atoll(argv[2]) : ES_NONE;
    es_error err = {0};
    es_store *s = NULL;
    bench b = {0};
    if (es_store_open(argv[1], ES_OPEN_READ, &s, &err) || es_store_scan(s, ES_NONE, last, 0, collect, &b, &err)) {
        fprintf(stderr, "bench-shape: %s\n", err.msg);
        return 1;
    }
    es_store_close(s);
    es_shape_scratch sc = {0};
    es_shape_stats st;
    double sum_fast = 0, sum_dense = 0;
    double t0 = now();
    for (size_t i = 0; i < b.n; i++) {
        es_shape_from_rle(&b.masks[i], &sc, &st, &err);
        sum_fast += st.convexity;
    }
    double t_fast = now() - t0;
    uint8_t *dense = malloc(b.max_pixels ? b.max_pixels : 1);
    t0 = now();
    for (size_t i = 0; i < b.n; i++) {
        es_rle_decode(&b.masks[i], dense);
        es_shape_from_mask(dense, b.masks[i].h, b.masks[i].w, &sc, &st, &err);
        sum_dense += st.convexity;
    }
    double t_dense = now() - t0;
    printf("bench-shape: %zu entities: runs %.0f entities/s, decode-first %.0f entities/s, ratio %.1fx%s\n", b.n,
           b.n / t_fast, b.n / t_dense, t_dense / t_fast, sum_fast == sum_dense ? "" : " (RESULTS DIFFER)");
    for (size_t i = 0; i < b.n; i++) es_rle_free(&b.masks[i]);
    free(b.masks);
    free(dense);
    es_shape_scratch_free(&sc);
    return sum_fast == sum_dense ? 0 : 1;
}
