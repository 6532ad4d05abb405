/* evaluate/eval.h: the evaluator as a library call (libentseg_eval): AP^e, AP^m,
 * class-aware AP, boundary AP, box AP, PQ/SQ/RQ and boundary PQ of a prediction store
 * against a ground-truth store, with the numbers pycocotools, panopticapi and
 * boundary-iou-api give on the same inputs (docs/metrics.md, ../shared/METRICS.md).
 *
 * Used by the entseg-eval CLI, annotate's agreement (two annotations, one scored as
 * predictions: set pred_may_be_gt) and the trainer's validation (es_eval_run_images on
 * masks held in memory).
 *
 * Options are zero-initialisable: zero means the documented default.
 *
 * Ownership: es_eval_run / es_eval_run_images fill a caller-provided es_eval_result whose
 * previous contents are NOT freed (start from ES_EVAL_RESULT_EMPTY); release it with
 * es_eval_result_free (accepts NULL or an empty result). Strings returned through char **
 * are malloc'ed and freed by the caller. Inputs are never modified.
 *
 * Errors: ES_ERR_INVALID for bad options, wrong store kinds (gt.db given as predictions or
 * the reverse), prediction images missing from the ground truth, image sizes that differ,
 * NaN scores, overlapping predictions under ES_OVERLAP_ERROR (naming image and entities), PQ
 * requested on a ground truth of overlapping instances; ES_ERR_IO / ES_ERR_FORMAT /
 * ES_ERR_SCHEMA from reading the stores. The message is one line naming file and item.
 */
#ifndef ENTSEG_EVAL_H
#define ENTSEG_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "eval_image.h"

/* Metrics, as bits of es_eval_options.metrics. */
#define ES_METRIC_AP_E                (1u << 0)  /* class-agnostic mask AP, non-overlapping preds */
#define ES_METRIC_AP_M                (1u << 1)  /* class-agnostic mask AP, preds as given */
#define ES_METRIC_PQ                  (1u << 2)  /* class-agnostic PQ */
#define ES_METRIC_PQ_CLASSES          (1u << 3)  /* class-aware PQ (All / Things / Stuff / per class) */
#define ES_METRIC_AP_CLASSES          (1u << 4)  /* class-aware mask AP (useCats=1), preds as given */
#define ES_METRIC_BOUNDARY_AP         (1u << 5)  /* class-agnostic boundary AP, preds as ap_e */
#define ES_METRIC_BOUNDARY_PQ         (1u << 6)  /* class-agnostic boundary PQ */
#define ES_METRIC_BOUNDARY_PQ_CLASSES (1u << 7)
#define ES_METRIC_BOUNDARY_AP_CLASSES (1u << 8)  /* class-aware boundary AP, preds as given */
#define ES_METRIC_AP_BOX              (1u << 9)  /* class-agnostic box AP, preds as ap_e */
#define ES_METRIC_ALL                 ((1u << 10) - 1)
/* The default set (metrics == 0): everything but ap_box. Class-aware metrics run only when
 * both stores carry categories; PQ metrics are skipped with a note when the ground truth
 * has overlapping instances. An explicitly requested metric that cannot run is an error. */
#define ES_METRIC_DEFAULT             (ES_METRIC_ALL & ~ES_METRIC_AP_BOX)
/* With this bit, the ES_METRIC_DEFAULT bits in metrics are "run where possible" (skipped
 * with a note, not an error, when they cannot run): what --metrics default,... gives. */
#define ES_METRIC_DEFAULT_SOFT        (1u << 31)

/* Parses "ap_e,pq,boundary_ap" (the JSON key names; "all", "default") into bits;
 * "default" adds ES_METRIC_DEFAULT | ES_METRIC_DEFAULT_SOFT. */
int es_eval_parse_metrics(const char *list, unsigned *bits, es_error *err);
/* The JSON key of one metric bit ("ap_e", ...), NULL for an unknown bit. */
const char *es_eval_metric_name(unsigned bit);

typedef enum es_overlap_policy {
    ES_OVERLAP_RESOLVE = 0, /* paint in score order, highest wins each pixel, ties to the
                               earlier prediction; masks left empty are dropped */
    ES_OVERLAP_ERROR = 1,   /* overlapping predictions are an error */
    ES_OVERLAP_ALLOW = 2    /* predictions as given (ap_e == ap_m) */
} es_overlap_policy;

typedef enum es_area_source {
    ES_AREA_DECLARED = 0,   /* ground truth: the source's declared area where it gave one */
    ES_AREA_PIXELS = 1      /* ground truth: pixel count */
} es_area_source;

#define ES_EVAL_MAX_IOU_THRS 64
#define ES_EVAL_MAX_MAX_DETS 3

typedef struct es_eval_options {
    unsigned metrics;            /* ES_METRIC_* bits; 0 = ES_METRIC_DEFAULT */
    es_overlap_policy overlap;
    es_area_source area_source;
    int compat_entity;           /* --compat entity: crowd dropped, GT area = inclusive-bbox
                                    (x2-x1)*(y2-y1), GT order things first then stuff */
    double dilation_ratio;       /* boundary width ratio; 0 = 0.02 */
    int use_pq_min_score;        /* 1: PQ sees only predictions scoring >= pq_min_score
                                    (applied before painting) */
    double pq_min_score;
    int crowd_union;             /* PQ: every crowd region of a category excuses FPs (default:
                                    panopticapi's last-crowd-only rule) */
    size_t n_iou_thrs;           /* 0 = 0.50:0.05:0.95 as numpy linspace */
    double iou_thrs[ES_EVAL_MAX_IOU_THRS];
    size_t n_max_dets;           /* 0 = 1,10,100; else exactly 3, ascending; the summary's
                                    AP and AR100 use the largest */
    int max_dets[ES_EVAL_MAX_MAX_DETS];
    const int64_t *image_ids;    /* (n_image_ids) restrict to these source image ids (the
                                    store id when an image has none), as pycocotools imgIds;
                                    NULL = all ground-truth images */
    size_t n_image_ids;
    int shard_index, shard_count;/* shard_count > 1: evaluate every shard_count-th image
                                    starting at shard_index (in source-id order) */
    int pred_may_be_gt;          /* accept a ground-truth store as predictions (score 1.0) */
    int keep_per_image;          /* keep per-image counts for es_eval_per_image_json */
    int keep_curves;             /* keep precision/recall curves (HTML report) */
    int threads;                 /* <= 0: all cores */
    int quiet;                   /* no progress bar */
} es_eval_options;

#define ES_AP_NSTATS 12
/* "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" */
extern const char *const es_ap_stat_names[ES_AP_NSTATS];

/* One COCOeval-style block: the 12 summary stats (fractions, -1 for an empty bucket). */
typedef struct es_eval_ap {
    int computed;                /* 0: not requested or not applicable */
    double stats[ES_AP_NSTATS];
    size_t n_classes;            /* class-aware blocks: per-category AP (IoU .50:.95, area
                                    all, largest max-dets; -1 when the class has no GT) */
    int64_t *class_ids;          /* (n_classes) ascending */
    double *class_ap;            /* (n_classes) */
} es_eval_ap;

/* Class-agnostic PQ numbers. */
typedef struct es_eval_pq {
    int computed;
    double pq, sq, rq, iou_sum;
    int64_t tp, fp, fn;
} es_eval_pq;

typedef struct es_eval_detail es_eval_detail; /* internals: per-image records, curves, the
                                                 PQ family's full tables (for JSON/reports) */

typedef struct es_eval_result {
    es_eval_ap ap_e, ap_m, ap_classes, boundary_ap, boundary_ap_classes, ap_box;
    es_eval_pq pq, boundary_pq;
    unsigned metrics_computed;   /* ES_METRIC_* bits actually computed */
    es_overlap_policy overlap;   /* policy applied */
    int64_t overlap_predictions_changed; /* predictions that lost pixels (dropped included) */
    int64_t overlap_predictions_dropped; /* predictions left empty and dropped */
    uint64_t overlap_pixels_changed;     /* pixels taken away from lower-scored predictions */
    int64_t n_images;            /* ground-truth images evaluated */
    int64_t n_images_without_predictions;
    int64_t n_gt, n_pred;        /* entities seen (crowd included) / predictions as given */
    char *notes;                 /* newline-separated notes and warnings, or NULL */
    es_eval_detail *detail;
} es_eval_result;

#define ES_EVAL_RESULT_EMPTY ((es_eval_result){0})

/* Evaluates pred_db against gt_db. */
int es_eval_run(const char *pred_db, const char *gt_db, const es_eval_options *opts,
                es_eval_result *result, es_error *err);

/* Evaluates images already in memory. Each image needs gt and dt_raw (dt/n_dt are ignored:
 * the overlap policy makes them); categories are taken from the entities (class-aware
 * metrics run when every entity has category_id >= 0, isthing as given). */
int es_eval_run_images(const es_eval_image *images, size_t n, const es_eval_options *opts,
                       es_eval_result *result, es_error *err);

/* The result as JSON (the keys of docs/metrics.md). *json is malloc'ed. */
int es_eval_result_to_json(const es_eval_result *r, char **json, es_error *err);

/* The table entseg-eval prints; with coco_summary also the 12 pycocotools summarize() lines
 * of every AP block. *text is malloc'ed. */
int es_eval_result_to_text(const es_eval_result *r, int coco_summary, char **text, es_error *err);

/* Per-image counts and IoUs (needs keep_per_image), as JSON lines. */
int es_eval_per_image_json(const es_eval_result *r, char **json, es_error *err);

/* A self-contained HTML page: tables and precision/recall curves as SVG (needs keep_curves). */
int es_eval_report_html(const es_eval_result *r, const char *path, es_error *err);

/* Sharding: writes the partial result of a --shard run (per-image match records, not
 * summaries); es_eval_merge combines partial files into exactly the numbers of one run. */
int es_eval_write_partial(const es_eval_result *r, const char *path, es_error *err);
int es_eval_merge(const char *const *paths, size_t n, es_eval_result *result, es_error *err);

void es_eval_result_free(es_eval_result *r);

#endif
