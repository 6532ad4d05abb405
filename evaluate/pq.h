/* evaluate/pq.h: panoptic quality (PQ, SQ, RQ) and boundary PQ, class-agnostic and
 * class-aware, as panopticapi pq_compute and boundary-iou-api's panoptic evaluation give them
 * (METRICS "PQ, SQ, RQ" and "Boundary IoU, boundary AP, boundary PQ").
 *
 * Four variants are computed in one pass over an image (masks and bands shared):
 *   ES_PQ_MASK_AGNOSTIC      every entity is category 1, isthing 1        -> JSON "pq"
 *   ES_PQ_MASK_CLASSES       the stores' categories                        -> "pq_classes"
 *   ES_PQ_BOUNDARY_AGNOSTIC  IoU = min(mask IoU, boundary IoU), agnostic   -> "boundary_pq"
 *   ES_PQ_BOUNDARY_CLASSES   the same with categories                      -> "boundary_pq_classes"
 *
 * Per image (es_pq_image_compute), with void = pixels covered by no ground-truth entry
 * (crowd included) and the ground truth required NOT to overlap (ES_ERR_OVERLAP otherwise):
 *   mask IoU(g, p)     = |g∩p| / (|p| + area(g) - |g∩p| - |p∩void|), area(g) = es_eval_gt.area
 *                        (the declared area), |p| = the prediction's pixel count;
 *   boundary IoU(g, p) = |gb∩pb| / (|pb| + |gb| - |gb∩pb| - |pb∩void|), bands of width
 *                        es_boundary_width(dilation_ratio, image h, w);
 *   a pair with |g∩p| > 0, g not crowd, same category and IoU > 0.5 is a TP (IoU summed);
 *   an unmatched non-crowd g is a FN; an unmatched p is ignored when
 *   (|p∩void| + |p∩crowd of its category|) / |p| > 0.5, else a FP. "Crowd of its category"
 *   is the LAST crowd entry of that category in source_order (panopticapi; default), or the
 *   union of all of them with crowd_union = 1.
 * Predictions with 0 pixels are skipped (the driver drops them; panopticapi cannot hold them).
 *
 * Which predictions: the driver passes the non-overlapping ones (es_eval_image.dt, after the
 * overlap policy). --pq-min-score is the driver's: drop predictions scoring below it from
 * the raw list BEFORE painting, then paint, then call this module; nothing here filters.
 *
 * Determinism and threads: es_pq_eval holds one record set per image slot;
 * es_pq_eval_image(ev, slot, ...) writes only that slot, so threads may fill distinct slots
 * concurrently. es_pq_eval_summarize adds the slots in slot order, per category, so results
 * do not depend on the number of threads. (panopticapi adds match IoUs one by one per process
 * and then the process sums: equal to ours within 1e-15 relative, not bit for bit.)
 *
 * Sharding: es_pq_image is the whole per-image state the summary needs (counts and IoU sums
 * per category); es_pq_image_to_json / es_pq_image_from_json serialise it exactly (doubles
 * round-trip), and es_pq_eval_set_image puts a merged image back into its slot.
 *
 * Ownership: es_pq_eval owns its slots and a copy of the options' categories; the caller owns
 * everything passed in. es_pq_image / es_pq_results own their arrays; the *_clear / *_free
 * functions accept NULL and empty structs. cJSON objects returned are the caller's
 * (cJSON_Delete, or attach them to a parent).
 */
#ifndef ENTSEG_EVAL_PQ_H
#define ENTSEG_EVAL_PQ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "boundary.h"
#include "entseg/error.h"
#include "eval_image.h"

enum {
    ES_PQ_MASK_AGNOSTIC = 0,
    ES_PQ_MASK_CLASSES = 1,
    ES_PQ_BOUNDARY_AGNOSTIC = 2,
    ES_PQ_BOUNDARY_CLASSES = 3,
    ES_PQ_N_VARIANTS = 4
};

/* The category the agnostic variants put every entity in. */
#define ES_PQ_AGNOSTIC_CATEGORY 1

typedef struct es_pq_category {
    int64_t id;
    int isthing; /* 1 = thing; anything else counts as Stuff (panopticapi: isthing == 1) */
} es_pq_category;

typedef struct es_pq_options {
    int classes;            /* also the class-aware variants (needs categories) */
    int boundary;           /* also the boundary variants */
    int crowd_union;        /* 0: panopticapi's last-crowd rule (default); 1: every crowd */
    double dilation_ratio;  /* band width ratio, 0.02 */
    const es_pq_category *categories; /* (n_categories) in the ground-truth store's order:
                                         the order of per_class and of the averages */
    size_t n_categories;
} es_pq_options;

/* Defaults: agnostic mask PQ only, last-crowd rule, ratio 0.02, no categories. */
es_pq_options es_pq_options_default(void);

/* One category's counts in one image (or, summed, in the whole run). */
typedef struct es_pq_record {
    int64_t category_id; /* ES_PQ_AGNOSTIC_CATEGORY in the agnostic variants */
    uint32_t tp, fp, fn;
    double iou_sum;      /* sum of the TP IoUs, in match order (gt order, then prediction order) */
} es_pq_record;

/* A true positive, for per-image reports. Indices into es_eval_image.gt / .dt. */
typedef struct es_pq_match {
    uint32_t gt_index, dt_index;
    double iou;          /* the IoU that matched (min of mask and boundary IoU in the
                            boundary variants) */
} es_pq_match;

typedef struct es_pq_image {
    int64_t image_id;
    int computed[ES_PQ_N_VARIANTS];   /* which variants were computed */
    size_t n_records[ES_PQ_N_VARIANTS];
    es_pq_record *records[ES_PQ_N_VARIANTS]; /* (n_records[v]) ascending category id; only
                                                categories with a TP, FP or FN */
    size_t n_matches[ES_PQ_N_VARIANTS];
    es_pq_match *matches[ES_PQ_N_VARIANTS];  /* (n_matches[v]); not serialised */
    /* Crowd rule bookkeeping, [0] agnostic, [1] classes: */
    int several_crowds[2]; /* some category has two or more crowd entries */
    int rule_changes[2];   /* the other crowd rule would change this image's FP count */
} es_pq_image;

#define ES_PQ_IMAGE_EMPTY ((es_pq_image){0})

/* Computes every variant opt asks for on one image into *out (previous contents not freed).
 * Errors: ES_ERR_INVALID (mask size differs from the image, a category missing or unknown
 * in class-aware mode, a NaN/negative declared area), ES_ERR_OVERLAP (ground-truth entries
 * overlap: PQ is undefined), ES_ERR_FORMAT (corrupt runs), ES_ERR_NOMEM. Messages name the
 * image (name or id) and the entry. */
int es_pq_image_compute(es_pq_image *out, const es_pq_options *opt, const es_eval_image *img,
                        es_error *err);
void es_pq_image_clear(es_pq_image *im);
int es_pq_image_copy(es_pq_image *dst, const es_pq_image *src, es_error *err);

/* The accumulator over a run of n_images images. */
typedef struct es_pq_eval es_pq_eval;

int es_pq_eval_create(es_pq_eval **out, const es_pq_options *opt, size_t n_images,
                      es_error *err);
/* Computes image img into slot (slot < n_images). Thread-safe for distinct slots. */
int es_pq_eval_image(es_pq_eval *ev, size_t slot, const es_eval_image *img, es_error *err);
/* The same, with bands shared with other metrics of this image (boundary AP): PQ looks
 * bands up as (1, index in img->gt) and (0, index in img->dt), so the cache must have been
 * made for this image and this very dt list (not dt_raw, not a --pq-min-score view), with
 * the same dilation ratio (ES_ERR_INVALID otherwise). bands may be NULL. */
int es_pq_eval_image_bands(es_pq_eval *ev, size_t slot, const es_eval_image *img,
                           es_band_cache *bands, es_error *err);
/* Pixel counts of one image that another pass already has (the COCOeval pass merges every
 * painted prediction's runs with the ground truth's), so PQ need not read the masks again.
 * Arrays owned by whoever filled them (es_pq_pixels_free). inter NULL: not available. */
typedef struct es_pq_pixels {
    uint64_t *inter;   /* (n_gt, n_dt) |gt g ∩ dt p| at inter[g * n_dt + p] */
    uint64_t *dt_area; /* (n_dt) pixels of each prediction */
    uint64_t *gt_area; /* (n_gt) pixels of each ground-truth entry */
} es_pq_pixels;
void es_pq_pixels_free(es_pq_pixels *px);
/* es_pq_eval_image_bands, taking the intersections from px (when px && px->inter and no
 * boundary variant is asked for: those need the masks' pieces). The caller vouches that px
 * was computed from exactly img's masks, that every mask's runs sum to h*w and that no two
 * ground-truth entries overlap (the checks PQ's own reading makes); results are then
 * identical to reading the masks. */
int es_pq_eval_image_pixels(es_pq_eval *ev, size_t slot, const es_eval_image *img,
                            es_band_cache *bands, const es_pq_pixels *px, es_error *err);
/* Puts an already computed (e.g. read from a shard) image record into slot (copied). */
int es_pq_eval_set_image(es_pq_eval *ev, size_t slot, const es_pq_image *im, es_error *err);
/* The slot's record (an empty record when the slot was never filled). */
const es_pq_image *es_pq_eval_get_image(const es_pq_eval *ev, size_t slot);
void es_pq_eval_free(es_pq_eval *ev);

/* Results. */
typedef struct es_pq_group {
    double pq, sq, rq; /* NaN when n == 0: an empty group, JSON null */
    int64_t n;         /* classes with TP + FP + FN > 0 */
} es_pq_group;

typedef struct es_pq_class {
    int64_t id;
    int isthing;
    double pq, sq, rq; /* 0 when TP + FP + FN == 0 (as panopticapi's per_class) */
    uint64_t tp, fp, fn;
    double iou_sum;
} es_pq_class;

typedef struct es_pq_summary {
    es_pq_group all, things, stuff;
    size_t n_classes;
    es_pq_class *classes; /* (n_classes) in category order; the agnostic variants have one,
                             id ES_PQ_AGNOSTIC_CATEGORY */
} es_pq_summary;

typedef struct es_pq_results {
    int computed[ES_PQ_N_VARIANTS];
    es_pq_summary summary[ES_PQ_N_VARIANTS];
    int crowd_union;                /* the rule applied */
    uint64_t images_several_crowds[2]; /* [0] agnostic, [1] classes */
    uint64_t images_rule_changes[2];
    uint64_t n_images;              /* slots summed */
} es_pq_results;

/* Sums the slots in order and computes the per-class numbers and the All / Things / Stuff
 * averages (plain sequential sums in category order). *out is overwritten. Slots never
 * filled count as images without entities. */
int es_pq_eval_summarize(const es_pq_eval *ev, es_pq_results *out, es_error *err);
void es_pq_results_free(es_pq_results *r);

/* JSON, with the keys of the evaluator's output (issue 4):
 * agnostic: {"PQ","SQ","RQ","TP","FP","FN","IoU_sum"} (PQ/SQ/RQ null when there is no entity)
 * classes:  {"All":{"PQ","SQ","RQ","n"},"Things":{..},"Stuff":{..},
 *           "per_class":{"<id>":{"PQ","SQ","RQ","TP","FP","FN"}}} (per_class in category
 *           order, every listed category, zeros where TP + FP + FN = 0, as panopticapi)
 * An empty group is JSON null as a whole ("Stuff": null), as panopticapi cannot compute it.
 * The boundary variants use the same layouts under "boundary_pq" / "boundary_pq_classes".
 * NULL on allocation failure. */
cJSON *es_pq_json_agnostic(const es_pq_summary *s);
cJSON *es_pq_json_classes(const es_pq_summary *s);
/* {"rule": "last" | "union", "images_with_several_crowds": {"agnostic": n, "classes": n},
 *  "images_changed_by_rule": {...}}: which crowd rule was applied and where it mattered. */
cJSON *es_pq_json_crowd_rule(const es_pq_results *r);
/* Adds "pq", "pq_classes", "boundary_pq", "boundary_pq_classes" (those computed) and
 * "pq_crowd_rule" to root. ES_ERR_NOMEM. */
int es_pq_results_add_json(const es_pq_results *r, cJSON *root, es_error *err);

/* Shards: one image's records as JSON
 * {"image_id": id, "v": [[[cat, tp, fp, fn, iou_sum], ...] or null per variant],
 *  "crowd": [several_agnostic, several_classes, changes_agnostic, changes_classes]},
 * and back (ES_ERR_FORMAT on a malformed object). */
cJSON *es_pq_image_to_json(const es_pq_image *im);
int es_pq_image_from_json(es_pq_image *out, const cJSON *j, es_error *err);

#endif
