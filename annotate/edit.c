/* edit.c: mask edits of one image (see edit.h).
 *
 * An edit works on the image's owner map: one uint32 per pixel, 0 = void, k + 1 = the
 * k-th non-crowd entity, n + 1 + j = the j-th new entity. The map is exclusive by
 * construction, so every edit keeps the non-overlap invariant; entities whose pixels
 * changed are re-encoded and written, emptied ones deleted, new ones inserted, all inside
 * one history transaction (and a final overlap check of the image as a guard). Edits are
 * interactive and touch one image: dense per-image work is cheap here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "entseg/image.h"
#include "entseg/store_edit.h"
#include "history.h"
#include "vocab.h"

typedef struct image_state {
    es_store *s;
    es_image img;
    es_entity *ents;        /* (n) as stored, crowd included */
    size_t n;
    uint32_t *owner;        /* (h*w) row-major */
    es_entity *fresh;       /* (n_fresh) templates of new entities (masks empty) */
    size_t n_fresh, cap_fresh;
} image_state;

static void state_free(image_state *st) {
    es_image_clear(&st->img);
    es_entities_free(st->ents, st->n);
    free(st->owner);
    free(st->fresh);
    memset(st, 0, sizeof *st);
}

static int state_load(es_store *s, int64_t image_id, image_state *st, es_error *err) {
    memset(st, 0, sizeof *st);
    st->s = s;
    if (es_store_get_kind(s) != ES_STORE_GT || es_store_overlapping_instances(s))
        return es_error_set(err, ES_ERR_INVALID, "%s: mask edits need a ground-truth store of non-overlapping entities",
                            es_store_path(s));
    ES_CHECK(es_store_get_image(s, image_id, &st->img, err));
    ES_CHECK(es_store_read_entities(s, image_id, &st->ents, &st->n, err));
    size_t h = st->img.height, w = st->img.width;
    st->owner = calloc(h * w, sizeof *st->owner);
    if (!st->owner) return es_error_set(err, ES_ERR_NOMEM, "out of memory (%zux%zu image)", w, h);
    for (size_t k = 0; k < st->n; k++) {
        const es_rle *m = &st->ents[k].mask;
        if (st->ents[k].is_crowd) continue;
        if (m->h != h || m->w != w)
            return es_error_set(err, ES_ERR_FORMAT, "entity %lld: mask size differs from its image", (long long)st->ents[k].id);
        uint64_t pos = 0;
        for (uint32_t i = 0; i < m->m; i++) {
            if (i & 1)
                for (uint64_t p = pos; p < pos + m->cnts[i]; p++)
                    st->owner[(p % h) * w + p / h] = (uint32_t)k + 1;
            pos += m->cnts[i];
        }
    }
    return ES_OK;
}

/* Index + 1 of entity id in the image (0 with an error when absent or crowd). */
static uint32_t state_find(image_state *st, int64_t id, es_error *err) {
    for (size_t k = 0; k < st->n; k++)
        if (st->ents[k].id == id) {
            if (st->ents[k].is_crowd) {
                es_error_set(err, ES_ERR_INVALID, "entity %lld is a crowd/ignore region, not an entity", (long long)id);
                return 0;
            }
            return (uint32_t)k + 1;
        }
    es_error_set(err, ES_ERR_INVALID, "no entity %lld in image %lld (%s)", (long long)id, (long long)st->img.id,
                 st->img.name);
    return 0;
}

/* Adds a new-entity template; returns its owner value (0 on failure). */
static uint32_t state_new(image_state *st, const es_entity *tmpl, es_error *err) {
    if (st->n_fresh == st->cap_fresh) {
        size_t cap = st->cap_fresh ? 2 * st->cap_fresh : 8;
        es_entity *p = realloc(st->fresh, cap * sizeof *p);
        if (!p) {
            es_error_set(err, ES_ERR_NOMEM, "out of memory");
            return 0;
        }
        st->fresh = p;
        st->cap_fresh = cap;
    }
    es_entity e = es_entity_default();
    if (tmpl) {
        e.label_id = tmpl->label_id;
        e.category_id = tmpl->category_id;
        e.isthing = tmpl->isthing;
    }
    e.is_crowd = 0;
    e.score = 1.0;
    e.source_order = -1;
    e.mask = ES_RLE_EMPTY;
    st->fresh[st->n_fresh++] = e;
    return (uint32_t)(st->n + st->n_fresh);
}

static int same_rle(const es_rle *a, const es_rle *b) {
    return a->m == b->m && (a->m == 0 || !memcmp(a->cnts, b->cnts, a->m * sizeof *a->cnts));
}

/* Writes every changed entity back. One pass over the owner map encodes every entity's new
 * mask (value k + 1 -> mask[k], NULL when it has no pixels left). */
static int state_save(image_state *st, es_edit_result *res, es_error *err) {
    size_t total = st->n + st->n_fresh;
    es_label_rles enc;
    ES_CHECK(es_rle_encode_labels(&enc, st->owner, st->img.height, st->img.width, err));
    const es_rle **mask = calloc(total ? total : 1, sizeof *mask);
    if (!mask) {
        es_label_rles_free(&enc);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < enc.n; i++) mask[enc.ids[i] - 1] = &enc.rles[i];
    int rc = ES_OK;
    /* deletions first, then updates, then inserts: no transient overlap in between */
    for (size_t k = 0; k < st->n && !rc; k++)
        if (!st->ents[k].is_crowd && !mask[k]) {
            rc = es_store_delete_entity(st->s, st->ents[k].id, err);
            res->n_deleted++;
        }
    for (size_t k = 0; k < st->n && !rc; k++)
        if (mask[k] && !same_rle(mask[k], &st->ents[k].mask)) {
            rc = es_store_update_entity_mask(st->s, st->ents[k].id, mask[k], err);
            res->n_changed++;
        }
    for (size_t j = 0; j < st->n_fresh && !rc; j++) {
        if (!mask[st->n + j]) continue;
        es_entity *e = &st->fresh[j];
        e->mask = *mask[st->n + j]; /* borrowed: the store encodes a copy */
        rc = es_store_insert_entity(st->s, st->img.id, e, err);
        e->mask = ES_RLE_EMPTY;
        if (!rc && res->n_new++ == 0) res->first_new_id = e->id;
    }
    free(mask);
    es_label_rles_free(&enc);
    if (!rc) rc = es_store_check_image_overlap(st->s, st->img.id, err);
    return rc;
}

typedef int (*edit_body)(image_state *st, const void *arg, es_edit_result *res, es_error *err);

static int run_edit(es_store *s, int64_t image_id, const char *command, edit_body body, const void *arg,
                    es_edit_result *res, es_error *err) {
    memset(res, 0, sizeof *res);
    res->entity_id = ES_NONE;
    res->first_new_id = ES_NONE;
    image_state st;
    int64_t hid;
    ES_CHECK(es_history_begin(s, command, "image", image_id, &hid, err));
    int rc = es_history_save_image(s, hid, image_id, err);
    if (!rc) rc = state_load(s, image_id, &st, err);
    else memset(&st, 0, sizeof st);
    if (!rc) rc = body(&st, arg, res, err);
    if (!rc) rc = state_save(&st, res, err);
    if (!rc) rc = es_history_commit(s, err);
    else es_history_abort(s);
    state_free(&st);
    if (!rc) res->history_id = hid;
    return rc;
}

/* ---- merge ---- */
typedef struct ids_arg {
    const int64_t *ids;
    size_t n;
} ids_arg;

static int merge_body(image_state *st, const void *arg_, es_edit_result *res, es_error *err) {
    const ids_arg *a = arg_;
    uint32_t *idx = calloc(a->n, sizeof *idx);
    if (!idx) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = ES_OK;
    for (size_t i = 0; i < a->n && !rc; i++) {
        if (!(idx[i] = state_find(st, a->ids[i], err))) rc = err ? err->code : ES_ERR_INVALID;
        for (size_t j = 0; j < i && !rc; j++)
            if (idx[j] == idx[i]) rc = es_error_set(err, ES_ERR_INVALID, "entity %lld is named twice", (long long)a->ids[i]);
    }
    if (!rc) {
        size_t hw = (size_t)st->img.width * st->img.height;
        for (size_t p = 0; p < hw; p++)
            for (size_t i = 1; i < a->n; i++)
                if (st->owner[p] == idx[i]) {
                    st->owner[p] = idx[0];
                    res->pixels++;
                }
        res->entity_id = a->ids[0];
    }
    free(idx);
    return rc;
}

int es_edit_merge(es_store *s, const int64_t *ids, size_t n, const char *command, es_edit_result *res,
                  es_error *err) {
    if (n < 2) return es_error_set(err, ES_ERR_INVALID, "merge needs at least two entities");
    int64_t image_id = ES_NONE;
    ES_CHECK(es_store_entity_image(s, ids[0], &image_id, err));
    ids_arg a = {ids, n};
    return run_edit(s, image_id, command, merge_body, &a, res, err);
}

/* ---- split ---- */
static int split_body(image_state *st, const void *arg_, es_edit_result *res, es_error *err) {
    int64_t id = *(const int64_t *)arg_;
    uint32_t k = state_find(st, id, err);
    if (!k) return err ? err->code : ES_ERR_INVALID;
    size_t w = st->img.width, h = st->img.height, hw = w * h;
    uint32_t *comp = calloc(hw, sizeof *comp);  /* 0 = not visited, c + 1 = component c */
    size_t *stack = malloc(hw * sizeof *stack);
    uint64_t *sizes = NULL;
    size_t n_comp = 0, cap = 0;
    int rc = ES_OK;
    if (!comp || !stack) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t p0 = 0; p0 < hw && !rc; p0++) {
        if (st->owner[p0] != k || comp[p0]) continue;
        if (n_comp == cap) {
            uint64_t *q = realloc(sizes, (cap = cap ? 2 * cap : 16) * sizeof *q);
            if (!q) {
                rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
                break;
            }
            sizes = q;
        }
        size_t top = 0;
        stack[top++] = p0;
        comp[p0] = (uint32_t)n_comp + 1;
        sizes[n_comp] = 0;
        while (top) {
            size_t p = stack[--top];
            sizes[n_comp]++;
            long y = (long)(p / w), x = (long)(p % w);
            for (long dy = -1; dy <= 1; dy++)
                for (long dx = -1; dx <= 1; dx++) {
                    long yy = y + dy, xx = x + dx;
                    if (yy < 0 || xx < 0 || yy >= (long)h || xx >= (long)w) continue;
                    size_t q = (size_t)yy * w + (size_t)xx;
                    if (st->owner[q] == k && !comp[q]) {
                        comp[q] = (uint32_t)n_comp + 1;
                        stack[top++] = q;
                    }
                }
        }
        n_comp++;
    }
    if (!rc && n_comp < 2)
        rc = es_error_set(err, ES_ERR_INVALID, "entity %lld is one connected component (8-connected): nothing to split",
                          (long long)id);
    if (!rc) {
        size_t keep = 0;
        for (size_t c = 1; c < n_comp; c++)
            if (sizes[c] > sizes[keep]) keep = c;
        uint32_t *value = calloc(n_comp, sizeof *value);
        if (!value) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        for (size_t c = 0; c < n_comp && !rc; c++)
            if (c == keep) value[c] = k;
            else if (!(value[c] = state_new(st, &st->ents[k - 1], err))) rc = ES_ERR_NOMEM;
        for (size_t p = 0; p < hw && !rc; p++)
            if (comp[p] && comp[p] - 1 != keep) {
                st->owner[p] = value[comp[p] - 1];
                res->pixels++;
            }
        free(value);
        res->entity_id = id;
    }
    free(comp);
    free(stack);
    free(sizes);
    return rc;
}

int es_edit_split(es_store *s, int64_t entity_id, const char *command, es_edit_result *res, es_error *err) {
    int64_t image_id = ES_NONE;
    ES_CHECK(es_store_entity_image(s, entity_id, &image_id, err));
    return run_edit(s, image_id, command, split_body, &entity_id, res, err);
}

/* ---- delete ---- */
static int delete_body(image_state *st, const void *arg_, es_edit_result *res, es_error *err) {
    int64_t id = *(const int64_t *)arg_;
    uint32_t k = state_find(st, id, err);
    if (!k) return err ? err->code : ES_ERR_INVALID;
    size_t hw = (size_t)st->img.width * st->img.height;
    for (size_t p = 0; p < hw; p++)
        if (st->owner[p] == k) {
            st->owner[p] = 0;
            res->pixels++;
        }
    res->entity_id = id;
    return ES_OK;
}

int es_edit_delete(es_store *s, int64_t entity_id, const char *command, es_edit_result *res, es_error *err) {
    int64_t image_id = ES_NONE;
    ES_CHECK(es_store_entity_image(s, entity_id, &image_id, err));
    return run_edit(s, image_id, command, delete_body, &entity_id, res, err);
}

/* ---- regions ---- */
/* in: h*w bytes, 1 inside the region. */
static int region_load(const image_state *st, const es_region *r, uint8_t *in, es_error *err) {
    uint32_t w = st->img.width, h = st->img.height;
    if (!r->png) {
        if (r->w == 0 || r->h == 0 || r->x >= w || r->y >= h || r->w > w - r->x || r->h > h - r->y)
            return es_error_set(err, ES_ERR_INVALID, "rectangle %u,%u,%u,%u is empty or leaves image %lld (%ux%u)", r->x,
                                r->y, r->w, r->h, (long long)st->img.id, w, h);
        memset(in, 0, (size_t)w * h);
        for (uint32_t y = r->y; y < r->y + r->h; y++) memset(in + (size_t)y * w + r->x, 1, r->w);
        return ES_OK;
    }
    es_pixels px = ES_PIXELS_EMPTY;
    ES_CHECK(es_image_read(r->png, ES_READ_PALETTE_INDEX, &px, err));
    int rc = ES_OK;
    if (px.width != w || px.height != h) {
        rc = es_error_set(err, ES_ERR_INVALID, "%s is %ux%u but image %lld (%s) is %ux%u", r->png, px.width, px.height,
                          (long long)st->img.id, st->img.name, w, h);
    } else {
        size_t n = (size_t)w * h, stride = (size_t)px.channels * px.depth;
        size_t bytes = px.channels == 2 ? px.depth : px.channels == 4 ? 3 * px.depth : stride; /* alpha ignored */
        const uint8_t *d = px.data;
        for (size_t i = 0; i < n; i++) {
            uint8_t any = 0;
            for (size_t b = 0; b < bytes; b++) any |= d[i * stride + b];
            in[i] = any != 0;
        }
    }
    es_pixels_free(&px);
    return rc;
}

typedef struct fill_arg {
    const es_region *r;
    int64_t target;
    const char *label;
    int void_only, paint;
} fill_arg;

static int new_labelled(image_state *st, const char *label, uint32_t *value, es_error *err) {
    es_entity tmpl = es_entity_default();
    if (label) {
        ES_CHECK(es_label_name_check(label, err));
        ES_CHECK(es_store_label_get_or_create(st->s, label, ES_NONE, &tmpl.label_id, err));
    }
    if (!(*value = state_new(st, &tmpl, err))) return ES_ERR_NOMEM;
    return ES_OK;
}

static int fill_body(image_state *st, const void *arg_, es_edit_result *res, es_error *err) {
    const fill_arg *a = arg_;
    size_t w = st->img.width, h = st->img.height, hw = w * h;
    uint32_t k = 0;
    if (a->target != ES_NONE && !(k = state_find(st, a->target, err))) return err ? err->code : ES_ERR_INVALID;
    uint8_t *in = malloc(hw);
    if (!in) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = region_load(st, a->r, in, err);
    uint64_t covered = 0, voids = 0;
    uint32_t first_owner = 0;
    for (size_t p = 0; p < hw && !rc; p++) {
        if (!in[p]) continue;
        if (st->owner[p] == 0) voids++;
        else if (st->owner[p] != k || !k) {
            if (!covered++) first_owner = st->owner[p];
        }
    }
    if (!rc && !a->paint && covered && !a->void_only)
        rc = es_error_set(err, ES_ERR_OVERLAP,
                          "the region covers %llu pixels of entity %lld%s: only void pixels can be given "
                          "(--void-only keeps just those; paint takes pixels from entities)",
                          (unsigned long long)covered, (long long)st->ents[first_owner - 1].id,
                          covered > 1 ? " or others" : "");
    if (!rc && !a->paint && voids == 0) rc = es_error_set(err, ES_ERR_INVALID, "the region has no void pixels");
    if (!rc && !a->paint && k) { /* the target must touch the void pixels it receives */
        int touches = 0;
        for (size_t p = 0; p < hw && !touches; p++) {
            if (!in[p] || st->owner[p] != 0) continue;
            long y = (long)(p / w), x = (long)(p % w);
            for (long dy = -1; dy <= 1 && !touches; dy++)
                for (long dx = -1; dx <= 1; dx++) {
                    long yy = y + dy, xx = x + dx;
                    if (yy >= 0 && xx >= 0 && yy < (long)h && xx < (long)w && st->owner[(size_t)yy * w + (size_t)xx] == k) {
                        touches = 1;
                        break;
                    }
                }
        }
        if (!touches)
            rc = es_error_set(err, ES_ERR_INVALID, "entity %lld does not touch the region's void pixels", (long long)a->target);
    }
    if (!rc && !k) rc = new_labelled(st, a->label, &k, err);
    if (!rc && a->target != ES_NONE && a->label)
        rc = es_error_set(err, ES_ERR_INVALID, "--label applies to a new entity; use the label command for entity %lld",
                          (long long)a->target);
    for (size_t p = 0; p < hw && !rc; p++) {
        if (!in[p] || st->owner[p] == k) continue;
        if (!a->paint && st->owner[p] != 0) continue;
        st->owner[p] = k;
        res->pixels++;
    }
    if (!rc) res->entity_id = a->target;
    free(in);
    return rc;
}

int es_edit_fill(es_store *s, int64_t image_id, const es_region *r, int64_t target, const char *label, int void_only,
                 const char *command, es_edit_result *res, es_error *err) {
    fill_arg a = {r, target, label, void_only, 0};
    return run_edit(s, image_id, command, fill_body, &a, res, err);
}

int es_edit_paint(es_store *s, int64_t image_id, const es_region *r, int64_t target, const char *label,
                  const char *command, es_edit_result *res, es_error *err) {
    fill_arg a = {r, target, label, 0, 1};
    return run_edit(s, image_id, command, fill_body, &a, res, err);
}

/* ---- label map ---- */
static int labelmap_body(image_state *st, const void *arg_, es_edit_result *res, es_error *err) {
    const char *png = arg_;
    size_t w = st->img.width, h = st->img.height, hw = w * h;
    es_pixels px = ES_PIXELS_EMPTY;
    ES_CHECK(es_image_read(png, ES_READ_PALETTE_INDEX, &px, err));
    int rc = ES_OK;
    uint32_t *ids = NULL;
    if (px.width != w || px.height != h)
        rc = es_error_set(err, ES_ERR_INVALID, "%s is %ux%u but image %lld (%s) is %zux%zu", png, px.width, px.height,
                          (long long)st->img.id, st->img.name, w, h);
    else if (!(ids = malloc(hw * sizeof *ids))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    else if ((rc = es_pixels_to_ids(&px, ids, err))) es_error_prefix(err, "%s", png);
    uint32_t last_v = 0, last_k = 0;
    for (size_t p = 0; p < hw && !rc; p++) {
        uint32_t v = ids[p];
        if (!v) continue;
        if (v != last_v) {
            last_k = 0;
            for (size_t k = 0; k < st->n; k++)
                if (st->ents[k].id == (int64_t)v && !st->ents[k].is_crowd) last_k = (uint32_t)k + 1;
            if (!last_k) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: value %u at (%zu, %zu) is not an entity of image %lld", png, v,
                                  p % w, p / w, (long long)st->img.id);
                break;
            }
            last_v = v;
        }
        if (st->owner[p] != last_k) {
            st->owner[p] = last_k;
            res->pixels++;
        }
    }
    free(ids);
    es_pixels_free(&px);
    return rc;
}

int es_edit_paint_labelmap(es_store *s, int64_t image_id, const char *png, const char *command, es_edit_result *res,
                           es_error *err) {
    return run_edit(s, image_id, command, labelmap_body, png, res, err);
}
