/* annotate/split.h: choosing a test split as EntitySeg did: draw candidate subsets of N
 * images, describe each by the Table 2 statistics of its images, keep the candidate whose
 * statistics are closest to the average over all candidates.
 *
 * Features of a subset: entities per image, resolution ((width + height) / 2), complexity
 * (mean convexity over its entities), simplicity, valid area. Distance of a candidate:
 * sum over features of ((value - mean) / sd)^2, mean and sd taken over the candidates
 * (features with sd 0 are left out). Draws use a seeded generator (splitmix64 + partial
 * Fisher-Yates): the same store, N, candidates and seed give the same split everywhere.
 *
 * Ownership: es_split_choose fills a caller-owned result released with es_split_free. */
#ifndef ENTSEG_ANNOTATE_SPLIT_H
#define ENTSEG_ANNOTATE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "stats.h"

#define ES_SPLIT_FEATURES 5

typedef struct es_split_result {
    size_t n_candidates, chosen;
    double *features;          /* (n_candidates x ES_SPLIT_FEATURES) */
    double *distance;          /* (n_candidates) */
    double mean[ES_SPLIT_FEATURES], sd[ES_SPLIT_FEATURES];
    double all[ES_SPLIT_FEATURES]; /* the whole store, for reference */
    size_t n_test;
    size_t *test;              /* (n_test) image indices (into the stats' image order), ascending */
} es_split_result;

extern const char *const es_split_feature_names[ES_SPLIT_FEATURES];

int es_split_choose(const es_dataset_stats *st, size_t n_test, size_t n_candidates, uint64_t seed,
                    es_split_result *out, es_error *err);
void es_split_free(es_split_result *r);

#endif
