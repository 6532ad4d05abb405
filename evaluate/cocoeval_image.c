/* evaluate/cocoeval_image.c: pycocotools evaluateImg for one image and one category.
 *
 * Workload: called once per (image, category, metric) from the per-image pool, so it only
 * touches the small IoU matrix of that image; the result is a compact record (codes per
 * area range, threshold and detection) that accumulate needs, and shards can carry.
 *
 * METRICS AP 3: per threshold t, detections in score order take the best remaining GT:
 * start at min(t, 1 - 1e-10); a GT already matched is skipped unless crowd; once a
 * non-ignored GT is the best so far, stop at the first ignored GT (GTs are sorted
 * non-ignored first, stably); a later GT with an equal IoU wins (>=). A matched detection
 * inherits the GT's ignore flag; an unmatched one outside the area range is ignored.
 * GT annotation id 0 matches normally (pycocotools' id-0 bug is not reproduced). */
#include <stdlib.h>
#include <string.h>

#include "cocoeval.h"

void es_coco_rec_free(es_coco_rec *r) {
    if (!r) return;
    free(r->scores);
    free(r->codes);
    r->scores = NULL;
    r->codes = NULL;
    r->nd = 0;
}

static int out_of_range(double area, double lo, double hi) { return area < lo || area > hi; }

int es_coco_evaluate_img(const es_coco_params *p, const es_coco_gt_in *gt, size_t ng,
                         const es_coco_dt_in *dt, size_t nd, const double *ious,
                         int64_t category, es_coco_rec *out, es_error *err) {
    const size_t T = p->T, A = ES_COCO_A;
    memset(out, 0, sizeof *out);
    out->category = category;
    out->nd = (uint32_t)nd;
    out->ng = (uint32_t)ng;
    if (nd) {
        out->scores = malloc(nd * sizeof *out->scores);
        out->codes = malloc(A * T * nd);
    }
    /* scratch: gt order (ng), gt ignore in that order (ng), gt taken (ng) */
    /* scratch in one block: order (ng), cand_off (nd+1), cand (nd*ng) as uint32, then
       gt_ig (ng) and taken (ng) as bytes */
    const size_t n32 = ng + (nd + 1) + nd * ng;
    uint32_t *scratch = malloc(n32 * sizeof(uint32_t) + 2 * ng + 2);
    uint32_t *order = scratch, *cand_off = scratch + ng, *cand = scratch + ng + nd + 1;
    uint8_t *gt_ig = scratch ? (uint8_t *)(scratch + n32) : NULL;
    uint8_t *taken = gt_ig ? gt_ig + ng + 1 : NULL;
    if ((nd && (!out->scores || !out->codes)) || !scratch) {
        free(scratch);
        es_coco_rec_free(out);
        return es_error_set(err, ES_ERR_NOMEM, "evaluateImg: out of memory (%zu x %zu)", nd, ng);
    }
    for (size_t d = 0; d < nd; d++) out->scores[d] = dt[d].score;

    for (size_t a = 0; a < A; a++) {
        const double lo = p->area_lo[a], hi = p->area_hi[a];
        /* stable sort by ignore flag: non-ignored first, each group in source order */
        size_t k = 0, npig = 0;
        for (size_t j = 0; j < ng; j++)
            if (!(gt[j].crowd || out_of_range(gt[j].area, lo, hi))) order[k++] = (uint32_t)j;
        npig = k;
        for (size_t j = 0; j < ng; j++)
            if (gt[j].crowd || out_of_range(gt[j].area, lo, hi)) order[k++] = (uint32_t)j;
        for (size_t g = 0; g < ng; g++) gt_ig[g] = g >= npig;
        out->npig[a] = (uint32_t)npig;

        /* Candidates of each detection: the GTs (in sorted order) with IoU > 0. With every
           threshold above 0 a GT with IoU 0 can never be taken (iou < start), and skipping
           it cannot change where the ignored-GT break happens (it only ends a scan over
           GTs that are all skipped), so the scan over candidates is the same scan. */
        const int sparse = p->iou_thrs[0] > 0;
        size_t nc = 0;
        if (sparse) {
            for (size_t d = 0; d < nd; d++) {
                cand_off[d] = (uint32_t)nc;
                const double *row = ious + d * ng;
                for (size_t g = 0; g < ng; g++)
                    if (row[order[g]] > 0) cand[nc++] = (uint32_t)g;
            }
            cand_off[nd] = (uint32_t)nc;
        }
        for (size_t t = 0; t < T; t++) {
            uint8_t *codes = out->codes + (a * T + t) * nd;
            const double start = p->iou_thrs[t] < 1 - 1e-10 ? p->iou_thrs[t] : 1 - 1e-10;
            memset(taken, 0, ng ? ng : 1);
            for (size_t d = 0; d < nd; d++) {
                const double *row = ious + d * ng;
                double best = start;
                long m = -1;
                const size_t c0 = sparse ? cand_off[d] : 0, c1 = sparse ? cand_off[d + 1] : ng;
                for (size_t c = c0; c < c1; c++) {
                    const size_t g = sparse ? cand[c] : c;
                    const size_t j = order[g];
                    if (taken[g] && !gt[j].crowd) continue;
                    if (m > -1 && !gt_ig[m] && gt_ig[g]) break;
                    if (row[j] < best) continue;
                    best = row[j];
                    m = (long)g;
                }
                if (m == -1) {
                    codes[d] = out_of_range(dt[d].area, lo, hi) ? ES_COCO_IGNORED : ES_COCO_FP;
                } else {
                    taken[m] = 1;
                    codes[d] = gt_ig[m] ? ES_COCO_IGNORED : ES_COCO_TP;
                }
            }
        }
    }
    free(scratch);
    return ES_OK;
}
