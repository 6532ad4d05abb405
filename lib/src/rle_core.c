/* rle_core.c: es_rle lifetime, validation, area and bbox (pycocotools rleArea / rleToBbox),
 * plus the internal run builder and cursor every other rle_*.c file uses. */
#include <stdlib.h>
#include <string.h>

#include "rle_internal.h"

int es_rle_check_size(uint32_t h, uint32_t w, const char *fn, es_error *err) {
    if ((uint64_t)h * w > UINT32_MAX)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: mask of %u x %u pixels is too large (h*w must be below 2^32)",
                            fn, h, w);
    return ES_OK;
}

uint64_t es_rle_sum(const es_rle *r) {
    uint64_t s = 0;
    for (uint32_t i = 0; i < r->m; i++) s += r->cnts[i];
    return s;
}

void es_rle_adopt(es_rle *r, uint32_t h, uint32_t w, uint32_t m, uint32_t *cnts) {
    r->h = h;
    r->w = w;
    r->m = m;
    r->cnts = cnts;
}

int es_rle_init(es_rle *r, uint32_t h, uint32_t w, uint32_t m, const uint32_t *cnts,
                es_error *err) {
    *r = ES_RLE_EMPTY;
    if (m > 0 && !cnts)
        return es_error_set(err, ES_ERR_INVALID, "es_rle_init: %u runs but no counts", m);
    uint32_t *copy = NULL;
    if (m > 0) {
        copy = malloc(sizeof *copy * m);
        if (!copy) return es_error_set(err, ES_ERR_NOMEM, "es_rle_init: out of memory for %u runs", m);
        memcpy(copy, cnts, sizeof *copy * m);
    }
    es_rle_adopt(r, h, w, m, copy);
    return ES_OK;
}

int es_rle_copy(es_rle *dst, const es_rle *src, es_error *err) {
    return es_rle_init(dst, src->h, src->w, src->m, src->cnts, err);
}

void es_rle_free(es_rle *r) {
    if (!r) return;
    free(r->cnts);
    *r = ES_RLE_EMPTY;
}

int es_rle_zeros(es_rle *r, uint32_t h, uint32_t w, es_error *err) {
    *r = ES_RLE_EMPTY;
    ES_CHECK(es_rle_check_size(h, w, "es_rle_zeros", err));
    uint32_t n = h * w;
    if (n == 0) {
        es_rle_adopt(r, h, w, 0, NULL);
        return ES_OK;
    }
    return es_rle_init(r, h, w, 1, &n, err);
}

int es_rle_validate(const es_rle *r, es_error *err) {
    if (r->m > 0 && !r->cnts)
        return es_error_set(err, ES_ERR_FORMAT, "rle: %u runs but no counts", r->m);
    uint64_t want = (uint64_t)r->h * r->w, got = es_rle_sum(r);
    if (got != want)
        return es_error_set(err, ES_ERR_FORMAT,
                            "rle: runs sum to %llu pixels but the mask is %u x %u = %llu",
                            (unsigned long long)got, r->h, r->w, (unsigned long long)want);
    return ES_OK;
}

int es_rle_from_counts(es_rle *out, const uint32_t *counts, size_t n, uint32_t h, uint32_t w,
                       es_error *err) {
    *out = ES_RLE_EMPTY;
    ES_CHECK(es_rle_check_size(h, w, "es_rle_from_counts", err));
    if (n > UINT32_MAX)
        return es_error_set(err, ES_ERR_FORMAT, "es_rle_from_counts: %zu counts", n);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += counts[i];
    if (sum != (uint64_t)h * w)
        return es_error_set(err, ES_ERR_FORMAT,
                            "uncompressed RLE: counts sum to %llu but size %u x %u is %llu pixels",
                            (unsigned long long)sum, h, w, (unsigned long long)h * w);
    /* pycocotools writes a 0 x 0 mask as counts [0]; our empty mask has no runs. */
    if (sum == 0) n = 0;
    ES_CHECK(es_rle_init(out, h, w, (uint32_t)n, counts, err));
    ES_RLE_ASSERT_VALID(out);
    return ES_OK;
}

uint64_t es_rle_area(const es_rle *r) {
    uint64_t a = 0;
    for (uint32_t j = 1; j < r->m; j += 2) a += r->cnts[j];
    return a;
}

/* pycocotools rleToBbox: walks the run ends in uint32 arithmetic. For each foreground run
 * it takes the first and last pixel; a run that spans more than one column covers every
 * row in between, so ys/ye jump to 0 and h-1. A trailing background run is ignored
 * (m rounded down to even). */
void es_rle_to_bbox(const es_rle *r, double bbox[4]) {
    uint32_t h = r->h, w = r->w, m = (r->m / 2) * 2;
    bbox[0] = bbox[1] = bbox[2] = bbox[3] = 0;
    if (m == 0 || h == 0 || w == 0) return;
    uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
    for (uint32_t j = 0; j < m; j++) {
        cc += r->cnts[j];
        uint32_t t = cc - j % 2, y = t % h, x = (t - y) / h;
        if (j % 2 == 0)
            xp = x;
        else if (xp < x) {
            ys = 0;
            ye = h - 1;
        }
        if (x < xs) xs = x;
        if (x > xe) xe = x;
        if (y < ys) ys = y;
        if (y > ye) ye = y;
    }
    bbox[0] = xs;
    bbox[2] = (double)(uint32_t)(xe - xs + 1);
    bbox[1] = ys;
    bbox[3] = (double)(uint32_t)(ye - ys + 1);
}

void es_label_rles_free(es_label_rles *l) {
    if (!l) return;
    if (l->rles)
        for (size_t i = 0; i < l->n; i++) es_rle_free(&l->rles[i]);
    free(l->rles);
    free(l->ids);
    free(l->areas);
    memset(l, 0, sizeof *l);
}

/* ---- run builder ---- */

void es_runs_builder_init(es_runs_builder *b, size_t cap_hint) {
    memset(b, 0, sizeof *b);
    b->cap = cap_hint < 4 ? 4 : cap_hint;
    b->cnts = malloc(sizeof *b->cnts * b->cap);
    if (!b->cnts) b->oom = 1, b->cap = 0;
}

static void builder_emit(es_runs_builder *b, uint64_t len) {
    if (b->oom) return;
    if (b->m == b->cap) {
        size_t cap = b->cap * 2;
        uint32_t *p = realloc(b->cnts, sizeof *p * cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->cnts = p;
        b->cap = cap;
    }
    b->cnts[b->m++] = (uint32_t)len;
}

void es_runs_builder_push(es_runs_builder *b, int v, uint64_t len) {
    if (len == 0) return;
    v = v != 0;
    if (v != b->v) {
        builder_emit(b, b->open); /* the first run may be an empty background run */
        b->v = v;
        b->open = 0;
    }
    b->open += len;
}

int es_runs_builder_finish(es_runs_builder *b, es_rle *out, uint32_t h, uint32_t w,
                           const char *fn, es_error *err) {
    *out = ES_RLE_EMPTY;
    if ((uint64_t)h * w > 0) builder_emit(b, b->open);
    if (b->oom) {
        es_runs_builder_free(b);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", fn);
    }
    if (b->m == 0) {
        es_runs_builder_free(b);
        es_rle_adopt(out, h, w, 0, NULL);
        return ES_OK;
    }
    uint32_t *cnts = realloc(b->cnts, sizeof *cnts * b->m);
    es_rle_adopt(out, h, w, (uint32_t)b->m, cnts ? cnts : b->cnts);
    b->cnts = NULL;
    ES_RLE_ASSERT_VALID(out);
    return ES_OK;
}

void es_runs_builder_free(es_runs_builder *b) {
    free(b->cnts);
    memset(b, 0, sizeof *b);
}

/* ---- cursor ---- */

void es_runs_cursor_init(es_runs_cursor *c, const es_rle *r) {
    c->cnts = r->cnts;
    c->m = r->m;
    c->i = 0;
    c->v = 0;
    c->left = r->m ? r->cnts[0] : 0;
}

/* Moves past exhausted (and zero-length) runs. */
static void cursor_settle(es_runs_cursor *c) {
    while (c->left == 0 && c->i + 1 < c->m) {
        c->i++;
        c->v = !c->v;
        c->left = c->cnts[c->i];
    }
}

void es_runs_cursor_skip(es_runs_cursor *c, uint64_t n) {
    while (n > 0) {
        cursor_settle(c);
        if (c->left == 0) return;
        uint64_t k = n < c->left ? n : c->left;
        c->left -= (uint32_t)k;
        n -= k;
    }
}

uint64_t es_runs_cursor_take(es_runs_cursor *c, uint64_t max, int *v) {
    cursor_settle(c);
    uint64_t k = max < c->left ? max : c->left;
    c->left -= (uint32_t)k;
    *v = c->v;
    return k;
}
