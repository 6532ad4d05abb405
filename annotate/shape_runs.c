/* shape_runs.c: a mask as vertical foreground runs (column x, rows y0..y1), the form the
 * shape statistics work on. An RLE is already column-major, so its foreground runs only
 * need splitting where they wrap from the bottom of one column to the top of the next. */
#include <stdlib.h>

#include "shape.h"

static int push_run(es_shape_scratch *s, uint32_t x, uint32_t y0, uint32_t y1, es_error *err) {
    if (s->n_runs == s->cap_runs) {
        size_t cap = s->cap_runs ? s->cap_runs * 2 : 256;
        es_run *r = realloc(s->runs, cap * sizeof *r);
        if (!r) return es_error_set(err, ES_ERR_NOMEM, "out of memory (%zu mask runs)", cap);
        s->runs = r;
        s->cap_runs = cap;
    }
    s->runs[s->n_runs++] = (es_run){x, y0, y1};
    return ES_OK;
}

int es_runs_from_rle(const es_rle *m, es_shape_scratch *s, es_error *err) {
    s->n_runs = 0;
    uint64_t total = (uint64_t)m->h * m->w, pos = 0;
    for (uint32_t i = 0; i < m->m; i++) {
        uint64_t len = m->cnts[i];
        if (pos + len > total)
            return es_error_set(err, ES_ERR_FORMAT, "mask runs exceed %ux%u pixels", m->h, m->w);
        if ((i & 1) && len > 0) {
            uint64_t p = pos, end = pos + len; /* [p, end) column-major */
            while (p < end) {
                uint32_t x = (uint32_t)(p / m->h), y = (uint32_t)(p % m->h);
                uint64_t col_end = (uint64_t)(x + 1) * m->h;
                uint64_t stop = end < col_end ? end : col_end;
                ES_CHECK(push_run(s, x, y, (uint32_t)(y + (stop - p) - 1), err));
                p = stop;
            }
        }
        pos += len;
    }
    if (pos != total)
        return es_error_set(err, ES_ERR_FORMAT, "mask runs sum to %llu, not %ux%u",
                            (unsigned long long)pos, m->h, m->w);
    return ES_OK;
}

int es_runs_from_mask(const uint8_t *mask, uint32_t h, uint32_t w, es_shape_scratch *s,
                      es_error *err) {
    s->n_runs = 0;
    for (uint32_t x = 0; x < w; x++) {
        uint32_t y = 0;
        while (y < h) {
            while (y < h && !mask[(size_t)y * w + x]) y++;
            if (y == h) break;
            uint32_t y0 = y;
            while (y < h && mask[(size_t)y * w + x]) y++;
            ES_CHECK(push_run(s, x, y0, y - 1, err));
        }
    }
    return ES_OK;
}
