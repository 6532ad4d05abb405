/* test_rle_reference.h: slow, obviously-correct dense versions of the RLE operations
 * (STYLE item 7) and a generator of random masks of every shape class, shared by the
 * tests/lib/test_rle*.c programs. Everything here works pixel by pixel on row-major bytes.
 */
#ifndef TEST_RLE_REFERENCE_H
#define TEST_RLE_REFERENCE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/rle.h"

/* xorshift64*: deterministic random numbers for the tests. */
static uint64_t ref_rng_state = 0x9E3779B97F4A7C15ull;
static inline uint64_t ref_rand(void) {
    uint64_t x = ref_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    ref_rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}
static inline uint32_t ref_randn(uint32_t n) { return n ? (uint32_t)(ref_rand() % n) : 0; }

/* pycocotools rleEncode on the column-major reading of a row-major mask. cnts must hold
 * h*w + 1 entries; returns m. */
static inline uint32_t ref_encode(const uint8_t *mask, uint32_t h, uint32_t w, uint32_t *cnts) {
    uint32_t k = 0, c = 0;
    int p = 0;
    if ((uint64_t)h * w == 0) return 0;
    for (uint32_t x = 0; x < w; x++)
        for (uint32_t y = 0; y < h; y++) {
            int v = mask[(size_t)y * w + x] != 0;
            if (v != p) {
                cnts[k++] = c;
                c = 0;
                p = v;
            }
            c++;
        }
    cnts[k++] = c;
    return k;
}

/* Checks that r has exactly the runs ref_encode gives for mask. */
static inline int ref_rle_equals_mask(const es_rle *r, const uint8_t *mask, uint32_t h, uint32_t w) {
    uint32_t *cnts = malloc(sizeof *cnts * ((size_t)h * w + 1));
    uint32_t m = ref_encode(mask, h, w, cnts);
    int same = r->h == h && r->w == w && r->m == m &&
               (m == 0 || memcmp(r->cnts, cnts, sizeof *cnts * m) == 0);
    free(cnts);
    return same;
}

/* Whether a and b have the same size and exactly the same runs. */
static inline int ref_rle_same(const es_rle *a, const es_rle *b) {
    return a->h == b->h && a->w == b->w && a->m == b->m &&
           (a->m == 0 || memcmp(a->cnts, b->cnts, sizeof *a->cnts * a->m) == 0);
}

static inline uint64_t ref_area(const uint8_t *m, size_t n) {
    uint64_t a = 0;
    for (size_t i = 0; i < n; i++) a += m[i] != 0;
    return a;
}

/* Tight foreground box {x, y, w, h}; zeros when empty. */
static inline void ref_bbox(const uint8_t *m, uint32_t h, uint32_t w, double bb[4]) {
    uint32_t xs = w, ys = h, xe = 0, ye = 0;
    int any = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) {
                any = 1;
                if (x < xs) xs = x;
                if (x > xe) xe = x;
                if (y < ys) ys = y;
                if (y > ye) ye = y;
            }
    bb[0] = bb[1] = bb[2] = bb[3] = 0;
    if (!any) return;
    bb[0] = xs, bb[1] = ys, bb[2] = xe - xs + 1, bb[3] = ye - ys + 1;
}

static inline void ref_counts(const uint8_t *a, const uint8_t *b, size_t n, uint64_t *inter,
                              uint64_t *uni) {
    *inter = *uni = 0;
    for (size_t i = 0; i < n; i++) {
        *inter += a[i] && b[i];
        *uni += a[i] || b[i];
    }
}

/* COCO IoU from dense counts: 0 when nothing is shared, crowd divides by the dt area. */
static inline double ref_iou(const uint8_t *dt, const uint8_t *gt, size_t n, int crowd) {
    uint64_t i, u;
    ref_counts(dt, gt, n, &i, &u);
    if (i == 0) return 0;
    if (crowd) u = ref_area(dt, n);
    return (double)i / (double)u;
}

/* Shape classes of the issue: empty, full, 1 px, thin lines, holes, disconnected, noise. */
enum { REF_EMPTY, REF_FULL, REF_ONE_PX, REF_HLINE, REF_VLINE, REF_DIAG, REF_HOLE,
       REF_BLOBS, REF_NOISE_SPARSE, REF_NOISE_HALF, REF_NOISE_DENSE, REF_CORNERS, REF_N_SHAPES };

static inline void ref_fill_rect(uint8_t *m, uint32_t h, uint32_t w, uint32_t x0, uint32_t y0,
                                 uint32_t x1, uint32_t y1, uint8_t v) {
    for (uint32_t y = y0; y < y1 && y < h; y++)
        for (uint32_t x = x0; x < x1 && x < w; x++) m[(size_t)y * w + x] = v;
}

/* Fills m (h*w row-major) with one mask of the given class. Foreground values vary
 * (1..255) to check that any non-zero byte counts as foreground. */
static inline void ref_make_mask(uint8_t *m, uint32_t h, uint32_t w, int shape) {
    size_t n = (size_t)h * w;
    memset(m, 0, n);
    if (n == 0) return;
    uint8_t fg = (uint8_t)(1 + ref_randn(255));
    switch (shape) {
    case REF_EMPTY: break;
    case REF_FULL: memset(m, fg, n); break;
    case REF_ONE_PX: m[ref_randn((uint32_t)n)] = fg; break;
    case REF_HLINE: {
            uint32_t y = ref_randn(h);
            ref_fill_rect(m, h, w, ref_randn(w), y, w, y + 1, fg);
        } break;
    case REF_VLINE: {
            uint32_t x = ref_randn(w);
            ref_fill_rect(m, h, w, x, ref_randn(h), x + 1, h, fg);
        } break;
    case REF_DIAG:
        for (uint32_t y = 0; y < h; y++) m[(size_t)y * w + (y + ref_randn(2)) % w] = fg;
        break;
    case REF_HOLE: {
            uint32_t x0 = ref_randn(w), y0 = ref_randn(h);
            uint32_t x1 = x0 + 1 + ref_randn(w - x0), y1 = y0 + 1 + ref_randn(h - y0);
            ref_fill_rect(m, h, w, x0, y0, x1, y1, fg);
            if (x1 - x0 > 2 && y1 - y0 > 2) ref_fill_rect(m, h, w, x0 + 1, y0 + 1, x1 - 1, y1 - 1, 0);
        } break;
    case REF_BLOBS:
        for (int k = 0, nb = 1 + (int)ref_randn(5); k < nb; k++) {
            uint32_t x0 = ref_randn(w), y0 = ref_randn(h);
            ref_fill_rect(m, h, w, x0, y0, x0 + 1 + ref_randn(8), y0 + 1 + ref_randn(8), fg);
        }
        break;
    case REF_NOISE_SPARSE:
        for (size_t i = 0; i < n; i++) m[i] = ref_randn(10) == 0 ? fg : 0;
        break;
    case REF_NOISE_HALF:
        for (size_t i = 0; i < n; i++) m[i] = (uint8_t)(ref_rand() & 1 ? 1 + ref_randn(255) : 0);
        break;
    case REF_NOISE_DENSE:
        for (size_t i = 0; i < n; i++) m[i] = ref_randn(10) ? fg : 0;
        break;
    case REF_CORNERS:
        m[0] = fg;
        m[n - 1] = fg;
        m[w - 1] = fg;
        m[n - w] = fg;
        break;
    }
}

#endif
