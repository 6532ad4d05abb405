/* annotate/match.h: one-to-one matching of two entity sets of one image by mask IoU,
 * greedy in descending IoU (ties: lower a index, then lower b index), pairs with IoU >=
 * threshold only. For non-overlapping sets and threshold 0.5 this is the unique matching
 * (two masks with IoU > 0.5 to a third cannot both exist). Used by agree (label accuracy)
 * and render (true positives, false positives, misses).
 *
 * Ownership: caller-provided arrays: a_match (na), b_match (nb) get the partner's index
 * or -1, iou_of_a (na, may be NULL) the matched IoU or 0. */
#ifndef ENTSEG_ANNOTATE_MATCH_H
#define ENTSEG_ANNOTATE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

int es_match_greedy(const es_rle *a, size_t na, const es_rle *b, size_t nb, double threshold,
                    int64_t *a_match, int64_t *b_match, double *iou_of_a, es_error *err);

#endif
