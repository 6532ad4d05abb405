/* rle_encode_labels.c: a row-major uint32 label map -> one COCO RLE per non-zero id, in one
 * streaming pass over the map (panoptic PNGs, synthetic data, model output).
 *
 * Column-major runs over a row-major map: a pixel (y, x) is a run boundary exactly when its
 * id differs from the pixel before it in column-major order, (y-1, x) for y > 0 or
 * (h-1, x-1) for y == 0. At such a "change" the old id's mask toggles off and the new id's
 * toggles on at p = x*h + y. Two paths find the changes in column-major order without
 * walking the map column by column (which would touch one cache line per pixel):
 *   - rle_labels_bitmap.c for maps narrower than WIDE_MAP (COCO-sized, in cache): a bitmap
 *     of changes built in registers, then walked column by column;
 *   - rle_labels_changes.c for wide maps (streamed from memory): a list of changes from a
 *     row-by-row scan, counting-sorted by column.
 * Both feed the slots of rle_labels_internal.h; this file owns the slots and turns each
 * id's toggle positions into run lengths in place (differences), ids ascending.
 * Cost: one pass over h*w ids plus O(changes). The result equals es_rle_encode of each
 * id's binary mask (tests/lib/test_rle_labels.c checks that, on every path).
 */
#include <string.h>

#include "rle_labels_internal.h"

#ifndef WIDE_MAP
#define WIDE_MAP 2048 /* from this width on, the change-list path */
#endif

static size_t id_hash(uint32_t id, size_t mask) {
    return (size_t)((id * 2654435761u) ^ (id >> 15)) & mask;
}

static int table_grow(es_label_encoder *e) {
    size_t cap = e->table_cap ? e->table_cap * 2 : 64;
    uint32_t *keys = calloc(cap, sizeof *keys), *slots = malloc(sizeof *slots * cap);
    if (!keys || !slots) {
        free(keys), free(slots);
        return -1;
    }
    for (size_t i = 0; i < e->table_cap; i++)
        if (e->keys[i]) {
            size_t j = id_hash(e->keys[i], cap - 1);
            while (keys[j]) j = (j + 1) & (cap - 1);
            keys[j] = e->keys[i];
            slots[j] = e->key_slots[i];
        }
    free(e->keys), free(e->key_slots);
    e->keys = keys;
    e->key_slots = slots;
    e->table_cap = cap;
    return 0;
}

/* A new slot for id (not yet in the table); ES_NO_SLOT when out of memory. */
static uint32_t add_slot(es_label_encoder *e, uint32_t id) {
    if (2 * (e->n_slots + 1) > e->table_cap && table_grow(e)) goto oom;
    if (e->n_slots == e->cap_slots) {
        size_t cap = e->cap_slots ? e->cap_slots * 2 : 64;
        es_label_slot *p = realloc(e->slots, sizeof *p * cap);
        if (!p) goto oom;
        e->slots = p;
        e->cap_slots = cap;
    }
    uint32_t *cnts = malloc(sizeof *cnts * 16);
    if (!cnts) goto oom;
    size_t mask = e->table_cap - 1, j = id_hash(id, mask);
    while (e->keys[j]) j = (j + 1) & mask;
    e->keys[j] = id;
    e->key_slots[j] = (uint32_t)e->n_slots;
    e->slots[e->n_slots] = (es_label_slot){id, 0, 16, cnts};
    return (uint32_t)e->n_slots++;
oom:
    e->oom = 1;
    return ES_NO_SLOT;
}

uint32_t es_label_slot_lookup(es_label_encoder *e, uint32_t id) {
    uint32_t s = ES_NO_SLOT;
    if (e->table_cap) {
        size_t mask = e->table_cap - 1, j = id_hash(id, mask);
        for (; e->keys[j]; j = (j + 1) & mask)
            if (e->keys[j] == id) {
                s = e->key_slots[j];
                break;
            }
    }
    if (s == ES_NO_SLOT && (s = add_slot(e, id)) == ES_NO_SLOT) return ES_NO_SLOT;
    uint32_t c = id & (ES_SLOT_CACHE - 1);
    e->cache_id[c] = id;
    e->cache_slot[c] = s;
    return s;
}

void es_label_slot_grow(es_label_encoder *e, es_label_slot *si) {
    uint64_t cap = 2 * (uint64_t)si->cap;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    uint32_t *p = realloc(si->cnts, sizeof *p * cap);
    if (!p) {
        e->oom = 1;
        return;
    }
    si->cnts = p;
    si->cap = (uint32_t)cap;
}

static int cmp_slot_by_id(const void *a, const void *b) {
    uint32_t x = ((const es_label_slot *)a)->id, y = ((const es_label_slot *)b)->id;
    return x > y ? 1 : x < y ? -1 : 0;
}

static void encoder_free(es_label_encoder *e) {
    free(e->keys);
    free(e->key_slots);
    if (e->slots)
        for (size_t i = 0; i < e->n_slots; i++) free(e->slots[i].cnts);
    free(e->slots);
}

int es_rle_encode_labels(es_label_rles *out, const uint32_t *labels, uint32_t h, uint32_t w,
                         es_error *err) {
    return es_rle_encode_labels_paths(out, labels, h, w, ES_LABELS_AUTO, err);
}

int es_rle_encode_labels_paths(es_label_rles *out, const uint32_t *labels, uint32_t h, uint32_t w,
                               int paths, es_error *err) {
    memset(out, 0, sizeof *out);
    ES_CHECK(es_rle_check_size(h, w, "es_rle_encode_labels", err));
    uint32_t n = h * w;
    if (n == 0) return ES_OK;
    es_label_encoder *e = calloc(1, sizeof *e);
    if (!e) return es_error_set(err, ES_ERR_NOMEM, "es_rle_encode_labels: out of memory");
    int wide = paths & ES_LABELS_WIDE ? 1 : paths & ES_LABELS_NARROW ? 0 : w >= WIDE_MAP;
    if (wide)
        es_labels_by_changes(e, labels, h, w, paths);
    else
        es_labels_by_bitmap(e, labels, h, w, paths);

    if (!e->oom) {
        out->ids = malloc(sizeof *out->ids * (e->n_slots + 1));
        out->rles = malloc(sizeof *out->rles * (e->n_slots + 1));
        out->areas = malloc(sizeof *out->areas * (e->n_slots + 1));
        e->oom = !out->ids || !out->rles || !out->areas;
    }
    if (e->oom) {
        encoder_free(e);
        free(e);
        es_label_rles_free(out);
        return es_error_set(err, ES_ERR_NOMEM, "es_rle_encode_labels: out of memory (%u x %u map)",
                            h, w);
    }

    /* Positions -> run lengths, ids ascending. */
    if (e->n_slots > 1) qsort(e->slots, e->n_slots, sizeof *e->slots, cmp_slot_by_id);
    for (size_t s = 0; s < e->n_slots; s++) {
        es_label_slot *si = &e->slots[s];
        uint32_t t = si->n, *c = si->cnts;
        c[t] = n - (t ? c[t - 1] : 0);
        for (uint32_t i = t; i-- > 1;) c[i] -= c[i - 1];
        es_rle_adopt(&out->rles[s], h, w, t + 1, c);
        si->cnts = NULL;
        out->ids[s] = si->id;
        out->areas[s] = es_rle_area(&out->rles[s]);
        ES_RLE_ASSERT_VALID(&out->rles[s]);
    }
    out->n = e->n_slots;
    encoder_free(e);
    free(e);
    return ES_OK;
}
