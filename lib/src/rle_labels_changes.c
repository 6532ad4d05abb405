/* rle_labels_changes.c: label map -> toggles for wide maps (2048 columns and more, e.g.
 * 4000x3000 photos or 15000x10000 scans; see rle_encode_labels.c), from a list of changes.
 *
 * Such maps do not fit in cache, so the map must stream from memory in plain row order and
 * be read once: nothing may come back to it at random (a read per change would stall on
 * memory). So:
 * 1. each row is compared with the row above, 16 ids at a time (one well-predicted branch
 *    per 16 ids: changes are rare), and every change is listed as (x, y, new id), with a
 *    count per column;
 * 2. a counting sort by column (stable, so y stays ascending) puts the list in
 *    column-major order;
 * 3. the list is walked as the bitmap path walks its bits: each column carries its
 *    current id from row 0 on, the column start (0, x) is a change when row 0's id
 *    differs from the id the previous column ended with.
 */
#include <string.h>

#include "rle_labels_internal.h" /* also the SSE2 / AVX2 intrinsics and HAVE_AVX2_PATH */

/* One change: column, row, and the id from there down. */
typedef struct change {
    uint32_t x, y, id;
} change;

typedef struct change_list {
    change *v;        /* (cap) */
    size_t n, cap;
    uint32_t *col_n;  /* (w + 1) changes per column at [x + 1], later offsets */
    int oom;
} change_list;

static void add_change(change_list *l, uint32_t x, uint32_t y, uint32_t id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        change *p = realloc(l->v, sizeof *p * cap);
        if (!p) {
            l->oom = 1;
            return;
        }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = (change){x, y, id};
    l->col_n[x + 1]++;
}

/* The changed lanes of a 16-column block, from its equal-lane mask. */
static inline void add_block(change_list *l, const uint32_t *row, uint32_t x, uint32_t y,
                             uint32_t eq) {
    for (uint32_t bits = ~eq & 0xFFFFu; bits; bits &= bits - 1) {
        uint32_t cx = x + (uint32_t)__builtin_ctz(bits);
        add_change(l, cx, y, row[cx]);
    }
}

static void scan_row_scalar(change_list *l, const uint32_t *row, const uint32_t *above,
                            uint32_t x, uint32_t w, uint32_t y) {
    for (; x < w; x++)
        if (row[x] != above[x]) add_change(l, x, y, row[x]);
}

static void scan_row_sse2(change_list *l, const uint32_t *row, const uint32_t *above, uint32_t w,
                          uint32_t y) {
    uint32_t x = 0;
#if defined(__SSE2__)
    for (; x + 16 <= w; x += 16) {
        __m128i e0 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(row + x)),
                                     _mm_loadu_si128((const __m128i *)(above + x)));
        __m128i e1 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(row + x + 4)),
                                     _mm_loadu_si128((const __m128i *)(above + x + 4)));
        __m128i e2 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(row + x + 8)),
                                     _mm_loadu_si128((const __m128i *)(above + x + 8)));
        __m128i e3 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(row + x + 12)),
                                     _mm_loadu_si128((const __m128i *)(above + x + 12)));
        /* 16 lanes -> 16 bits (packs keep the all-ones / all-zeros lanes) */
        __m128i p = _mm_packs_epi16(_mm_packs_epi32(e0, e1), _mm_packs_epi32(e2, e3));
        uint32_t eq = (uint32_t)_mm_movemask_epi8(p);
        if (eq != 0xFFFFu) add_block(l, row, x, y, eq);
    }
#endif
    scan_row_scalar(l, row, above, x, w, y);
}

#ifdef HAVE_AVX2_PATH
__attribute__((target("avx2"))) static void
scan_row_avx2(change_list *l, const uint32_t *row, const uint32_t *above, uint32_t w, uint32_t y) {
    uint32_t x = 0;
    for (; x + 16 <= w; x += 16) {
        __m256i e0 = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(row + x)),
                                        _mm256_loadu_si256((const __m256i *)(above + x)));
        __m256i e1 = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(row + x + 8)),
                                        _mm256_loadu_si256((const __m256i *)(above + x + 8)));
        uint32_t eq = (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(e0)) |
                      (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(e1)) << 8;
        if (eq != 0xFFFFu) add_block(l, row, x, y, eq);
    }
    scan_row_scalar(l, row, above, x, w, y);
}
#endif

void es_labels_by_changes(es_label_encoder *e, const uint32_t *labels, uint32_t h, uint32_t w,
                          int flags) {
    change_list l = {0};
    l.col_n = calloc((size_t)w + 1, sizeof *l.col_n);
    if (!l.col_n) {
        e->oom = 1;
        return;
    }
    int avx2 = es_labels_use_avx2(flags);
    /* 1. */
    for (uint32_t y = 1; y < h && !l.oom; y++) {
        const uint32_t *row = labels + (size_t)y * w;
        if (flags & ES_LABELS_SCALAR)
            scan_row_scalar(&l, row, row - w, 0, w, y);
#ifdef HAVE_AVX2_PATH
        else if (avx2)
            scan_row_avx2(&l, row, row - w, w, y);
#endif
        else
            scan_row_sse2(&l, row, row - w, w, y);
    }
    (void)avx2;
    /* 2. */
    change *sorted = l.oom ? NULL : malloc(sizeof *sorted * (l.n + 1));
    if (!sorted) {
        free(l.v), free(l.col_n);
        e->oom = 1;
        return;
    }
    for (uint32_t x = 0; x < w; x++) l.col_n[x + 1] += l.col_n[x];
    for (size_t i = 0; i < l.n; i++) sorted[l.col_n[l.v[i].x]++] = l.v[i];
    free(l.v);
    free(l.col_n);
    /* 3. */
    uint32_t cur_id = labels[0], cur_slot = es_label_slot_of(e, cur_id);
    if (cur_slot != ES_NO_SLOT) es_label_toggle(e, cur_slot, 0); /* pixel 0 starts a run */
    size_t i = 0;
    for (uint32_t x = 0; x < w && !e->oom; x++) {
        uint32_t base = x * h;
        if (x > 0 && labels[x] != cur_id) es_label_change(e, base, &cur_slot, labels[x]);
        cur_id = labels[x];
        for (; i < l.n && sorted[i].x == x; i++) {
            cur_id = sorted[i].id;
            es_label_change(e, base + sorted[i].y, &cur_slot, cur_id);
        }
    }
    free(sorted);
}
