/* boundary.c: masks as word-aligned column bitsets and their boundary bands (see
 * boundary.h). Workload: every ground-truth and predicted mask of an image, tens of
 * thousands per run, so the band costs one pass over the runs plus a few word operations
 * per 64 pixels of the mask's bounding box, independent of d.
 *
 * Erosion by a (2d+1) x (2d+1) square (= d times 3x3, METRICS boundary 2) is separable:
 * - vertically, on the runs: within one column a foreground run [a, b) keeps [a+d, b-d)
 *   (the image edge is background, and a column's runs are maximal);
 * - horizontally, on whole column words: E[c] = AND of V[c-d .. c+d], computed with van
 *   Herk / Gil-Werman block prefix and suffix ANDs (blocks of 2d+1 columns). Columns
 *   outside the frame are empty, so E is 0 unless c-d and c+d are both inside the frame,
 *   which also makes the image border count as background.
 * band = mask AND NOT E.
 */
#include "boundary.h"
#include "boundary_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Population counts. x86-64's baseline has no POPCNT instruction and the builtin then calls
 * a library routine, so the hot loops are compiled twice (target_clones) and the POPCNT
 * version is picked at load time where the CPU has it; inside them __builtin_popcountll
 * is the instruction. */
#if defined(__x86_64__) && !defined(__POPCNT__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ES_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#endif
#endif
#ifndef ES_POPCNT_CLONES
#define ES_POPCNT_CLONES
#endif
#define popcount64(v) ((uint64_t)__builtin_popcountll(v))

uint32_t es_boundary_width(double dilation_ratio, uint32_t h, uint32_t w) {
    /* boundary-iou-api: int(round(dilation_ratio * np.sqrt(h**2 + w**2))), min 1 */
    double diag = sqrt((double)h * (double)h + (double)w * (double)w);
    double v = dilation_ratio * diag;
    if (!(v >= 0)) return 1; /* NaN or negative */
    double r = nearbyint(v);
    if (r < 1) return 1;
    if (r > (double)(UINT32_MAX / 4)) return UINT32_MAX / 4;
    return (uint32_t)r;
}

void es_bitmask_free(es_bitmask *b) {
    if (!b) return;
    free(b->bits);
    *b = ES_BITMASK_EMPTY;
}

int es_piece_list_push(es_piece_list *list, uint32_t x, uint32_t y0, uint32_t y1) {
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 256;
        es_piece *q = realloc(list->p, cap * sizeof *q);
        if (!q) return ES_ERR_NOMEM;
        list->p = q;
        list->cap = cap;
    }
    list->p[list->n++] = (es_piece){x, y0, y1};
    return ES_OK;
}

void es_piece_list_free(es_piece_list *list) {
    if (!list) return;
    free(list->p);
    list->p = NULL;
    list->n = list->cap = 0;
}

void es_band_scratch_free(es_band_scratch *s) {
    if (!s) return;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

int es_rle_to_pieces(es_piece_list *list, const es_rle *r, es_mask_bounds *b, const char *fn,
                     es_error *err) {
    uint64_t h = r->h, total = (uint64_t)r->h * r->w, pos = 0;
    b->x_lo = b->y_lo = UINT32_MAX;
    b->x_hi = b->y_hi = 0;
    b->area = 0;
    if (r->m > 0 && !r->cnts)
        return es_error_set(err, ES_ERR_FORMAT, "%s: mask has %u runs but no counts", fn, r->m);
    /* reserve for the worst case so the loop writes without checks: every foreground run is
     * one piece plus one more per column boundary it crosses (at most w in all) */
    size_t need = list->n + r->m / 2 + 1 + r->w;
    if (need > list->cap) {
        size_t cap = list->cap ? list->cap : 256;
        while (cap < need) cap *= 2;
        es_piece *q = realloc(list->p, cap * sizeof *q);
        if (!q) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", fn);
        list->p = q;
        list->cap = cap;
    }
    es_piece *out = list->p + list->n;
    /* column of the current position tracked incrementally: runs ascend, so a division is
     * needed only when a background run skips whole columns */
    uint64_t colstart = 0;
    uint32_t x = 0, y_lo = UINT32_MAX, y_hi = 0;
    uint64_t area = 0;
    uint32_t i_stop = r->m;
    for (uint32_t i = 1; i < r->m; i += 2) { /* (background, foreground) pairs */
        pos += r->cnts[i - 1];
        uint64_t len = r->cnts[i];
        if (!len) continue;
        uint64_t s = pos, end = pos + len;
        if (end > total) { /* corrupt: reported below, before any piece leaves the image */
            i_stop = i;
            break;
        }
        if (s - colstart >= h) {
            uint64_t q = (s - colstart) / h;
            x += (uint32_t)q;
            colstart += q * h;
        }
        for (;;) {
            uint64_t col_end = colstart + h;
            uint64_t pe = end < col_end ? end : col_end;
            uint32_t y0 = (uint32_t)(s - colstart), y1 = (uint32_t)(pe - colstart);
            *out++ = (es_piece){x, y0, y1};
            if (y0 < y_lo) y_lo = y0;
            if (y1 > y_hi) y_hi = y1;
            if (pe == end) break;
            s = pe;
            x++;
            colstart = col_end;
        }
        area += len;
        pos = end;
    }
    if (i_stop == r->m && (r->m & 1)) pos += r->cnts[r->m - 1]; /* trailing background */
    if (i_stop < r->m || pos != total) {
        uint64_t sum = 0;
        for (uint32_t i = 0; i < r->m; i++) sum += r->cnts[i];
        return es_error_set(err, ES_ERR_FORMAT,
                            "%s: mask runs sum to %llu pixels, expected %u x %u = %llu", fn,
                            (unsigned long long)sum, r->h, r->w, (unsigned long long)total);
    }
    size_t n_new = (size_t)(out - (list->p + list->n));
    if (n_new) {
        b->x_lo = list->p[list->n].x;
        b->x_hi = out[-1].x;
        b->y_lo = y_lo;
        b->y_hi = y_hi - 1;
    }
    b->area = area;
    list->n += n_new;
    return ES_OK;
}

/* Sets rows [lo, hi) (relative to the frame's first row) in one column. */
static inline void set_rows(uint64_t *col, uint64_t lo, uint64_t hi) {
    if (lo >= hi) return;
    uint64_t k0 = lo >> 6, k1 = (hi - 1) >> 6;
    uint64_t m0 = ~0ULL << (lo & 63);
    uint64_t m1 = ~0ULL >> (63 - ((hi - 1) & 63));
    if (k0 == k1) {
        col[k0] |= m0 & m1;
        return;
    }
    col[k0] |= m0;
    /* an opaque all-ones value keeps the compiler from turning this short loop (a few words)
     * into a memset call */
    uint64_t ones = ~0ULL;
    __asm__("" : "+r"(ones));
    for (uint64_t k = k0 + 1; k < k1; k++) col[k] = ones;
    col[k1] |= m1;
}

/* Allocates the frame of a mask with the given bounds; bits zeroed. */
static int frame_alloc(es_bitmask *bm, const es_mask_bounds *b, uint32_t h, uint32_t w,
                       es_error *err) {
    *bm = ES_BITMASK_EMPTY;
    bm->h = h;
    bm->w = w;
    if (b->area == 0) return ES_OK;
    bm->x0 = b->x_lo;
    bm->ncols = b->x_hi - b->x_lo + 1;
    bm->word0 = b->y_lo >> 6;
    bm->nwords = (b->y_hi >> 6) - bm->word0 + 1;
    bm->bits = calloc((size_t)bm->ncols * bm->nwords, sizeof *bm->bits);
    if (!bm->bits) {
        *bm = ES_BITMASK_EMPTY;
        return es_error_set(err, ES_ERR_NOMEM, "out of memory for a mask frame of %u x %u words",
                            b->x_hi - b->x_lo + 1, (b->y_hi >> 6) - (b->y_lo >> 6) + 1);
    }
    return ES_OK;
}

/* Horizontal erosion and band, in two passes over the eroding rows (van Herk / Gil-Werman
 * with blocks of k = 2d+1 columns): suffix[c] = AND of vert over [c, end of c's block];
 * then forwards vert[c] becomes the prefix AND over [start of c's block, c], and as soon as
 * the prefix of column t+d is known, column t loses E[t] = suffix[t-d] & prefix[t+d].
 * vert and suffix hold nv words per column: band words voff .. voff+nv-1 of each column
 * (the only rows the vertical erosion can leave set). Needs ncols >= k. Returns the band's
 * pixel count. */
ES_POPCNT_CLONES
static uint64_t erode_into_band(uint64_t *band, size_t nw, size_t voff, uint64_t *vert,
                                uint64_t *suffix, size_t nv, size_t ncols, size_t d) {
    size_t k = 2 * d + 1;
    size_t in_block = (ncols - 1) % k; /* position of column ncols-1 in its block */
    if (nv == 1) { /* the common case (interior rows within one word): scalar loops */
        for (size_t c = ncols; c-- > 0;) {
            suffix[c] = (in_block == k - 1 || c == ncols - 1) ? vert[c] : suffix[c + 1] & vert[c];
            in_block = in_block == 0 ? k - 1 : in_block - 1;
        }
        in_block = 0;
        for (size_t c = 0; c < ncols; c++) {
            if (in_block != 0) vert[c] &= vert[c - 1];
            in_block = in_block == k - 1 ? 0 : in_block + 1;
            if (c >= 2 * d) band[(c - d) * nw + voff] &= ~(suffix[c - 2 * d] & vert[c]);
        }
        uint64_t area = 0;
        for (size_t i = 0; i < ncols * nw; i++) area += popcount64(band[i]);
        return area;
    }
    for (size_t c = ncols; c-- > 0;) {
        uint64_t *sc = suffix + c * nv;
        const uint64_t *vc = vert + c * nv;
        if (in_block == k - 1 || c == ncols - 1) {
            memcpy(sc, vc, nv * sizeof *sc);
        } else {
            const uint64_t *sn = suffix + (c + 1) * nv;
            for (size_t j = 0; j < nv; j++) sc[j] = sn[j] & vc[j];
        }
        in_block = in_block == 0 ? k - 1 : in_block - 1;
    }
    in_block = 0;
    for (size_t c = 0; c < ncols; c++) {
        uint64_t *pc = vert + c * nv;
        if (in_block != 0) {
            const uint64_t *pp = vert + (c - 1) * nv;
            for (size_t j = 0; j < nv; j++) pc[j] &= pp[j];
        }
        in_block = in_block == k - 1 ? 0 : in_block + 1;
        if (c >= 2 * d) {
            size_t t = c - d;
            uint64_t *bt = band + t * nw + voff;
            const uint64_t *st = suffix + (t - d) * nv;
            for (size_t j = 0; j < nv; j++) bt[j] &= ~(st[j] & pc[j]);
        }
    }
    uint64_t area = 0;
    for (size_t i = 0; i < ncols * nw; i++) area += popcount64(band[i]);
    return area;
}

int es_band_from_pieces(es_bitmask *band, es_bitmask *mask, const es_piece *p, size_t n,
                        const es_mask_bounds *b, uint32_t h, uint32_t w, uint32_t d,
                        es_band_scratch *scratch, es_error *err) {
    if (mask) *mask = ES_BITMASK_EMPTY;
    if (d == 0) d = 1;
    ES_CHECK(frame_alloc(band, b, h, w, err));
    if (b->area == 0) {
        if (mask) {
            mask->h = h;
            mask->w = w;
        }
        return ES_OK;
    }
    size_t nw = band->nwords, ncols = band->ncols, nwords_all = ncols * nw;
    uint64_t rowbase = (uint64_t)band->word0 * 64, k = 2 * (uint64_t)d + 1;
    /* a column survives the horizontal erosion only with 2d+1 columns in the frame, and the
     * vertical one only with a run longer than 2d */
    int eroding = k <= ncols && (uint64_t)b->y_hi - b->y_lo + 1 >= k;
    uint64_t *vert = NULL, *suffix = NULL;
    es_band_scratch own = {NULL, 0};
    if (!scratch) scratch = &own;
    /* rows the vertical erosion can leave set: [y_lo + d, y_hi - d] */
    size_t voff = 0, nv = 0, nv_all = 0;
    uint64_t vbase = 0;
    if (eroding) {
        size_t vk0 = (size_t)((b->y_lo + (uint64_t)d) >> 6);
        size_t vk1 = (size_t)((b->y_hi - (uint64_t)d) >> 6);
        voff = vk0 - band->word0;
        nv = vk1 - vk0 + 1;
        nv_all = ncols * nv;
        vbase = (uint64_t)vk0 * 64;
        if (scratch->cap < 2 * nv_all) {
            free(scratch->buf);
            scratch->buf = malloc(2 * nv_all * sizeof *scratch->buf);
            scratch->cap = scratch->buf ? 2 * nv_all : 0;
            if (!scratch->buf) {
                es_bitmask_free(band);
                return es_error_set(err, ES_ERR_NOMEM, "out of memory for a band's work space");
            }
        }
        vert = scratch->buf;
        suffix = scratch->buf + nv_all;
        memset(vert, 0, nv_all * sizeof *vert);
    }
    int any_vert = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = p[i].x - band->x0;
        set_rows(band->bits + c * nw, p[i].y0 - rowbase, p[i].y1 - rowbase);
        if (eroding && (uint64_t)p[i].y0 + 2 * (uint64_t)d < p[i].y1) {
            set_rows(vert + c * nv, p[i].y0 + d - vbase, p[i].y1 - d - vbase);
            any_vert = 1;
        }
    }
    if (mask) {
        *mask = *band;
        mask->bits = malloc(nwords_all * sizeof *mask->bits);
        if (!mask->bits) {
            es_bitmask_free(band);
            *mask = ES_BITMASK_EMPTY;
            es_band_scratch_free(&own);
            return es_error_set(err, ES_ERR_NOMEM, "out of memory for a mask frame");
        }
        memcpy(mask->bits, band->bits, nwords_all * sizeof *mask->bits);
        mask->area = b->area;
    }
    if (any_vert)
        band->area = erode_into_band(band->bits, nw, voff, vert, suffix, nv, ncols, d);
    else
        band->area = b->area;
    es_band_scratch_free(&own);
    return ES_OK;
}

int es_bitmask_from_rle(es_bitmask *out, const es_rle *r, es_error *err) {
    es_piece_list l = {NULL, 0, 0};
    es_mask_bounds b;
    *out = ES_BITMASK_EMPTY;
    int rc = es_rle_to_pieces(&l, r, &b, "es_bitmask_from_rle", err);
    if (rc == ES_OK) rc = frame_alloc(out, &b, r->h, r->w, err);
    if (rc == ES_OK && b.area) {
        size_t nw = out->nwords;
        uint64_t rowbase = (uint64_t)out->word0 * 64;
        for (size_t i = 0; i < l.n; i++)
            set_rows(out->bits + (size_t)(l.p[i].x - out->x0) * nw, l.p[i].y0 - rowbase,
                     l.p[i].y1 - rowbase);
        out->area = b.area;
    }
    es_piece_list_free(&l);
    return rc;
}

int es_boundary_band(es_bitmask *band, es_bitmask *mask, const es_rle *r, uint32_t d,
                     es_error *err) {
    es_piece_list l = {NULL, 0, 0};
    es_mask_bounds b;
    *band = ES_BITMASK_EMPTY;
    if (mask) *mask = ES_BITMASK_EMPTY;
    int rc = es_rle_to_pieces(&l, r, &b, "es_boundary_band", err);
    if (rc == ES_OK) rc = es_band_from_pieces(band, mask, l.p, l.n, &b, r->h, r->w, d, NULL, err);
    es_piece_list_free(&l);
    return rc;
}

ES_POPCNT_CLONES
uint64_t es_bitmask_count_rows(const es_bitmask *b, uint32_t x, uint32_t y0, uint32_t y1) {
    if (b->area == 0 || x < b->x0 || x >= (uint64_t)b->x0 + b->ncols) return 0;
    uint64_t lo = (uint64_t)b->word0 * 64, hi = ((uint64_t)b->word0 + b->nwords) * 64;
    uint64_t a = y0 > lo ? y0 : lo, e = y1 < hi ? y1 : hi;
    if (a >= e) return 0;
    const uint64_t *col = b->bits + (size_t)(x - b->x0) * b->nwords;
    a -= lo;
    e -= lo;
    size_t k0 = (size_t)(a >> 6), k1 = (size_t)((e - 1) >> 6);
    uint64_t m0 = ~0ULL << (a & 63), m1 = ~0ULL >> (63 - ((e - 1) & 63));
    if (k0 == k1) return popcount64(col[k0] & m0 & m1);
    uint64_t s = popcount64(col[k0] & m0) + popcount64(col[k1] & m1);
    for (size_t k = k0 + 1; k < k1; k++) s += popcount64(col[k]);
    return s;
}

int es_bitmask_zeros(es_bitmask *out, uint32_t h, uint32_t w, es_error *err) {
    *out = ES_BITMASK_EMPTY;
    out->h = h;
    out->w = w;
    if (h == 0 || w == 0) return ES_OK;
    out->x0 = 0;
    out->ncols = w;
    out->word0 = 0;
    out->nwords = (h + 63) / 64;
    out->bits = calloc((size_t)out->ncols * out->nwords, sizeof *out->bits);
    if (!out->bits) {
        *out = ES_BITMASK_EMPTY;
        return es_error_set(err, ES_ERR_NOMEM, "es_bitmask_zeros: out of memory for %u x %u", h,
                            w);
    }
    return ES_OK;
}

ES_POPCNT_CLONES
int es_bitmask_or(es_bitmask *dst, const es_bitmask *src, uint64_t *overlap, es_error *err) {
    if (overlap) *overlap = 0;
    if (dst->h != src->h || dst->w != src->w)
        return es_error_set(err, ES_ERR_INVALID,
                            "es_bitmask_or: mask sizes differ (%u x %u vs %u x %u)", dst->h,
                            dst->w, src->h, src->w);
    if (src->area == 0 || src->ncols == 0) return ES_OK;
    if (src->x0 < dst->x0 || src->x0 + (uint64_t)src->ncols > dst->x0 + (uint64_t)dst->ncols ||
        src->word0 < dst->word0 ||
        src->word0 + (uint64_t)src->nwords > dst->word0 + (uint64_t)dst->nwords)
        return es_error_set(err, ES_ERR_INVALID,
                            "es_bitmask_or: the source frame is not inside the destination's");
    uint64_t ov = 0;
    for (uint32_t c = 0; c < src->ncols; c++) {
        const uint64_t *s = src->bits + (size_t)c * src->nwords;
        uint64_t *t = dst->bits + (size_t)(src->x0 - dst->x0 + c) * dst->nwords +
                      (src->word0 - dst->word0);
        for (uint32_t j = 0; j < src->nwords; j++) {
            ov += popcount64(t[j] & s[j]);
            t[j] |= s[j];
        }
    }
    dst->area += src->area - ov;
    if (overlap) *overlap = ov;
    return ES_OK;
}

ES_POPCNT_CLONES
uint64_t es_bitmask_intersection(const es_bitmask *a, const es_bitmask *b) {
    if (a->h != b->h || a->w != b->w || a->area == 0 || b->area == 0) return 0;
    uint32_t xa = a->x0 > b->x0 ? a->x0 : b->x0;
    uint64_t ea = (uint64_t)a->x0 + a->ncols, eb = (uint64_t)b->x0 + b->ncols;
    uint64_t xe = ea < eb ? ea : eb;
    if (xa >= xe) return 0;
    uint32_t ka = a->word0 > b->word0 ? a->word0 : b->word0;
    uint64_t fa = (uint64_t)a->word0 + a->nwords, fb = (uint64_t)b->word0 + b->nwords;
    uint64_t ke = fa < fb ? fa : fb;
    if (ka >= ke) return 0;
    size_t n = (size_t)(ke - ka);
    uint64_t s = 0;
    for (uint64_t x = xa; x < xe; x++) {
        const uint64_t *pa = a->bits + (size_t)(x - a->x0) * a->nwords + (ka - a->word0);
        const uint64_t *pb = b->bits + (size_t)(x - b->x0) * b->nwords + (ka - b->word0);
        for (size_t j = 0; j < n; j++) s += popcount64(pa[j] & pb[j]);
    }
    return s;
}

uint64_t es_bitmask_difference(const es_bitmask *a, const es_bitmask *b) {
    return a->area - es_bitmask_intersection(a, b);
}

double es_boundary_iou(const es_bitmask *a, const es_bitmask *b) {
    uint64_t i = es_bitmask_intersection(a, b);
    uint64_t u = a->area + b->area - i;
    return u ? (double)i / (double)u : 0.0;
}

int es_bitmask_get(const es_bitmask *b, uint32_t x, uint32_t y) {
    if (b->ncols == 0 || x < b->x0 || x >= (uint64_t)b->x0 + b->ncols || y >= b->h) return 0;
    uint32_t k = y >> 6;
    if (k < b->word0 || k >= (uint64_t)b->word0 + b->nwords) return 0;
    return (int)((b->bits[(size_t)(x - b->x0) * b->nwords + (k - b->word0)] >> (y & 63)) & 1);
}

/* First row >= y (relative to the frame) whose bit equals want, or nwords*64. */
static uint64_t next_row(const uint64_t *col, size_t nwords, uint64_t y, int want) {
    size_t k = (size_t)(y >> 6);
    if (k >= nwords) return (uint64_t)nwords * 64;
    uint64_t flip = want ? 0 : ~0ULL;
    uint64_t v = (col[k] ^ flip) & (~0ULL << (y & 63));
    while (!v) {
        if (++k >= nwords) return (uint64_t)nwords * 64;
        v = col[k] ^ flip;
    }
    return (uint64_t)k * 64 + (uint64_t)__builtin_ctzll(v);
}

typedef struct run_list {
    uint32_t *cnts;
    size_t m, cap;
} run_list;

static int run_push(run_list *l, uint64_t v) {
    if (l->m == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        uint32_t *p = realloc(l->cnts, cap * sizeof *p);
        if (!p) return ES_ERR_NOMEM;
        l->cnts = p;
        l->cap = cap;
    }
    l->cnts[l->m++] = (uint32_t)v;
    return ES_OK;
}

int es_bitmask_to_rle(es_rle *out, const es_bitmask *b, es_error *err) {
    *out = ES_RLE_EMPTY;
    uint64_t h = b->h, total = (uint64_t)b->h * b->w;
    run_list l = {NULL, 0, 0};
    uint64_t prev_end = 0; /* column-major position after the last foreground piece */
    int rc = ES_OK;
    if (total == 0) {
        out->h = b->h;
        out->w = b->w;
        return ES_OK;
    }
    uint64_t rowbase = (uint64_t)b->word0 * 64;
    uint64_t nrows = b->ncols ? (h - rowbase < (uint64_t)b->nwords * 64 ? h - rowbase
                                                                     : (uint64_t)b->nwords * 64)
                              : 0;
    for (uint32_t c = 0; c < b->ncols && rc == ES_OK; c++) {
        const uint64_t *col = b->bits + (size_t)c * b->nwords;
        uint64_t colstart = (uint64_t)(b->x0 + c) * h + rowbase;
        uint64_t y = 0;
        for (;;) {
            y = next_row(col, b->nwords, y, 1);
            if (y >= nrows) break;
            uint64_t ye = next_row(col, b->nwords, y, 0);
            if (ye > nrows) ye = nrows;
            uint64_t s = colstart + y, e = colstart + ye;
            if (l.m > 0 && s == prev_end) {
                l.cnts[l.m - 1] += (uint32_t)(e - s);
            } else {
                rc = run_push(&l, s - prev_end);
                if (rc == ES_OK) rc = run_push(&l, e - s);
                if (rc) break;
            }
            prev_end = e;
            y = ye;
        }
    }
    if (rc == ES_OK && (prev_end < total || l.m == 0)) rc = run_push(&l, total - prev_end);
    if (rc) {
        free(l.cnts);
        return es_error_set(err, ES_ERR_NOMEM, "es_bitmask_to_rle: out of memory");
    }
    out->h = b->h;
    out->w = b->w;
    out->m = (uint32_t)l.m;
    out->cnts = l.cnts;
    return ES_OK;
}

/* ---- band cache ----------------------------------------------------------------------- */

struct es_band_cache {
    uint32_t h, w, d;
    size_t n_gt, n_dt;
    es_bitmask *bands;      /* (n_gt + n_dt): ground truth first */
    unsigned char *done;    /* (n_gt + n_dt) */
    es_piece_list pieces;   /* work space for es_band_cache_get */
    es_band_scratch scratch;
};

int es_band_cache_create(es_band_cache **out, uint32_t h, uint32_t w, double dilation_ratio,
                         size_t n_gt, size_t n_dt, es_error *err) {
    *out = NULL;
    es_band_cache *c = calloc(1, sizeof *c);
    size_t n = n_gt + n_dt;
    if (c) {
        c->bands = calloc(n ? n : 1, sizeof *c->bands);
        c->done = calloc(n ? n : 1, 1);
    }
    if (!c || !c->bands || !c->done) {
        es_band_cache_free(c);
        return es_error_set(err, ES_ERR_NOMEM, "es_band_cache_create: out of memory");
    }
    c->h = h;
    c->w = w;
    c->d = es_boundary_width(dilation_ratio, h, w);
    c->n_gt = n_gt;
    c->n_dt = n_dt;
    *out = c;
    return ES_OK;
}

uint32_t es_band_cache_width(const es_band_cache *c) { return c->d; }

void es_band_cache_counts(const es_band_cache *c, size_t *n_gt, size_t *n_dt) {
    *n_gt = c->n_gt;
    *n_dt = c->n_dt;
}

void es_band_cache_free(es_band_cache *c) {
    if (!c) return;
    if (c->bands)
        for (size_t i = 0; i < c->n_gt + c->n_dt; i++) es_bitmask_free(&c->bands[i]);
    free(c->bands);
    free(c->done);
    es_piece_list_free(&c->pieces);
    es_band_scratch_free(&c->scratch);
    free(c);
}

static int cache_slot(const es_band_cache *c, int is_gt, size_t i, size_t *slot, es_error *err) {
    if (is_gt ? i >= c->n_gt : i >= c->n_dt)
        return es_error_set(err, ES_ERR_INVALID, "es_band_cache: %s %zu of %zu",
                            is_gt ? "ground-truth entry" : "prediction", i,
                            is_gt ? c->n_gt : c->n_dt);
    *slot = is_gt ? i : c->n_gt + i;
    return ES_OK;
}

int es_band_cache_get_pieces(es_band_cache *c, int is_gt, size_t i, const es_piece *p, size_t n,
                             const es_mask_bounds *b, const es_bitmask **band, es_error *err) {
    size_t k = 0;
    ES_CHECK(cache_slot(c, is_gt, i, &k, err));
    if (!c->done[k]) {
        ES_CHECK(es_band_from_pieces(&c->bands[k], NULL, p, n, b, c->h, c->w, c->d, &c->scratch,
                                     err));
        c->done[k] = 1;
    }
    *band = &c->bands[k];
    return ES_OK;
}

int es_band_cache_get(es_band_cache *c, int is_gt, size_t i, const es_rle *mask,
                      const es_bitmask **band, es_error *err) {
    size_t k = 0;
    ES_CHECK(cache_slot(c, is_gt, i, &k, err));
    if (c->done[k]) {
        *band = &c->bands[k];
        return ES_OK;
    }
    if (mask->h != c->h || mask->w != c->w)
        return es_error_set(err, ES_ERR_INVALID,
                            "es_band_cache: mask of %u x %u in a cache for %u x %u", mask->h,
                            mask->w, c->h, c->w);
    es_mask_bounds b;
    c->pieces.n = 0;
    ES_CHECK(es_rle_to_pieces(&c->pieces, mask, &b, "es_band_cache", err));
    return es_band_cache_get_pieces(c, is_gt, i, c->pieces.p, c->pieces.n, &b, band, err);
}
