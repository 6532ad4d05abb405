/* evaluate/shard.c: partial results of `--shard i/n` and `entseg-eval merge`.
 *
 * A partial file keeps the per-image match records (never summaries), so merging the
 * shards and accumulating once gives exactly the numbers of a single run:
 *
 *   {"entseg_eval_partial": 1, "shard": [i, n],
 *    "cfg": {"metrics": bits, "iou_thrs": [..], "max_dets": [..], "dilation_ratio": r,
 *            "class_aware": 0|1, "overlap": policy, "pq_gt_overlapping": 0|1,
 *            "pq": null | {"classes", "boundary", "crowd_union"}},
 *    "classes": [[id, isthing], ..] (ascending), "pq_categories": [[id, isthing], ..],
 *    "notes": [..],
 *    "images": [{"id", "source_id", "name", "h", "w", "n_gt", "n_dt_raw", "n_dt",
 *                "overlap": [changed, dropped, pixels],
 *                "coco": [rec | null] (ES_CE_N), "cls": [[rec, ..]] (ES_CC_N),
 *                "best_iou": [..], "pq": es_pq_image_to_json(..) | null}]}
 *   rec = {"c": category, "ng": n, "npig": [4], "s": [scores], "k": "codes as digits"}
 * Doubles round-trip exactly (cJSON prints 17 significant digits when needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval_internal.h"

/* Checked readers: a missing or non-number item sets *bad (malformed partial files must
 * give an error, never a crash). */
static double jnum(const cJSON *o, const char *key, int *bad) {
    const cJSON *v = o ? cJSON_GetObjectItem(o, key) : NULL;
    if (!cJSON_IsNumber(v)) {
        *bad = 1;
        return 0;
    }
    return v->valuedouble;
}

static double jat(const cJSON *a, int i, int *bad) {
    const cJSON *v = a ? cJSON_GetArrayItem(a, i) : NULL;
    if (!cJSON_IsNumber(v)) {
        *bad = 1;
        return 0;
    }
    return v->valuedouble;
}

static cJSON *rec_json(const es_coco_rec *r, size_t T) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "c", (double)r->category);
    cJSON_AddNumberToObject(o, "ng", r->ng);
    cJSON *np = cJSON_AddArrayToObject(o, "npig");
    for (int a = 0; np && a < ES_COCO_A; a++) cJSON_AddItemToArray(np, cJSON_CreateNumber(r->npig[a]));
    cJSON *s = cJSON_AddArrayToObject(o, "s");
    for (uint32_t d = 0; s && d < r->nd; d++) cJSON_AddItemToArray(s, es_json_number(r->scores[d]));
    size_t nk = ES_COCO_A * T * r->nd;
    char *k = malloc(nk + 1);
    if (!k) {
        cJSON_Delete(o);
        return NULL;
    }
    for (size_t i = 0; i < nk; i++) k[i] = (char)('0' + r->codes[i]);
    k[nk] = 0;
    cJSON_AddStringToObject(o, "k", k);
    free(k);
    return o;
}

static int rec_from_json(const cJSON *o, size_t T, es_coco_rec *r) {
    memset(r, 0, sizeof *r);
    const cJSON *c = cJSON_GetObjectItem(o, "c"), *ng = cJSON_GetObjectItem(o, "ng");
    const cJSON *np = cJSON_GetObjectItem(o, "npig"), *s = cJSON_GetObjectItem(o, "s");
    const cJSON *k = cJSON_GetObjectItem(o, "k");
    if (!cJSON_IsNumber(c) || !cJSON_IsNumber(ng) || cJSON_GetArraySize(np) != ES_COCO_A ||
        !cJSON_IsArray(s) || !cJSON_IsString(k))
        return -1;
    int bad = 0;
    r->category = (int64_t)c->valuedouble;
    r->ng = (uint32_t)ng->valuedouble;
    for (int a = 0; a < ES_COCO_A; a++) r->npig[a] = (uint32_t)jat(np, a, &bad);
    r->nd = (uint32_t)cJSON_GetArraySize(s);
    size_t nk = ES_COCO_A * T * r->nd;
    if (strlen(k->valuestring) != nk) return -1;
    r->scores = malloc((r->nd ? r->nd : 1) * sizeof *r->scores);
    r->codes = malloc(nk ? nk : 1);
    if (!r->scores || !r->codes) return -1;
    uint32_t d = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, s) {
        if (!cJSON_IsNumber(v)) return -1;
        r->scores[d++] = v->valuedouble;
    }
    if (bad) return -1;
    for (size_t i = 0; i < nk; i++) {
        char ch = k->valuestring[i];
        if (ch < '0' || ch > '2') return -1;
        r->codes[i] = (uint8_t)(ch - '0');
    }
    return 0;
}

static cJSON *pairs_json(const int64_t *ids, const int *isthing, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)ids[i]));
        cJSON_AddItemToArray(p, cJSON_CreateNumber(isthing[i]));
        cJSON_AddItemToArray(a, p);
    }
    return a;
}

int es_eval_write_partial(const es_eval_result *r, const char *path, es_error *err) {
    const es_eval_detail *d = r->detail;
    if (!d) return es_error_set(err, ES_ERR_INVALID, "no per-image records to write");
    const size_t T = d->cfg.coco.T;
    cJSON *root = cJSON_CreateObject();
    int rc = ES_OK;
    if (!root) goto nomem;
    cJSON_AddNumberToObject(root, "entseg_eval_partial", 1);
    cJSON *cfg = cJSON_AddObjectToObject(root, "cfg");
    if (!cfg) goto nomem;
    cJSON_AddNumberToObject(cfg, "metrics", d->cfg.metrics);
    cJSON *thr = cJSON_AddArrayToObject(cfg, "iou_thrs");
    for (size_t t = 0; thr && t < T; t++) cJSON_AddItemToArray(thr, es_json_number(d->cfg.coco.iou_thrs[t]));
    cJSON *md = cJSON_AddArrayToObject(cfg, "max_dets");
    for (int m = 0; md && m < ES_COCO_M; m++) cJSON_AddItemToArray(md, cJSON_CreateNumber(d->cfg.coco.max_dets[m]));
    cJSON_AddItemToObject(cfg, "dilation_ratio", es_json_number(d->cfg.dilation_ratio));
    cJSON_AddNumberToObject(cfg, "class_aware", d->cfg.class_aware);
    cJSON_AddNumberToObject(cfg, "overlap", d->overlap);
    cJSON_AddNumberToObject(cfg, "pq_gt_overlapping", d->pq_gt_overlapping);
    if (d->pq) {
        cJSON *pq = cJSON_AddObjectToObject(cfg, "pq");
        cJSON_AddNumberToObject(pq, "classes", d->pq_opts.classes);
        cJSON_AddNumberToObject(pq, "boundary", d->pq_opts.boundary);
        cJSON_AddNumberToObject(pq, "crowd_union", d->pq_opts.crowd_union);
    } else {
        cJSON_AddNullToObject(cfg, "pq");
    }
    cJSON_AddItemToObject(root, "classes", pairs_json(d->class_ids, d->class_isthing, d->n_classes));
    {
        cJSON *a = cJSON_AddArrayToObject(root, "pq_categories");
        for (size_t i = 0; a && i < d->n_pq_cats; i++) {
            cJSON *p = cJSON_CreateArray();
            cJSON_AddItemToArray(p, cJSON_CreateNumber((double)d->pq_cats[i].id));
            cJSON_AddItemToArray(p, cJSON_CreateNumber(d->pq_cats[i].isthing));
            cJSON_AddItemToArray(a, p);
        }
    }
    cJSON_AddStringToObject(root, "notes", d->notes ? d->notes : "");
    cJSON *imgs = cJSON_AddArrayToObject(root, "images");
    if (!imgs) goto nomem;
    for (size_t i = 0; i < d->n; i++) {
        const es_eval_img_rec *im = &d->imgs[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) goto nomem;
        cJSON_AddItemToArray(imgs, o);
        cJSON_AddNumberToObject(o, "id", (double)im->image_id);
        cJSON_AddNumberToObject(o, "source_id", (double)im->source_id);
        cJSON_AddStringToObject(o, "name", im->name ? im->name : "");
        cJSON_AddNumberToObject(o, "h", im->height);
        cJSON_AddNumberToObject(o, "w", im->width);
        cJSON_AddNumberToObject(o, "n_gt", im->n_gt);
        cJSON_AddNumberToObject(o, "n_dt_raw", im->n_dt_raw);
        cJSON_AddNumberToObject(o, "n_dt", im->n_dt);
        cJSON *ov = cJSON_AddArrayToObject(o, "overlap");
        cJSON_AddItemToArray(ov, cJSON_CreateNumber((double)im->overlap_changed));
        cJSON_AddItemToArray(ov, cJSON_CreateNumber((double)im->overlap_dropped));
        cJSON_AddItemToArray(ov, cJSON_CreateNumber((double)im->overlap_pixels));
        cJSON *coco = cJSON_AddArrayToObject(o, "coco");
        for (int m = 0; coco && m < ES_CE_N; m++)
            cJSON_AddItemToArray(coco, im->has[m] ? rec_json(&im->coco[m], T) : cJSON_CreateNull());
        cJSON *cls = cJSON_AddArrayToObject(o, "cls");
        for (int m = 0; cls && m < ES_CC_N; m++) {
            cJSON *l = cJSON_CreateArray();
            for (size_t k = 0; l && k < im->n_cls[m]; k++) cJSON_AddItemToArray(l, rec_json(&im->cls[m][k], T));
            cJSON_AddItemToArray(cls, l);
        }
        cJSON *b = cJSON_AddArrayToObject(o, "best_iou");
        for (uint32_t k = 0; b && k < im->n_best; k++) cJSON_AddItemToArray(b, es_json_number(im->best_iou[k]));
        if (d->pq)
            cJSON_AddItemToObject(o, "pq", es_pq_image_to_json(es_pq_eval_get_image(d->pq, i)));
    }
    char *text = cJSON_PrintUnformatted(root);
    if (!text) goto nomem;
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        rc = es_error_set(err, ES_ERR_IO, "%s: cannot write the partial result", path);
    }
    free(text);
    cJSON_Delete(root);
    return rc;
nomem:
    cJSON_Delete(root);
    return es_error_set(err, ES_ERR_NOMEM, "out of memory writing %s", path);
}

static cJSON *read_json(const char *path, es_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        es_error_set(err, ES_ERR_IO, "%s: cannot open", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        es_error_set(err, ES_ERR_IO, "%s: cannot read", path);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j || !cJSON_GetObjectItem(j, "entseg_eval_partial")) {
        cJSON_Delete(j);
        es_error_set(err, ES_ERR_FORMAT, "%s: not a partial result of entseg-eval --shard", path);
        return NULL;
    }
    return j;
}

typedef struct sort_key {
    int64_t source_id, image_id;
    size_t idx;
} sort_key;

static int cmp_sort_key(const void *pa, const void *pb) {
    const sort_key *a = pa, *b = pb;
    if (a->source_id != b->source_id) return a->source_id < b->source_id ? -1 : 1;
    return a->image_id < b->image_id ? -1 : a->image_id > b->image_id;
}

/* Reads one image of a part; pq (may be NULL) gets its PQ record. */
static int image_from_json(const cJSON *o, size_t T, es_eval_img_rec *im, es_pq_image *pq,
                           int want_pq) {
    memset(im, 0, sizeof *im);
    const cJSON *name = cJSON_GetObjectItem(o, "name"), *coco = cJSON_GetObjectItem(o, "coco");
    const cJSON *cls = cJSON_GetObjectItem(o, "cls"), *ov = cJSON_GetObjectItem(o, "overlap");
    if (!cJSON_IsString(name) || cJSON_GetArraySize(coco) != ES_CE_N ||
        cJSON_GetArraySize(cls) != ES_CC_N || cJSON_GetArraySize(ov) != 3)
        return -1;
    int bad = 0;
    im->image_id = (int64_t)jnum(o, "id", &bad);
    im->source_id = (int64_t)jnum(o, "source_id", &bad);
    im->name = strdup(name->valuestring);
    im->height = (uint32_t)jnum(o, "h", &bad);
    im->width = (uint32_t)jnum(o, "w", &bad);
    im->n_gt = (uint32_t)jnum(o, "n_gt", &bad);
    im->n_dt_raw = (uint32_t)jnum(o, "n_dt_raw", &bad);
    im->n_dt = (uint32_t)jnum(o, "n_dt", &bad);
    im->overlap_changed = (int64_t)jat(ov, 0, &bad);
    im->overlap_dropped = (int64_t)jat(ov, 1, &bad);
    im->overlap_pixels = (uint64_t)jat(ov, 2, &bad);
    if (bad || im->n_dt > 100000000u) return -1;
    for (int m = 0; m < ES_CE_N; m++) {
        const cJSON *r = cJSON_GetArrayItem(coco, m);
        if (cJSON_IsNull(r)) continue;
        if (rec_from_json(r, T, &im->coco[m])) return -1;
        im->has[m] = 1;
    }
    for (int m = 0; m < ES_CC_N; m++) {
        const cJSON *l = cJSON_GetArrayItem(cls, m);
        size_t n = (size_t)cJSON_GetArraySize(l);
        im->cls[m] = calloc(n ? n : 1, sizeof *im->cls[m]);
        if (!im->cls[m]) return -1;
        im->n_cls[m] = n;
        for (size_t k = 0; k < n; k++)
            if (rec_from_json(cJSON_GetArrayItem(l, (int)k), T, &im->cls[m][k])) return -1;
    }
    const cJSON *b = cJSON_GetObjectItem(o, "best_iou");
    im->n_best = (uint32_t)cJSON_GetArraySize(b);
    if (im->n_best) {
        im->best_iou = malloc(im->n_best * sizeof *im->best_iou);
        if (!im->best_iou) return -1;
        for (uint32_t k = 0; k < im->n_best; k++) im->best_iou[k] = jat(b, (int)k, &bad);
        if (bad) return -1;
    }
    if (want_pq) {
        es_error e = {0};
        if (es_pq_image_from_json(pq, cJSON_GetObjectItem(o, "pq"), &e)) return -1;
    }
    return 0;
}

int es_eval_merge(const char *const *paths, size_t n, es_eval_result *result, es_error *err) {
    es_eval_detail *d = calloc(1, sizeof *d);
    cJSON **parts = calloc(n ? n : 1, sizeof *parts);
    es_pq_image *pqs = NULL;
    int rc = ES_OK;
    if (!d || !parts) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t total = 0;
    for (size_t p = 0; p < n; p++) {
        parts[p] = read_json(paths[p], err);
        if (!parts[p]) {
            rc = err->code;
            goto done;
        }
        const cJSON *cfg = cJSON_GetObjectItem(parts[p], "cfg");
        if (p > 0) {
            char *a = cJSON_PrintUnformatted(cfg);
            char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(parts[0], "cfg"));
            int same = a && b && !strcmp(a, b);
            free(a), free(b);
            if (!same) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: evaluated with other options than %s",
                                  paths[p], paths[0]);
                goto done;
            }
        }
        total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(parts[p], "images"));
    }
    const cJSON *cfg = cJSON_GetObjectItem(parts[0], "cfg");
    int bad = !cJSON_IsObject(cfg);
    es_coco_params_default(&d->cfg.coco);
    d->cfg.metrics = (unsigned)jnum(cfg, "metrics", &bad);
    const cJSON *thr = cJSON_GetObjectItem(cfg, "iou_thrs");
    d->cfg.coco.T = (size_t)cJSON_GetArraySize(thr);
    if (d->cfg.coco.T < 1 || d->cfg.coco.T > ES_COCO_MAX_T) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: bad IoU thresholds", paths[0]);
        goto done;
    }
    for (size_t t = 0; t < d->cfg.coco.T; t++) d->cfg.coco.iou_thrs[t] = jat(thr, (int)t, &bad);
    for (int m = 0; m < ES_COCO_M; m++)
        d->cfg.coco.max_dets[m] = (int)jat(cJSON_GetObjectItem(cfg, "max_dets"), m, &bad);
    d->cfg.dilation_ratio = jnum(cfg, "dilation_ratio", &bad);
    d->cfg.class_aware = (int)jnum(cfg, "class_aware", &bad);
    d->cfg.keep_per_image = 1;
    d->overlap = (es_overlap_policy)(int)jnum(cfg, "overlap", &bad);
    d->pq_gt_overlapping = (int)jnum(cfg, "pq_gt_overlapping", &bad);
    if (bad || d->cfg.coco.max_dets[0] < 1) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: malformed options block", paths[0]);
        goto done;
    }
    const cJSON *cl = cJSON_GetObjectItem(parts[0], "classes");
    d->n_classes = (size_t)cJSON_GetArraySize(cl);
    d->class_ids = malloc((d->n_classes ? d->n_classes : 1) * sizeof *d->class_ids);
    d->class_isthing = malloc((d->n_classes ? d->n_classes : 1) * sizeof *d->class_isthing);
    const cJSON *pc = cJSON_GetObjectItem(parts[0], "pq_categories");
    d->n_pq_cats = (size_t)cJSON_GetArraySize(pc);
    d->pq_cats = malloc((d->n_pq_cats ? d->n_pq_cats : 1) * sizeof *d->pq_cats);
    d->imgs = calloc(total ? total : 1, sizeof *d->imgs);
    pqs = calloc(total ? total : 1, sizeof *pqs);
    if (!d->class_ids || !d->class_isthing || !d->pq_cats || !d->imgs || !pqs) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < d->n_classes; k++) {
        d->class_ids[k] = (int64_t)jat(cJSON_GetArrayItem(cl, (int)k), 0, &bad);
        d->class_isthing[k] = (int)jat(cJSON_GetArrayItem(cl, (int)k), 1, &bad);
    }
    for (size_t k = 0; k < d->n_pq_cats; k++) {
        d->pq_cats[k].id = (int64_t)jat(cJSON_GetArrayItem(pc, (int)k), 0, &bad);
        d->pq_cats[k].isthing = (int)jat(cJSON_GetArrayItem(pc, (int)k), 1, &bad);
    }
    if (bad) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: malformed category list", paths[0]);
        goto done;
    }
    const cJSON *pqo = cJSON_GetObjectItem(cfg, "pq");
    const int want_pq = cJSON_IsObject(pqo);
    /* notes of the first part, without the warnings recomputed below */
    const char *notes = cJSON_GetStringValue(cJSON_GetObjectItem(parts[0], "notes"));
    for (const char *s = notes; s && *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (strncmp(s, "warning: ", 9)) es_eval_detail_note(d, "%.*s", (int)len, s);
        s += len + (e ? 1 : 0);
    }
    size_t k = 0;
    for (size_t p = 0; p < n; p++) {
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(parts[p], "images")) {
            if (image_from_json(o, d->cfg.coco.T, &d->imgs[k], &pqs[k], want_pq)) {
                d->n = k + 1;
                rc = es_error_set(err, ES_ERR_FORMAT, "%s: malformed image record", paths[p]);
                goto done;
            }
            k++;
        }
    }
    d->n = k;
    /* sort images (and their PQ records with them) by (source id, image id) */
    {
        sort_key *keys = malloc((k ? k : 1) * sizeof *keys);
        es_eval_img_rec *sorted = malloc((k ? k : 1) * sizeof *sorted);
        es_pq_image *psorted = malloc((k ? k : 1) * sizeof *psorted);
        if (!keys || !sorted || !psorted) {
            free(keys), free(sorted), free(psorted);
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < k; i++) keys[i] = (sort_key){d->imgs[i].source_id, d->imgs[i].image_id, i};
        qsort(keys, k, sizeof *keys, cmp_sort_key);
        for (size_t i = 0; i < k; i++) {
            sorted[i] = d->imgs[keys[i].idx];
            psorted[i] = pqs[keys[i].idx];
        }
        memcpy(d->imgs, sorted, k * sizeof *sorted);
        memcpy(pqs, psorted, k * sizeof *pqs);
        free(keys), free(sorted), free(psorted);
    }
    if (want_pq) {
        d->pq_opts = es_pq_options_default();
        d->pq_opts.classes = (int)jnum(pqo, "classes", &bad);
        d->pq_opts.boundary = (int)jnum(pqo, "boundary", &bad);
        d->pq_opts.crowd_union = (int)jnum(pqo, "crowd_union", &bad);
        if (bad) {
            rc = es_error_set(err, ES_ERR_FORMAT, "%s: malformed PQ options", paths[0]);
            goto done;
        }
        d->pq_opts.dilation_ratio = d->cfg.dilation_ratio;
        d->pq_opts.categories = d->pq_cats;
        d->pq_opts.n_categories = d->n_pq_cats;
        rc = es_pq_eval_create(&d->pq, &d->pq_opts, k, err);
        for (size_t i = 0; !rc && i < k; i++) rc = es_pq_eval_set_image(d->pq, i, &pqs[i], err);
        if (rc) goto done;
    }
    rc = es_eval_finish(d, result, err);
    if (!rc) d = NULL;
done:
    if (pqs)
        for (size_t i = 0; i < total; i++) es_pq_image_clear(&pqs[i]);
    free(pqs);
    for (size_t p = 0; parts && p < n; p++) cJSON_Delete(parts[p]);
    free(parts);
    es_eval_detail_free(d);
    return rc;
}
