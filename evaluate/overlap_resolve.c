/* evaluate/overlap_resolve.c: the strict non-overlap rule of AP^e (METRICS "AP^e").
 *
 * --overlap resolve paints an image's predictions in stable descending score order: each
 * pixel goes to the first (highest-scored, then earliest) prediction covering it, masks left
 * empty are dropped. --overlap error rejects the first overlap (naming both entities),
 * --overlap allow keeps the predictions as given.
 *
 * Workload: up to hundreds of predictions on a 2700-px image, so painting works on the
 * runs, never on pixels: the pixels already taken are kept per column as sorted disjoint
 * intervals [y0, y1), and each prediction's runs, split at column boundaries, are
 * subtracted from / merged into only the columns they touch. Cost: O(runs x intervals in
 * those columns), independent of the image area.
 */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

/* Intervals a column holds without a heap block: most columns of an image hold a few, and a
 * malloc per touched column was the largest cost of painting. */
#define COL_INLINE 4

typedef struct col_ivs {
    uint32_t n, cap;
    uint32_t *iv; /* (n, 2): y0, y1 pairs, ascending, disjoint, not adjacent; local or heap */
    uint32_t local[2 * COL_INLINE];
} col_ivs;

typedef struct runs_out {
    uint32_t *cnts;
    size_t m, cap;
    uint64_t pos;   /* pixels emitted so far */
    uint64_t fg;    /* foreground pixels */
} runs_out;

static int runs_push(runs_out *o, uint32_t v) {
    if (o->m == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        uint32_t *p = realloc(o->cnts, nc * sizeof *p);
        if (!p) return ES_ERR_NOMEM;
        o->cnts = p;
        o->cap = nc;
    }
    o->cnts[o->m++] = v;
    return ES_OK;
}

/* Appends foreground [start, start+len) (column-major index); runs stay alternating. */
static int runs_fg(runs_out *o, uint64_t start, uint64_t len) {
    if (o->m > 0 && (o->m % 2) == 0 && start == o->pos) {
        o->cnts[o->m - 1] += (uint32_t)len; /* continues the last foreground run */
    } else {
        ES_CHECK(runs_push(o, (uint32_t)(start - o->pos)));
        ES_CHECK(runs_push(o, (uint32_t)len));
    }
    o->pos = start + len;
    o->fg += len;
    return ES_OK;
}

static int col_reserve(col_ivs *c, uint32_t need) {
    if (need <= c->cap) return ES_OK;
    if (!c->iv && need <= COL_INLINE) {
        c->iv = c->local;
        c->cap = COL_INLINE;
        return ES_OK;
    }
    uint32_t nc = c->cap ? c->cap * 2 : 4;
    while (nc < need) nc *= 2;
    uint32_t *p;
    if (c->iv == c->local) {
        p = malloc((size_t)nc * 2 * sizeof *p);
        if (p) memcpy(p, c->local, (size_t)c->n * 2 * sizeof *p);
    } else {
        p = realloc(c->iv, (size_t)nc * 2 * sizeof *p);
    }
    if (!p) return ES_ERR_NOMEM;
    c->iv = p;
    c->cap = nc;
    return ES_OK;
}

/* Emits the part of [y0, y1) in column x not yet taken, then marks [y0, y1) taken. */
static int paint_segment(col_ivs *c, uint32_t x, uint32_t h, uint32_t y0, uint32_t y1,
                         runs_out *o) {
    uint32_t i = 0;
    while (i < c->n && c->iv[2 * i + 1] <= y0) i++; /* first interval ending after y0 */
    uint32_t cur = y0;
    for (uint32_t k = i; k < c->n && c->iv[2 * k] < y1; k++) {
        if (c->iv[2 * k] > cur) ES_CHECK(runs_fg(o, (uint64_t)x * h + cur, c->iv[2 * k] - cur));
        if (c->iv[2 * k + 1] > cur) cur = c->iv[2 * k + 1];
    }
    if (cur < y1) ES_CHECK(runs_fg(o, (uint64_t)x * h + cur, y1 - cur));
    /* merge [y0, y1) with every interval it overlaps or touches */
    uint32_t lo = 0;
    while (lo < c->n && c->iv[2 * lo + 1] < y0) lo++;
    uint32_t hi = lo;
    uint32_t ny0 = y0, ny1 = y1;
    while (hi < c->n && c->iv[2 * hi] <= y1) {
        if (c->iv[2 * hi] < ny0) ny0 = c->iv[2 * hi];
        if (c->iv[2 * hi + 1] > ny1) ny1 = c->iv[2 * hi + 1];
        hi++;
    }
    if (hi == lo) { /* insert at lo */
        ES_CHECK(col_reserve(c, c->n + 1));
        memmove(c->iv + 2 * (lo + 1), c->iv + 2 * lo, (size_t)(c->n - lo) * 2 * sizeof *c->iv);
        c->n++;
    } else if (hi > lo + 1) { /* collapse lo..hi-1 into lo */
        memmove(c->iv + 2 * (lo + 1), c->iv + 2 * hi, (size_t)(c->n - hi) * 2 * sizeof *c->iv);
        c->n -= hi - lo - 1;
    }
    c->iv[2 * lo] = ny0;
    c->iv[2 * lo + 1] = ny1;
    return ES_OK;
}

/* Paints one mask over the taken columns; *out receives what it keeps. */
static int paint_mask(col_ivs *cols, const es_rle *r, es_rle *out, uint64_t *kept, es_error *err) {
    runs_out o = {0};
    /* painting only removes pixels: the output rarely has more runs than the input */
    o.cap = (size_t)r->m + 8;
    o.cnts = malloc(o.cap * sizeof *o.cnts);
    if (!o.cnts) return es_error_set(err, ES_ERR_NOMEM, "painting predictions: out of memory");
    const uint32_t h = r->h;
    uint64_t pos = 0, colstart = 0;
    uint32_t x = 0; /* column of the walk (no division per run) */
    int rc = ES_OK;
    for (uint32_t i = 0; i < r->m && !rc; i++) {
        uint64_t len = r->cnts[i];
        if ((i & 1) && len) {
            uint64_t s = pos, e = pos + len; /* [s, e) */
            es_walk_col(s, h, &x, &colstart);
            while (s < e && !rc) {
                uint64_t col_end = colstart + h;
                uint32_t y0 = (uint32_t)(s - colstart);
                uint32_t y1 = (uint32_t)((e < col_end ? e : col_end) - colstart);
                rc = paint_segment(&cols[x], x, h, y0, y1, &o);
                s = colstart + y1;
                if (s == col_end) {
                    x++;
                    colstart = col_end;
                }
            }
        }
        pos += len;
    }
    if (!rc) {
        uint64_t total = (uint64_t)r->h * r->w;
        if (o.m == 0) {
            rc = runs_push(&o, (uint32_t)total);
        } else if (o.pos < total) {
            rc = runs_push(&o, (uint32_t)(total - o.pos));
        }
    }
    if (rc) {
        free(o.cnts);
        return es_error_set(err, ES_ERR_NOMEM, "painting predictions: out of memory");
    }
    out->h = r->h;
    out->w = r->w;
    out->m = (uint32_t)o.m;
    out->cnts = o.cnts;
    *kept = o.fg;
    return ES_OK;
}

typedef struct score_idx {
    double score;
    uint32_t idx;
} score_idx;

static int score_idx_cmp(const void *pa, const void *pb) {
    const score_idx *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int es_eval_order_by_score(const es_eval_dt *dt, size_t n, uint32_t *order) {
    score_idx *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return ES_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) tmp[i] = (score_idx){dt[i].score, (uint32_t)i};
    qsort(tmp, n, sizeof *tmp, score_idx_cmp);
    for (size_t i = 0; i < n; i++) order[i] = tmp[i].idx;
    free(tmp);
    return ES_OK;
}

static int copy_all(const es_eval_image *img, es_eval_dt *dt, size_t *n, es_error *err) {
    for (size_t i = 0; i < img->n_dt_raw; i++) {
        dt[i] = img->dt_raw[i];
        dt[i].mask = ES_RLE_EMPTY;
        int rc = es_rle_copy(&dt[i].mask, &img->dt_raw[i].mask, err);
        if (rc) {
            for (size_t k = 0; k < i; k++) es_rle_free(&dt[k].mask);
            return rc;
        }
    }
    *n = img->n_dt_raw;
    return ES_OK;
}

/* The first earlier-painted prediction that prediction idx overlaps (for the message). */
static size_t find_partner(const es_eval_image *img, const uint32_t *order, size_t upto,
                           uint32_t idx) {
    for (size_t k = 0; k < upto; k++)
        if (es_rle_intersection_area(&img->dt_raw[order[k]].mask, &img->dt_raw[idx].mask))
            return order[k];
    return idx;
}

int es_overlap_apply(const es_eval_image *img, es_overlap_policy policy, es_eval_dt **dt_out,
                     size_t *n_out, int64_t *changed, int64_t *dropped, uint64_t *pixels,
                     es_error *err) {
    const size_t n = img->n_dt_raw;
    *dt_out = NULL;
    *n_out = 0;
    *changed = *dropped = 0;
    *pixels = 0;
    es_eval_dt *dt = calloc(n ? n : 1, sizeof *dt);
    if (!dt) return es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
    if (policy == ES_OVERLAP_ALLOW || n == 0) {
        int rc = copy_all(img, dt, n_out, err);
        if (rc) {
            free(dt);
            return rc;
        }
        *dt_out = dt;
        return ES_OK;
    }
    uint32_t *order = malloc(n * sizeof *order);
    col_ivs *cols = calloc(img->width ? img->width : 1, sizeof *cols);
    es_rle *painted = calloc(n, sizeof *painted);
    uint64_t *kept = calloc(n, sizeof *kept);
    int rc = ES_OK;
    if (!order || !cols || !painted || !kept) {
        rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
        goto done;
    }
    if (es_eval_order_by_score(img->dt_raw, n, order)) {
        rc = es_error_set(err, ES_ERR_NOMEM, "image %s: out of memory", img->name);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        const uint32_t i = order[k];
        rc = paint_mask(cols, &img->dt_raw[i].mask, &painted[i], &kept[i], err);
        if (rc) goto done;
        const uint64_t had = img->dt_raw[i].pixels;
        if (policy == ES_OVERLAP_ERROR && kept[i] != had) {
            size_t other = find_partner(img, order, k, i);
            rc = es_error_set(err, ES_ERR_INVALID,
                              "image %s: predictions %lld and %lld overlap (%llu pixels); "
                              "use --overlap resolve or --overlap allow",
                              img->name, (long long)img->dt_raw[other].entity_id,
                              (long long)img->dt_raw[i].entity_id,
                              (unsigned long long)(had - kept[i]));
            goto done;
        }
        if (kept[i] != had) {
            (*changed)++;
            *pixels += had - kept[i];
        }
        if (kept[i] == 0) (*dropped)++;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (policy == ES_OVERLAP_RESOLVE && kept[i] == 0) {
            es_rle_free(&painted[i]);
            continue;
        }
        dt[m] = img->dt_raw[i];
        dt[m].mask = painted[i];
        dt[m].pixels = kept[i];
        painted[i] = ES_RLE_EMPTY;
        m++;
    }
    if (policy == ES_OVERLAP_ERROR) *dropped = 0;
    *dt_out = dt;
    *n_out = m;
    dt = NULL;
done:
    if (painted)
        for (size_t i = 0; i < n; i++) es_rle_free(&painted[i]);
    if (cols)
        for (uint32_t x = 0; x < img->width; x++)
            if (cols[x].iv != cols[x].local) free(cols[x].iv);
    free(order), free(cols), free(painted), free(kept), free(dt);
    return rc;
}
