/* rle_labels_internal.h: the state shared by the two ways rle_encode_labels.c turns a label
 * map into per-id RLEs (rle_labels_bitmap.c for COCO-sized maps, rle_labels_changes.c for
 * wide ones): one "slot" per distinct id collecting that id's toggle positions in
 * column-major order, and the walk step both paths share.
 *
 * A toggle is a position p = x*h + y where the id's mask changes value going down the
 * columns; the toggles, in order, are the run boundaries, so the runs are their differences.
 */
#ifndef ENTSEG_RLE_LABELS_INTERNAL_H
#define ENTSEG_RLE_LABELS_INTERNAL_H

#include <stdint.h>
#include <stdlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1 /* the paths carry an AVX2 variant, chosen at run time */
#endif

#include "rle_internal.h"

#define ES_NO_SLOT UINT32_MAX  /* id 0 (void) has no mask */
#define ES_SLOT_CACHE 256      /* direct-mapped id -> slot cache in front of the hash table */

/* One id's mask under construction. */
typedef struct es_label_slot {
    uint32_t id;
    uint32_t n, cap; /* toggles stored, room in cnts (always > n: the final run fits) */
    uint32_t *cnts;  /* (cap) toggle positions, later run lengths in place */
} es_label_slot;

typedef struct es_label_encoder {
    uint32_t cache_id[ES_SLOT_CACHE], cache_slot[ES_SLOT_CACHE]; /* cache_id 0 = empty */
    uint32_t *keys, *key_slots; /* (table_cap) id -> slot, open addressing, key 0 = empty */
    size_t table_cap;           /* power of two, at most half full */
    es_label_slot *slots;       /* (n_slots) in order of first appearance */
    size_t n_slots, cap_slots;
    int oom;                    /* an allocation failed; the result is discarded */
} es_label_encoder;

/* Slow paths of the inline functions below. */
uint32_t es_label_slot_lookup(es_label_encoder *e, uint32_t id);
void es_label_slot_grow(es_label_encoder *e, es_label_slot *si);

/* The slot of id; ES_NO_SLOT for void (or out of memory). */
static inline uint32_t es_label_slot_of(es_label_encoder *e, uint32_t id) {
    if (id == 0) return ES_NO_SLOT;
    uint32_t c = id & (ES_SLOT_CACHE - 1);
    if (e->cache_id[c] == id) return e->cache_slot[c];
    return es_label_slot_lookup(e, id);
}

/* Appends a toggle at pos to slot s (not ES_NO_SLOT), keeping room for the final run. */
static inline void es_label_toggle(es_label_encoder *e, uint32_t s, uint32_t pos) {
    es_label_slot *si = &e->slots[s];
    if (si->n + 1 == si->cap) {
        es_label_slot_grow(e, si);
        if (e->oom) return;
    }
    si->cnts[si->n++] = pos;
}

/* A change at position pos, in column-major order, from the id of *cur_slot to new_id. */
static inline void es_label_change(es_label_encoder *e, uint32_t pos, uint32_t *cur_slot,
                                   uint32_t new_id) {
    uint32_t s = es_label_slot_of(e, new_id);
    if (*cur_slot != ES_NO_SLOT) es_label_toggle(e, *cur_slot, pos);
    if (s != ES_NO_SLOT) es_label_toggle(e, s, pos);
    *cur_slot = s;
}

/* Whether a path takes its AVX2 variant: built in, allowed by flags, and the CPU has it. */
static inline int es_labels_use_avx2(int flags) {
#ifdef HAVE_AVX2_PATH
    return !(flags & (ES_LABELS_NO_AVX2 | ES_LABELS_SCALAR)) && __builtin_cpu_supports("avx2");
#else
    (void)flags;
    return 0;
#endif
}

/* The two paths: fill e's slots with every toggle of the map, in column-major order.
 * flags are the ES_LABELS_* of rle_internal.h (vector width to use). */
void es_labels_by_bitmap(es_label_encoder *e, const uint32_t *labels, uint32_t h, uint32_t w,
                         int flags);
void es_labels_by_changes(es_label_encoder *e, const uint32_t *labels, uint32_t h, uint32_t w,
                          int flags);

#endif
