/* nms.c: class-agnostic greedy non-maximum suppression (torchvision.ops.nms semantics:
 * areas without +1, suppress when IoU > threshold). O(n^2) over the sorted boxes. */
#include <math.h>

#include "nn_internal.h"

typedef struct scored {
    float s;
    int i;
} scored;

static int scored_cmp(const void *pa, const void *pb) {
    const scored *a = pa, *b = pb;
    if (a->s != b->s) return a->s > b->s ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

int nn_nms(const float *boxes, const float *scores, int n, float iou_threshold, int *keep,
           int *n_keep, es_error *err) {
    *n_keep = 0;
    if (n < 0 || (n > 0 && (!boxes || !scores || !keep)))
        return es_error_set(err, ES_ERR_INVALID, "nms: bad arguments (n = %d)", n);
    if (n == 0) return ES_OK;
    scored *order = malloc((size_t)n * sizeof *order);
    char *dead = calloc((size_t)n, 1);
    if (!order || !dead) {
        free(order);
        free(dead);
        return es_error_set(err, ES_ERR_NOMEM, "nms: out of memory");
    }
    for (int i = 0; i < n; i++) {
        if (isnan(scores[i])) {
            free(order);
            free(dead);
            return es_error_set(err, ES_ERR_INVALID, "nms: score %d is NaN", i);
        }
        order[i] = (scored){scores[i], i};
    }
    qsort(order, (size_t)n, sizeof *order, scored_cmp);
    int k = 0;
    for (int a = 0; a < n; a++) {
        if (dead[a]) continue;
        int i = order[a].i;
        keep[k++] = i;
        const float *bi = boxes + (int64_t)i * 4;
        float area_i = (bi[2] - bi[0]) * (bi[3] - bi[1]);
        for (int b = a + 1; b < n; b++) {
            if (dead[b]) continue;
            const float *bj = boxes + (int64_t)order[b].i * 4;
            float w = fminf(bi[2], bj[2]) - fmaxf(bi[0], bj[0]);
            float h = fminf(bi[3], bj[3]) - fmaxf(bi[1], bj[1]);
            if (w <= 0 || h <= 0) continue;
            float inter = w * h;
            float area_j = (bj[2] - bj[0]) * (bj[3] - bj[1]);
            float iou = inter / (area_i + area_j - inter);
            if (iou > iou_threshold) dead[b] = 1;
        }
    }
    *n_keep = k;
    free(order);
    free(dead);
    return ES_OK;
}
