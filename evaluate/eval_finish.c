/* evaluate/eval_finish.c: per-image records -> the numbers of es_eval_result.
 *
 * Runs after all images (or after a merge of shards): accumulate + summarize for every
 * COCOeval metric (class-agnostic K = 1; class-aware K = the ground truth's categories in
 * ascending id, pycocotools' catIds), the PQ summary in image order, and the overlap counts.
 * Class-aware categories are accumulated independently, so they run on the pool.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/pool.h"
#include "eval_internal.h"

static const unsigned ce_bit[ES_CE_N] = {ES_METRIC_AP_E, ES_METRIC_AP_M, ES_METRIC_BOUNDARY_AP,
                                         ES_METRIC_AP_BOX};
static const unsigned cc_bit[ES_CC_N] = {ES_METRIC_AP_CLASSES, ES_METRIC_BOUNDARY_AP_CLASSES};

static es_eval_ap *ce_block(es_eval_result *r, int m) {
    switch (m) {
    case ES_CE_AP_E: return &r->ap_e;
    case ES_CE_AP_M: return &r->ap_m;
    case ES_CE_BOUNDARY_AP: return &r->boundary_ap;
    default: return &r->ap_box;
    }
}

static const es_coco_rec *find_cls(const es_eval_img_rec *im, int m, int64_t cat) {
    size_t lo = 0, hi = im->n_cls[m];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t c = im->cls[m][mid].category;
        if (c == cat) return &im->cls[m][mid];
        if (c < cat) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

typedef struct class_job {
    const es_eval_detail *d;
    int m;
    double *precision, *recall; /* (K, cell), (K, rcell) */
    size_t cell, rcell;
    int failed;
    es_error err;
} class_job;

static void class_task(void *ctx, size_t k, int thread) {
    class_job *J = ctx;
    const es_eval_detail *d = J->d;
    const es_coco_rec **recs = malloc((d->n ? d->n : 1) * sizeof *recs);
    es_error e = {0};
    if (!recs) {
        J->failed = 1;
        return;
    }
    for (size_t i = 0; i < d->n; i++) recs[i] = find_cls(&d->imgs[i], J->m, d->class_ids[k]);
    if (es_coco_accumulate(&d->cfg.coco, recs, d->n, J->precision + k * J->cell,
                           J->recall + k * J->rcell, &e))
        J->failed = 1;
    free(recs);
}

static void fill_curves(es_eval_detail *d, int m, const double *prec) {
    const es_coco_params *p = &d->cfg.coco;
    const size_t T = p->T, R = ES_COCO_R, M = ES_COCO_M;
    const double *base = prec + ((0 * M + (M - 1)) * T) * R; /* area all, largest max-dets */
    for (size_t r = 0; r < R; r++) {
        d->curves[m][0][r] = d->curves[m][1][r] = -1;
        double s = 0;
        size_t nv = 0;
        for (size_t t = 0; t < T; t++) {
            double v = base[t * R + r];
            if (p->iou_thrs[t] == 0.5) d->curves[m][0][r] = v;
            if (p->iou_thrs[t] == 0.75) d->curves[m][1][r] = v;
            if (v > -1) s += v, nv++;
        }
        d->curves[m][2][r] = nv ? s / (double)nv : -1;
    }
}

typedef struct agnostic_job {
    es_eval_detail *d;
    int want[ES_CE_N];
    double stats[ES_CE_N][12];
    int failed;
} agnostic_job;

static void agnostic_task(void *ctx, size_t m, int thread) {
    agnostic_job *J = ctx;
    es_eval_detail *d = J->d;
    if (!J->want[m]) return;
    const es_coco_params *p = &d->cfg.coco;
    const size_t cell = ES_COCO_A * ES_COCO_M * p->T * ES_COCO_R, rcell = ES_COCO_A * ES_COCO_M * p->T;
    const es_coco_rec **recs = malloc((d->n ? d->n : 1) * sizeof *recs);
    double *prec = malloc(cell * sizeof *prec), *rec = malloc(rcell * sizeof *rec);
    es_error e = {0};
    if (!recs || !prec || !rec) {
        J->failed = 1;
    } else {
        for (size_t i = 0; i < d->n; i++) recs[i] = d->imgs[i].has[m] ? &d->imgs[i].coco[m] : NULL;
        if (es_coco_accumulate(p, recs, d->n, prec, rec, &e)) {
            J->failed = 1;
        } else {
            es_coco_summarize(p, 1, prec, rec, J->stats[m]);
            fill_curves(d, (int)m, prec);
        }
    }
    free(recs), free(prec), free(rec);
}

static void pq_fill(es_eval_pq *out, const es_pq_summary *s) {
    out->computed = 1;
    out->pq = s->all.pq;
    out->sq = s->all.sq;
    out->rq = s->all.rq;
    if (s->n_classes) {
        out->tp = (int64_t)s->classes[0].tp;
        out->fp = (int64_t)s->classes[0].fp;
        out->fn = (int64_t)s->classes[0].fn;
        out->iou_sum = s->classes[0].iou_sum;
    }
}

int es_eval_finish(es_eval_detail *d, es_eval_result *r, es_error *err) {
    const es_coco_params *p = &d->cfg.coco;
    const size_t T = p->T, R = ES_COCO_R, A = ES_COCO_A, M = ES_COCO_M;
    const size_t cell = A * M * T * R, rcell = A * M * T;
    memset(r, 0, sizeof *r);
    d->n_gt = d->n_pred = d->n_images_without_predictions = 0;
    for (size_t i = 0; i < d->n; i++) {
        d->n_gt += d->imgs[i].n_gt;
        d->n_pred += d->imgs[i].n_dt_raw;
        if (d->imgs[i].n_dt_raw == 0) d->n_images_without_predictions++;
        r->overlap_predictions_changed += d->imgs[i].overlap_changed;
        r->overlap_predictions_dropped += d->imgs[i].overlap_dropped;
        r->overlap_pixels_changed += d->imgs[i].overlap_pixels;
    }
    if (d->n_images_without_predictions)
        es_eval_detail_note(d, "warning: %lld ground-truth images have no predictions (counted as misses)",
                            (long long)d->n_images_without_predictions);
    {
        /* the class-agnostic metrics are independent: one pool task each */
        agnostic_job J;
        memset(&J, 0, sizeof J);
        J.d = d;
        for (int m = 0; m < ES_CE_N; m++) {
            for (int c = 0; c < 3; c++)
                for (size_t k = 0; k < R; k++) d->curves[m][c][k] = -1;
            J.want[m] = (d->cfg.metrics & ce_bit[m]) != 0;
        }
        es_pool *pool = es_pool_create(d->cfg.threads);
        if (pool) {
            es_pool_for(pool, ES_CE_N, agnostic_task, &J);
            es_pool_free(pool);
        } else {
            for (size_t m = 0; m < ES_CE_N; m++) agnostic_task(&J, m, 0);
        }
        if (J.failed)
            return es_error_set(err, ES_ERR_NOMEM, "out of memory accumulating");
        for (int m = 0; m < ES_CE_N; m++) {
            if (!J.want[m]) continue;
            es_eval_ap *b = ce_block(r, m);
            memcpy(b->stats, J.stats[m], sizeof b->stats);
            b->computed = 1;
        }
    }
    for (int m = 0; m < ES_CC_N; m++) {
        if (!(d->cfg.metrics & cc_bit[m]) || !d->cfg.class_aware) continue;
        const size_t K = d->n_classes;
        class_job J = {d, m, NULL, NULL, cell, rcell, 0, {0}};
        J.precision = malloc((K ? K : 1) * cell * sizeof *J.precision);
        J.recall = malloc((K ? K : 1) * rcell * sizeof *J.recall);
        es_eval_ap *b = m == ES_CC_AP_CLASSES ? &r->ap_classes : &r->boundary_ap_classes;
        b->class_ids = malloc((K ? K : 1) * sizeof *b->class_ids);
        b->class_ap = malloc((K ? K : 1) * sizeof *b->class_ap);
        if (!J.precision || !J.recall || !b->class_ids || !b->class_ap) {
            free(J.precision), free(J.recall);
            es_eval_result_free(r); /* r->detail is still NULL: frees only the class arrays */
            return es_error_set(err, ES_ERR_NOMEM, "out of memory (%zu categories)", K);
        }
        es_pool *pool = es_pool_create(d->cfg.threads);
        if (pool) {
            es_pool_for(pool, K, class_task, &J);
            es_pool_free(pool);
        } else {
            for (size_t k = 0; k < K; k++) class_task(&J, k, 0);
        }
        if (!J.failed) {
            es_coco_summarize(p, K, J.precision, J.recall, b->stats);
            b->n_classes = K;
            for (size_t k = 0; k < K; k++) {
                b->class_ids[k] = d->class_ids[k];
                b->class_ap[k] = es_coco_class_ap(p, J.precision + k * cell);
            }
            b->computed = 1;
        }
        free(J.precision), free(J.recall);
        if (J.failed) {
            es_eval_result_free(r);
            return es_error_set(err, ES_ERR_NOMEM, "out of memory accumulating categories");
        }
    }
    if (d->pq) {
        int rc = es_pq_eval_summarize(d->pq, &d->pq_res, err);
        if (rc) {
            es_eval_result_free(r);
            return rc;
        }
        d->pq_res_valid = 1;
        if (d->pq_res.computed[ES_PQ_MASK_AGNOSTIC])
            pq_fill(&r->pq, &d->pq_res.summary[ES_PQ_MASK_AGNOSTIC]);
        if (d->pq_res.computed[ES_PQ_BOUNDARY_AGNOSTIC])
            pq_fill(&r->boundary_pq, &d->pq_res.summary[ES_PQ_BOUNDARY_AGNOSTIC]);
    }
    r->metrics_computed = d->cfg.metrics;
    if (!d->cfg.class_aware)
        r->metrics_computed &= ~(ES_METRIC_AP_CLASSES | ES_METRIC_BOUNDARY_AP_CLASSES |
                                 ES_METRIC_PQ_CLASSES | ES_METRIC_BOUNDARY_PQ_CLASSES);
    r->overlap = d->overlap;
    r->n_images = (int64_t)d->n;
    r->n_images_without_predictions = d->n_images_without_predictions;
    r->n_gt = d->n_gt;
    r->n_pred = d->n_pred;
    r->notes = d->notes ? strdup(d->notes) : NULL;
    r->detail = d;
    return ES_OK;
}

void es_eval_ap_blocks(const es_eval_result *r, es_eval_ap_block out[ES_EVAL_N_AP_BLOCKS]) {
    const es_eval_ap_block blocks[ES_EVAL_N_AP_BLOCKS] = {
        {"ap_e", &r->ap_e},
        {"ap_m", &r->ap_m},
        {"ap_classes", &r->ap_classes},
        {"boundary_ap", &r->boundary_ap},
        {"boundary_ap_classes", &r->boundary_ap_classes},
        {"ap_box", &r->ap_box}};
    memcpy(out, blocks, sizeof blocks);
}

void es_eval_result_free(es_eval_result *r) {
    if (!r) return;
    es_eval_ap_block blocks[ES_EVAL_N_AP_BLOCKS];
    es_eval_ap_blocks(r, blocks);
    for (size_t i = 0; i < ES_EVAL_N_AP_BLOCKS; i++) {
        free(blocks[i].ap->class_ids);
        free(blocks[i].ap->class_ap);
    }
    free(r->notes);
    es_eval_detail_free(r->detail);
    memset(r, 0, sizeof *r);
}
