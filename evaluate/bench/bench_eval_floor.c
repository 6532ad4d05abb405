/* evaluate/bench/bench_eval_floor.c: the floor under entseg-eval: only read and decompress
 * every mask of the given stores, on N threads (one read handle per thread, images split
 * into contiguous id ranges), and print the wall time.
 * usage: bench-eval-floor [--threads N] STORE...   */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entseg/pool.h"
#include "entseg/store.h"

typedef struct job {
    const char *path;
    int64_t max_id;
    int parts;
    atomic_llong masks, runs;
    atomic_int failed;
} job;

static int count(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    job *J = ctx;
    long long runs = 0;
    for (size_t i = 0; i < n; i++) runs += ents[i].mask.m;
    atomic_fetch_add(&J->masks, (long long)n);
    atomic_fetch_add(&J->runs, runs);
    return 0;
}

static void part(void *ctx, size_t i, int thread) {
    job *J = ctx;
    es_store *s = NULL;
    es_error err = {0};
    int64_t per = (J->max_id + J->parts - 1) / J->parts;
    int64_t first = (int64_t)i * per + 1, last = first + per - 1;
    if (es_store_open(J->path, ES_OPEN_READ, &s, &err) ||
        es_store_scan(s, first, last, 0, count, J, &err)) {
        fprintf(stderr, "bench-eval-floor: %s\n", err.msg);
        atomic_store(&J->failed, 1);
    }
    es_store_close(s);
}

int main(int argc, char **argv) {
    int threads = 0, first = 1;
    if (argc > 2 && !strcmp(argv[1], "--threads")) threads = atoi(argv[2]), first = 3;
    if (first >= argc) {
        fprintf(stderr, "usage: bench-eval-floor [--threads N] STORE...\n");
        return 2;
    }
    es_pool *pool = es_pool_create(threads);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long masks = 0, runs = 0;
    for (int a = first; a < argc; a++) {
        job J = {.path = argv[a], .parts = es_pool_threads(pool) * 4};
        es_store *s = NULL;
        es_error err = {0};
        es_image *imgs = NULL;
        size_t n = 0;
        if (es_store_open(argv[a], ES_OPEN_READ, &s, &err) || es_store_images(s, &imgs, &n, &err)) {
            fprintf(stderr, "bench-eval-floor: %s\n", err.msg);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            if (imgs[i].id > J.max_id) J.max_id = imgs[i].id;
        es_images_free(imgs, n);
        es_store_close(s);
        es_pool_for(pool, (size_t)J.parts, part, &J);
        if (J.failed) return 1;
        masks += J.masks;
        runs += J.runs;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("floor: %lld masks (%lld runs) read and decompressed in %.3f s on %d threads\n", masks,
           runs, sec, es_pool_threads(pool));
    es_pool_free(pool);
    return 0;
}
