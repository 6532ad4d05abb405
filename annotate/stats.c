/* stats.c: es_dataset_stats_compute, the Table 2 statistics of a store (see stats.h).
 *
 * Images are cut into chunks of consecutive ids; each pool thread scans chunks with its
 * own read handle and writes one record per image. The records are then summed in image
 * order, so the numbers do not depend on the thread count. Work per entity is its bbox
 * (shape.c), never the full image. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/pool.h"
#include "entseg/progress.h"
#include "entseg/store.h"
#include "shape.h"
#include "stats.h"

#define CHUNK_IMAGES 16

/* What one image contributes; sums over its entities in store order. */
typedef struct image_record {
    uint32_t width, height, entities, crowd;
    uint64_t covered;
    double sum_convexity, sum_convexity_centres, sum_simplicity;
    uint32_t simplicity_n;
    int group; /* index into groups, 1.. */
} image_record;

typedef struct thread_state {
    es_store *store;
    es_shape_scratch scratch;
    uint64_t area_hist[ES_STATS_AREA_BINS];
} thread_state;

typedef struct stats_job {
    const es_image *images;
    size_t n_images;
    image_record *records;
    thread_state *threads;
    size_t n_chunks;
    es_error *chunk_errors; /* (n_chunks) */
    es_progress *progress;
} stats_job;

typedef struct chunk_ctx {
    stats_job *job;
    thread_state *ts;
    size_t next; /* index of the next expected image */
    size_t end;
} chunk_ctx;

static int area_bin(uint64_t area) {
    int k = 0;
    while (area > 1 && k < ES_STATS_AREA_BINS - 1) {
        area >>= 1;
        k++;
    }
    return k;
}

static int on_image(void *ctx_, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    chunk_ctx *ctx = ctx_;
    while (ctx->next < ctx->end && ctx->job->images[ctx->next].id < img->id) ctx->next++;
    if (ctx->next >= ctx->end || ctx->job->images[ctx->next].id != img->id) return ES_OK;
    image_record *r = &ctx->job->records[ctx->next++];
    r->width = img->width;
    r->height = img->height;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].is_crowd) {
            r->crowd++;
            continue;
        }
        es_shape_stats st;
        int rc = es_shape_from_rle(&ents[i].mask, &ctx->ts->scratch, &st, err);
        if (rc) return es_error_prefix(err, "image %s entity %lld", img->name, (long long)ents[i].id);
        if (st.area == 0) continue; /* an empty mask is no entity */
        r->entities++;
        r->covered += st.area;
        r->sum_convexity += st.convexity;
        r->sum_convexity_centres += st.hull_area_centres > 0 ? (double)st.area / st.hull_area_centres : 1.0;
        if (!isnan(st.simplicity)) {
            r->sum_simplicity += st.simplicity;
            r->simplicity_n++;
        }
        ctx->ts->area_hist[area_bin(st.area)]++;
    }
    return ES_OK;
}

static void run_chunk(void *job_, size_t chunk, int thread) {
    stats_job *job = job_;
    size_t first = chunk * CHUNK_IMAGES;
    size_t end = first + CHUNK_IMAGES < job->n_images ? first + CHUNK_IMAGES : job->n_images;
    chunk_ctx ctx = {job, &job->threads[thread], first, end};
    es_store_scan(ctx.ts->store, job->images[first].id, job->images[end - 1].id, 0, on_image, &ctx,
                  &job->chunk_errors[chunk]);
    es_progress_add(job->progress, end - first);
}

/* Group index of a source name, adding it (groups[0] is "all"). */
static int group_of(es_dataset_stats *out, const char *source, es_error *err) {
    const char *name = source && *source ? source : "(none)";
    for (size_t g = 1; g < out->n_groups; g++)
        if (!strcmp(out->groups[g].source, name)) return (int)g;
    es_stats_group *gs = realloc(out->groups, (out->n_groups + 1) * sizeof *gs);
    if (!gs) return -es_error_set(err, ES_ERR_NOMEM, "out of memory");
    out->groups = gs;
    memset(&gs[out->n_groups], 0, sizeof *gs);
    gs[out->n_groups].source = strdup(name);
    if (!gs[out->n_groups].source) return -es_error_set(err, ES_ERR_NOMEM, "out of memory");
    return (int)out->n_groups++;
}

typedef struct group_sums {
    double w, h, sqrt_pixels, convexity, convexity_centres, simplicity, valid;
    uint64_t covered, pixels, simplicity_n;
} group_sums;

static void add_record(es_stats_group *g, group_sums *s, const image_record *r) {
    g->images++;
    g->entities += r->entities;
    g->crowd_skipped += r->crowd;
    if (r->entities > g->max_entities) g->max_entities = r->entities;
    uint64_t pixels = (uint64_t)r->width * r->height;
    s->w += r->width;
    s->h += r->height;
    s->sqrt_pixels += sqrt((double)pixels);
    s->convexity += r->sum_convexity;
    s->convexity_centres += r->sum_convexity_centres;
    s->simplicity += r->sum_simplicity;
    s->simplicity_n += r->simplicity_n;
    s->valid += pixels ? (double)r->covered / (double)pixels : 0.0;
    s->covered += r->covered;
    s->pixels += pixels;
}

static void finish_group(es_stats_group *g, const group_sums *s) {
    double ni = g->images ? (double)g->images : 1.0, ne = g->entities ? (double)g->entities : 1.0;
    g->mean_width = s->w / ni;
    g->mean_height = s->h / ni;
    g->resolution = (g->mean_width + g->mean_height) / 2.0;
    g->mean_sqrt_pixels = s->sqrt_pixels / ni;
    g->entities_per_image = (double)g->entities / ni;
    g->complexity = s->convexity / ne;
    g->complexity_centres = s->convexity_centres / ne;
    g->simplicity = s->simplicity_n ? s->simplicity / (double)s->simplicity_n : 0.0;
    g->simplicity_skipped = g->entities - s->simplicity_n;
    g->valid_area = s->valid / ni;
    g->valid_area_pooled = s->pixels ? (double)s->covered / (double)s->pixels : 0.0;
}

static int reduce(es_dataset_stats *out, const es_image *images, const image_record *records,
                  es_error *err) {
    int *gid = calloc(out->n_images + 1, sizeof *gid);
    if (!gid) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < out->n_images; i++) {
        int g = group_of(out, images[i].source, err);
        if (g < 0) {
            free(gid);
            return -g;
        }
        gid[i] = g;
    }
    group_sums *sums = calloc(out->n_groups, sizeof *sums);
    if (!sums) {
        free(gid);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < out->n_images; i++) {
        add_record(&out->groups[0], &sums[0], &records[i]);
        add_record(&out->groups[gid[i]], &sums[gid[i]], &records[i]);
        out->widths[i] = records[i].width;
        out->heights[i] = records[i].height;
        out->entity_counts[i] = records[i].entities;
        out->covered[i] = records[i].covered;
        out->sum_convexity[i] = records[i].sum_convexity;
        out->sum_simplicity[i] = records[i].sum_simplicity;
        out->simplicity_n[i] = records[i].simplicity_n;
    }
    for (size_t g = 0; g < out->n_groups; g++) finish_group(&out->groups[g], &sums[g]);
    free(sums);
    free(gid);
    return ES_OK;
}

static int cmp_group(const void *a, const void *b) {
    return strcmp(((const es_stats_group *)a)->source, ((const es_stats_group *)b)->source);
}

int es_dataset_stats_compute(const char *path, int threads, int quiet, es_dataset_stats *out,
                             es_error *err) {
    memset(out, 0, sizeof *out);
    es_store *main_store = NULL;
    es_image *images = NULL;
    size_t n = 0;
    ES_CHECK(es_store_open(path, ES_OPEN_READ, &main_store, err));
    int rc = es_store_images(main_store, &images, &n, err);
    es_store_close(main_store);
    if (rc) return rc;

    out->store_path = strdup(path);
    out->n_images = n;
    out->groups = calloc(1, sizeof *out->groups);
    out->widths = calloc(n + 1, sizeof *out->widths);
    out->heights = calloc(n + 1, sizeof *out->heights);
    out->entity_counts = calloc(n + 1, sizeof *out->entity_counts);
    out->covered = calloc(n + 1, sizeof *out->covered);
    out->sum_convexity = calloc(n + 1, sizeof *out->sum_convexity);
    out->sum_simplicity = calloc(n + 1, sizeof *out->sum_simplicity);
    out->simplicity_n = calloc(n + 1, sizeof *out->simplicity_n);
    image_record *records = calloc(n + 1, sizeof *records);
    size_t n_chunks = (n + CHUNK_IMAGES - 1) / CHUNK_IMAGES;
    es_error *chunk_errors = calloc(n_chunks + 1, sizeof *chunk_errors);
    es_pool *pool = es_pool_create(threads);
    int nt = es_pool_threads(pool);
    thread_state *ts = calloc((size_t)nt, sizeof *ts);
    if (!out->store_path || !out->groups || !out->widths || !out->heights || !out->entity_counts ||
        !out->covered || !out->sum_convexity || !out->sum_simplicity || !out->simplicity_n ||
        !records || !chunk_errors || !pool || !ts) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory (%zu images)", n);
        goto done;
    }
    out->n_groups = 1;
    out->groups[0].source = strdup("all");
    for (int t = 0; t < nt && !rc; t++) rc = es_store_open(path, ES_OPEN_READ, &ts[t].store, err);
    if (rc) goto done;

    stats_job job = {images, n, records, ts, n_chunks, chunk_errors, NULL};
    job.progress = es_progress_start("stats", n, quiet);
    es_pool_for(pool, n_chunks, run_chunk, &job);
    es_progress_finish(job.progress);
    for (size_t c = 0; c < n_chunks && !rc; c++)
        if (chunk_errors[c].code) {
            rc = chunk_errors[c].code;
            if (err) *err = chunk_errors[c];
        }
    if (rc) goto done;
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < ES_STATS_AREA_BINS; k++) out->area_hist[k] += ts[t].area_hist[k];
    rc = reduce(out, images, records, err);
    if (!rc && out->n_groups > 2) qsort(out->groups + 1, out->n_groups - 1, sizeof *out->groups, cmp_group);
done:
    for (int t = 0; ts && t < nt; t++) {
        es_store_close(ts[t].store);
        es_shape_scratch_free(&ts[t].scratch);
    }
    free(ts);
    es_pool_free(pool);
    free(chunk_errors);
    free(records);
    es_images_free(images, n);
    if (rc) es_dataset_stats_free(out);
    return rc;
}

void es_dataset_stats_free(es_dataset_stats *s) {
    if (!s) return;
    for (size_t g = 0; g < s->n_groups; g++) free(s->groups[g].source);
    free(s->groups);
    free(s->widths);
    free(s->heights);
    free(s->entity_counts);
    free(s->covered);
    free(s->sum_convexity);
    free(s->sum_simplicity);
    free(s->simplicity_n);
    free(s->store_path);
    memset(s, 0, sizeof *s);
}
