/* split.c: candidate test splits and the one closest to their average (see split.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

const char *const es_split_feature_names[ES_SPLIT_FEATURES] = {
    "entities_per_image", "resolution", "complexity", "simplicity", "valid_area"};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias. */
static size_t below(uint64_t *state, size_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = splitmix64(state);
    while (r >= limit);
    return (size_t)(r % n);
}

static void features_of(const es_dataset_stats *st, const size_t *idx, size_t n, double f[ES_SPLIT_FEATURES]) {
    double ent = 0, res = 0, conv = 0, simp = 0, valid = 0, nsimp = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = idx ? idx[k] : k;
        double pixels = (double)st->widths[i] * st->heights[i];
        ent += st->entity_counts[i];
        res += (st->widths[i] + st->heights[i]) / 2.0;
        conv += st->sum_convexity[i];
        simp += st->sum_simplicity[i];
        nsimp += st->simplicity_n[i];
        valid += pixels > 0 ? (double)st->covered[i] / pixels : 0;
    }
    double dn = n ? (double)n : 1;
    f[0] = ent / dn;
    f[1] = res / dn;
    f[2] = ent > 0 ? conv / ent : 0;
    f[3] = nsimp > 0 ? simp / nsimp : 0;
    f[4] = valid / dn;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

int es_split_choose(const es_dataset_stats *st, size_t n_test, size_t n_candidates, uint64_t seed,
                    es_split_result *out, es_error *err) {
    memset(out, 0, sizeof *out);
    size_t n = st->n_images;
    if (n_test == 0 || n_test >= n)
        return es_error_set(err, ES_ERR_INVALID, "--test %zu: needs 1 .. %zu images (the store has %zu)", n_test,
                            n ? n - 1 : 0, n);
    if (n_candidates == 0) return es_error_set(err, ES_ERR_INVALID, "--candidates must be at least 1");
    size_t *perm = malloc(n * sizeof *perm), *picks = malloc(n_candidates * n_test * sizeof *picks);
    out->features = calloc(n_candidates * ES_SPLIT_FEATURES, sizeof *out->features);
    out->distance = calloc(n_candidates, sizeof *out->distance);
    out->test = malloc(n_test * sizeof *out->test);
    if (!perm || !picks || !out->features || !out->distance || !out->test) {
        free(perm);
        free(picks);
        es_split_free(out);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory (%zu candidates of %zu images)", n_candidates, n_test);
    }
    out->n_candidates = n_candidates;
    out->n_test = n_test;
    features_of(st, NULL, n, out->all);
    uint64_t state = seed;
    for (size_t c = 0; c < n_candidates; c++) {
        for (size_t i = 0; i < n; i++) perm[i] = i;
        for (size_t k = 0; k < n_test; k++) { /* partial Fisher-Yates */
            size_t j = k + below(&state, n - k), t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
        }
        size_t *pick = picks + c * n_test;
        memcpy(pick, perm, n_test * sizeof *pick);
        qsort(pick, n_test, sizeof *pick, cmp_size);
        features_of(st, pick, n_test, out->features + c * ES_SPLIT_FEATURES);
    }
    for (int f = 0; f < ES_SPLIT_FEATURES; f++) {
        double sum = 0, sq = 0;
        for (size_t c = 0; c < n_candidates; c++) sum += out->features[c * ES_SPLIT_FEATURES + f];
        out->mean[f] = sum / (double)n_candidates;
        for (size_t c = 0; c < n_candidates; c++) {
            double d = out->features[c * ES_SPLIT_FEATURES + f] - out->mean[f];
            sq += d * d;
        }
        out->sd[f] = sqrt(sq / (double)n_candidates);
    }
    for (size_t c = 0; c < n_candidates; c++) {
        double d = 0;
        for (int f = 0; f < ES_SPLIT_FEATURES; f++)
            if (out->sd[f] > 0) {
                double z = (out->features[c * ES_SPLIT_FEATURES + f] - out->mean[f]) / out->sd[f];
                d += z * z;
            }
        out->distance[c] = d;
        if (d < out->distance[out->chosen]) out->chosen = c; /* ties keep the first */
    }
    memcpy(out->test, picks + out->chosen * n_test, n_test * sizeof *out->test);
    free(perm);
    free(picks);
    return ES_OK;
}

void es_split_free(es_split_result *r) {
    if (!r) return;
    free(r->features);
    free(r->distance);
    free(r->test);
    memset(r, 0, sizeof *r);
}
