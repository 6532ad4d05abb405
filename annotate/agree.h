/* annotate/agree.h: agreement between two annotations of the same images (the EntitySeg
 * paper's Table 1 re-annotation study): A is the reference, B is scored against it.
 *
 *  - class-agnostic mask AP: B as predictions with score 1.0 against A as ground truth,
 *    through the evaluator library (es_eval_run, AP^e); images pair by name;
 *  - label accuracy: entities matched one-to-one at IoU >= 0.5 (match.h; crowd rows
 *    skipped on both sides), over pairs whose A entity has a label: correct when B's
 *    label has the same name (an unlabelled B entity counts as wrong).
 *
 * Ownership: es_agreement_compute fills a caller-owned struct, released with
 * es_agreement_free (NULL-safe). */
#ifndef ENTSEG_ANNOTATE_AGREE_H
#define ENTSEG_ANNOTATE_AGREE_H

#include <stdint.h>
#include <stdio.h>

#include "entseg/error.h"

typedef struct es_agreement {
    char *a_path, *b_path;
    int have_ap;              /* 0 when built without the evaluator library */
    double ap, ap50, ap75;    /* fractions, -1 for an empty bucket */
    double ar100;
    uint64_t images;          /* A images found in B */
    uint64_t images_missing;  /* A images absent from B */
    uint64_t entities_a, entities_b, matched;
    double mean_iou;          /* over matched pairs */
    uint64_t labelled_pairs, correct;
    double label_accuracy;    /* correct / labelled_pairs; -1 when no pair is labelled */
} es_agreement;

int es_agreement_compute(const char *a_db, const char *b_db, int threads, es_agreement *out,
                         es_error *err);
void es_agreement_free(es_agreement *a);
void es_agreement_print(const es_agreement *a, FILE *f);
int es_agreement_write_json(const es_agreement *a, const char *path, es_error *err);

#endif
