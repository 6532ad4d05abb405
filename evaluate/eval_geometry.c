/* evaluate/eval_geometry.c: mask geometry the metrics share (tight boxes from runs). */
#include <stdlib.h>

#include "eval_internal.h"

/* One pass over the runs: a run that crosses a column boundary covers every row. */
es_mask_box es_eval_mask_box(const es_rle *r) {
    es_mask_box b = {UINT32_MAX, UINT32_MAX, 0, 0};
    uint64_t pos = 0;
    const uint64_t h = r->h;
    for (uint32_t i = 0; i < r->m; i++) {
        uint64_t len = r->cnts[i];
        if ((i & 1) && len) {
            uint64_t s = pos, e = pos + len - 1;
            uint32_t xs = (uint32_t)(s / h), xe = (uint32_t)(e / h);
            uint32_t ys = (uint32_t)(s % h), ye = (uint32_t)(e % h);
            if (xs != xe) ys = 0, ye = (uint32_t)h - 1;
            if (xs < b.x0) b.x0 = xs;
            b.x1 = xe; /* runs ascend in x */
            if (ys < b.y0) b.y0 = ys;
            if (ye > b.y1) b.y1 = ye;
        }
        pos += len;
    }
    if (b.x0 == UINT32_MAX) b.x0 = 1, b.x1 = 0, b.y0 = 1, b.y1 = 0;
    return b;
}

int es_mask_runs_init(es_mask_runs *mr, const es_rle *r) {
    mr->r = r;
    mr->start = malloc(((size_t)r->m + 1) * sizeof *mr->start);
    if (!mr->start) return ES_ERR_NOMEM;
    uint64_t pos = 0, fg = 0;
    const uint64_t h = r->h;
    es_mask_box b = {UINT32_MAX, UINT32_MAX, 0, 0};
    uint32_t x = 0;
    uint64_t colstart = 0;
    for (uint32_t i = 0; i < r->m; i++) {
        uint64_t len = r->cnts[i];
        mr->start[i] = pos;
        if ((i & 1) && len && h) { /* the tight box, as es_eval_mask_box */
            uint64_t e = pos + len - 1;
            uint32_t xs = es_walk_col(pos, h, &x, &colstart);
            uint32_t ys = (uint32_t)(pos - colstart);
            uint32_t xe = es_walk_col(e, h, &x, &colstart);
            uint32_t ye = (uint32_t)(e - colstart);
            if (xs != xe) ys = 0, ye = (uint32_t)h - 1;
            if (xs < b.x0) b.x0 = xs;
            b.x1 = xe;
            if (ys < b.y0) b.y0 = ys;
            if (ye > b.y1) b.y1 = ye;
            fg += len;
        }
        pos += len;
    }
    if (b.x0 == UINT32_MAX) b.x0 = 1, b.x1 = 0, b.y0 = 1, b.y1 = 0;
    mr->start[r->m] = pos;
    mr->pixels = fg;
    mr->box = b;
    return ES_OK;
}

void es_mask_runs_free(es_mask_runs *mr) {
    if (!mr) return;
    free(mr->start);
    mr->start = NULL;
}

/* Index of the run holding pixel position pos (start[i] <= pos < start[i+1]). */
static uint32_t run_at(const es_mask_runs *mr, uint64_t pos) {
    uint32_t lo = 0, hi = mr->r->m; /* start[lo] <= pos < start[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (mr->start[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

uint64_t es_mask_runs_intersection(const es_mask_runs *a, const es_mask_runs *b) {
    const es_mask_box *p = &a->box, *q = &b->box;
    if (p->x0 > p->x1 || q->x0 > q->x1) return 0;
    if (p->x0 > q->x1 || q->x0 > p->x1 || p->y0 > q->y1 || q->y0 > p->y1) return 0;
    const uint64_t h = a->r->h;
    const uint32_t xlo = p->x0 > q->x0 ? p->x0 : q->x0, xhi = p->x1 < q->x1 ? p->x1 : q->x1;
    uint64_t cur = (uint64_t)xlo * h, end = ((uint64_t)xhi + 1) * h;
    uint32_t ia = run_at(a, cur), ib = run_at(b, cur);
    uint64_t inter = 0;
    while (cur < end) {
        uint64_t ea = a->start[ia + 1], eb = b->start[ib + 1];
        uint64_t next = ea < eb ? ea : eb;
        if (next > end) next = end;
        if ((ia & 1) && (ib & 1)) inter += next - cur;
        cur = next;
        if (cur == ea) ia++;
        if (cur == eb) ib++;
    }
    return inter;
}
