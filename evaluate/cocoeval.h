/* evaluate/cocoeval.h: pycocotools COCOeval split into its three steps, on plain arrays.
 *
 *   es_coco_evaluate_img   one image x one category: greedy matching at every IoU threshold
 *                          and area range -> a compact match record (evaluateImg)
 *   es_coco_accumulate     records of all images of one category -> precision / recall
 *                          cells (accumulate)
 *   es_coco_summarize      cells of all categories -> the 12 stats (summarize)
 *
 * Records keep everything accumulate needs and nothing else, so shards can be merged exactly
 * (shard.c writes them). Used for AP^e, AP^m, class-aware AP, boundary AP and box AP: the
 * metrics differ only in which masks and which IoU they feed in.
 *
 * Ownership: a record owns its arrays (es_coco_rec_free); params are plain values.
 */
#ifndef ENTSEG_EVAL_COCOEVAL_H
#define ENTSEG_EVAL_COCOEVAL_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"

#define ES_COCO_MAX_T 64
#define ES_COCO_R 101
#define ES_COCO_A 4
#define ES_COCO_M 3

typedef struct es_coco_params {
    size_t T;                          /* IoU thresholds */
    double iou_thrs[ES_COCO_MAX_T];
    double rec_thrs[ES_COCO_R];        /* linspace(0, 1, 101) */
    int max_dets[ES_COCO_M];           /* ascending; max_dets[2] is the cut */
    double area_lo[ES_COCO_A], area_hi[ES_COCO_A]; /* all, small, medium, large */
} es_coco_params;

/* numpy.linspace(start, stop, n) bit for bit (METRICS AP 1). */
void es_coco_linspace(double start, double stop, size_t n, double *out);
/* pycocotools' default parameters (T = 10 thresholds .50:.05:.95, maxDets 1, 10, 100). */
void es_coco_params_default(es_coco_params *p);

/* Match codes of one detection at one (area range, threshold). */
#define ES_COCO_FP 0
#define ES_COCO_TP 1
#define ES_COCO_IGNORED 2

/* One image x one category. nd detections kept (score order, cut at max_dets[2]). */
typedef struct es_coco_rec {
    int64_t category;                  /* -1 class-agnostic */
    uint32_t nd, ng;                   /* ng: ground truths (crowd included) */
    uint32_t npig[ES_COCO_A];          /* non-ignored GT per area range */
    double *scores;                    /* (nd) descending, stable */
    uint8_t *codes;                    /* (A, T, nd) ES_COCO_* */
    /* per-image report (keep_per_image only): best IoU of each kept detection at the
       first threshold; NULL otherwise */
} es_coco_rec;

void es_coco_rec_free(es_coco_rec *r);

typedef struct es_coco_gt_in {
    double area;      /* for the area ranges */
    int crowd;
} es_coco_gt_in;

typedef struct es_coco_dt_in {
    double score;
    double area;      /* for the area ranges (pixel count) */
} es_coco_dt_in;

/* evaluateImg for one image and category. dt must already be in stable descending score
 * order and cut to max_dets[2]; gt in source order; ious is (nd, ng) row-major with
 * IoU(dt i, gt j) (crowd: intersection / dt area). The caller skips the call when
 * nd == ng == 0 (pycocotools' None). */
int es_coco_evaluate_img(const es_coco_params *p, const es_coco_gt_in *gt, size_t ng,
                         const es_coco_dt_in *dt, size_t nd, const double *ious,
                         int64_t category, es_coco_rec *out, es_error *err);

/* Precision cells of one category: precision (A, M, T, R), recall (A, M, T); -1 where no
 * non-ignored GT exists (as pycocotools). recs[i] is image i's record (images in ascending
 * source id order), NULL where pycocotools has None. */
int es_coco_accumulate(const es_coco_params *p, const es_coco_rec *const *recs, size_t n,
                       double *precision, double *recall, es_error *err);

/* numpy's pairwise summation of a contiguous double array (METRICS AP 7). */
double es_np_pairwise_sum(const double *a, size_t n);

/* The 12 stats from K categories' cells (precision (K, A, M, T, R), recall (K, A, M, T)),
 * averaged as numpy does over the [T, R, K] / [T, K] order. */
void es_coco_summarize(const es_coco_params *p, size_t K, const double *precision,
                       const double *recall, double stats[12]);

/* Per-category AP: mean of precision cells > -1 at area all, largest max-dets. */
double es_coco_class_ap(const es_coco_params *p, const double *precision_k);

/* pycocotools summarize() lines for stats (12 lines, newline-terminated) into buf. */
void es_coco_summary_lines(const es_coco_params *p, const double stats[12], char *buf,
                           size_t cap);

#endif
