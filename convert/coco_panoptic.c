/* coco_panoptic.c: COCO panoptic layout (JSON + id PNGs) -> entity store, for ground truth
 * (coco-panoptic, ade20k-panoptic --json, cityscapes-panoptic --json) and predictions
 * (panoptic-pred).
 *
 * Per image (on the pool): read the PNG, ids = R + 256 G + 65536 B, one
 * es_rle_encode_labels pass, then match the PNG ids with segments_info both ways. Each
 * segment becomes one entity in segments_info order (source_order = its index: panopticapi's
 * crowd rule depends on that order), with its category, isthing, id and declared area as
 * provenance. Crowd segments become ignore regions (is_crowd = 1), or are dropped with
 * --crowd drop (their pixels become unlabeled).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "panoptic_json.h"

/* One image to convert: where its pixels and segments come from and where it goes. */
typedef struct pan_job {
    const es_pan_annotation *ann; /* NULL: a prediction image without predictions */
    es_image image;               /* the store image (name, size, source id) */
} pan_job;

typedef struct pan_ctx {
    const char *json_path, *png_dir;
    const es_pan_options *o;
    const es_pan_json *pj;
    pan_job *jobs;
    size_t njobs;
    es_store *store;
    const es_convert_common *c;
    es_convert_report *rep;
    es_thread_buffers ids;  /* per thread: the id map of the image being read */
} pan_ctx;

typedef struct pan_result {
    es_entity *ents;
    size_t n;
    int64_t crowd, crowd_dropped, area_differs, empty;
} pan_result;

static void free_result(pan_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) es_rle_free(&r->ents[i].mask);
    free(r->ents);
    free(r);
}

static void pan_drop(void *ctx, void *result) {
    free_result(result);
}

static const char *pan_label(void *ctx, size_t i) {
    pan_ctx *p = ctx;
    return p->jobs[i].image.name;
}

/* Index of id in the ascending ids[], or -1. */
static long find_id(const uint32_t *ids, size_t n, int64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((int64_t)ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return (lo < n && (int64_t)ids[lo] == id) ? (long)lo : -1;
}

/* PNG id = R + 256 G + 256^2 B. For 8-bit RGB (what panoptic PNGs are) each id is one
 * unaligned 32-bit load masked to 24 bits (little-endian hosts; the last pixel, whose 4th
 * byte lies outside the image, goes byte by byte): 5-7% of a COCO import went to the
 * generic per-byte loop of es_pixels_to_ids. Everything else goes to es_pixels_to_ids. */
static int pan_pixels_to_ids(const es_pixels *px, uint32_t *ids, es_error *err) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (px->data && ids && px->channels == 3 && px->depth == 1) {
        size_t n = (size_t)px->width * px->height;
        const uint8_t *s = px->data;
        for (size_t i = 0; i + 1 < n; i++) {
            uint32_t v;
            memcpy(&v, s + 3 * i, sizeof v);
            ids[i] = v & 0xffffffu;
        }
        if (n) {
            const uint8_t *last = s + 3 * (n - 1);
            ids[n - 1] = (uint32_t)last[0] | (uint32_t)last[1] << 8 | (uint32_t)last[2] << 16;
        }
        return ES_OK;
    }
#endif
    return es_pixels_to_ids(px, ids, err);
}

/* Reads the PNG of one annotation into per-id masks; checks its size. */
static int read_png_labels(pan_ctx *p, const pan_job *job, int thread, es_label_rles *labels, es_error *err) {
    const es_pan_annotation *a = job->ann;
    char *png = es_path_join(p->png_dir, a->file_name);
    if (!png) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = ES_OK;
    es_pixels px = ES_PIXELS_EMPTY;
    uint32_t *ids = NULL;
    if (!es_file_exists(png)) {
        rc = es_error_set(err, ES_ERR_IO, "%s: image %s: PNG %s is missing", p->json_path,
                          a->label, png);
        goto done;
    }
    rc = es_image_read(png, 0, &px, err);
    if (rc) {
        es_error_prefix(err, "%s: image %s", p->json_path, a->label);
        goto done;
    }
    if (px.width != job->image.width || px.height != job->image.height) {
        rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s: PNG %s is %ux%u but the JSON says %ux%u", p->json_path,
                          a->label, png, px.width, px.height, job->image.width, job->image.height);
        goto done;
    }
    ids = es_thread_buffer(&p->ids, thread, (size_t)px.width * px.height * sizeof *ids);
    if (!ids) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory decoding %s", png);
        goto done;
    }
    rc = pan_pixels_to_ids(&px, ids, err);
    es_pixels_free(&px);
    if (!rc) rc = es_rle_encode_labels(labels, ids, job->image.height, job->image.width, err);
    if (rc) es_error_prefix(err, "%s", png);
done:
    es_pixels_free(&px);
    free(png);
    return rc;
}

static int pan_work(void *ctx, size_t i, int thread, void **result, es_error *err) {
    pan_ctx *p = ctx;
    const pan_job *job = &p->jobs[i];
    pan_result *r = calloc(1, sizeof *r);
    if (!r) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!job->ann) {
        *result = r;
        return ES_OK;
    }
    const es_pan_annotation *a = job->ann;
    es_label_rles labels = {0};
    int rc = read_png_labels(p, job, thread, &labels, err);
    unsigned char *used = NULL;
    if (!rc) {
        used = calloc(labels.n ? labels.n : 1, 1);
        r->ents = calloc(a->nseg ? a->nseg : 1, sizeof *r->ents);
        if (!used || !r->ents) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    int is_gt = p->o->kind == ES_STORE_GT;
    for (size_t k = 0; !rc && k < a->nseg; k++) {
        const es_pan_segment *s = &a->segs[k];
        long at = find_id(labels.ids, labels.n, s->id);
        if (at < 0) {
            if (p->o->allow_empty_segments) {
                r->empty++;
                continue;
            }
            rc = es_error_set(err, ES_ERR_INVALID,
                              "%s: image %s (%s): segment id %lld is in segments_info but not in the PNG",
                              p->json_path, a->label, a->file_name, (long long)s->id);
            break;
        }
        used[at] = 1;
        if (is_gt && !isnan(s->area) && s->area != (double)labels.areas[at]) r->area_differs++;
        if (is_gt && s->iscrowd && p->o->crowd == ES_CROWD_DROP) {
            r->crowd_dropped++;
            continue;
        }
        double score = 1.0;
        if (!is_gt && !isnan(s->score)) {
            score = s->score;
            if (!isfinite(score) || score < 0) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: image %s: segment %lld: score %g is not a finite number >= 0",
                                  p->json_path, a->label, (long long)s->id, score);
                break;
            }
        }
        es_entity *e = &r->ents[r->n++];
        *e = es_entity_default();
        e->mask = labels.rles[at];
        labels.rles[at] = ES_RLE_EMPTY;
        e->is_crowd = is_gt ? s->iscrowd : 0;
        if (e->is_crowd) r->crowd++;
        e->score = score;
        e->category_id = s->category_id;
        e->isthing = s->category_id == ES_NONE ? -1 : es_coco_category_isthing(&p->pj->cats, s->category_id);
        e->source_segment_id = s->id;
        e->declared_area = is_gt ? s->area : NAN;
        e->source_order = (int64_t)k;
    }
    for (size_t j = 0; !rc && j < labels.n; j++)
        if (!used[j])
            rc = es_error_set(err, ES_ERR_INVALID,
                              "%s: image %s (%s): id %u (%llu pixels) in the PNG is not in segments_info",
                              p->json_path, a->label, a->file_name, labels.ids[j],
                              (unsigned long long)labels.areas[j]);
    free(used);
    es_label_rles_free(&labels);
    if (rc) {
        free_result(r);
        return rc;
    }
    *result = r;
    return ES_OK;
}

static int pan_write(void *ctx, size_t i, void *result, es_error *err) {
    pan_ctx *p = ctx;
    pan_result *r = result;
    pan_job *job = &p->jobs[i];
    int rc = ES_OK;
    if (p->o->kind == ES_STORE_GT) rc = es_store_add_image(p->store, &job->image, err);
    if (!rc && r->n) rc = es_store_add_entities(p->store, job->image.id, r->ents, r->n, err);
    if (rc) es_error_prefix(err, "%s: image %s", p->json_path, job->image.name);
    if (!rc && p->rep) {
        p->rep->images++;
        p->rep->entities += (int64_t)r->n;
        p->rep->crowd += r->crowd;
        p->rep->crowd_dropped += r->crowd_dropped;
        p->rep->declared_area_differs += r->area_differs;
        p->rep->empty_segments += r->empty;
    }
    free_result(r);
    return rc;
}

static const es_pipeline_ops pan_ops = {pan_work, pan_write, pan_drop, pan_label};

/* GT: one job per JSON image, in "images" order; every image needs its annotation and
 * every annotation its image. */
static int gt_jobs(pan_ctx *p, es_error *err) {
    const es_pan_json *pj = p->pj;
    if (!pj->have_images || pj->images.n == 0)
        return es_error_set(err, ES_ERR_FORMAT, "%s: no \"images\" list", p->json_path);
    p->jobs = calloc(pj->images.n, sizeof *p->jobs);
    if (!p->jobs) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < pj->nann; i++) {
        size_t at;
        if (!es_idmap_get(&pj->images.by_id, pj->anns[i].image_id, &at))
            return es_error_set(err, ES_ERR_INVALID, "%s: annotations[%ld] (%s): image id %s is not in \"images\"",
                                p->json_path, pj->anns[i].index, pj->anns[i].file_name, pj->anns[i].label);
    }
    for (size_t i = 0; i < pj->images.n; i++) {
        const es_coco_image *ci = &pj->images.items[i];
        size_t at;
        if (!es_idmap_get(&pj->ann_by_image, ci->id, &at)) {
            if (p->c->lenient) {
                ES_CHECK(es_report_add_skipped(p->rep, "%s: no entry in \"annotations\"", ci->file_name));
                continue;
            }
            return es_error_set(err, ES_ERR_INVALID, "%s: image %s (%s) has no entry in \"annotations\"", p->json_path,
                                ci->id_str ? ci->id_str : "", ci->file_name);
        }
        pan_job *j = &p->jobs[p->njobs++];
        j->ann = &pj->anns[at];
        j->image.id = ES_NONE;
        /* string ids (ADE20K, Cityscapes) are the image names predictions refer to */
        j->image.name = ci->id_str ? es_strdup_or_null(ci->id_str) : es_path_stem(ci->file_name);
        j->image.width = ci->width;
        j->image.height = ci->height;
        j->image.source = ci->source ? ci->source : (char *)p->o->source;
        j->image.split = ci->split;
        j->image.path = ci->file_name;
        j->image.source_id = ci->id_str ? ES_NONE : ci->id;
        if (!j->image.name) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    return ES_OK;
}

/* Predictions: one job per GT image (already copied into the store); an annotation whose
 * image id is not a GT image's source id is an error. */
static int pred_jobs(pan_ctx *p, es_image *gt, size_t ngt, const es_idmap *by_source, es_error *err) {
    const es_pan_json *pj = p->pj;
    p->jobs = calloc(ngt ? ngt : 1, sizeof *p->jobs);
    if (!p->jobs) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ngt; i++) {
        p->jobs[i].image = gt[i];
        p->jobs[i].ann = NULL;
    }
    p->njobs = ngt;
    for (size_t i = 0; i < pj->nann; i++) {
        const es_pan_annotation *a = &pj->anns[i];
        size_t at = ngt;
        if (a->image_id_str) {
            for (size_t g = 0; g < ngt && at == ngt; g++)
                if (!strcmp(gt[g].name, a->image_id_str)) at = g;
        } else if (!es_idmap_get(by_source, a->image_id, &at)) {
            at = ngt;
        }
        if (at == ngt) {
            if (p->c->lenient) {
                ES_CHECK(es_report_add_skipped(p->rep, "%s: image id %s is not in the ground truth", a->file_name,
                                               a->label));
                continue;
            }
            return es_error_set(err, ES_ERR_INVALID,
                                "%s: annotations[%ld] (%s): image id %s is not an image of the ground truth %s",
                                p->json_path, a->index, a->file_name, a->label, p->o->gt_db);
        }
        const es_image *g = &gt[at];
        const es_coco_image *ci = NULL;
        size_t ji;
        if (es_idmap_get(&pj->images.by_id, a->image_id, &ji)) ci = &pj->images.items[ji];
        if (ci && (ci->width != g->width || ci->height != g->height))
            return es_error_set(err, ES_ERR_INVALID, "%s: image %s is %ux%u in the JSON but %ux%u in the ground truth",
                                p->json_path, a->label, ci->width, ci->height, g->width, g->height);
        p->jobs[at].ann = a;
    }
    return ES_OK;
}

static void options_text(char *buf, size_t cap, const es_pan_options *o, const char *json_path, const char *png_dir) {
    snprintf(buf, cap, "{\"json\": \"%s\", \"png_dir\": \"%s\", \"crowd\": \"%s\"}", json_path, png_dir,
             o->crowd == ES_CROWD_DROP ? "drop" : "ignore");
}

int es_convert_panoptic_layout(const char *json_path, const char *png_dir, const char *out_db,
                               const es_pan_options *o, const es_convert_common *c, es_error *err) {
    es_convert_report local = {0};
    pan_ctx p;
    memset(&p, 0, sizeof p);
    p.json_path = json_path;
    p.png_dir = png_dir;
    p.o = o;
    p.c = c;
    p.rep = c->report ? c->report : &local;
    es_pan_json pj;
    int rc = es_pan_json_read(&pj, json_path, err);
    p.pj = &pj;
    es_store *store = NULL;
    es_image *gt = NULL;
    size_t ngt = 0;
    es_idmap by_source = {0};
    char opts[2048];
    options_text(opts, sizeof opts, o, json_path, png_dir);
    if (!rc) rc = es_convert_create_store(out_db, o->kind, 0, o->creator, opts, c, &store, err);
    p.store = store;
    if (!rc && o->kind == ES_STORE_GT) {
        rc = es_coco_categories_store(&pj.cats, store, err);
        if (!rc) rc = gt_jobs(&p, err);
    } else if (!rc) {
        rc = es_copy_gt_images(o->gt_db, store, &gt, &ngt, &by_source, pj.cats.n == 0, err);
        if (!rc && pj.cats.n) rc = es_coco_categories_store(&pj.cats, store, err);
        if (!rc) rc = pred_jobs(&p, gt, ngt, &by_source, err);
    }
    if (!rc) rc = es_thread_buffers_init(&p.ids, c, err);
    if (!rc) {
        for (size_t i = 0; i < pj.nann; i++)
            for (size_t k = 0; k < pj.anns[i].nseg; k++)
                if (pj.anns[i].segs[k].id == 0) p.rep->id_zero++;
        rc = es_pipeline_run(p.njobs, &pan_ops, &p, store, c, "converting", err);
    }
    if (!rc && p.rep->declared_area_differs)
        rc = es_report_add_warning(p.rep, "%lld declared areas differ from the pixel counts (both kept)",
                                   (long long)p.rep->declared_area_differs);
    if (!rc && p.rep->empty_segments)
        rc = es_report_add_warning(p.rep, "%lld declared segments have no pixels and are not stored",
                                   (long long)p.rep->empty_segments);
    if (!rc) {
        rc = es_convert_finish_store(store, p.rep, err);
        store = NULL;
    }
    es_store_close(store);
    es_thread_buffers_free(&p.ids);
    if (o->kind == ES_STORE_GT)
        for (size_t i = 0; i < p.njobs; i++) free(p.jobs[i].image.name);
    free(p.jobs);
    es_images_free(gt, ngt);
    es_idmap_free(&by_source);
    es_pan_json_free(&pj);
    es_convert_report_free(&local);
    return rc;
}

int es_convert_coco_panoptic(const char *json_path, const char *png_dir, const char *out_db, es_crowd_mode crowd,
                             const es_convert_common *c, es_error *err) {
    es_pan_options o = {0};
    o.kind = ES_STORE_GT;
    o.crowd = crowd;
    o.source = "coco";
    o.creator = "entseg-convert coco-panoptic";
    return es_convert_panoptic_layout(json_path, png_dir, out_db, &o, c, err);
}

int es_convert_panoptic_pred(const char *json_path, const char *png_dir, const char *gt_db, const char *out_db,
                             const es_convert_common *c, es_error *err) {
    es_pan_options o = {0};
    o.kind = ES_STORE_PRED;
    o.source = "coco";
    o.creator = "entseg-convert panoptic-pred";
    o.gt_db = gt_db;
    return es_convert_panoptic_layout(json_path, png_dir, out_db, &o, c, err);
}
