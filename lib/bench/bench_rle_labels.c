/* bench_rle_labels.c: label map -> RLEs (es_rle_encode_labels) against one plain pass that
 * reads the same map (summing it), single thread, on synthetic COCO-like maps.
 *
 * Target (issue 2): encode_labels at least 1/2 the speed of the plain pass, i.e.
 * speed ratio = t(plain) / t(encode_labels) >= 0.5, on 640x480 and 4000x3000 maps.
 *
 * Maps: a few "stuff" regions split by wavy boundaries, 12-25 "thing" ellipses with
 * panoptic-style ids (R + 256 G + 65536 B), and small void patches; the 4000x3000 maps are
 * the same scenes drawn at that size. Each timing is the minimum over repetitions (the
 * map is warm in cache for the small size, streamed from memory for the large one).
 *
 * Usage: bench-rle-labels [--reps N] [--maps N] [--no-avx2]
 * (--no-avx2 times the SSE2 code path, as on a CPU without AVX2.)
 * Prints one line per size and a final "ratio" line per size.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entseg/rle.h"
#include "../src/rle_internal.h" /* es_rle_encode_labels_paths, for --no-avx2 */

static uint64_t rng = 0x243F6A8885A308D3ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A COCO-like scene drawn at h x w (coordinates are fractions of the image). */
static void make_scene(uint32_t *map, uint32_t h, uint32_t w, uint64_t seed) {
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    int n_stuff = 3 + (int)(urand() * 4);
    double cut[8], amp[8], freq[8], phase[8];
    uint32_t stuff_id[8];
    for (int s = 0; s < n_stuff; s++) {
        cut[s] = (s + 1.0) / (n_stuff + 1.0);
        amp[s] = 0.02 + 0.05 * urand();
        freq[s] = 1 + 6 * urand();
        phase[s] = 6.28 * urand();
        stuff_id[s] = 1 + (uint32_t)(urand() * 16777215.0);
    }
    stuff_id[n_stuff] = 1 + (uint32_t)(urand() * 16777215.0);
    for (uint32_t y = 0; y < h; y++) {
        double fy = (y + 0.5) / h;
        uint32_t *row = map + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++) {
            double fx = (x + 0.5) / w;
            int s = 0;
            while (s < n_stuff && fy > cut[s] + amp[s] * sin(freq[s] * 6.28 * fx + phase[s])) s++;
            row[x] = stuff_id[s];
        }
    }
    int n_things = 12 + (int)(urand() * 14);
    for (int t = 0; t < n_things; t++) {
        double cx = urand(), cy = urand(), rx = 0.01 + 0.12 * urand(), ry = 0.02 + 0.2 * urand();
        uint32_t id = urand() < 0.1 ? 0 : 1 + (uint32_t)(urand() * 16777215.0); /* some void */
        uint32_t y0 = (uint32_t)fmax(0, (cy - ry) * h), y1 = (uint32_t)fmin(h, (cy + ry) * h + 1);
        uint32_t x0 = (uint32_t)fmax(0, (cx - rx) * w), x1 = (uint32_t)fmin(w, (cx + rx) * w + 1);
        for (uint32_t y = y0; y < y1; y++)
            for (uint32_t x = x0; x < x1; x++) {
                double dx = ((x + 0.5) / w - cx) / rx, dy = ((y + 0.5) / h - cy) / ry;
                if (dx * dx + dy * dy < 1) map[(size_t)y * w + x] = id;
            }
    }
}

/* The plain pass: one read of every id. */
static uint64_t plain_pass(const uint32_t *map, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += map[i];
    return s;
}

static volatile uint64_t sink;
static int paths = ES_LABELS_AUTO;

static int bench_size(uint32_t h, uint32_t w, int n_maps, int reps) {
    size_t n = (size_t)h * w;
    uint32_t **maps = calloc((size_t)n_maps, sizeof *maps);
    size_t total_ids = 0, total_runs = 0;
    for (int i = 0; i < n_maps; i++) {
        maps[i] = malloc(sizeof(uint32_t) * n);
        if (!maps[i]) {
            fprintf(stderr, "bench-rle-labels: out of memory for a %ux%u map\n", w, h);
            return 1;
        }
        make_scene(maps[i], h, w, (uint64_t)i + 1);
    }
    double t_plain = 0, t_enc = 0;
    for (int i = 0; i < n_maps; i++) {
        double best_plain = 1e30, best_enc = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            sink = plain_pass(maps[i], n);
            double t1 = now_s();
            es_label_rles out = {0};
            es_error err = {0};
            if (es_rle_encode_labels_paths(&out, maps[i], h, w, paths, &err)) {
                fprintf(stderr, "bench-rle-labels: %s\n", err.msg);
                return 1;
            }
            double t2 = now_s();
            if (r == 0) {
                total_ids += out.n;
                for (size_t k = 0; k < out.n; k++) total_runs += out.rles[k].m;
            }
            es_label_rles_free(&out);
            if (t1 - t0 < best_plain) best_plain = t1 - t0;
            if (t2 - t1 < best_enc) best_enc = t2 - t1;
        }
        t_plain += best_plain;
        t_enc += best_enc;
    }
    double mpx = (double)n * n_maps / 1e6;
    printf("%ux%u: %d maps, %.1f ids and %.0f runs per map; plain pass %.3f ms/map (%.0f Mpx/s), "
           "encode_labels %.3f ms/map (%.0f Mpx/s)\n",
           w, h, n_maps, (double)total_ids / n_maps, (double)total_runs / n_maps,
           1e3 * t_plain / n_maps, mpx / t_plain, 1e3 * t_enc / n_maps, mpx / t_enc);
    printf("ratio %ux%u: encode_labels speed / plain pass speed = %.2f (target >= 0.50)\n", w, h,
           t_plain / t_enc);
    for (int i = 0; i < n_maps; i++) free(maps[i]);
    free(maps);
    return 0;
}

int main(int argc, char **argv) {
    int reps = 20, n_maps = 8;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--maps") && i + 1 < argc)
            n_maps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-avx2"))
            paths = ES_LABELS_NO_AVX2;
        else {
            fprintf(stderr, "usage: bench-rle-labels [--reps N] [--maps N] [--no-avx2]\n");
            return 2;
        }
    }
    if (reps < 1 || n_maps < 1) {
        fprintf(stderr, "bench-rle-labels: --reps and --maps must be positive\n");
        return 2;
    }
    int rc = bench_size(480, 640, n_maps, reps);
    if (!rc) rc = bench_size(3000, 4000, n_maps > 2 ? 2 : n_maps, reps);
    return rc;
}
