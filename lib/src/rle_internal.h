/* rle_internal.h: helpers shared by the rle_*.c files (not public).
 *
 * - size checks: a mask's pixel count h*w must fit the uint32 run type;
 * - adoption of a malloc'ed run array into an es_rle (with the debug-build invariant check,
 *   STYLE item 11: sum(cnts) == h*w after every producer);
 * - a run builder that appends (value, length) pieces and merges equal neighbours, giving
 *   the canonical pycocotools form (first run background, possibly 0; no other zero runs);
 * - a forward cursor that reads a mask's runs piece by piece from any position on.
 */
#ifndef ENTSEG_RLE_INTERNAL_H
#define ENTSEG_RLE_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "entseg/rle.h"

/* ES_ERR_INVALID unless h*w fits in uint32 (what sum(cnts) can hold). fn names the caller. */
int es_rle_check_size(uint32_t h, uint32_t w, const char *fn, es_error *err);

/* Sum of all runs, in 64 bits. */
uint64_t es_rle_sum(const es_rle *r);

/* Stores (h, w, m, cnts) in r, taking ownership of cnts (may be NULL when m == 0). */
void es_rle_adopt(es_rle *r, uint32_t h, uint32_t w, uint32_t m, uint32_t *cnts);

/* es_rle_encode_labels with its code path chosen, so that tests can check every path
 * against the reference on any machine: paths is ES_LABELS_AUTO (what
 * es_rle_encode_labels does: AVX2 when the CPU has it; the bitmap path below 2048
 * columns, the change-list path from there) or an OR of the flags below. */
enum {
    ES_LABELS_AUTO = 0,
    ES_LABELS_NO_AVX2 = 1, /* SSE2 (or portable) vectors only */
    ES_LABELS_SCALAR = 2,  /* no vectors at all */
    ES_LABELS_WIDE = 4,    /* the change-list path (rle_labels_changes.c), whatever the width */
    ES_LABELS_NARROW = 8   /* the bitmap path (rle_labels_bitmap.c), whatever the width */
};
int es_rle_encode_labels_paths(es_label_rles *out, const uint32_t *labels, uint32_t h, uint32_t w,
                               int paths, es_error *err);

#ifndef NDEBUG
#define ES_RLE_ASSERT_VALID(r) assert(es_rle_sum(r) == (uint64_t)(r)->h * (uint64_t)(r)->w)
#else
#define ES_RLE_ASSERT_VALID(r) ((void)0)
#endif

/* Appends pieces of constant value and emits canonical runs. */
typedef struct es_runs_builder {
    uint32_t *cnts;   /* (cap) runs so far; the open run is not in it yet */
    size_t m, cap;
    int v;            /* value of the open run (0 = background) */
    uint64_t open;    /* length of the open run */
    int oom;          /* an allocation failed; finish reports ES_ERR_NOMEM */
} es_runs_builder;

void es_runs_builder_init(es_runs_builder *b, size_t cap_hint);
void es_runs_builder_push(es_runs_builder *b, int v, uint64_t len);
/* Moves the runs into out (size h x w); frees the builder's memory on failure. An empty
 * image (h*w == 0) gives m = 0. */
int es_runs_builder_finish(es_runs_builder *b, es_rle *out, uint32_t h, uint32_t w,
                           const char *fn, es_error *err);
void es_runs_builder_free(es_runs_builder *b);

/* Reads runs forward from the start of a mask. */
typedef struct es_runs_cursor {
    const uint32_t *cnts;
    uint32_t m, i;  /* run i is the current one */
    uint32_t left;  /* pixels left in run i */
    int v;          /* value of run i */
} es_runs_cursor;

void es_runs_cursor_init(es_runs_cursor *c, const es_rle *r);
/* Skips n pixels (stops at the end of the mask). */
void es_runs_cursor_skip(es_runs_cursor *c, uint64_t n);
/* Takes the next piece of at most max pixels of one value; returns its length (0 at the
 * end of the mask) and its value in *v. */
uint64_t es_runs_cursor_take(es_runs_cursor *c, uint64_t max, int *v);

#endif
