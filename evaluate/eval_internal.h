/* evaluate/eval_internal.h: what the driver, the COCOeval family, the reports and the
 * shard files share inside libentseg_eval (not public: eval.h is the contract).
 *
 * Flow: eval.c loads images (es_eval_image) on the pool; for each image the metric
 * families turn it into small per-image records (es_eval_img_rec) and free the masks;
 * es_eval_finish accumulates the records of all images (in ascending source id) into the
 * public es_eval_result. shard.c writes / reads the records, so a merge calls the same
 * es_eval_finish and gives exactly the single-run numbers.
 *
 * Ownership: es_eval_detail owns its records (es_eval_detail_free).
 */
#ifndef ENTSEG_EVAL_INTERNAL_H
#define ENTSEG_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "boundary.h"
#include "cocoeval.h"
#include "eval.h"
#include "eval_image.h"
#include "pq.h"

/* The class-agnostic COCOeval metrics (one record per image). */
enum { ES_CE_AP_E, ES_CE_AP_M, ES_CE_BOUNDARY_AP, ES_CE_AP_BOX, ES_CE_N };
/* The class-aware COCOeval metrics (one record per image and category present). */
enum { ES_CC_AP_CLASSES, ES_CC_BOUNDARY_AP_CLASSES, ES_CC_N };

typedef struct es_eval_cfg {
    unsigned metrics;          /* what to compute (resolved) */
    es_coco_params coco;
    double dilation_ratio;
    int class_aware;           /* both sides carry categories */
    int keep_per_image;
    int threads;               /* <= 0: all cores (accumulation of categories) */
} es_eval_cfg;

typedef struct es_eval_img_rec {
    int64_t image_id, source_id;
    char *name;
    uint32_t height, width;
    uint32_t n_gt, n_dt_raw, n_dt;
    int64_t overlap_changed, overlap_dropped;
    uint64_t overlap_pixels;
    uint8_t has[ES_CE_N];          /* 0 where pycocotools has None (no GT and no DT) */
    es_coco_rec coco[ES_CE_N];
    size_t n_cls[ES_CC_N];
    es_coco_rec *cls[ES_CC_N];     /* (n_cls) ascending category */
    uint32_t n_best;
    double *best_iou;              /* keep_per_image: (n_dt) best mask IoU per prediction */
} es_eval_img_rec;

void es_eval_img_rec_clear(es_eval_img_rec *r);

/* Tight inclusive pixel box of a mask; x0 > x1 when the mask is empty. */
typedef struct es_mask_box {
    uint32_t x0, y0, x1, y1;
} es_mask_box;
es_mask_box es_eval_mask_box(const es_rle *r);

/* A mask with the start position of every run, so intersections can start at the first
 * column two masks share instead of pixel 0 (binary search) and stop after the last. */
typedef struct es_mask_runs {
    const es_rle *r;
    uint64_t *start;   /* (m + 1) column-major start of run i; start[m] = h*w */
    es_mask_box box;
    uint64_t pixels;
} es_mask_runs;
int es_mask_runs_init(es_mask_runs *mr, const es_rle *r);

/* Column of column-major position pos in an image of h rows (h > 0) during a walk over
 * ascending positions: (*x, *colstart) hold the column of the previous position and its
 * first position. Divides only for jumps of several columns (a division per run was a
 * visible share of the whole evaluation). */
static inline uint32_t es_walk_col(uint64_t pos, uint64_t h, uint32_t *x, uint64_t *colstart) {
    uint64_t dlt = pos - *colstart;
    if (dlt >= h) {
        if (dlt < 4 * h) {
            do {
                *colstart += h;
                (*x)++;
                dlt -= h;
            } while (dlt >= h);
        } else {
            uint64_t q = dlt / h;
            *x += (uint32_t)q;
            *colstart += q * h;
        }
    }
    return *x;
}
void es_mask_runs_free(es_mask_runs *mr);
/* |a ∩ b| (0 when the boxes do not meet); both of one image size. */
uint64_t es_mask_runs_intersection(const es_mask_runs *a, const es_mask_runs *b);

/* The COCOeval family on one image: fills rec->has / coco / cls (and best_iou), sharing
 * work with PQ: bands (may be NULL) is the image's band cache made for
 * (img->n_gt, img->n_dt) and the run's dilation ratio, into which the GT and painted
 * predictions' bands go (boundary PQ then reuses them); px (may be NULL) receives the painted
 * predictions' intersection counts when the painted set was evaluated and the counts are
 * exact for PQ (see es_pq_eval_image_pixels), else stays empty. Caller frees px. */
int es_eval_coco_image(const es_eval_cfg *cfg, const es_eval_image *img,
                       es_eval_img_rec *rec, es_band_cache *bands, es_pq_pixels *px,
                       es_error *err);

/* order (n) = indices of dt in stable descending score order (pycocotools' mergesort on
 * -score; also the painting order). ES_ERR_NOMEM when the scratch cannot be allocated. */
int es_eval_order_by_score(const es_eval_dt *dt, size_t n, uint32_t *order);

/* Painting (overlap policy) of img->dt_raw into *dt / *n_dt (caller frees each mask and the
 * array); counts what changed. ES_OVERLAP_ERROR: ES_ERR_INVALID naming the image and the
 * two entities of the first overlap. */
int es_overlap_apply(const es_eval_image *img, es_overlap_policy policy, es_eval_dt **dt,
                     size_t *n_dt, int64_t *changed, int64_t *dropped, uint64_t *pixels,
                     es_error *err);

struct es_eval_detail {
    es_eval_cfg cfg;
    es_overlap_policy overlap;
    size_t n;
    es_eval_img_rec *imgs;         /* (n) ascending (source_id, image_id) */
    size_t n_classes;
    int64_t *class_ids;            /* (n_classes) ascending: categories of the ground truth */
    int *class_isthing;            /* (n_classes) */
    /* precision curves for the report: agnostic metrics, IoU .50 / .75 / mean, area all,
       largest max-dets: (ES_CE_N, 3, R), -1 when absent */
    double curves[ES_CE_N][3][ES_COCO_R];
    char *notes;                   /* accumulated notes (copied into the result) */
    size_t notes_len;
    int pq_gt_overlapping;         /* GT store has overlapping instances: no PQ */
    es_pq_eval *pq;                /* per-image PQ records (slot = image index), or NULL */
    es_pq_options pq_opts;
    es_pq_category *pq_cats;       /* (n_pq_cats) owned; pq_opts.categories points here */
    size_t n_pq_cats;
    es_pq_results pq_res;          /* filled by es_eval_finish */
    int pq_res_valid;
    int64_t n_images_without_predictions;
    int64_t n_gt, n_pred;
};

void es_eval_detail_free(es_eval_detail *d);
void es_eval_detail_note(es_eval_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A JSON number that reads back bit-equal (cJSON's own printing may drop the last bit):
 * the shortest of %.15g / %.16g / %.17g that round-trips; null for NaN / inf. */
struct cJSON;
struct cJSON *es_json_number(double v);

/* The AP blocks of a result in report order, each under its report / JSON key; every
 * report lists those whose ap->computed is set, and es_eval_result_free frees their
 * per-class arrays (eval_finish.c). */
enum { ES_EVAL_N_AP_BLOCKS = 6 };
typedef struct es_eval_ap_block {
    const char *key;
    const es_eval_ap *ap;
} es_eval_ap_block;
void es_eval_ap_blocks(const es_eval_result *r, es_eval_ap_block out[ES_EVAL_N_AP_BLOCKS]);

/* Accumulates every requested metric from d's records into r (d is kept in r->detail);
 * first totals d->n_gt / n_pred / n_images_without_predictions and notes the latter. */
int es_eval_finish(es_eval_detail *d, es_eval_result *r, es_error *err);

#endif
