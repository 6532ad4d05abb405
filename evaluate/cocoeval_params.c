/* evaluate/cocoeval_params.c: COCOeval's parameters and printed summary.
 *
 * The thresholds must equal numpy.linspace bit for bit (METRICS AP 1): thr[i] = i*step +
 * start with step = (stop - start) / (n - 1) and the last element set to stop; naive
 * formulas (start + i*0.05) differ by one ULP at several points and move matches. */
#include <stdio.h>
#include <string.h>

#include "cocoeval.h"

void es_coco_linspace(double start, double stop, size_t n, double *out) {
    if (n == 0) return;
    if (n == 1) {
        out[0] = start;
        return;
    }
    double step = (stop - start) / (double)(n - 1);
    for (size_t i = 0; i < n; i++) {
        double y = (double)i * step; /* numpy: y = arange(n) * step; y += start */
        out[i] = y + start;
    }
    out[n - 1] = stop;
}

void es_coco_params_default(es_coco_params *p) {
    memset(p, 0, sizeof *p);
    p->T = 10; /* int(np.round((0.95 - .5) / .05)) + 1 */
    es_coco_linspace(0.5, 0.95, p->T, p->iou_thrs);
    es_coco_linspace(0.0, 1.0, ES_COCO_R, p->rec_thrs);
    p->max_dets[0] = 1;
    p->max_dets[1] = 10;
    p->max_dets[2] = 100;
    /* areaRng = [0, 1e5**2], [0, 32**2], [32**2, 96**2], [96**2, 1e5**2] (METRICS AP 5) */
    p->area_lo[0] = 0, p->area_hi[0] = 1e10;
    p->area_lo[1] = 0, p->area_hi[1] = 1024;
    p->area_lo[2] = 1024, p->area_hi[2] = 9216;
    p->area_lo[3] = 9216, p->area_hi[3] = 1e10;
}

/* The line layout of pycocotools summarize():
 * ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}' */
void es_coco_summary_lines(const es_coco_params *p, const double stats[12], char *buf,
                           size_t cap) {
    static const char *const area_lbl[4] = {"all", "small", "medium", "large"};
    /* (ap, iou: -1 all / value, area index, max-dets index) per stat */
    static const struct { int ap; double iou; int area, m; } rows[12] = {
        {1, -1, 0, 2},  {1, .5, 0, 2}, {1, .75, 0, 2}, {1, -1, 1, 2},
        {1, -1, 2, 2},  {1, -1, 3, 2}, {0, -1, 0, 0},  {0, -1, 0, 1},
        {0, -1, 0, 2},  {0, -1, 1, 2}, {0, -1, 2, 2},  {0, -1, 3, 2}};
    size_t used = 0;
    if (cap) buf[0] = 0;
    for (int i = 0; i < 12; i++) {
        char iou[32];
        if (rows[i].iou < 0)
            snprintf(iou, sizeof iou, "%0.2f:%0.2f", p->iou_thrs[0], p->iou_thrs[p->T - 1]);
        else
            snprintf(iou, sizeof iou, "%0.2f", rows[i].iou);
        int n = snprintf(buf + used, used < cap ? cap - used : 0,
                         " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                         rows[i].ap ? "Average Precision" : "Average Recall",
                         rows[i].ap ? "(AP)" : "(AR)", iou, area_lbl[rows[i].area],
                         p->max_dets[rows[i].m], stats[i]);
        if (n > 0) used += (size_t)n;
        if (used >= cap) break;
    }
}
