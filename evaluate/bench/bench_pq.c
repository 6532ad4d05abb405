/* bench_pq.c: time of PQ and boundary PQ (evaluate/pq.h) and of boundary bands alone on a
 * synthetic COCO-val-shaped case held in memory (store reads not included: this isolates
 * the metric; the whole evaluator is timed by its own bench).
 *
 * Images of 480-640 x 360-480 px; ground truth: ~13 shapes painted over each other (so they
 * do not overlap), the rest void, 1 in 30 crowd; predictions: each ground-truth shape shifted
 * by a few pixels plus one spurious shape, painted so they do not overlap either (~14).
 *
 * Usage: bench-pq [n_images=5000] [threads=2] [preds_extra=1] [profile_repeats=0] [scale=1]
 * Prints one line per measurement: name, seconds, and the per-image cost.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boundary.h"
#include "pq.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double last_cpu; /* CPU seconds of the last run() (all threads) */

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

typedef struct shape {
    int cx, cy, rx, ry, disc;
} shape;

static void paint(uint32_t *lab, uint32_t h, uint32_t w, const shape *s, uint32_t id) {
    int y0 = s->cy - s->ry, y1 = s->cy + s->ry, x0 = s->cx - s->rx, x1 = s->cx + s->rx;
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
    if (y1 >= (int)h) y1 = (int)h - 1;
    if (x1 >= (int)w) x1 = (int)w - 1;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            long dx = x - s->cx, dy = y - s->cy;
            if (s->disc && dx * dx * s->ry * s->ry + dy * dy * s->rx * s->rx >
                               (long)s->rx * s->rx * s->ry * s->ry)
                continue;
            lab[(size_t)y * w + x] = id;
        }
}

/* One RLE per id 1..n of a label map (column-major pass). */
static void label_rles(const uint32_t *lab, uint32_t h, uint32_t w, uint32_t n, es_rle *out,
                       uint64_t *pixels) {
    uint32_t **cnts = calloc(n + 1, sizeof *cnts);
    size_t *m = calloc(n + 1, sizeof *m), *cap = calloc(n + 1, sizeof *cap);
    uint64_t *last = calloc(n + 1, sizeof *last), pos = 0, total = (uint64_t)h * w;
    for (uint32_t i = 0; i <= n; i++) pixels[i] = 0;
    for (uint32_t x = 0; x < w; x++)
        for (uint32_t y = 0; y < h; y++, pos++) {
            uint32_t id = lab[(size_t)y * w + x];
            if (!id) continue;
            pixels[id]++;
            if (m[id] && last[id] == pos) {
                cnts[id][m[id] - 1]++;
            } else {
                if (m[id] + 2 > cap[id]) {
                    cap[id] = cap[id] ? 2 * cap[id] : 64;
                    cnts[id] = realloc(cnts[id], cap[id] * sizeof **cnts);
                }
                cnts[id][m[id]++] = (uint32_t)(pos - last[id]);
                cnts[id][m[id]++] = 1;
            }
            last[id] = pos + 1;
        }
    for (uint32_t id = 1; id <= n; id++) {
        if (m[id] + 1 > cap[id]) cnts[id] = realloc(cnts[id], (m[id] + 1) * sizeof **cnts);
        if (m[id] == 0 || last[id] < total) cnts[id][m[id]++] = (uint32_t)(total - last[id]);
        out[id - 1] = (es_rle){h, w, (uint32_t)m[id], cnts[id]};
    }
    free(cnts);
    free(m);
    free(cap);
    free(last);
}

static int scale = 1; /* image and shape size multiplier (4: EntitySeg-like ~2500 px) */

static void make_image(es_eval_image *img, int64_t id, uint32_t extra_preds) {
    uint32_t h = (360 + rnd() % 121) * scale, w = (480 + rnd() % 161) * scale;
    uint32_t ng = 9 + rnd() % 11; /* 9..19 painted, ~12.5 left visible */
    shape s[64];
    uint32_t *lab = calloc((size_t)h * w, sizeof *lab), *plab = calloc((size_t)h * w, sizeof *plab);
    for (uint32_t i = 0; i < ng; i++) {
        int big = rnd() % 4 == 0;
        s[i] = (shape){(int)(rnd() % w), (int)(rnd() % h),
                       scale * (big ? 60 + (int)(rnd() % 200) : 4 + (int)(rnd() % 60)),
                       scale * (big ? 50 + (int)(rnd() % 150) : 4 + (int)(rnd() % 50)),
                       (int)(rnd() % 2)};
        paint(lab, h, w, &s[i], i + 1);
    }
    uint32_t nd = ng + extra_preds;
    for (uint32_t i = 0; i < nd; i++) {
        shape p;
        if (i < ng) {
            p = s[i];
            p.cx += scale * ((int)(rnd() % 9) - 4);
            p.cy += scale * ((int)(rnd() % 9) - 4);
            p.rx += (int)(rnd() % 5) - 2;
            p.ry += (int)(rnd() % 5) - 2;
            if (p.rx < 1) p.rx = 1;
            if (p.ry < 1) p.ry = 1;
        } else {
            p = (shape){(int)(rnd() % w), (int)(rnd() % h), scale * (5 + (int)(rnd() % 40)),
                        scale * (5 + (int)(rnd() % 40)), 1};
        }
        paint(plab, h, w, &p, i + 1);
    }
    es_rle *gm = calloc(ng, sizeof *gm), *dm = calloc(nd, sizeof *dm);
    uint64_t *gp = calloc(ng + 1, sizeof *gp), *dp = calloc(nd + 1, sizeof *dp);
    label_rles(lab, h, w, ng, gm, gp);
    label_rles(plab, h, w, nd, dm, dp);
    memset(img, 0, sizeof *img);
    img->image_id = id;
    img->source_id = id;
    img->height = h;
    img->width = w;
    img->gt = calloc(ng, sizeof *img->gt);
    img->dt = calloc(nd, sizeof *img->dt);
    for (uint32_t i = 0; i < ng; i++) {
        if (!gp[i + 1]) {
            free(gm[i].cnts);
            continue;
        }
        es_eval_gt *g = &img->gt[img->n_gt++];
        g->mask = gm[i];
        g->pixels = gp[i + 1];
        g->area = (double)gp[i + 1];
        g->is_crowd = rnd() % 30 == 0;
        g->category_id = 1 + rnd() % 20;
        g->isthing = g->category_id <= 12;
        g->source_order = (int64_t)i;
    }
    for (uint32_t i = 0; i < nd; i++) {
        if (!dp[i + 1]) {
            free(dm[i].cnts);
            continue;
        }
        es_eval_dt *d = &img->dt[img->n_dt];
        d->mask = dm[i];
        d->pixels = dp[i + 1];
        d->score = (double)(rnd() % 1000) / 1000.0;
        d->category_id = i < ng && rnd() % 4 ? 1 + rnd() % 20 : 1 + rnd() % 20;
        d->input_index = (int64_t)img->n_dt;
        img->n_dt++;
    }
    free(gm);
    free(dm);
    free(gp);
    free(dp);
    free(lab);
    free(plab);
}

typedef struct job {
    es_pq_eval *ev;
    const es_eval_image *imgs;
    size_t n, first, step;
    int bands_only;
    uint64_t band_pixels;
} job;

static void *work(void *arg) {
    job *j = arg;
    es_error err = {0};
    for (size_t i = j->first; i < j->n; i += j->step) {
        const es_eval_image *img = &j->imgs[i];
        if (j->bands_only) {
            uint32_t d = es_boundary_width(0.02, img->height, img->width);
            for (size_t k = 0; k < img->n_gt + img->n_dt; k++) {
                const es_rle *r = k < img->n_gt ? &img->gt[k].mask : &img->dt[k - img->n_gt].mask;
                es_bitmask b;
                if (es_boundary_band(&b, NULL, r, d, &err) == ES_OK) j->band_pixels += b.area;
                es_bitmask_free(&b);
            }
        } else if (es_pq_eval_image(j->ev, i, img, &err)) {
            fprintf(stderr, "bench-pq: %s\n", err.msg);
            exit(1);
        }
    }
    return NULL;
}

static double run_once(const es_eval_image *imgs, size_t n, int threads,
                       const es_pq_options *o, int bands_only, es_pq_results *res) {
    es_error err = {0};
    es_pq_eval *ev = NULL;
    if (!bands_only && es_pq_eval_create(&ev, o, n, &err)) {
        fprintf(stderr, "bench-pq: %s\n", err.msg);
        exit(1);
    }
    job jobs[16];
    pthread_t th[16];
    double t0 = now(), c0 = cpu_now();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){ev, imgs, n, (size_t)t, (size_t)threads, bands_only, 0};
        pthread_create(&th[t], NULL, work, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
    last_cpu = cpu_now() - c0;
    if (ev) {
        es_pq_eval_summarize(ev, res, &err);
        es_pq_eval_free(ev);
    }
    return now() - t0;
}

/* Best of three (the machine is shared): wall seconds; last_cpu is that run's CPU time. */
static double run(const es_eval_image *imgs, size_t n, int threads, const es_pq_options *o,
                  int bands_only, es_pq_results *res) {
    double best = 1e30, best_cpu = 0;
    for (int rep = 0; rep < 3; rep++) {
        es_pq_results r;
        double t = run_once(imgs, n, threads, o, bands_only, &r);
        if (!bands_only) {
            if (rep == 2) *res = r;
            else es_pq_results_free(&r);
        }
        if (t < best) {
            best = t;
            best_cpu = last_cpu;
        }
    }
    last_cpu = best_cpu;
    return best;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 5000;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    uint32_t extra = argc > 3 ? (uint32_t)atoi(argv[3]) : 1;
    int profile = argc > 4 ? atoi(argv[4]) : 0; /* > 0: only repeat the full PQ run (perf) */
    scale = argc > 5 ? atoi(argv[5]) : 1;
    if (scale < 1) scale = 1;
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    es_eval_image *imgs = calloc(n, sizeof *imgs);
    size_t ng = 0, nd = 0, runs = 0;
    for (size_t i = 0; i < n; i++) {
        make_image(&imgs[i], (int64_t)i + 1, extra);
        ng += imgs[i].n_gt;
        nd += imgs[i].n_dt;
        for (size_t k = 0; k < imgs[i].n_gt; k++) runs += imgs[i].gt[k].mask.m;
        for (size_t k = 0; k < imgs[i].n_dt; k++) runs += imgs[i].dt[k].mask.m;
    }
    es_pq_category cats[20];
    for (int k = 0; k < 20; k++) cats[k] = (es_pq_category){k + 1, k + 1 <= 12};
    printf("bench-pq: %zu images (scale %d), %zu gt, %zu predictions, %.0f runs per mask, %d "
           "threads\n", n, scale, ng, nd, (double)runs / (double)(ng + nd), threads);
    es_pq_options o = es_pq_options_default();
    o.categories = cats;
    o.n_categories = 20;
    es_pq_results r;
    if (profile > 0) {
        o.classes = 1;
        o.boundary = getenv("BENCH_PQ_NO_BOUNDARY") == NULL;
        for (int i = 0; i < profile; i++) {
            double tp = run_once(imgs, n, threads, &o, 0, &r);
            printf("full pq run %d: %.3f s wall, %.3f s CPU\n", i, tp, last_cpu);
            es_pq_results_free(&r);
        }
        return 0;
    }
    double t = run(imgs, n, threads, &o, 0, &r);
    printf("pq (agnostic)                         %.3f s wall  %.1f us/image CPU  PQ %.4f\n", t,
           1e6 * last_cpu / (double)n, r.summary[0].all.pq);
    es_pq_results_free(&r);
    o.classes = 1;
    t = run(imgs, n, threads, &o, 0, &r);
    printf("pq + pq_classes                       %.3f s wall  %.1f us/image CPU  PQ %.4f\n", t,
           1e6 * last_cpu / (double)n, r.summary[1].all.pq);
    es_pq_results_free(&r);
    o.boundary = 1;
    t = run(imgs, n, threads, &o, 0, &r);
    printf("pq + classes + boundary_pq (+classes) %.3f s wall  %.1f us/image CPU  bPQ %.4f\n", t,
           1e6 * last_cpu / (double)n, r.summary[2].all.pq);
    es_pq_results_free(&r);
    t = run(imgs, n, threads, &o, 1, NULL);
    printf("boundary bands only (all masks)       %.3f s wall  %.1f us/image CPU\n", t,
           1e6 * last_cpu / (double)n);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < imgs[i].n_gt; k++) free(imgs[i].gt[k].mask.cnts);
        for (size_t k = 0; k < imgs[i].n_dt; k++) free(imgs[i].dt[k].mask.cnts);
        free(imgs[i].gt);
        free(imgs[i].dt);
    }
    free(imgs);
    return 0;
}
