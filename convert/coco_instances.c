/* coco_instances.c: COCO instances layout -> ground-truth store (coco-instances,
 * entityseg).
 *
 * Annotations are read streaming into compact entries, grouped per image (JSON order kept:
 * source_order), and rasterised per image on the pool exactly as pycocotools annToRLE
 * does. Crowd annotations become ignore regions (they may overlap anything). Overlapping
 * non-crowd annotations are an error, or (--overlap paint) painted largest first so smaller
 * ones stay visible, or (--overlap keep) kept as they are in a store marked
 * overlapping_instances (plain mask AP only). The declared area is kept (for polygons it is
 * the polygon's area, which COCOeval uses for its area ranges).
 *
 * entityseg: the same layout with RLE masks; the class-aware label category_id_ori goes to
 * the store's label vocabulary, img_source to the image's source.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco_segm.h"
#include "entseg/rle.h"
#include "json_stream.h"
#include "panoptic_json.h"

typedef struct inst_entry {
    es_segm segm;
    int64_t id, category_id, label_id;
    double area;
    int iscrowd;
    long index;
    int64_t image_id;   /* COCO image id */
    size_t image;       /* its index in images */
} inst_entry;

typedef struct inst_options {
    es_gt_overlap_mode overlap;
    int entityseg;           /* labels from category_id_ori, img_source */
    const char *source, *creator;
} inst_options;

typedef struct inst_ctx {
    const char *json_path;
    const inst_options *o;
    const es_convert_common *c;
    es_convert_report *rep;
    es_coco_images images;
    es_coco_categories cats;
    inst_entry *entries;
    size_t n, cap;
    size_t *order, *first;
    es_image *store_images;  /* (images.n) */
    es_store *store;
    /* labels seen during the parse (entityseg), created in the store afterwards */
    char **label_names;
    size_t nlabels, label_cap;
    int64_t *label_ids;
} inst_ctx;

/* Index of a label name in the parse-time table (added when new); -1 on out of memory. */
static long label_index(inst_ctx *x, const char *name) {
    for (size_t i = 0; i < x->nlabels; i++)
        if (!strcmp(x->label_names[i], name)) return (long)i;
    if (es_grow((void **)&x->label_names, &x->label_cap, x->nlabels + 1, sizeof *x->label_names, NULL)) return -1;
    x->label_names[x->nlabels] = strdup(name);
    if (!x->label_names[x->nlabels]) return -1;
    return (long)x->nlabels++;
}

static int read_annotation(inst_ctx *x, long index, const cJSON *item, es_error *err) {
    inst_entry e;
    memset(&e, 0, sizeof e);
    e.index = index;
    e.label_id = ES_NONE;
    int64_t image_id;
    const char *id_str = NULL;
    if (!cJSON_IsObject(item) || !es_coco_image_key(item, "image_id", &image_id, &id_str))
        return es_error_set(err, ES_ERR_FORMAT, "%s: annotations[%ld]: missing or non-integer \"image_id\"", x->json_path,
                            index);
    if (!es_json_get_int(item, "id", &e.id)) e.id = ES_NONE;
    if (!es_json_get_int(item, "category_id", &e.category_id)) e.category_id = ES_NONE;
    if (!es_json_get_double(item, "area", &e.area)) e.area = NAN;
    int64_t crowd = 0;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "iscrowd");
    if (cJSON_IsBool(c)) crowd = cJSON_IsTrue(c);
    else es_json_get_int(item, "iscrowd", &crowd);
    e.iscrowd = crowd != 0;
    e.image_id = image_id; /* resolved after the parse: "images" may come after "annotations" */
    if (x->o->entityseg) {
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(item, "category_id_ori");
        char num[32];
        const char *name = NULL;
        if (cJSON_IsString(lab)) name = lab->valuestring;
        else if (cJSON_IsNumber(lab)) {
            snprintf(num, sizeof num, "%.17g", lab->valuedouble);
            name = num;
        }
        if (name) {
            long li = label_index(x, name);
            if (li < 0) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
            e.label_id = li; /* parse-time index until the store ids exist */
        }
    }
    char what[300];
    snprintf(what, sizeof what, "%s: annotation %lld (annotations[%ld], image %lld)", x->json_path, (long long)e.id,
             index, (long long)image_id);
    ES_CHECK(es_segm_parse(&e.segm, cJSON_GetObjectItemCaseSensitive(item, "segmentation"), what, err));
    int rc = es_grow((void **)&x->entries, &x->cap, x->n + 1, sizeof *x->entries, err);
    if (rc) {
        es_segm_free(&e.segm);
        return rc;
    }
    x->entries[x->n++] = e;
    return ES_OK;
}

static int on_item(void *ctx, const char *key, long index, const cJSON *item, es_error *err) {
    inst_ctx *x = ctx;
    if (!key) return es_error_set(err, ES_ERR_FORMAT, "%s: expected a COCO instances object, found a list", x->json_path);
    if (index < 0) return ES_OK;
    if (!strcmp(key, "images")) {
        ES_CHECK(es_coco_images_add(&x->images, x->json_path, index, item, err));
        if (x->o->entityseg) {
            es_coco_image *im = &x->images.items[x->images.n - 1];
            const char *src = es_json_get_string(item, "img_source");
            if (src && !im->source) im->source = strdup(src);
        }
        return ES_OK;
    }
    if (!strcmp(key, "annotations")) return read_annotation(x, index, item, err);
    if (!strcmp(key, "categories")) return es_coco_categories_add(&x->cats, x->json_path, index, item, err);
    return ES_OK;
}

/* Resolves image ids and groups the entries per image, stable. */
static int group(inst_ctx *x, es_error *err) {
    size_t ni = x->images.n;
    for (size_t i = 0; i < x->n; i++) {
        inst_entry *e = &x->entries[i];
        int64_t image_id = e->image_id;
        size_t at;
        if (!es_idmap_get(&x->images.by_id, image_id, &at))
            return es_error_set(err, ES_ERR_INVALID, "%s: annotation %lld (annotations[%ld]): image id %lld is not in \"images\"",
                                x->json_path, (long long)e->id, e->index, (long long)image_id);
        e->image = at;
    }
    return es_group_by_image(x->entries, x->n, sizeof *x->entries, offsetof(inst_entry, image), ni, &x->first,
                             &x->order, err);
}

typedef struct inst_result {
    es_entity *ents;
    size_t n;
    int64_t crowd, differs, painted_pixels, emptied;
} inst_result;

static void inst_drop(void *ctx, void *result) {
    inst_result *r = result;
    if (!r) return;
    es_entities_free(r->ents, r->n);
    free(r);
}

/* Sort key for painting: area descending, then JSON order. */
typedef struct paint_key {
    uint64_t area;
    size_t k;
} paint_key;

static int cmp_paint(const void *a, const void *b) {
    const paint_key *x = a, *y = b;
    if (x->area != y->area) return x->area > y->area ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* --overlap paint: non-crowd masks painted largest first into a label map, re-encoded. */
static int paint(inst_result *r, uint32_t h, uint32_t w, es_error *err) {
    size_t n = r->n, npx = (size_t)h * w;
    paint_key *keys = malloc((n ? n : 1) * sizeof *keys);
    uint32_t *labels = calloc(npx ? npx : 1, sizeof *labels);
    uint8_t *mask = malloc(npx ? npx : 1);
    int rc = (!keys || !labels || !mask) ? es_error_set(err, ES_ERR_NOMEM, "out of memory") : ES_OK;
    size_t m = 0;
    uint64_t before = 0;
    for (size_t k = 0; !rc && k < n; k++)
        if (!r->ents[k].is_crowd) {
            keys[m].area = es_rle_area(&r->ents[k].mask);
            before += keys[m].area;
            keys[m++].k = k;
        }
    if (!rc) qsort(keys, m, sizeof *keys, cmp_paint);
    for (size_t j = 0; !rc && j < m; j++) {
        es_rle_decode(&r->ents[keys[j].k].mask, mask);
        uint32_t v = (uint32_t)keys[j].k + 1;
        for (size_t p = 0; p < npx; p++)
            if (mask[p]) labels[p] = v;
    }
    es_label_rles lr = {0};
    if (!rc) rc = es_rle_encode_labels(&lr, labels, h, w, err);
    if (!rc) {
        /* every non-crowd mask replaced by its painted part (empty when fully covered) */
        uint64_t after = 0;
        for (size_t j = 0; j < m; j++) {
            size_t k = keys[j].k;
            es_rle_free(&r->ents[k].mask);
            r->ents[k].mask = ES_RLE_EMPTY;
        }
        for (size_t t = 0; t < lr.n; t++) {
            size_t k = lr.ids[t] - 1;
            r->ents[k].mask = lr.rles[t];
            lr.rles[t] = ES_RLE_EMPTY;
            after += lr.areas[t];
        }
        r->painted_pixels = (int64_t)(before - after);
        /* drop the annotations left without pixels, keeping the order of the rest */
        size_t out = 0;
        for (size_t k = 0; k < n; k++) {
            if (!r->ents[k].is_crowd && r->ents[k].mask.m == 0 && r->ents[k].mask.cnts == NULL) {
                r->emptied++;
                continue;
            }
            r->ents[out++] = r->ents[k];
        }
        r->n = out;
    }
    es_label_rles_free(&lr);
    free(keys);
    free(labels);
    free(mask);
    return rc;
}

static int inst_work(void *ctx, size_t g, int thread, void **result, es_error *err) {
    inst_ctx *x = ctx;
    const es_coco_image *im = &x->images.items[g];
    size_t n = x->first[g + 1] - x->first[g];
    inst_result *r = calloc(1, sizeof *r);
    if (!r || !(r->ents = calloc(n ? n : 1, sizeof *r->ents))) {
        free(r);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    int rc = ES_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        const inst_entry *e = &x->entries[x->order[x->first[g] + k]];
        char what[400];
        snprintf(what, sizeof what, "%s: annotation %lld (annotations[%ld], image %lld)", x->json_path, (long long)e->id,
                 e->index, (long long)im->id);
        es_entity *ent = &r->ents[r->n];
        *ent = es_entity_default();
        rc = es_segm_to_rle(&e->segm, im->height, im->width, &ent->mask, what, err);
        if (rc) break;
        r->n++;
        ent->is_crowd = e->iscrowd;
        r->crowd += e->iscrowd;
        ent->category_id = e->category_id;
        int th = e->category_id == ES_NONE ? -1 : es_coco_category_isthing(&x->cats, e->category_id);
        ent->isthing = th;
        ent->source_segment_id = e->id;
        ent->declared_area = e->area;
        ent->source_order = (int64_t)k;
        ent->label_id = e->label_id == ES_NONE ? ES_NONE : x->label_ids[e->label_id];
        if (!isnan(e->area) && e->area != (double)es_rle_area(&ent->mask)) r->differs++;
    }
    /* overlapping non-crowd annotations */
    if (!rc && x->o->overlap == ES_GT_OVERLAP_ERROR) {
        for (size_t a = 0; a < r->n && !rc; a++) {
            if (r->ents[a].is_crowd) continue;
            for (size_t b = a + 1; b < r->n && !rc; b++) {
                if (r->ents[b].is_crowd) continue;
                uint64_t inter = es_rle_intersection_area(&r->ents[a].mask, &r->ents[b].mask);
                if (inter)
                    rc = es_error_set(err, ES_ERR_OVERLAP,
                                      "%s: image %lld: annotations %lld and %lld overlap (%llu pixels); use --overlap "
                                      "paint or --overlap keep",
                                      x->json_path, (long long)im->id, (long long)r->ents[a].source_segment_id,
                                      (long long)r->ents[b].source_segment_id, (unsigned long long)inter);
            }
        }
    } else if (!rc && x->o->overlap == ES_GT_OVERLAP_PAINT) {
        rc = paint(r, im->height, im->width, err);
    }
    if (rc) {
        inst_drop(ctx, r);
        return rc;
    }
    *result = r;
    return ES_OK;
}

static int inst_write(void *ctx, size_t g, void *result, es_error *err) {
    inst_ctx *x = ctx;
    inst_result *r = result;
    es_image *im = &x->store_images[g];
    int rc = es_store_add_image(x->store, im, err);
    if (!rc && r->n) rc = es_store_add_entities(x->store, im->id, r->ents, r->n, err);
    if (rc) es_error_prefix(err, "%s: image %lld", x->json_path, (long long)im->source_id);
    else {
        x->rep->images++;
        x->rep->entities += (int64_t)r->n;
        x->rep->crowd += r->crowd;
        x->rep->declared_area_differs += r->differs;
        x->rep->overlaps_painted += r->painted_pixels;
        x->rep->empty_segments += r->emptied;
    }
    inst_drop(ctx, r);
    return rc;
}

static const char *inst_label(void *ctx, size_t g) {
    return ((inst_ctx *)ctx)->store_images[g].name;
}

static const es_pipeline_ops inst_ops = {inst_work, inst_write, inst_drop, inst_label};

static int convert_instances(const char *json_path, const char *out_db, const inst_options *o,
                             const es_convert_common *c, es_error *err) {
    es_convert_report local = {0};
    inst_ctx x;
    memset(&x, 0, sizeof x);
    x.json_path = json_path;
    x.o = o;
    x.c = c;
    x.rep = c->report ? c->report : &local;
    es_store *store = NULL;
    int rc = es_json_stream(json_path, on_item, &x, err);
    if (!rc && x.images.n == 0) rc = es_error_set(err, ES_ERR_FORMAT, "%s: no \"images\" list", json_path);
    if (!rc) rc = group(&x, err);
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"json\": \"%s\", \"overlap\": \"%s\"}", json_path,
             o->overlap == ES_GT_OVERLAP_PAINT ? "paint" : o->overlap == ES_GT_OVERLAP_KEEP ? "keep" : "error");
    if (!rc)
        rc = es_convert_create_store(out_db, ES_STORE_GT, o->overlap == ES_GT_OVERLAP_KEEP, o->creator, opts, c, &store,
                                     err);
    x.store = store;
    if (!rc) rc = es_coco_categories_store(&x.cats, store, err);
    if (!rc && x.nlabels) {
        x.label_ids = calloc(x.nlabels, sizeof *x.label_ids);
        if (!x.label_ids) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !rc && i < x.nlabels; i++)
            rc = es_store_label_get_or_create(store, x.label_names[i], ES_NONE, &x.label_ids[i], err);
    }
    if (!rc) {
        x.store_images = calloc(x.images.n, sizeof *x.store_images);
        if (!x.store_images) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !rc && i < x.images.n; i++) {
            const es_coco_image *ci = &x.images.items[i];
            es_image *im = &x.store_images[i];
            im->id = ES_NONE;
            im->name = ci->id_str ? es_strdup_or_null(ci->id_str) : es_path_stem(ci->file_name);
            im->width = ci->width;
            im->height = ci->height;
            im->source = ci->source ? ci->source : (char *)o->source;
            im->split = ci->split;
            im->path = ci->file_name;
            im->source_id = ci->id_str ? ES_NONE : ci->id;
            if (!im->name) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        }
    }
    if (!rc)
        for (size_t i = 0; i < x.n; i++)
            if (x.entries[i].id == 0) x.rep->id_zero++;
    if (!rc) rc = es_pipeline_run(x.images.n, &inst_ops, &x, store, c, "converting", err);
    if (!rc && x.rep->declared_area_differs)
        rc = es_report_add_warning(x.rep, "%lld declared areas differ from the pixel counts (both kept)",
                                   (long long)x.rep->declared_area_differs);
    if (!rc && x.rep->overlaps_painted)
        rc = es_report_add_warning(x.rep, "--overlap paint: %lld overlapping pixels given to the smaller instance, %lld "
                                          "instances left empty and dropped",
                                   (long long)x.rep->overlaps_painted, (long long)x.rep->empty_segments);
    if (!rc) {
        rc = es_convert_finish_store(store, x.rep, err);
        store = NULL;
    }
    es_store_close(store);
    if (x.store_images)
        for (size_t i = 0; i < x.images.n; i++) free(x.store_images[i].name);
    free(x.store_images);
    for (size_t i = 0; i < x.n; i++) es_segm_free(&x.entries[i].segm);
    free(x.entries);
    free(x.order);
    free(x.first);
    for (size_t i = 0; i < x.nlabels; i++) free(x.label_names[i]);
    free(x.label_names);
    free(x.label_ids);
    es_coco_images_free(&x.images);
    es_coco_categories_free(&x.cats);
    es_convert_report_free(&local);
    return rc;
}

int es_convert_coco_instances(const char *json_path, const char *out_db, es_gt_overlap_mode overlap,
                              const es_convert_common *c, es_error *err) {
    inst_options o = {overlap, 0, "coco", "entseg-convert coco-instances"};
    return convert_instances(json_path, out_db, &o, c, err);
}

int es_convert_entityseg(const char *json_path, const char *out_db, es_gt_overlap_mode overlap,
                         const es_convert_common *c, es_error *err) {
    inst_options o = {overlap, 1, "entityseg", "entseg-convert entityseg"};
    return convert_instances(json_path, out_db, &o, c, err);
}
