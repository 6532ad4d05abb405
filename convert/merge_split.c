/* merge_split.c: stores combined (merge) or divided by image (split).
 *
 * Both copy images with their entities through es_store_scan, so masks, provenance, scores
 * and labels travel unchanged (labels are re-created by name in the target vocabulary,
 * parents first). Categories are copied; when two inputs define one category id with
 * different names the first wins and a warning says so (entities carry no class, so
 * class-agnostic work is unaffected).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_internal.h"

typedef struct copy_target {
    es_store *out;
    es_label *labels;       /* source vocabulary */
    size_t nlabels;
    int64_t *label_map;     /* (nlabels) target ids */
    es_convert_report *rep;
    const char *src_path;
} copy_target;

static int map_labels(copy_target *t, es_store *src, es_error *err) {
    ES_CHECK(es_store_labels(src, &t->labels, &t->nlabels, err));
    t->label_map = calloc(t->nlabels ? t->nlabels : 1, sizeof *t->label_map);
    if (!t->label_map) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < t->nlabels; i++) {
        int64_t parent = ES_NONE;
        for (size_t j = 0; j < i; j++)
            if (t->labels[j].id == t->labels[i].parent_id) parent = t->label_map[j];
        ES_CHECK(es_store_label_get_or_create(t->out, t->labels[i].name, parent, &t->label_map[i], err));
    }
    return ES_OK;
}

static int64_t mapped_label(const copy_target *t, int64_t id) {
    if (id == ES_NONE) return ES_NONE;
    for (size_t i = 0; i < t->nlabels; i++)
        if (t->labels[i].id == id) return t->label_map[i];
    return ES_NONE;
}

static void unmap_labels(copy_target *t) {
    es_labels_free(t->labels, t->nlabels);
    free(t->label_map);
    t->labels = NULL;
    t->label_map = NULL;
    t->nlabels = 0;
}

static int copy_image(copy_target *t, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    es_image im = *img;
    im.id = ES_NONE;
    int rc = es_store_add_image(t->out, &im, err);
    if (rc) return es_error_prefix(err, "%s: image %s", t->src_path, img->name);
    for (size_t i = 0; i < n; i++) ents[i].label_id = mapped_label(t, ents[i].label_id);
    if (n) rc = es_store_add_entities(t->out, im.id, ents, n, err);
    if (rc) return es_error_prefix(err, "%s: image %s", t->src_path, img->name);
    t->rep->images++;
    t->rep->entities += (int64_t)n;
    for (size_t i = 0; i < n; i++) t->rep->crowd += ents[i].is_crowd;
    return ES_OK;
}

static int on_merge_image(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    return copy_image(ctx, img, ents, n, err);
}

static int copy_categories(es_store *src, es_store *out, const char *src_path, es_convert_report *rep, es_error *err) {
    es_category *have = NULL, *cats = NULL;
    size_t nh = 0, nc = 0;
    int rc = es_store_categories(out, &have, &nh, err);
    if (!rc) rc = es_store_categories(src, &cats, &nc, err);
    for (size_t i = 0; !rc && i < nc; i++) {
        size_t j = 0;
        while (j < nh && have[j].id != cats[i].id) j++;
        if (j == nh) rc = es_store_add_category(out, &cats[i], err);
        else if (strcmp(have[j].name, cats[i].name))
            rc = es_report_add_warning(rep, "%s: category %lld is \"%s\" there but \"%s\" in an earlier store; kept \"%s\"",
                                       src_path, (long long)cats[i].id, cats[i].name, have[j].name, have[j].name);
    }
    es_categories_free(have, nh);
    es_categories_free(cats, nc);
    return rc;
}

int es_store_merge(const char *const *dbs, size_t n, const char *out_db, const es_convert_common *c, es_error *err) {
    if (n == 0) return es_error_set(err, ES_ERR_INVALID, "merge: no input stores");
    es_convert_report local = {0};
    es_convert_report *rep = c->report ? c->report : &local;
    /* kind and overlap flag from the inputs */
    es_store_kind kind = ES_STORE_GT;
    int overlapping = 0;
    int rc = ES_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        es_store *s = NULL;
        rc = es_store_open(dbs[i], ES_OPEN_READ, &s, err);
        if (rc) break;
        es_store_kind k = es_store_get_kind(s);
        if (i == 0) kind = k;
        else if (k != kind)
            rc = es_error_set(err, ES_ERR_INVALID, "%s: a %s store cannot be merged with the %s store %s", dbs[i],
                              k == ES_STORE_PRED ? "prediction" : "ground-truth",
                              kind == ES_STORE_PRED ? "prediction" : "ground-truth", dbs[0]);
        overlapping |= es_store_overlapping_instances(s);
        es_store_close(s);
    }
    es_store *out = NULL;
    if (!rc) rc = es_convert_create_store(out_db, kind, overlapping, "entseg-convert merge", NULL, c, &out, err);
    for (size_t i = 0; i < n && !rc; i++) {
        es_store *s = NULL;
        rc = es_store_open(dbs[i], ES_OPEN_READ, &s, err);
        copy_target t = {0};
        t.out = out;
        t.rep = rep;
        t.src_path = dbs[i];
        if (!rc) rc = copy_categories(s, out, dbs[i], rep, err);
        if (!rc) rc = map_labels(&t, s, err);
        if (!rc) rc = es_store_scan(s, ES_NONE, ES_NONE, 0, on_merge_image, &t, err);
        unmap_labels(&t);
        es_store_close(s);
    }
    if (!rc) {
        rc = es_convert_finish_store(out, rep, err);
        out = NULL;
    }
    es_store_close(out);
    es_convert_report_free(&local);
    return rc;
}

/* ---- split ---- */

typedef struct split_ctx {
    copy_target first, rest;
    const unsigned char *take; /* per image index: 1 first, 0 rest */
    size_t index;
} split_ctx;

static int on_split_image(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    split_ctx *x = ctx;
    int to_first = x->take[x->index++];
    copy_target *t = to_first ? &x->first : &x->rest;
    if (!t->out) return ES_OK;
    return copy_image(t, img, ents, n, err);
}

static int read_list(const char *path, char ***names, size_t *n, es_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open", path);
    char line[4096];
    size_t cap = 0;
    int rc = ES_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = '\0';
        if (l == 0) continue;
        rc = es_grow((void **)names, &cap, *n + 1, sizeof **names, err);
        if (!rc && !((*names)[(*n)++] = strdup(line))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    fclose(f);
    return rc;
}

/* xorshift64*: a small seeded generator so a ratio split is reproducible */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

int es_store_split(const char *db, double ratio, unsigned seed, const char *list_file, const char *first_db,
                   const char *rest_db, const es_convert_common *c, es_error *err) {
    es_convert_report local = {0};
    es_convert_report *rep = c->report ? c->report : &local;
    if (!list_file && !(ratio >= 0 && ratio <= 1))
        return es_error_set(err, ES_ERR_INVALID, "split: --ratio must be within [0, 1]");
    es_store *s = NULL;
    ES_CHECK(es_store_open(db, ES_OPEN_READ, &s, err));
    es_image *imgs = NULL;
    size_t ni = 0;
    int rc = es_store_images(s, &imgs, &ni, err);
    unsigned char *take = calloc(ni ? ni : 1, 1);
    if (!rc && !take) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    char **names = NULL;
    size_t nn = 0;
    if (!rc && list_file) {
        rc = read_list(list_file, &names, &nn, err);
        for (size_t k = 0; !rc && k < nn; k++) {
            size_t i = 0;
            while (i < ni && strcmp(imgs[i].name, names[k])) i++;
            if (i == ni) rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s (line %zu) is not in %s", list_file, names[k], k + 1, db);
            else take[i] = 1;
        }
    } else if (!rc) {
        size_t *perm = malloc((ni ? ni : 1) * sizeof *perm);
        if (!perm) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        uint64_t state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)seed;
        for (size_t i = 0; !rc && i < ni; i++) perm[i] = i;
        for (size_t i = ni; !rc && i > 1; i--) {
            size_t j = (size_t)(next_random(&state) % i);
            size_t t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        size_t k = (size_t)(ratio * (double)ni + 0.5);
        for (size_t i = 0; !rc && i < k; i++) take[perm[i]] = 1;
        free(perm);
    }
    es_store_kind kind = es_store_get_kind(s);
    int overlapping = es_store_overlapping_instances(s);
    split_ctx x;
    memset(&x, 0, sizeof x);
    x.take = take;
    x.first.rep = rep;
    x.rest.rep = rep;
    x.first.src_path = x.rest.src_path = db;
    if (!rc) rc = es_convert_create_store(first_db, kind, overlapping, "entseg-convert split", NULL, c, &x.first.out, err);
    if (!rc && rest_db)
        rc = es_convert_create_store(rest_db, kind, overlapping, "entseg-convert split", NULL, c, &x.rest.out, err);
    if (!rc) rc = copy_categories(s, x.first.out, db, rep, err);
    if (!rc && x.rest.out) rc = copy_categories(s, x.rest.out, db, rep, err);
    if (!rc) rc = map_labels(&x.first, s, err);
    if (!rc && x.rest.out) rc = map_labels(&x.rest, s, err);
    if (!rc) rc = es_store_scan(s, ES_NONE, ES_NONE, 0, on_split_image, &x, err);
    unmap_labels(&x.first);
    unmap_labels(&x.rest);
    if (!rc) {
        rc = es_convert_finish_store(x.first.out, rep, err);
        x.first.out = NULL;
    }
    if (!rc && x.rest.out) {
        rc = es_convert_finish_store(x.rest.out, rep, err);
        x.rest.out = NULL;
    }
    es_store_close(x.first.out);
    es_store_close(x.rest.out);
    for (size_t k = 0; k < nn; k++) free(names[k]);
    free(names);
    free(take);
    es_images_free(imgs, ni);
    es_store_close(s);
    es_convert_report_free(&local);
    return rc;
}
