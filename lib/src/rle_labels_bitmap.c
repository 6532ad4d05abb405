/* rle_labels_bitmap.c: label map -> toggles for COCO-sized maps (the default below 2048
 * columns; see rle_encode_labels.c), via a bitmap of where ids change down the columns.
 *
 * 1. Change bitmap (the one pass over the map). Rows are taken in bands of 32; bit j of
 *    column x's word k says "row 32k + j differs from the row above". A band is built 16
 *    (AVX2) or 8 (SSE2) columns at a time with the words in registers: the band's 32 rows
 *    advance together, which is fast while the map sits in cache, and nothing branches
 *    per pixel. Words are stored band-major: bits[k*w + x] (an h*w/8-byte bitmap).
 * 2. Walk the columns in order and each column's set bits in order: that is column-major
 *    order, so nothing is sorted. Each column carries its current id (from row 0 on), so a
 *    change needs one read (the new id) and one slot lookup; the column start (0, x) is a
 *    change when row 0's id differs from the id the previous column ended with.
 */
#include <string.h>

#include "rle_labels_internal.h" /* also the SSE2 / AVX2 intrinsics and HAVE_AVX2_PATH */

#define BAND 32 /* rows per bitmap word */

/* Scalar words for columns [x, w) of band k (rows y0 .. y1-1). */
static void band_words_scalar(const uint32_t *labels, uint32_t w, uint32_t y0, uint32_t y1,
                              uint32_t x, uint32_t *words) {
    for (; x < w; x++) {
        uint32_t acc = 0;
        const uint32_t *p = labels + (size_t)y0 * w + x;
        uint32_t prev = y0 ? p[-(ptrdiff_t)w] : p[0];
        for (uint32_t j = 0; j < y1 - y0; j++, p += w) {
            acc |= (uint32_t)(*p != prev) << j;
            prev = *p;
        }
        words[x] = acc;
    }
}

/* Band k's words for all columns, SSE2 (4 columns per vector, 8 per step). */
static void band_words_sse2(const uint32_t *labels, uint32_t w, uint32_t y0, uint32_t y1,
                            uint32_t *words) {
    uint32_t x = 0;
#if defined(__SSE2__)
    for (; x + 8 <= w; x += 8) {
        const uint32_t *p = labels + (size_t)y0 * w + x;
        const uint32_t *q = y0 ? p - w : p;
        __m128i prev0 = _mm_loadu_si128((const __m128i *)q);
        __m128i prev1 = _mm_loadu_si128((const __m128i *)(q + 4));
        __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
        __m128i bit = _mm_set1_epi32(1);
        for (uint32_t y = y0; y < y1; y++, p += w) {
            __m128i c0 = _mm_loadu_si128((const __m128i *)p);
            __m128i c1 = _mm_loadu_si128((const __m128i *)(p + 4));
            acc0 = _mm_or_si128(acc0, _mm_andnot_si128(_mm_cmpeq_epi32(c0, prev0), bit));
            acc1 = _mm_or_si128(acc1, _mm_andnot_si128(_mm_cmpeq_epi32(c1, prev1), bit));
            prev0 = c0;
            prev1 = c1;
            bit = _mm_slli_epi32(bit, 1);
        }
        _mm_storeu_si128((__m128i *)(words + x), acc0);
        _mm_storeu_si128((__m128i *)(words + x + 4), acc1);
    }
#endif
    band_words_scalar(labels, w, y0, y1, x, words);
}

#ifdef HAVE_AVX2_PATH
/* The same with AVX2 (chosen at run time): 8 columns per vector, 16 per step. */
__attribute__((target("avx2"))) static void
band_words_avx2(const uint32_t *labels, uint32_t w, uint32_t y0, uint32_t y1, uint32_t *words) {
    uint32_t x = 0;
    for (; x + 16 <= w; x += 16) {
        const uint32_t *p = labels + (size_t)y0 * w + x;
        const uint32_t *q = y0 ? p - w : p;
        __m256i prev0 = _mm256_loadu_si256((const __m256i *)q);
        __m256i prev1 = _mm256_loadu_si256((const __m256i *)(q + 8));
        __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
        __m256i bit = _mm256_set1_epi32(1);
        for (uint32_t y = y0; y < y1; y++, p += w) {
            __m256i c0 = _mm256_loadu_si256((const __m256i *)p);
            __m256i c1 = _mm256_loadu_si256((const __m256i *)(p + 8));
            acc0 = _mm256_or_si256(acc0, _mm256_andnot_si256(_mm256_cmpeq_epi32(c0, prev0), bit));
            acc1 = _mm256_or_si256(acc1, _mm256_andnot_si256(_mm256_cmpeq_epi32(c1, prev1), bit));
            prev0 = c0;
            prev1 = c1;
            bit = _mm256_slli_epi32(bit, 1);
        }
        _mm256_storeu_si256((__m256i *)(words + x), acc0);
        _mm256_storeu_si256((__m256i *)(words + x + 8), acc1);
    }
    band_words_scalar(labels, w, y0, y1, x, words);
}
#endif

static void walk_columns(es_label_encoder *e, const uint32_t *labels, const uint32_t *bits,
                         uint32_t h, uint32_t w, uint32_t n_words) {
    uint32_t cur_id = labels[0], cur_slot = es_label_slot_of(e, cur_id);
    if (cur_slot != ES_NO_SLOT) es_label_toggle(e, cur_slot, 0); /* pixel 0 starts a run */
    for (uint32_t x = 0; x < w && !e->oom; x++) {
        uint32_t base = x * h;
        if (x > 0 && labels[x] != cur_id) es_label_change(e, base, &cur_slot, labels[x]);
        cur_id = labels[x];
        for (uint32_t k = 0; k < n_words; k++)
            for (uint32_t b = bits[(size_t)k * w + x]; b; b &= b - 1) {
                uint32_t y = k * BAND + (uint32_t)__builtin_ctz(b);
                cur_id = labels[(size_t)y * w + x];
                es_label_change(e, base + y, &cur_slot, cur_id);
            }
    }
}

void es_labels_by_bitmap(es_label_encoder *e, const uint32_t *labels, uint32_t h, uint32_t w,
                         int flags) {
    uint32_t n_words = (h + BAND - 1) / BAND;
    uint32_t *bits = malloc(sizeof *bits * (size_t)n_words * w);
    if (!bits) {
        e->oom = 1;
        return;
    }
    int avx2 = es_labels_use_avx2(flags);
    for (uint32_t k = 0; k < n_words; k++) {
        uint32_t y0 = k * BAND, y1 = h - y0 > BAND ? y0 + BAND : h, *words = bits + (size_t)k * w;
        if (flags & ES_LABELS_SCALAR)
            band_words_scalar(labels, w, y0, y1, 0, words);
#ifdef HAVE_AVX2_PATH
        else if (avx2)
            band_words_avx2(labels, w, y0, y1, words);
#endif
        else
            band_words_sse2(labels, w, y0, y1, words);
    }
    (void)avx2;
    walk_columns(e, labels, bits, h, w, n_words);
    free(bits);
}
