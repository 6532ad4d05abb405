/* synth_pred.c: entseg-convert synth-pred: plausible predictions for a ground-truth store,
 * for tests and the evaluator's benchmarks.
 *
 * Per image, from its own random stream (seed, image index), every non-crowd ground-truth
 * entity is, in order of preference:
 *   missed (more often when tiny), merged with an overlapping-box neighbour, split in two
 *   halves, or copied with a shift and 0-2 steps of 4-neighbour erosion or dilation (so
 *   predictions overlap each other and spill over their neighbours); some get a shifted
 *   duplicate with a lower score.
 * Plus false positives (random ellipses and boxes). Scores follow the IoU with the source
 * entity plus noise and are rounded to 0.05 half of the time (ties). The top --per-image
 * by score are kept. All mask work is on RLEs (pad, crop, merge), never decoded, so it
 * scales to 15,000 px images.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "commands.h"
#include "convert_internal.h"
#include "entseg/pool.h"
#include "entseg/rle.h"
#include "synth_internal.h"

typedef struct pred_job {
    const es_synth_pred_options *o;
    es_store **gt;        /* (nthreads) read handles, one per pool thread */
    int nthreads;
    es_image *images;     /* (nimages) of the ground truth */
    size_t nimages;
    es_store *out;
    es_convert_report *report;
} pred_job;

typedef struct pred_list {
    es_entity *e;   /* (n) */
    size_t n, cap;
} pred_list;

static void pred_list_free(pred_list *l) {
    if (!l) return;
    es_entities_free(l->e, l->n);
    free(l);
}

/* Appends mask (moved in) with score; an empty mask is dropped. */
static int pred_push(pred_list *l, es_rle *mask, double score, const es_entity *src, es_error *err) {
    if (es_rle_area(mask) == 0) {
        es_rle_free(mask);
        return ES_OK;
    }
    if (es_grow((void **)&l->e, &l->cap, l->n + 1, sizeof *l->e, err)) {
        es_rle_free(mask);
        return err ? err->code : ES_ERR_NOMEM;
    }
    es_entity *e = &l->e[l->n++];
    *e = es_entity_default();
    e->mask = *mask;
    *mask = ES_RLE_EMPTY;
    e->score = score;
    if (src) {
        e->category_id = src->category_id;
        e->isthing = src->isthing;
        e->source_segment_id = src->id;
    }
    return ES_OK;
}

/* mask moved by (dx, dy) pixels, same size (pixels pushed out are lost). */
static int rle_shift(es_rle *out, const es_rle *r, int dx, int dy, es_error *err) {
    uint32_t ax = (uint32_t)abs(dx), ay = (uint32_t)abs(dy);
    if (ax >= r->w || ay >= r->h) return es_rle_zeros(out, r->h, r->w, err);
    es_rle padded = ES_RLE_EMPTY;
    ES_CHECK(es_rle_pad(&padded, r, dx > 0 ? ax : 0, dy > 0 ? ay : 0, dx < 0 ? ax : 0, dy < 0 ? ay : 0, err));
    int rc = es_rle_crop(out, &padded, dx < 0 ? ax : 0, dy < 0 ? ay : 0, r->w, r->h, err);
    es_rle_free(&padded);
    return rc;
}

/* One step of 4-neighbour dilation (grow = 1) or erosion (grow = 0). */
static int rle_morph(es_rle *out, const es_rle *r, int grow, es_error *err) {
    es_rle s[5] = {ES_RLE_EMPTY, ES_RLE_EMPTY, ES_RLE_EMPTY, ES_RLE_EMPTY, ES_RLE_EMPTY};
    static const int d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    int rc = es_rle_copy(&s[0], r, err);
    for (int k = 0; k < 4 && !rc; k++) rc = rle_shift(&s[k + 1], r, d[k][0], d[k][1], err);
    if (!rc) rc = es_rle_merge(out, s, 5, grow ? 0 : 1, err);
    for (int k = 0; k < 5; k++) es_rle_free(&s[k]);
    return rc;
}

static double quantize_score(es_rng *r, double s) {
    if (s < 0.001) s = 0.001;
    if (s > 1) s = 1;
    if (es_rng_chance(r, 0.5)) s = floor(s * 20 + 0.5) / 20; /* ties, as real models give */
    return s < 0.001 ? 0.05 : s;
}

static double score_for(es_rng *r, const es_rle *pred, const es_rle *gt, double noise) {
    double iou = gt ? es_rle_iou(pred, gt, 0) : 0;
    return quantize_score(r, 0.15 + 0.7 * iou * (1 - 0.5 * noise) + es_rng_range(r, -0.15, 0.15) * (0.3 + noise));
}

static int boxes_touch(const double a[4], const double b[4]) {
    return a[0] <= b[0] + b[2] + 1 && b[0] <= a[0] + a[2] + 1 && a[1] <= b[1] + b[3] + 1 && b[1] <= a[1] + a[3] + 1;
}

/* A perturbed copy of g: shifted by up to `shift` px, then 0-2 erosion/dilation steps. */
static int perturb(es_rng *r, const es_rle *g, double noise, double size, es_rle *out, es_error *err) {
    int m = (int)(noise * 0.08 * size + 0.5);
    int dx = m ? (int)es_rng_below(r, 2 * (uint32_t)m + 1) - m : 0, dy = m ? (int)es_rng_below(r, 2 * (uint32_t)m + 1) - m : 0;
    es_rle cur = ES_RLE_EMPTY, next = ES_RLE_EMPTY;
    ES_CHECK(rle_shift(&cur, g, dx, dy, err));
    uint32_t steps = es_rng_chance(r, 0.3 + noise) ? 1 + es_rng_below(r, 2) : 0;
    int grow = es_rng_chance(r, 0.5);
    for (uint32_t k = 0; k < steps; k++) {
        int rc = rle_morph(&next, &cur, grow, err);
        es_rle_free(&cur);
        if (rc) return rc;
        cur = next;
        next = ES_RLE_EMPTY;
    }
    *out = cur;
    return ES_OK;
}

static int false_positive(es_rng *r, uint32_t w, uint32_t h, es_rle *out, es_error *err) {
    double s = (w < h ? w : h) * es_rng_range(r, 0.02, 0.25) + 1;
    double cx = es_rng_range(r, 0, w), cy = es_rng_range(r, 0, h);
    if (es_rng_chance(r, 0.4)) {
        double box[4] = {floor(cx - s / 2), floor(cy - s / 3), floor(s) + 1, floor(s * 2 / 3) + 1};
        return es_rle_from_bbox(out, box, h, w, err);
    }
    double xy[2 * 16];
    double b = s * es_rng_range(r, 0.4, 1);
    for (int i = 0; i < 16; i++) {
        double t = 2 * ES_PI * i / 16;
        xy[2 * i] = cx + s * es_synth_cos(t);
        xy[2 * i + 1] = cy + b * es_synth_sin(t);
    }
    return es_rle_from_polygon(out, xy, 16, h, w, err);
}

static int cmp_score_desc(const void *a, const void *b) {
    const es_entity *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->source_order > y->source_order) - (x->source_order < y->source_order);
}

static int predict_image(const pred_job *job, size_t index, const es_image *img, const es_entity *gt, size_t ngt,
                         pred_list *out, es_error *err) {
    const es_synth_pred_options *o = job->o;
    double noise = o->noise;
    es_rng rng, *r = &rng;
    es_rng_seed(r, o->seed ^ 0x7072656473ull /* "preds" */, index);
    int rc = ES_OK;
    for (size_t i = 0; i < ngt && !rc; i++) {
        const es_entity *g = &gt[i];
        if (g->is_crowd) continue;
        double size = sqrt((double)g->area);
        double miss = 0.03 + 0.4 * noise + (g->area < 16 ? 0.4 : 0);
        if (es_rng_chance(r, miss)) continue;
        es_rle m = ES_RLE_EMPTY;
        double u = es_rng_uniform(r);
        if (u < 0.25 * noise) { /* merge with a neighbour whose box touches */
            size_t j = i + 1;
            while (j < ngt && (gt[j].is_crowd || !boxes_touch(g->bbox, gt[j].bbox))) j++;
            if (j < ngt) {
                rc = es_rle_union(&m, &g->mask, &gt[j].mask, err);
                if (!rc) rc = pred_push(out, &m, score_for(r, &m, &g->mask, noise), g, err);
                continue;
            }
        } else if (u < 0.45 * noise && g->bbox[2] >= 2) { /* split into left and right halves */
            double half = floor(g->bbox[2] / 2);
            double left[4] = {g->bbox[0], g->bbox[1], half, g->bbox[3]};
            double right[4] = {g->bbox[0] + half, g->bbox[1], g->bbox[2] - half, g->bbox[3]};
            for (int side = 0; side < 2 && !rc; side++) {
                es_rle box = ES_RLE_EMPTY;
                rc = es_rle_from_bbox(&box, side ? right : left, img->height, img->width, err);
                if (!rc) rc = es_rle_intersect(&m, &g->mask, &box, err);
                es_rle_free(&box);
                if (!rc) {
                    double s = score_for(r, &m, &g->mask, noise);
                    rc = pred_push(out, &m, s, g, err);
                }
            }
            continue;
        }
        rc = perturb(r, &g->mask, noise, size, &m, err);
        if (rc) break;
        double s = score_for(r, &m, &g->mask, noise);
        es_rle dup = ES_RLE_EMPTY;
        if (es_rng_chance(r, 0.1 + 0.2 * noise)) rc = perturb(r, &g->mask, noise + 0.3, size, &dup, err);
        if (!rc) rc = pred_push(out, &m, s, g, err);
        if (!rc && dup.cnts) rc = pred_push(out, &dup, quantize_score(r, s * es_rng_range(r, 0.3, 0.9)), g, err);
        es_rle_free(&m);
        es_rle_free(&dup);
    }
    uint32_t nfp = es_rng_below(r, 1 + (uint32_t)(noise * 8));
    for (uint32_t k = 0; k < nfp && !rc; k++) {
        es_rle m = ES_RLE_EMPTY;
        rc = false_positive(r, img->width, img->height, &m, err);
        if (!rc) rc = pred_push(out, &m, quantize_score(r, es_rng_range(r, 0.02, 0.6)), NULL, err);
    }
    if (rc) return rc;
    for (size_t k = 0; k < out->n; k++) out->e[k].source_order = (int64_t)k;
    if (out->n > 1) qsort(out->e, out->n, sizeof *out->e, cmp_score_desc);
    uint32_t keep = o->per_image ? o->per_image : 100;
    if (out->n > keep) {
        for (size_t k = keep; k < out->n; k++) es_rle_free(&out->e[k].mask);
        out->n = keep;
    }
    for (size_t k = 0; k < out->n; k++) out->e[k].source_order = (int64_t)k;
    return ES_OK;
}

static int pred_work(void *ctx, size_t i, int thread, void **result, es_error *err) {
    pred_job *job = ctx;
    const es_image *img = &job->images[i];
    es_entity *gt = NULL;
    size_t ngt = 0;
    *result = NULL;
    int rc = es_store_read_entities(job->gt[thread], img->id, &gt, &ngt, err);
    if (rc) return es_error_prefix(err, "image %s", img->name);
    pred_list *l = calloc(1, sizeof *l);
    if (!l) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    else rc = predict_image(job, i, img, gt, ngt, l, err);
    es_entities_free(gt, ngt);
    if (rc) {
        pred_list_free(l);
        return es_error_prefix(err, "image %s", img->name);
    }
    *result = l;
    return ES_OK;
}

static int pred_write(void *ctx, size_t i, void *result, es_error *err) {
    pred_job *job = ctx;
    pred_list *l = result;
    const es_image *src = &job->images[i];
    es_image img = *src; /* strings are copied by the store */
    img.id = ES_NONE;
    int rc = es_store_add_image(job->out, &img, err);
    if (!rc) rc = es_store_add_entities(job->out, img.id, l->e, l->n, err);
    if (!rc && job->report) {
        job->report->images++;
        job->report->entities += (int64_t)l->n;
    }
    if (rc) es_error_prefix(err, "image %s", src->name);
    pred_list_free(l);
    return rc;
}

static void pred_drop(void *ctx, void *result) {
    (void)ctx;
    pred_list_free(result);
}

static const char *pred_label(void *ctx, size_t i) {
    pred_job *job = ctx;
    return job->images[i].name;
}

int es_synth_predictions(const char *gt_db, const char *out_db, const es_synth_pred_options *o,
                         const es_convert_common *c, es_error *err) {
    if (!gt_db || !out_db || !o || !c) return es_error_set(err, ES_ERR_INVALID, "es_synth_predictions: NULL argument");
    if (!(o->noise >= 0 && o->noise <= 1)) return es_error_set(err, ES_ERR_INVALID, "noise %g is not in [0, 1]", o->noise);
    pred_job job;
    memset(&job, 0, sizeof job);
    job.o = o;
    job.report = c->report;
    job.nthreads = c->threads > 0 ? c->threads : es_ncores();
    job.gt = calloc((size_t)job.nthreads, sizeof *job.gt);
    if (!job.gt) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = ES_OK;
    for (int t = 0; t < job.nthreads && !rc; t++) rc = es_store_open(gt_db, ES_OPEN_READ, &job.gt[t], err);
    if (!rc && es_store_get_kind(job.gt[0]) != ES_STORE_GT)
        rc = es_error_set(err, ES_ERR_INVALID, "%s: is a prediction store, not ground truth", gt_db);
    if (!rc) rc = es_store_images(job.gt[0], &job.images, &job.nimages, err);
    es_store *out = NULL;
    char options[256];
    snprintf(options, sizeof options, "{\"gt\":\"%.120s\",\"seed\":%" PRIu64 ",\"per_image\":%u,\"noise\":%g}", gt_db,
             o->seed, o->per_image ? o->per_image : 100, o->noise);
    if (!rc) rc = es_convert_create_store(out_db, ES_STORE_PRED, 0, "entseg-convert synth-pred 0.1", options, c, &out, err);
    if (!rc) {
        es_category *cats = NULL;
        size_t ncat = 0;
        rc = es_store_categories(job.gt[0], &cats, &ncat, err);
        for (size_t k = 0; k < ncat && !rc; k++) rc = es_store_add_category(out, &cats[k], err);
        es_categories_free(cats, ncat);
    }
    if (!rc) {
        job.out = out;
        es_pipeline_ops ops = {pred_work, pred_write, pred_drop, pred_label};
        rc = es_pipeline_run(job.nimages, &ops, &job, out, c, "synth-pred", err);
        if (!rc) rc = es_convert_finish_store(out, c->report, err);
        else es_store_close(out);
    }
    for (int t = 0; t < job.nthreads; t++) es_store_close(job.gt[t]);
    free(job.gt);
    es_images_free(job.images, job.nimages);
    return rc;
}

static const char *pred_usage =
    "usage: entseg-convert synth-pred --gt GT.db -o PRED.db [options]\n"
    "\n"
    "Writes plausible predictions for a ground-truth store (for tests and benchmarks): each\n"
    "entity is missed, merged with a neighbour, split in two, or copied shifted and eroded or\n"
    "dilated (overlapping its neighbours), sometimes with a lower-scored duplicate; plus false\n"
    "positives. Scores follow the IoU with the source entity plus noise, half of them rounded\n"
    "to 0.05 (ties). Deterministic from the seed.\n"
    "\n"
    "options:\n"
    "  --gt FILE          the ground-truth store (required)\n"
    "  -o, --output FILE  the prediction store to write (required)\n"
    "  --seed S           random seed (default 1)\n"
    "  --per-image N      keep at most the N best-scored predictions per image (default 100)\n"
    "  --noise X          0 (near-perfect) .. 1 (poor) (default 0.3)\n";

int es_cmd_synth_pred(int argc, char **argv) {
    const char *cmd = "synth-pred";
    es_synth_pred_options o = {1, 100, 0.3};
    es_convert_common common = {0};
    es_convert_report report;
    memset(&report, 0, sizeof report);
    const char *gt = NULL, *out = NULL, *seed = NULL, *per = NULL, *noise = NULL;
    es_cli_opt opts[] = {
        {"--gt", NULL, &gt, NULL},
        {"--output", "-o", &out, NULL},
        {"--seed", NULL, &seed, NULL},
        {"--per-image", NULL, &per, NULL},
        {"--noise", NULL, &noise, NULL},
        {NULL, NULL, NULL, NULL},
    };
    int rc = es_cli_parse(argc, argv, opts, pred_usage, &common, NULL, 0, NULL);
    if (rc >= 0) return rc;
    if (!es_cli_require(cmd, gt, "--gt GT.db") || !es_cli_require(cmd, out, "-o PRED.db")) return 2;
    if (seed && !es_convert_arg_u64(cmd, "--seed", seed, &o.seed)) return 2;
    if (per && !es_convert_arg_u32(cmd, "--per-image", per, 1, 1000000, &o.per_image)) return 2;
    if (noise && !es_convert_arg_double(cmd, "--noise", noise, 0, 1, &o.noise)) return 2;
    common.report = &report;
    es_error err = {0, ""};
    rc = es_synth_predictions(gt, out, &o, &common, &err);
    return es_cli_finish(cmd, out, rc, &err, &report, common.quiet);
}
