/* match.c: greedy one-to-one IoU matching (see match.h). */
#include <stdlib.h>

#include "match.h"

typedef struct pair {
    double iou;
    size_t i, j;
} pair;

static int cmp_pair(const void *pa, const void *pb) {
    const pair *p = pa, *q = pb;
    if (p->iou != q->iou) return p->iou > q->iou ? -1 : 1;
    if (p->i != q->i) return p->i < q->i ? -1 : 1;
    return (p->j > q->j) - (p->j < q->j);
}

int es_match_greedy(const es_rle *a, size_t na, const es_rle *b, size_t nb, double threshold,
                    int64_t *a_match, int64_t *b_match, double *iou_of_a, es_error *err) {
    for (size_t i = 0; i < na; i++) {
        a_match[i] = -1;
        if (iou_of_a) iou_of_a[i] = 0;
    }
    for (size_t j = 0; j < nb; j++) b_match[j] = -1;
    size_t cap = 16, n = 0;
    pair *pairs = malloc(cap * sizeof *pairs);
    if (!pairs) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i].h != b[j].h || a[i].w != b[j].w) {
                free(pairs);
                return es_error_set(err, ES_ERR_INVALID, "masks of %ux%u and %ux%u cannot be matched", a[i].w,
                                    a[i].h, b[j].w, b[j].h);
            }
            double iou = es_rle_iou(&b[j], &a[i], 0);
            if (!(iou >= threshold) || iou <= 0) continue;
            if (n == cap) {
                pair *p = realloc(pairs, (cap *= 2) * sizeof *p);
                if (!p) {
                    free(pairs);
                    return es_error_set(err, ES_ERR_NOMEM, "out of memory");
                }
                pairs = p;
            }
            pairs[n++] = (pair){iou, i, j};
        }
    qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (size_t k = 0; k < n; k++) {
        if (a_match[pairs[k].i] >= 0 || b_match[pairs[k].j] >= 0) continue;
        a_match[pairs[k].i] = (int64_t)pairs[k].j;
        b_match[pairs[k].j] = (int64_t)pairs[k].i;
        if (iou_of_a) iou_of_a[pairs[k].i] = pairs[k].iou;
    }
    free(pairs);
    return ES_OK;
}
