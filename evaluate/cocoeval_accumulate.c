/* evaluate/cocoeval_accumulate.c: pycocotools accumulate() and summarize().
 *
 * accumulate concatenates the images in ascending source id, each image's kept detections
 * in score order, and sorts all of them stably by descending score (METRICS AP 2): that is
 * the order (score desc, image position, rank in image), which one qsort reproduces.
 * Detections whose code is "ignored" do not change the cumulative tp / fp counts, and the
 * precision they would add repeats their predecessor's, so they are skipped: the first
 * index with recall >= a threshold and the right-to-left precision envelope are unchanged.
 * precision = tp / (tp + fp + DBL_EPSILON), recall = tp / npig (METRICS AP 6).
 * Only true positives enter the curve: a false positive repeats its predecessor's recall
 * (so searchsorted never stops on it first, except at index 0 for a threshold <= 0) and
 * has a lower precision than the true positive before it (so the right-to-left maximum at
 * any true positive, and at index 0, is the same over the true positives alone); this
 * skips two divisions per false positive and gives the same cells bit for bit.
 * Averages use numpy's pairwise summation order (METRICS AP 7). */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "cocoeval.h"

typedef struct det_ref {
    double score;
    uint32_t img, rank;
} det_ref;

static int det_ref_cmp(const void *pa, const void *pb) {
    const det_ref *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->img != b->img) return a->img < b->img ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

int es_coco_accumulate(const es_coco_params *p, const es_coco_rec *const *recs, size_t n,
                       double *precision, double *recall, es_error *err) {
    const size_t T = p->T, R = ES_COCO_R, A = ES_COCO_A, M = ES_COCO_M;
    for (size_t i = 0; i < A * M * T * R; i++) precision[i] = -1;
    for (size_t i = 0; i < A * M * T; i++) recall[i] = -1;

    size_t total = 0, present = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i]) {
            present++;
            total += recs[i]->nd < (uint32_t)p->max_dets[M - 1] ? recs[i]->nd
                                                                : (size_t)p->max_dets[M - 1];
        }
    if (!present) return ES_OK;

    det_ref *dets = malloc((total ? total : 1) * sizeof *dets);
    double *rc = malloc((total ? total : 1) * sizeof *rc);
    double *pr = malloc((total ? total : 1) * sizeof *pr);
    uint8_t *col = malloc(total ? total : 1);
    if (!dets || !rc || !pr || !col) {
        free(dets), free(rc), free(pr), free(col);
        return es_error_set(err, ES_ERR_NOMEM, "accumulate: out of memory (%zu detections)", total);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i]) continue;
        for (uint32_t d = 0; d < recs[i]->nd && d < (uint32_t)p->max_dets[M - 1]; d++)
            dets[k++] = (det_ref){recs[i]->scores[d], (uint32_t)i, d};
    }
    qsort(dets, total, sizeof *dets, det_ref_cmp);

    for (size_t a = 0; a < A; a++) {
        uint64_t npig = 0;
        for (size_t i = 0; i < n; i++)
            if (recs[i]) npig += recs[i]->npig[a];
        if (npig == 0) continue;
        for (size_t t = 0; t < T; t++) {
            /* this (area, threshold)'s codes in sorted order, gathered once for all max-dets */
            for (size_t j = 0; j < total; j++) {
                const es_coco_rec *r = recs[dets[j].img];
                col[j] = r->codes[(a * T + t) * r->nd + dets[j].rank];
            }
            for (size_t m = 0; m < M; m++) {
                const uint32_t max_det = (uint32_t)p->max_dets[m];
                double tp = 0, fp = 0;
                size_t nk = 0;
                for (size_t j = 0; j < total; j++) {
                    uint8_t c = col[j];
                    if (c == ES_COCO_IGNORED || dets[j].rank >= max_det) continue;
                    if (c != ES_COCO_TP) {
                        fp += 1;
                        continue;
                    }
                    tp += 1;
                    rc[nk] = tp / (double)npig;
                    pr[nk] = tp / (fp + tp + DBL_EPSILON);
                    nk++;
                }
                recall[(a * M + m) * T + t] = tp / (double)npig;
                for (size_t i = nk; i-- > 1;)
                    if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
                double *q = precision + ((a * M + m) * T + t) * R;
                size_t i = 0; /* searchsorted(rc, recThrs, side='left') */
                for (size_t ri = 0; ri < R; ri++) {
                    while (i < nk && rc[i] < p->rec_thrs[ri]) i++;
                    q[ri] = i < nk ? pr[i] : 0.0;
                }
            }
        }
    }
    free(dets), free(rc), free(pr), free(col);
    return ES_OK;
}

/* numpy pairwise_sum (umath/loops_utils.h): n < 8 a plain fold; up to 128 eight
 * accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the tail; above that
 * split at n/2 rounded down to a multiple of 8. */
double es_np_pairwise_sum(const double *a, size_t n) {
    if (n < 8) {
        double res = 0.;
        for (size_t i = 0; i < n; i++) res += a[i];
        return res;
    } else if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    } else {
        size_t n2 = n / 2;
        n2 -= n2 % 8;
        return es_np_pairwise_sum(a, n2) + es_np_pairwise_sum(a + n2, n - n2);
    }
}

/* np.mean(s[s > -1]) or -1 when no cell is valid. */
static double mean_valid(const double *vals, size_t n) {
    if (n == 0) return -1;
    return es_np_pairwise_sum(vals, n) / (double)n;
}

/* One stat: ap (precision) or ar (recall), IoU threshold (-1 all), area and max-dets index. */
static double summarize_one(const es_coco_params *p, size_t K, const double *precision,
                            const double *recall, int ap, double iou, size_t a, size_t m,
                            double *buf) {
    const size_t T = p->T, R = ES_COCO_R, A = ES_COCO_A, M = ES_COCO_M;
    size_t nv = 0;
    for (size_t t = 0; t < T; t++) {
        if (iou >= 0 && !(p->iou_thrs[t] == iou)) continue; /* np.where(iouThr == iouThrs) */
        if (ap) {
            for (size_t r = 0; r < R; r++)
                for (size_t k = 0; k < K; k++) {
                    double v = precision[(((k * A + a) * M + m) * T + t) * R + r];
                    if (v > -1) buf[nv++] = v;
                }
        } else {
            for (size_t k = 0; k < K; k++) {
                double v = recall[((k * A + a) * M + m) * T + t];
                if (v > -1) buf[nv++] = v;
            }
        }
    }
    return mean_valid(buf, nv);
}

void es_coco_summarize(const es_coco_params *p, size_t K, const double *precision,
                       const double *recall, double stats[12]) {
    double *buf = malloc((p->T * ES_COCO_R * (K ? K : 1)) * sizeof *buf);
    if (!buf) {
        for (int i = 0; i < 12; i++) stats[i] = -1;
        return;
    }
    stats[0] = summarize_one(p, K, precision, recall, 1, -1, 0, 2, buf);
    stats[1] = summarize_one(p, K, precision, recall, 1, .5, 0, 2, buf);
    stats[2] = summarize_one(p, K, precision, recall, 1, .75, 0, 2, buf);
    stats[3] = summarize_one(p, K, precision, recall, 1, -1, 1, 2, buf);
    stats[4] = summarize_one(p, K, precision, recall, 1, -1, 2, 2, buf);
    stats[5] = summarize_one(p, K, precision, recall, 1, -1, 3, 2, buf);
    stats[6] = summarize_one(p, K, precision, recall, 0, -1, 0, 0, buf);
    stats[7] = summarize_one(p, K, precision, recall, 0, -1, 0, 1, buf);
    stats[8] = summarize_one(p, K, precision, recall, 0, -1, 0, 2, buf);
    stats[9] = summarize_one(p, K, precision, recall, 0, -1, 1, 2, buf);
    stats[10] = summarize_one(p, K, precision, recall, 0, -1, 2, 2, buf);
    stats[11] = summarize_one(p, K, precision, recall, 0, -1, 3, 2, buf);
    free(buf);
}

double es_coco_class_ap(const es_coco_params *p, const double *precision_k) {
    const size_t T = p->T, R = ES_COCO_R, M = ES_COCO_M;
    double *buf = malloc(T * R * sizeof *buf);
    if (!buf) return -1;
    size_t nv = 0;
    for (size_t t = 0; t < T; t++)
        for (size_t r = 0; r < R; r++) {
            double v = precision_k[((0 * M + (M - 1)) * T + t) * R + r];
            if (v > -1) buf[nv++] = v;
        }
    double ap = mean_valid(buf, nv);
    free(buf);
    return ap;
}
