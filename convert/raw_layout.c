/* raw_layout.c: the shared part of the raw-dataset readers (see raw_layout.h). */
#include <stdlib.h>
#include <string.h>

#include "entseg/rle.h"
#include "raw_layout.h"

int es_raw_add(es_raw_source *src, const char *name, const char *label_path, const char *aux_path,
               const char *image_path, es_error *err) {
    ES_CHECK(es_grow((void **)&src->images, &src->cap, src->n + 1, sizeof *src->images, err));
    es_raw_image *im = &src->images[src->n];
    im->name = es_strdup_or_null(name);
    im->label_path = es_strdup_or_null(label_path);
    im->aux_path = es_strdup_or_null(aux_path);
    im->image_path = es_strdup_or_null(image_path);
    src->n++;
    if (!im->name || !im->label_path) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    return ES_OK;
}

void es_raw_free(es_raw_source *src) {
    for (size_t i = 0; i < src->n; i++) {
        free(src->images[i].name);
        free(src->images[i].label_path);
        free(src->images[i].aux_path);
        free(src->images[i].image_path);
    }
    free(src->images);
    src->images = NULL;
    src->n = src->cap = 0;
}

void es_raw_decoded_free(es_raw_decoded *d) {
    if (!d) return;
    es_entities_free(d->ents, d->n);
    d->ents = NULL;
    d->n = 0;
}

typedef struct raw_ctx {
    es_raw_source *src;
    es_store *store;
    es_convert_report *rep;
} raw_ctx;

static int raw_work(void *ctx, size_t i, int thread, void **result, es_error *err) {
    raw_ctx *x = ctx;
    es_raw_decoded *d = calloc(1, sizeof *d);
    if (!d) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = x->src->decode(&x->src->images[i], d, err);
    if (rc) {
        es_raw_decoded_free(d);
        free(d);
        return rc;
    }
    *result = d;
    return ES_OK;
}

static void raw_drop(void *ctx, void *result) {
    es_raw_decoded_free(result);
    free(result);
}

static int raw_write(void *ctx, size_t i, void *result, es_error *err) {
    raw_ctx *x = ctx;
    es_raw_decoded *d = result;
    const es_raw_image *ri = &x->src->images[i];
    es_image im = {0};
    im.id = ES_NONE;
    im.name = ri->name;
    im.width = d->width;
    im.height = d->height;
    im.source = (char *)x->src->source;
    im.split = (char *)x->src->split;
    im.path = ri->image_path;
    im.source_id = ES_NONE;
    int rc = es_store_add_image(x->store, &im, err);
    if (!rc && d->n) rc = es_store_add_entities(x->store, im.id, d->ents, d->n, err);
    if (rc) es_error_prefix(err, "%s", ri->label_path);
    else {
        x->rep->images++;
        x->rep->entities += (int64_t)d->n;
        for (size_t k = 0; k < d->n; k++) x->rep->crowd += d->ents[k].is_crowd;
        x->rep->empty_segments += d->empty;
        x->rep->declared_area_differs += d->differs;
    }
    raw_drop(ctx, d);
    return rc;
}

static const char *raw_label(void *ctx, size_t i) {
    return ((raw_ctx *)ctx)->src->images[i].label_path;
}

static const es_pipeline_ops raw_ops = {raw_work, raw_write, raw_drop, raw_label};

int es_raw_convert(es_raw_source *src, const char *out_db, const char *options_text, const es_convert_common *c,
                   es_error *err) {
    es_convert_report local = {0};
    raw_ctx x = {src, NULL, c->report ? c->report : &local};
    int rc = ES_OK;
    if (src->n == 0) rc = es_error_set(err, ES_ERR_INVALID, "no annotation files found (%s)", options_text);
    if (!rc) rc = es_convert_create_store(out_db, ES_STORE_GT, 0, src->creator, options_text, c, &x.store, err);
    for (size_t i = 0; !rc && i < src->ncats; i++) rc = es_store_add_category(x.store, &src->cats[i], err);
    if (!rc) rc = es_pipeline_run(src->n, &raw_ops, &x, x.store, c, "converting", err);
    if (!rc && x.rep->empty_segments)
        rc = es_report_add_warning(x.rep, "%lld declared segments have no pixels left and are not stored",
                                   (long long)x.rep->empty_segments);
    if (!rc && x.rep->declared_area_differs)
        rc = es_report_add_warning(x.rep, "%lld declared areas differ from the pixel counts (both kept)",
                                   (long long)x.rep->declared_area_differs);
    if (!rc) {
        rc = es_convert_finish_store(x.store, x.rep, err);
        x.store = NULL;
    }
    es_store_close(x.store);
    es_convert_report_free(&local);
    return rc;
}
