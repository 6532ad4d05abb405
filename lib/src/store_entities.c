/* store_entities.c: writing an image's entities with the store's invariants checked, and
 * reading them back.
 *
 * The non-overlap check never decodes a mask: every foreground run of every non-crowd
 * mask of the image is an interval [start, end) of column-major pixel indices; in start
 * order, the masks are disjoint exactly when each interval ends before the next begins.
 * Each mask's runs are already in order, so a k-way merge gives that order in O(R log K)
 * for R runs of K masks: a 15000 x 10000 image with hundreds of entities stays cheap.
 */
#include "store_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

es_entity es_entity_default(void) {
    es_entity e;
    memset(&e, 0, sizeof e);
    e.id = ES_NONE;
    e.image_id = ES_NONE;
    e.mask = ES_RLE_EMPTY;
    e.score = 1.0;
    e.label_id = ES_NONE;
    e.category_id = ES_NONE;
    e.isthing = -1;
    e.source_segment_id = ES_NONE;
    e.declared_area = NAN;
    e.source_order = ES_NONE; /* ES_NONE on insert: the entity's position in the batch */
    return e;
}

/* "entity 3 (source segment 42)" or "entity 3" (index in the batch). */
static const char *entity_name(const es_entity *ents, size_t i, char *buf, size_t len) {
    if (ents[i].source_segment_id != ES_NONE)
        snprintf(buf, len, "entity %zu (source segment %lld)", i,
                 (long long)ents[i].source_segment_id);
    else snprintf(buf, len, "entity %zu", i);
    return buf;
}

/* One non-crowd mask walked run by run: its next foreground interval [start, end). */
typedef struct run_cursor {
    const es_rle *r;
    uint32_t next;       /* index of the next run to read */
    uint64_t pos;        /* pixel index where run `next` starts */
    uint64_t start, end; /* current foreground interval */
    size_t entity;
} run_cursor;

/* Moves c to its next non-empty foreground run; returns 0 when the mask has none left. */
static int cursor_advance(run_cursor *c) {
    const es_rle *r = c->r;
    while (c->next < r->m) {
        uint32_t j = c->next++;
        uint64_t end = c->pos + r->cnts[j];
        int fg = j & 1u;
        if (fg && end > c->pos) {
            c->start = c->pos;
            c->end = end;
            c->pos = end;
            return 1;
        }
        c->pos = end;
    }
    return 0;
}

/* Binary min-heap of cursors on start. */
static void heap_sift_down(run_cursor **heap, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < n && heap[l]->start < heap[best]->start) best = l;
        if (l + 1 < n && heap[l + 1]->start < heap[best]->start) best = l + 1;
        if (best == i) return;
        run_cursor *t = heap[i];
        heap[i] = heap[best];
        heap[best] = t;
        i = best;
    }
}

/* The runs of all non-crowd masks merged in start order (a k-way merge: each mask's runs
 * are already sorted, so O(R log K) for R runs of K masks); the masks are disjoint exactly
 * when every interval starts at or after the end of the one before it. */
static int check_no_overlap(es_store *s, const es_image *img, const es_entity *ents, size_t n,
                            es_error *err) {
    run_cursor *cur = malloc((n ? n : 1) * sizeof *cur);
    run_cursor **heap = malloc((n ? n : 1) * sizeof *heap);
    if (!cur || !heap) {
        free(cur);
        free(heap);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory checking overlaps", s->path);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].is_crowd) continue;
        cur[k] = (run_cursor){&ents[i].mask, 0, 0, 0, 0, i};
        if (cursor_advance(&cur[k])) {
            heap[k] = &cur[k];
            k++;
        }
    }
    for (size_t i = k / 2; i-- > 0;) heap_sift_down(heap, k, i);
    int rc = ES_OK;
    uint64_t prev_end = 0;
    size_t prev_entity = 0;
    while (k > 0) {
        run_cursor *c = heap[0];
        if (c->start < prev_end) {
            size_t a = prev_entity < c->entity ? prev_entity : c->entity;
            size_t b = prev_entity < c->entity ? c->entity : prev_entity;
            char na[96], nb[96];
            uint64_t p = c->start;
            rc = es_error_set(err, ES_ERR_OVERLAP,
                              "%s: image '%s': %s and %s overlap (first at pixel x=%llu y=%llu); "
                              "ground-truth entities must not overlap (mark one as crowd, or "
                              "create the store with overlapping instances)",
                              s->path, img->name, entity_name(ents, a, na, sizeof na),
                              entity_name(ents, b, nb, sizeof nb),
                              (unsigned long long)(p / img->height),
                              (unsigned long long)(p % img->height));
            break;
        }
        prev_end = c->end;
        prev_entity = c->entity;
        if (!cursor_advance(c)) heap[0] = heap[--k];
        heap_sift_down(heap, k, 0);
    }
    free(cur);
    free(heap);
    return rc;
}

/* Everything store.h promises about one entity, area and bbox computed into area/bbox. */
static int check_entity(es_store *s, const es_image *img, const es_entity *ents, size_t i,
                        uint64_t *area, double bbox[4], es_error *err) {
    const es_entity *e = &ents[i];
    char name[96];
    entity_name(ents, i, name, sizeof name);
    const es_rle *r = &e->mask;
    if (r->h != img->height || r->w != img->width)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: image '%s': %s: mask is %ux%u (w x h) but the image is %ux%u",
                            s->path, img->name, name, r->w, r->h, img->width, img->height);
    uint64_t sum = 0;
    for (uint32_t j = 0; j < r->m; j++) sum += r->cnts[j];
    if ((r->m && !r->cnts) || sum != (uint64_t)r->h * r->w)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: image '%s': %s: mask runs cover %llu pixels, not %llu", s->path,
                            img->name, name, (unsigned long long)sum,
                            (unsigned long long)r->h * r->w);
    if (!isfinite(e->score))
        return es_error_set(err, ES_ERR_INVALID, "%s: image '%s': %s: score %g is not finite",
                            s->path, img->name, name, e->score);
    if (e->is_crowd != 0 && e->is_crowd != 1)
        return es_error_set(err, ES_ERR_INVALID, "%s: image '%s': %s: is_crowd is %d, not 0 or 1",
                            s->path, img->name, name, e->is_crowd);
    if (e->isthing < -1 || e->isthing > 1)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: image '%s': %s: isthing is %d, not 1, 0 or -1", s->path,
                            img->name, name, e->isthing);
    if (isinf(e->declared_area))
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: image '%s': %s: declared area is infinite", s->path, img->name,
                            name);
    *area = es_rle_area(r);
    es_rle_to_bbox(r, bbox);
    if (e->area != 0 && e->area != *area)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: image '%s': %s: area given as %llu but the mask has %llu pixels",
                            s->path, img->name, name, (unsigned long long)e->area,
                            (unsigned long long)*area);
    if (e->label_id != ES_NONE) {
        int exists;
        ES_CHECK(store_label_exists(s, e->label_id, "reading labels", &exists, err));
        if (!exists)
            return es_error_set(err, ES_ERR_INVALID,
                                "%s: image '%s': %s: label id %lld is not in the vocabulary",
                                s->path, img->name, name, (long long)e->label_id);
    }
    return ES_OK;
}

static int insert_entity(es_store *s, int64_t image_id, const es_entity *e, size_t index,
                         uint64_t area, const double bbox[4], int64_t *id, es_error *err) {
    const uint8_t *blob;
    size_t blob_len;
    ES_CHECK(es_mask_blob_encode(s->codec, &e->mask, &blob, &blob_len, err));
    store_dict_collect(s);
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, STMT_ENTITY_INSERT, &st, err));
    sqlite3_bind_int64(st, 1, image_id);
    sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)area);
    for (int k = 0; k < 4; k++) sqlite3_bind_double(st, 4 + k, bbox[k]);
    sqlite3_bind_int(st, 8, e->is_crowd);
    sqlite3_bind_double(st, 9, e->score);
    store_bind_id(st, 10, e->label_id);
    store_bind_id(st, 11, e->category_id);
    sqlite3_bind_int(st, 12, e->isthing);
    store_bind_id(st, 13, e->source_segment_id);
    if (isnan(e->declared_area)) sqlite3_bind_null(st, 14);
    else sqlite3_bind_double(st, 14, e->declared_area);
    sqlite3_bind_int64(st, 15, e->source_order == ES_NONE ? (int64_t)index : e->source_order);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* the blob points into the codec */
    if (rc != SQLITE_DONE) return store_sql_error(s, rc, "adding entity", err);
    *id = sqlite3_last_insert_rowid(s->db);
    return ES_OK;
}

int es_store_add_entities(es_store *s, int64_t image_id, es_entity *ents, size_t n,
                          es_error *err) {
    ES_CHECK(store_require_writable(s, err));
    es_image img;
    ES_CHECK(es_store_get_image(s, image_id, &img, err));
    int rc = ES_OK;
    sqlite3_stmt *st;
    rc = store_stmt(s, STMT_IMAGE_HAS_ENTITIES, &st, err);
    if (!rc) {
        sqlite3_bind_int64(st, 1, image_id);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        if (step == SQLITE_ROW)
            rc = es_error_set(err, ES_ERR_INVALID,
                              "%s: image '%s' already has entities; an image's entities are "
                              "written in one call",
                              s->path, img.name);
        else if (step != SQLITE_DONE) rc = store_sql_error(s, step, "reading entities", err);
    }
    uint64_t *areas = NULL;
    double *bboxes = NULL;
    int64_t *ids = NULL;
    if (!rc && n) {
        areas = malloc(n * sizeof *areas);
        bboxes = malloc(n * 4 * sizeof *bboxes);
        ids = malloc(n * sizeof *ids);
        if (!areas || !bboxes || !ids)
            rc = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
    }
    for (size_t i = 0; i < n && !rc; i++)
        rc = check_entity(s, &img, ents, i, &areas[i], &bboxes[4 * i], err);
    if (!rc && s->kind == ES_STORE_GT && !s->overlapping_instances)
        rc = check_no_overlap(s, &img, ents, n, err);
    if (!rc && n) {
        /* all or nothing: a failure half-way (disk full) takes the batch back */
        rc = store_exec(s, "SAVEPOINT es_batch", err);
        int saved = !rc;
        for (size_t i = 0; i < n && !rc; i++) {
            rc = insert_entity(s, image_id, &ents[i], i, areas[i], &bboxes[4 * i], &ids[i], err);
            if (rc) {
                char name[96];
                es_error_prefix(err, "image '%s': %s", img.name, entity_name(ents, i, name, sizeof name));
            }
        }
        if (saved) {
            if (rc) sqlite3_exec(s->db, "ROLLBACK TO es_batch; RELEASE es_batch", NULL, NULL, NULL);
            else rc = store_exec(s, "RELEASE es_batch", err);
        }
    }
    if (!rc) rc = store_dict_maybe_train(s, err);
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            ents[i].id = ids[i];
            ents[i].image_id = image_id;
            ents[i].area = areas[i];
            memcpy(ents[i].bbox, &bboxes[4 * i], sizeof ents[i].bbox);
            if (ents[i].source_order == ES_NONE) ents[i].source_order = (int64_t)i;
        }
    }
    free(areas);
    free(bboxes);
    free(ids);
    es_image_clear(&img);
    return rc;
}

int store_entity_from_row(es_store *s, sqlite3_stmt *st, int no_mask, es_entity *e,
                          es_error *err) {
    e->id = sqlite3_column_int64(st, 0);
    e->image_id = sqlite3_column_int64(st, 1);
    e->area = (uint64_t)sqlite3_column_int64(st, 2);
    for (int k = 0; k < 4; k++) e->bbox[k] = sqlite3_column_double(st, 3 + k);
    e->is_crowd = sqlite3_column_int(st, 7);
    e->score = sqlite3_column_double(st, 8);
    e->label_id = store_column_id(st, 9);
    e->category_id = store_column_id(st, 10);
    e->isthing = sqlite3_column_int(st, 11);
    e->source_segment_id = store_column_id(st, 12);
    e->declared_area = sqlite3_column_type(st, 13) == SQLITE_NULL
                           ? NAN
                           : sqlite3_column_double(st, 13);
    e->source_order = sqlite3_column_int64(st, 14);
    e->mask = ES_RLE_EMPTY;
    if (no_mask) return ES_OK;
    uint32_t h, w;
    ES_CHECK(store_image_size(s, e->image_id, &h, &w, err));
    /* store_image_size steps its own statement, so st stays on this row and the blob
     * pointer below stays valid */
    const uint8_t *blob = sqlite3_column_blob(st, 15);
    size_t len = (size_t)sqlite3_column_bytes(st, 15);
    int rc = es_mask_blob_decode(s->codec, blob, len, h, w, &e->mask, err);
    if (rc)
        es_error_prefix(err, "%s: entity %lld of image %lld", s->path, (long long)e->id,
                        (long long)e->image_id);
    return rc;
}

int store_entity_append(es_store *s, sqlite3_stmt *st, int no_mask, es_entity **ents,
                        size_t *n, size_t *cap, es_error *err) {
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        es_entity *p = realloc(*ents, ncap * sizeof *p);
        if (!p) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", s->path);
        *ents = p;
        *cap = ncap;
    }
    ES_CHECK(store_entity_from_row(s, st, no_mask, &(*ents)[*n], err));
    (*n)++;
    return ES_OK;
}

int es_store_read_entities(es_store *s, int64_t image_id, es_entity **out, size_t *n,
                           es_error *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    ES_CHECK(store_stmt(s, STMT_ENTITY_READ, &st, err));
    sqlite3_bind_int64(st, 1, image_id);
    es_entity *ents = NULL;
    size_t got = 0, cap = 0;
    int rc, status = ES_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        status = store_entity_append(s, st, 0, &ents, &got, &cap, err);
        if (status) break;
    }
    if (!status && rc != SQLITE_DONE) status = store_sql_error(s, rc, "reading entities", err);
    sqlite3_reset(st);
    if (status) {
        es_entities_free(ents, got);
        return status;
    }
    *out = ents;
    *n = got;
    return ES_OK;
}

int64_t es_store_entity_count(es_store *s) {
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM entities", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n;
}

/* Blob bytes plus the dictionaries they need. */
int64_t es_store_mask_bytes(es_store *s) {
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(length(mask)), 0) FROM entities", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return n < 0 ? n : n + store_dict_bytes(s);
}

void es_entities_free(es_entity *ents, size_t n) {
    if (!ents) return;
    for (size_t i = 0; i < n; i++) es_rle_free(&ents[i].mask);
    free(ents);
}
