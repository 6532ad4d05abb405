/* evaluate/eval.c: the driver. Plans the images (prediction images matched to ground-truth
 * images by name, ordered by ascending source id as COCOeval orders them: METRICS AP 2),
 * then on the pool loads each image from both stores (one read handle per thread), applies
 * the overlap policy, runs the COCOeval family and the PQ family on it, and frees its masks:
 * memory stays at one image per thread plus the small per-image records. es_eval_finish
 * (eval_finish.c) turns the records into numbers.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/pool.h"
#include "entseg/progress.h"
#include <sqlite3.h>

#include "entseg/store.h"
#include "eval_load.h"

typedef struct plan_img {
    int64_t gt_id, pred_id; /* store ids; pred_id ES_NONE: no predictions */
    int64_t source_id;
    char *name;
    uint32_t height, width;
    size_t mem;             /* in-memory mode: index into the caller's images */
} plan_img;

typedef struct run {
    es_eval_options opts;
    es_eval_detail *d;
    const char *gt_path, *pred_path;
    int pred_from_gt;
    es_store **gt_h, **pred_h; /* (threads) lazily opened read handles */
    const es_eval_image *mem;
    plan_img *plan;
    size_t n;
    int pq_on;
    int uncategorised;      /* some entity on either side has no category */
    pthread_mutex_t mu;
    atomic_int failed;
    es_error err;
    size_t err_idx;
    atomic_int pred_uncategorised, gt_uncategorised;
    es_progress *prog;
} run;

void es_eval_detail_note(es_eval_detail *d, const char *fmt, ...) {
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    char *p = realloc(d->notes, d->notes_len + (size_t)n + 2);
    if (!p) return;
    memcpy(p + d->notes_len, line, (size_t)n);
    d->notes_len += (size_t)n;
    p[d->notes_len++] = '\n';
    p[d->notes_len] = 0;
    d->notes = p;
}

void es_eval_img_rec_clear(es_eval_img_rec *r) {
    if (!r) return;
    free(r->name);
    for (int m = 0; m < ES_CE_N; m++) es_coco_rec_free(&r->coco[m]);
    for (int m = 0; m < ES_CC_N; m++) {
        for (size_t k = 0; k < r->n_cls[m]; k++) es_coco_rec_free(&r->cls[m][k]);
        free(r->cls[m]);
    }
    free(r->best_iou);
    memset(r, 0, sizeof *r);
}

void es_eval_detail_free(es_eval_detail *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) es_eval_img_rec_clear(&d->imgs[i]);
    free(d->imgs);
    free(d->class_ids);
    free(d->class_isthing);
    free(d->notes);
    es_pq_eval_free(d->pq);
    free(d->pq_cats);
    es_pq_results_free(&d->pq_res);
    free(d);
}

/* ---- options ---------------------------------------------------------------------- */

static int resolve_options(const es_eval_options *o, es_eval_cfg *cfg, es_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->metrics = o->metrics ? o->metrics & ~ES_METRIC_DEFAULT_SOFT : ES_METRIC_DEFAULT;
    if (cfg->metrics & ~ES_METRIC_ALL)
        return es_error_set(err, ES_ERR_INVALID, "unknown metric bits 0x%x", cfg->metrics);
    es_coco_params_default(&cfg->coco);
    if (o->n_iou_thrs) {
        if (o->n_iou_thrs > ES_EVAL_MAX_IOU_THRS)
            return es_error_set(err, ES_ERR_INVALID, "at most %d IoU thresholds",
                                ES_EVAL_MAX_IOU_THRS);
        for (size_t i = 0; i < o->n_iou_thrs; i++) {
            double t = o->iou_thrs[i];
            if (!(t >= 0 && t <= 1))
                return es_error_set(err, ES_ERR_INVALID, "IoU threshold %g is not in [0, 1]", t);
            if (i && !(t > o->iou_thrs[i - 1]))
                return es_error_set(err, ES_ERR_INVALID, "IoU thresholds must ascend");
            cfg->coco.iou_thrs[i] = t;
        }
        cfg->coco.T = o->n_iou_thrs;
    }
    if (o->n_max_dets) {
        if (o->n_max_dets != 3)
            return es_error_set(err, ES_ERR_INVALID, "--max-dets takes exactly 3 values, e.g. 1,10,100");
        for (int i = 0; i < 3; i++) {
            if (o->max_dets[i] < 1 || (i && o->max_dets[i] < o->max_dets[i - 1]))
                return es_error_set(err, ES_ERR_INVALID, "--max-dets must be positive and ascending");
            cfg->coco.max_dets[i] = o->max_dets[i];
        }
    }
    cfg->dilation_ratio = o->dilation_ratio > 0 ? o->dilation_ratio : 0.02;
    if (!(o->dilation_ratio >= 0) || isinf(o->dilation_ratio))
        return es_error_set(err, ES_ERR_INVALID, "--dilation-ratio must be a positive number");
    if (o->overlap < ES_OVERLAP_RESOLVE || o->overlap > ES_OVERLAP_ALLOW)
        return es_error_set(err, ES_ERR_INVALID, "unknown overlap policy %d", (int)o->overlap);
    if (o->shard_count > 1 && (o->shard_index < 0 || o->shard_index >= o->shard_count))
        return es_error_set(err, ES_ERR_INVALID, "--shard %d/%d: index must be in [0, %d)",
                            o->shard_index, o->shard_count, o->shard_count);
    if (o->use_pq_min_score && isnan(o->pq_min_score))
        return es_error_set(err, ES_ERR_INVALID, "--pq-min-score is NaN");
    cfg->keep_per_image = o->keep_per_image;
    cfg->threads = o->threads;
    return ES_OK;
}

/* ---- planning --------------------------------------------------------------------- */

static int cmp_plan(const void *pa, const void *pb) {
    const plan_img *a = pa, *b = pb;
    if (a->source_id != b->source_id) return a->source_id < b->source_id ? -1 : 1;
    return a->gt_id < b->gt_id ? -1 : a->gt_id > b->gt_id;
}

typedef struct name_ref {
    const char *name;
    size_t idx;
} name_ref;

static int cmp_name_ref(const void *pa, const void *pb) {
    return strcmp(((const name_ref *)pa)->name, ((const name_ref *)pb)->name);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int keep_image(const es_eval_options *o, int64_t source_id) {
    if (!o->image_ids) return 1;
    return bsearch(&source_id, o->image_ids, o->n_image_ids, sizeof(int64_t), cmp_i64) != NULL;
}

/* Sorted copy of the --images list (bsearch needs it sorted). */
static int64_t *sorted_ids(const int64_t *ids, size_t n) {
    int64_t *c = malloc((n ? n : 1) * sizeof *c);
    if (!c) return NULL;
    if (n) memcpy(c, ids, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_i64);
    return c;
}

/* Applies --images and --shard to the sorted plan (in place). */
static void filter_plan(run *R) {
    size_t k = 0;
    for (size_t i = 0; i < R->n; i++) {
        if (!keep_image(&R->opts, R->plan[i].source_id)) {
            free(R->plan[i].name);
            continue;
        }
        R->plan[k++] = R->plan[i];
    }
    R->n = k;
    if (R->opts.shard_count > 1) {
        k = 0;
        for (size_t i = 0; i < R->n; i++) {
            if ((int)(i % (size_t)R->opts.shard_count) != R->opts.shard_index) {
                free(R->plan[i].name);
                continue;
            }
            R->plan[k++] = R->plan[i];
        }
        R->n = k;
    }
}

static int plan_from_stores(run *R, es_store *gt, es_store *pred, es_error *err) {
    es_image *gi = NULL, *pi = NULL;
    size_t ng = 0, np = 0;
    name_ref *refs = NULL;
    int rc = es_store_images(gt, &gi, &ng, err);
    if (!rc) rc = es_store_images(pred, &pi, &np, err);
    if (rc) goto done;
    R->plan = calloc(ng ? ng : 1, sizeof *R->plan);
    refs = malloc((ng ? ng : 1) * sizeof *refs);
    if (!R->plan || !refs) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory planning %zu images", ng);
        goto done;
    }
    for (size_t i = 0; i < ng; i++) {
        plan_img *p = &R->plan[i];
        p->gt_id = gi[i].id;
        p->pred_id = ES_NONE;
        p->source_id = gi[i].source_id != ES_NONE ? gi[i].source_id : gi[i].id;
        p->name = gi[i].name;
        gi[i].name = NULL;
        p->height = gi[i].height;
        p->width = gi[i].width;
        refs[i] = (name_ref){p->name, i};
    }
    R->n = ng;
    qsort(refs, ng, sizeof *refs, cmp_name_ref);
    for (size_t j = 0; j < np; j++) {
        name_ref key = {pi[j].name, 0};
        name_ref *hit = bsearch(&key, refs, ng, sizeof *refs, cmp_name_ref);
        if (!hit) {
            rc = es_error_set(err, ES_ERR_INVALID,
                              "%s: prediction image '%s' (id %lld) is not in the ground truth %s",
                              R->pred_path, pi[j].name, (long long)pi[j].id, R->gt_path);
            goto done;
        }
        plan_img *p = &R->plan[hit->idx];
        if (p->height != pi[j].height || p->width != pi[j].width) {
            rc = es_error_set(err, ES_ERR_INVALID,
                              "image '%s': predictions are %ux%u but the ground truth is %ux%u",
                              pi[j].name, pi[j].width, pi[j].height, p->width, p->height);
            goto done;
        }
        p->pred_id = pi[j].id;
    }
    qsort(R->plan, R->n, sizeof *R->plan, cmp_plan);
done:
    free(refs);
    es_images_free(gi, ng);
    es_images_free(pi, np);
    return rc;
}

/* ---- per image -------------------------------------------------------------------- */

static void fail(run *R, size_t idx, const es_error *e) {
    pthread_mutex_lock(&R->mu);
    if (!atomic_load(&R->failed) || idx < R->err_idx) {
        R->err = *e;
        R->err_idx = idx;
    }
    atomic_store(&R->failed, 1);
    pthread_mutex_unlock(&R->mu);
}

static int open_handle(es_store **slot, const char *path, es_error *err) {
    if (*slot) return ES_OK;
    return es_store_open(path, ES_OPEN_READ, slot, err);
}

/* In-memory images: the caller's entries as entities (copies), so the store path's loaders
 * apply the same ground-truth choices. */
static int mem_entities(const es_eval_image *src, int gt_side, es_entity **out, size_t *n,
                        es_error *err) {
    size_t cnt = gt_side ? src->n_gt : src->n_dt_raw;
    es_entity *e = calloc(cnt ? cnt : 1, sizeof *e);
    if (!e) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        e[i] = es_entity_default();
        const es_rle *m = gt_side ? &src->gt[i].mask : &src->dt_raw[i].mask;
        int rc = es_rle_copy(&e[i].mask, m, err);
        if (rc) {
            es_entities_free(e, i);
            return rc;
        }
        e[i].area = es_rle_area(m);
        if (gt_side) {
            const es_eval_gt *g = &src->gt[i];
            e[i].is_crowd = g->is_crowd;
            e[i].category_id = g->category_id;
            e[i].isthing = g->isthing;
            e[i].declared_area = g->area > 0 || g->area == 0 ? g->area : NAN;
            e[i].source_order = (int64_t)i;
            e[i].id = g->entity_id;
        } else {
            const es_eval_dt *d = &src->dt_raw[i];
            e[i].score = d->score;
            e[i].category_id = d->category_id;
            e[i].source_order = (int64_t)i;
            e[i].id = d->entity_id;
        }
    }
    *out = e;
    *n = cnt;
    return ES_OK;
}

/* The prediction list PQ sees: --pq-min-score filters before painting. */
static int pq_view(run *R, const es_eval_image *img, es_eval_image *view, es_error *err) {
    *view = *img;
    view->dt = NULL;
    view->n_dt = 0;
    view->dt_raw = malloc((img->n_dt_raw ? img->n_dt_raw : 1) * sizeof *view->dt_raw);
    if (!view->dt_raw) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < img->n_dt_raw; i++)
        if (img->dt_raw[i].score >= R->opts.pq_min_score) view->dt_raw[k++] = img->dt_raw[i];
    view->n_dt_raw = k;
    int64_t c, d;
    uint64_t p;
    es_overlap_policy pol = R->opts.overlap == ES_OVERLAP_ALLOW ? ES_OVERLAP_RESOLVE : R->opts.overlap;
    return es_overlap_apply(view, pol, &view->dt, &view->n_dt, &c, &d, &p, err);
}

static int process_image(run *R, size_t i, int thread, es_error *err) {
    const plan_img *p = &R->plan[i];
    es_eval_image img = {0};
    img.image_id = p->gt_id;
    img.source_id = p->source_id;
    img.name = p->name;
    img.height = p->height;
    img.width = p->width;
    es_entity *ge = NULL, *pe = NULL;
    size_t ngt = 0, npr = 0;
    es_band_cache *bands = NULL; /* shared by boundary AP and boundary PQ */
    es_pq_pixels px = {NULL, NULL, NULL};
    int rc;
    if (R->mem) {
        rc = mem_entities(&R->mem[p->mem], 1, &ge, &ngt, err);
        if (!rc) rc = mem_entities(&R->mem[p->mem], 0, &pe, &npr, err);
    } else {
        rc = open_handle(&R->gt_h[thread], R->gt_path, err);
        if (!rc) rc = es_store_read_entities(R->gt_h[thread], p->gt_id, &ge, &ngt, err);
        if (!rc && p->pred_id != ES_NONE) {
            rc = open_handle(&R->pred_h[thread], R->pred_path, err);
            if (!rc) rc = es_store_read_entities(R->pred_h[thread], p->pred_id, &pe, &npr, err);
        }
    }
    if (rc) goto done;
    es_eval_load_opts lo = {R->opts.area_source, R->opts.compat_entity};
    rc = es_eval_load_gt(&img, ge, ngt, &lo, err);
    if (!rc) rc = es_eval_load_pred(&img, pe, npr, R->pred_from_gt, err);
    if (rc) goto done;
    for (size_t j = 0; j < img.n_gt; j++)
        if (img.gt[j].category_id == ES_NONE) atomic_store(&R->gt_uncategorised, 1);
    for (size_t j = 0; j < img.n_dt_raw; j++)
        if (img.dt_raw[j].category_id == ES_NONE) atomic_store(&R->pred_uncategorised, 1);

    es_eval_img_rec *rec = &R->d->imgs[i];
    rec->image_id = p->gt_id;
    rec->source_id = p->source_id;
    rec->name = strdup(p->name);
    rec->height = p->height;
    rec->width = p->width;
    rec->n_gt = (uint32_t)img.n_gt;
    rec->n_dt_raw = (uint32_t)img.n_dt_raw;
    rc = es_overlap_apply(&img, R->opts.overlap, &img.dt, &img.n_dt, &rec->overlap_changed,
                          &rec->overlap_dropped, &rec->overlap_pixels, err);
    if (rc) goto done;
    rec->n_dt = (uint32_t)img.n_dt;
    /* PQ sees the painted predictions unless a --pq-min-score view or --overlap allow
       changes them: then it shares nothing with the COCOeval pass */
    const int pq_shares = R->pq_on && !R->opts.use_pq_min_score &&
                          R->opts.overlap != ES_OVERLAP_ALLOW;
    const unsigned M = R->d->cfg.metrics;
    if ((M & (ES_METRIC_BOUNDARY_AP | ES_METRIC_BOUNDARY_AP_CLASSES)) && pq_shares &&
        (M & (ES_METRIC_BOUNDARY_PQ | ES_METRIC_BOUNDARY_PQ_CLASSES))) {
        rc = es_band_cache_create(&bands, img.height, img.width, R->d->cfg.dilation_ratio,
                                  img.n_gt, img.n_dt, err);
        if (rc) goto done;
    }
    rc = es_eval_coco_image(&R->d->cfg, &img, rec, bands, pq_shares ? &px : NULL, err);
    if (rc) goto done;
    if (R->pq_on) {
        if (R->opts.use_pq_min_score || R->opts.overlap == ES_OVERLAP_ALLOW) {
            /* PQ needs non-overlapping predictions whatever AP^e was asked to allow */
            es_eval_image view;
            rc = pq_view(R, &img, &view, err);
            if (!rc) rc = es_pq_eval_image(R->d->pq, i, &view, err);
            for (size_t j = 0; j < view.n_dt; j++) es_rle_free(&view.dt[j].mask);
            free(view.dt);
            free(view.dt_raw);
        } else {
            rc = es_pq_eval_image_pixels(R->d->pq, i, &img, bands, &px, err);
        }
    }
done:
    es_band_cache_free(bands);
    es_pq_pixels_free(&px);
    es_entities_free(ge, ngt);
    es_entities_free(pe, npr);
    es_eval_image_clear(&img);
    return rc;
}

static void task(void *ctx, size_t i, int thread) {
    run *R = ctx;
    if (atomic_load(&R->failed)) return;
    es_error e = {0};
    if (process_image(R, i, thread, &e)) fail(R, i, &e);
    es_progress_add(R->prog, 1);
}

/* ---- run ---------------------------------------------------------------------------- */

static int setup_categories(run *R, es_category *cats, size_t ncat, es_error *err) {
    es_eval_detail *d = R->d;
    d->n_classes = ncat;
    d->class_ids = malloc((ncat ? ncat : 1) * sizeof *d->class_ids);
    d->class_isthing = malloc((ncat ? ncat : 1) * sizeof *d->class_isthing);
    d->pq_cats = malloc((ncat ? ncat : 1) * sizeof *d->pq_cats);
    if (!d->class_ids || !d->class_isthing || !d->pq_cats)
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < ncat; k++) {
        d->pq_cats[k] = (es_pq_category){cats[k].id, cats[k].isthing};
        d->class_ids[k] = cats[k].id;
        d->class_isthing[k] = cats[k].isthing;
    }
    d->n_pq_cats = ncat;
    /* class_ids ascending (pycocotools sorts catIds); pq_cats keep the store's order */
    for (size_t a = 1; a < ncat; a++)
        for (size_t b = a; b > 0 && d->class_ids[b - 1] > d->class_ids[b]; b--) {
            int64_t t = d->class_ids[b];
            d->class_ids[b] = d->class_ids[b - 1], d->class_ids[b - 1] = t;
            int u = d->class_isthing[b];
            d->class_isthing[b] = d->class_isthing[b - 1], d->class_isthing[b - 1] = u;
        }
    return ES_OK;
}

/* 1 when some entity of the store has no source category (class-aware metrics then need
 * to be skipped before any image is read: PQ refuses unknown categories). */
static int store_has_uncategorised(es_store *s) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (db && sqlite3_prepare_v2(db, "SELECT EXISTS(SELECT 1 FROM entities WHERE category_id IS NULL)",
                                 -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) found = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return found;
}

static int execute(run *R, es_eval_result *result, int gt_overlapping, es_error *err) {
    es_eval_detail *d = R->d;
    /* what the caller asked for by name: those must run or fail */
    const unsigned requested = (R->opts.metrics & ES_METRIC_DEFAULT_SOFT)
                                   ? R->opts.metrics & ~(ES_METRIC_DEFAULT | ES_METRIC_DEFAULT_SOFT)
                                   : R->opts.metrics;
    const unsigned pq_bits = ES_METRIC_PQ | ES_METRIC_PQ_CLASSES | ES_METRIC_BOUNDARY_PQ |
                             ES_METRIC_BOUNDARY_PQ_CLASSES;
    const unsigned class_bits = ES_METRIC_PQ_CLASSES | ES_METRIC_AP_CLASSES |
                                ES_METRIC_BOUNDARY_PQ_CLASSES | ES_METRIC_BOUNDARY_AP_CLASSES;
    if (gt_overlapping && (d->cfg.metrics & pq_bits)) {
        if (requested & pq_bits)
            return es_error_set(err, ES_ERR_INVALID,
                                "%s: the ground truth has overlapping instances, so PQ is "
                                "undefined; drop the PQ metrics from --metrics",
                                R->gt_path ? R->gt_path : "ground truth");
        d->cfg.metrics &= ~pq_bits;
        d->pq_gt_overlapping = 1;
        es_eval_detail_note(d, "PQ skipped: the ground truth has overlapping instances");
    }
    if ((d->n_classes == 0 || R->uncategorised) && (d->cfg.metrics & class_bits)) {
        if (requested & class_bits)
            return es_error_set(err, ES_ERR_INVALID,
                                "class-aware metrics need a category on every entity of both "
                                "sides, and %s",
                                d->n_classes == 0 ? "the ground truth has none" : "some have none");
        d->cfg.metrics &= ~class_bits;
        if (d->n_classes)
            es_eval_detail_note(d, "class-aware metrics skipped: some entities carry no category");
    }
    d->cfg.class_aware = (d->cfg.metrics & class_bits) != 0;
    d->imgs = calloc(R->n ? R->n : 1, sizeof *d->imgs);
    d->n = R->n;
    if (!d->imgs) return es_error_set(err, ES_ERR_NOMEM, "out of memory");

    R->pq_on = (d->cfg.metrics & pq_bits) != 0;
    if (R->pq_on) {
        d->pq_opts = es_pq_options_default();
        d->pq_opts.classes = (d->cfg.metrics & (ES_METRIC_PQ_CLASSES | ES_METRIC_BOUNDARY_PQ_CLASSES)) != 0;
        d->pq_opts.boundary = (d->cfg.metrics & (ES_METRIC_BOUNDARY_PQ | ES_METRIC_BOUNDARY_PQ_CLASSES)) != 0;
        d->pq_opts.crowd_union = R->opts.crowd_union;
        d->pq_opts.dilation_ratio = d->cfg.dilation_ratio;
        d->pq_opts.categories = d->pq_cats;
        d->pq_opts.n_categories = d->n_pq_cats;
        ES_CHECK(es_pq_eval_create(&d->pq, &d->pq_opts, R->n, err));
    }

    int threads = R->opts.threads > 0 ? R->opts.threads : es_ncores();
    es_pool *pool = es_pool_create(threads);
    if (!pool) return es_error_set(err, ES_ERR_NOMEM, "cannot start %d threads", threads);
    threads = es_pool_threads(pool);
    R->gt_h = calloc((size_t)threads, sizeof *R->gt_h);
    R->pred_h = calloc((size_t)threads, sizeof *R->pred_h);
    if (!R->gt_h || !R->pred_h) {
        es_pool_free(pool);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&R->mu, NULL);
    R->prog = es_progress_start("evaluating", R->n, R->opts.quiet);
    es_pool_for(pool, R->n, task, R);
    es_progress_finish(R->prog);
    es_pool_free(pool);
    for (int t = 0; t < threads; t++) {
        es_store_close(R->gt_h[t]);
        es_store_close(R->pred_h[t]);
    }
    pthread_mutex_destroy(&R->mu);
    if (atomic_load(&R->failed)) {
        *err = R->err;
        return R->err.code ? R->err.code : ES_ERR_INTERNAL;
    }
    if (d->cfg.class_aware && (atomic_load(&R->pred_uncategorised) || atomic_load(&R->gt_uncategorised))) {
        unsigned ap_cls = ES_METRIC_AP_CLASSES | ES_METRIC_BOUNDARY_AP_CLASSES;
        if (requested & ap_cls)
            return es_error_set(err, ES_ERR_INVALID,
                                "class-aware AP needs a category on every entity of both sides");
        d->cfg.metrics &= ~ap_cls;
        es_eval_detail_note(d, "class-aware AP skipped: some entities carry no category");
    }
    return es_eval_finish(d, result, err);
}

static void run_free(run *R) {
    for (size_t i = 0; i < R->n; i++) free(R->plan[i].name);
    free(R->plan);
    free(R->gt_h);
    free(R->pred_h);
}

static int new_detail(run *R, const es_eval_options *opts, es_error *err) {
    R->opts = *opts;
    R->d = calloc(1, sizeof *R->d);
    if (!R->d) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    R->d->overlap = opts->overlap;
    ES_CHECK(resolve_options(opts, &R->d->cfg, err));
    if (opts->image_ids) {
        R->opts.image_ids = sorted_ids(opts->image_ids, opts->n_image_ids);
        if (!R->opts.image_ids) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    return ES_OK;
}

int es_eval_run(const char *pred_db, const char *gt_db, const es_eval_options *opts,
                es_eval_result *result, es_error *err) {
    static const es_eval_options defaults;
    if (!opts) opts = &defaults;
    run R = {0};
    R.gt_path = gt_db;
    R.pred_path = pred_db;
    es_store *gt = NULL, *pred = NULL;
    es_category *cats = NULL;
    size_t ncat = 0;
    int rc = new_detail(&R, opts, err);
    if (rc) goto done;
    rc = es_store_open(gt_db, ES_OPEN_READ, &gt, err);
    if (rc) goto done;
    rc = es_store_open(pred_db, ES_OPEN_READ, &pred, err);
    if (rc) goto done;
    es_store_kind gk = es_store_get_kind(gt), pk = es_store_get_kind(pred);
    if (gk == ES_STORE_PRED && pk == ES_STORE_GT) {
        rc = es_error_set(err, ES_ERR_INVALID,
                          "%s holds predictions and %s ground truth: arguments swapped? usage: "
                          "entseg-eval PRED.db GT.db", gt_db, pred_db);
        goto done;
    }
    if (gk != ES_STORE_GT) {
        rc = es_error_set(err, ES_ERR_INVALID, "%s is a prediction store, not ground truth", gt_db);
        goto done;
    }
    if (pk != ES_STORE_PRED && !opts->pred_may_be_gt) {
        rc = es_error_set(err, ES_ERR_INVALID,
                          "%s is a ground-truth store, not predictions (two ground truths? "
                          "use entseg-annotate agree)", pred_db);
        goto done;
    }
    R.pred_from_gt = pk == ES_STORE_GT;
    rc = plan_from_stores(&R, gt, pred, err);
    if (rc) goto done;
    filter_plan(&R);
    rc = es_store_categories(gt, &cats, &ncat, err);
    if (rc) goto done;
    rc = setup_categories(&R, cats, ncat, err);
    if (rc) goto done;
    int overlapping = es_store_overlapping_instances(gt);
    R.uncategorised = store_has_uncategorised(gt) || store_has_uncategorised(pred);
    es_store_close(gt);
    es_store_close(pred);
    gt = pred = NULL;
    rc = execute(&R, result, overlapping, err);
    if (!rc) R.d = NULL; /* now owned by result */
done:
    es_categories_free(cats, ncat);
    es_store_close(gt);
    es_store_close(pred);
    if (R.opts.image_ids != opts->image_ids) free((void *)R.opts.image_ids);
    es_eval_detail_free(R.d);
    run_free(&R);
    return rc;
}

int es_eval_run_images(const es_eval_image *images, size_t n, const es_eval_options *opts,
                       es_eval_result *result, es_error *err) {
    static const es_eval_options defaults;
    if (!opts) opts = &defaults;
    run R = {0};
    es_category *cats = NULL;
    size_t ncat = 0;
    int rc = new_detail(&R, opts, err);
    if (rc) goto done;
    R.mem = images;
    R.plan = calloc(n ? n : 1, sizeof *R.plan);
    if (!R.plan) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* categories: those of the ground-truth entries, with their isthing */
    size_t cap = 0;
    int all_categorised = 1;
    for (size_t i = 0; i < n; i++) cap += images[i].n_gt;
    cats = calloc(cap ? cap : 1, sizeof *cats);
    if (!cats) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        R.plan[i].gt_id = images[i].image_id;
        R.plan[i].pred_id = images[i].image_id;
        R.plan[i].source_id = images[i].source_id != ES_NONE ? images[i].source_id : images[i].image_id;
        R.plan[i].name = strdup(images[i].name ? images[i].name : "?");
        R.plan[i].height = images[i].height;
        R.plan[i].width = images[i].width;
        R.plan[i].mem = i;
        for (size_t j = 0; j < images[i].n_gt; j++) {
            const es_eval_gt *g = &images[i].gt[j];
            if (g->category_id == ES_NONE) {
                all_categorised = 0;
                continue;
            }
            size_t k = 0;
            while (k < ncat && cats[k].id != g->category_id) k++;
            if (k == ncat) cats[ncat++] = (es_category){g->category_id, NULL, NULL, g->isthing};
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < images[i].n_dt_raw; j++)
            if (images[i].dt_raw[j].category_id == ES_NONE) R.uncategorised = 1;
    if (!all_categorised) ncat = 0;
    /* by id, as the stores list them (and COCO's JSON does): PQ averages in this order */
    for (size_t a = 1; a < ncat; a++)
        for (size_t b = a; b > 0 && cats[b - 1].id > cats[b].id; b--) {
            es_category t = cats[b];
            cats[b] = cats[b - 1], cats[b - 1] = t;
        }
    R.n = n;
    qsort(R.plan, R.n, sizeof *R.plan, cmp_plan);
    filter_plan(&R);
    rc = setup_categories(&R, cats, ncat, err);
    if (rc) goto done;
    rc = execute(&R, result, 0, err);
    if (!rc) R.d = NULL;
done:
    free(cats);
    if (R.opts.image_ids != opts->image_ids) free((void *)R.opts.image_ids);
    es_eval_detail_free(R.d);
    run_free(&R);
    return rc;
}
