/* rle_geometry.c: crop, pad and nearest-neighbour resize of a mask in run form, for model
 * input/output (masks go to and come from network resolution). Each works column by
 * column: an output column is a piece of one input column (crop), an input column framed
 * by background (pad), or an input column resampled in y (resize), so the cost is
 * O(runs touched + output columns), never O(pixels). */
#include <stdlib.h>

#include "rle_internal.h"

int es_rle_crop(es_rle *out, const es_rle *r, uint32_t x, uint32_t y, uint32_t cw, uint32_t ch,
                es_error *err) {
    *out = ES_RLE_EMPTY;
    if ((uint64_t)x + cw > r->w || (uint64_t)y + ch > r->h)
        return es_error_set(err, ES_ERR_INVALID,
                            "es_rle_crop: window %u,%u %ux%u is not inside the %u x %u mask", x, y,
                            cw, ch, r->w, r->h);
    es_runs_builder b;
    es_runs_builder_init(&b, 16);
    es_runs_cursor c;
    es_runs_cursor_init(&c, r);
    uint64_t pos = 0; /* cursor position in the input */
    if (ch > 0)
        for (uint32_t cx = 0; cx < cw; cx++) {
            uint64_t start = (uint64_t)(x + cx) * r->h + y;
            es_runs_cursor_skip(&c, start - pos);
            uint64_t left = ch;
            while (left > 0) {
                int v;
                uint64_t k = es_runs_cursor_take(&c, left, &v);
                if (k == 0) break; /* runs shorter than h*w: invalid input, stop */
                es_runs_builder_push(&b, v, k);
                left -= k;
            }
            es_runs_builder_push(&b, 0, left);
            pos = start + ch;
        }
    return es_runs_builder_finish(&b, out, ch, cw, "es_rle_crop", err);
}

int es_rle_pad(es_rle *out, const es_rle *r, uint32_t left, uint32_t top, uint32_t right,
               uint32_t bottom, es_error *err) {
    *out = ES_RLE_EMPTY;
    uint64_t nh = (uint64_t)r->h + top + bottom, nw = (uint64_t)r->w + left + right;
    if (nh > UINT32_MAX || nw > UINT32_MAX || nh * nw > UINT32_MAX)
        return es_error_set(err, ES_ERR_INVALID, "es_rle_pad: padded mask %llu x %llu is too large",
                            (unsigned long long)nh, (unsigned long long)nw);
    es_runs_builder b;
    es_runs_builder_init(&b, (size_t)r->m + 2 * (size_t)r->w + 4);
    es_runs_cursor c;
    es_runs_cursor_init(&c, r);
    es_runs_builder_push(&b, 0, (uint64_t)left * nh);
    if (r->h > 0)
        for (uint32_t x = 0; x < r->w; x++) {
            es_runs_builder_push(&b, 0, top);
            uint64_t rest = r->h;
            while (rest > 0) {
                int v;
                uint64_t k = es_runs_cursor_take(&c, rest, &v);
                if (k == 0) break;
                es_runs_builder_push(&b, v, k);
                rest -= k;
            }
            es_runs_builder_push(&b, 0, rest + bottom);
        }
    else
        es_runs_builder_push(&b, 0, (uint64_t)r->w * nh);
    es_runs_builder_push(&b, 0, (uint64_t)right * nh);
    return es_runs_builder_finish(&b, out, (uint32_t)nh, (uint32_t)nw, "es_rle_pad", err);
}

/* First output row whose source row floor(y*h/nh) is >= t: ceil(t*nh/h). */
static uint64_t first_row_at(uint64_t t, uint32_t h, uint32_t nh) {
    return (t * nh + h - 1) / h;
}

int es_rle_resize_nearest(es_rle *out, const es_rle *r, uint32_t nh, uint32_t nw, es_error *err) {
    *out = ES_RLE_EMPTY;
    ES_CHECK(es_rle_check_size(nh, nw, "es_rle_resize_nearest", err));
    if ((uint64_t)nh * nw == 0) return es_rle_zeros(out, nh, nw, err);
    if ((uint64_t)r->h * r->w == 0)
        return es_error_set(err, ES_ERR_INVALID, "es_rle_resize_nearest: cannot resize an empty %u x %u mask",
                            r->h, r->w);
    uint32_t h = r->h, w = r->w;
    es_runs_builder b;
    es_runs_builder_init(&b, (size_t)r->m + nw);
    /* The resampled current source column as (value, length) pieces covering nh rows. */
    uint64_t *piece_len = malloc(sizeof *piece_len * ((size_t)h + 1));
    uint8_t *piece_val = malloc((size_t)h + 1);
    if (!piece_len || !piece_val) {
        free(piece_len), free(piece_val);
        es_runs_builder_free(&b);
        return es_error_set(err, ES_ERR_NOMEM, "es_rle_resize_nearest: out of memory");
    }
    size_t n_pieces = 0;
    es_runs_cursor c;
    es_runs_cursor_init(&c, r);
    uint64_t next_col = 0; /* the source column the cursor stands at the start of */
    int64_t have_col = -1;
    for (uint32_t x = 0; x < nw; x++) {
        /* Source column: min(floor(x*w/nw), w-1); the min never binds for x < nw. */
        uint64_t sx = (uint64_t)x * w / nw;
        if ((int64_t)sx != have_col) {
            es_runs_cursor_skip(&c, (sx - next_col) * h);
            n_pieces = 0;
            uint64_t sy = 0, out_row = 0;
            while (sy < h) {
                int v;
                uint64_t k = es_runs_cursor_take(&c, h - sy, &v);
                if (k == 0) break;
                uint64_t end_row = first_row_at(sy + k, h, nh);
                if (end_row > nh) end_row = nh;
                if (end_row > out_row) {
                    piece_len[n_pieces] = end_row - out_row;
                    piece_val[n_pieces++] = (uint8_t)v;
                    out_row = end_row;
                }
                sy += k;
            }
            if (out_row < nh) {
                piece_len[n_pieces] = nh - out_row;
                piece_val[n_pieces++] = 0;
            }
            if (sy < h) es_runs_cursor_skip(&c, h - sy);
            next_col = sx + 1;
            have_col = (int64_t)sx;
        }
        for (size_t i = 0; i < n_pieces; i++) es_runs_builder_push(&b, piece_val[i], piece_len[i]);
    }
    free(piece_len);
    free(piece_val);
    return es_runs_builder_finish(&b, out, nh, nw, "es_rle_resize_nearest", err);
}
