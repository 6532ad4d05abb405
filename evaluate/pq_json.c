/* pq_json.c: PQ results as the evaluator's JSON (issue 4 keys) and one image's records as
 * JSON for shards (see pq.h). Doubles go through cJSON, which prints 17 significant digits
 * when 15 do not round-trip, so values survive a write and read unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"

static int add_number_or_null(cJSON *o, const char *key, double v) {
    cJSON *item = isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
    if (!item) return 0;
    cJSON_AddItemToObject(o, key, item);
    return 1;
}

cJSON *es_pq_json_agnostic(const es_pq_summary *s) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const es_pq_class *c = s->n_classes ? &s->classes[0] : NULL;
    int ok = add_number_or_null(o, "PQ", s->all.pq) && add_number_or_null(o, "SQ", s->all.sq) &&
             add_number_or_null(o, "RQ", s->all.rq) &&
             cJSON_AddNumberToObject(o, "TP", c ? (double)c->tp : 0) &&
             cJSON_AddNumberToObject(o, "FP", c ? (double)c->fp : 0) &&
             cJSON_AddNumberToObject(o, "FN", c ? (double)c->fn : 0) &&
             cJSON_AddNumberToObject(o, "IoU_sum", c ? c->iou_sum : 0);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *group_json(const es_pq_group *g) {
    if (g->n == 0) return cJSON_CreateNull(); /* empty group: panopticapi divides by zero */
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (!cJSON_AddNumberToObject(o, "PQ", g->pq) || !cJSON_AddNumberToObject(o, "SQ", g->sq) ||
        !cJSON_AddNumberToObject(o, "RQ", g->rq) ||
        !cJSON_AddNumberToObject(o, "n", (double)g->n)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *es_pq_json_classes(const es_pq_summary *s) {
    cJSON *o = cJSON_CreateObject(), *per = cJSON_CreateObject();
    cJSON *all = group_json(&s->all), *things = group_json(&s->things),
          *stuff = group_json(&s->stuff);
    if (!o || !per || !all || !things || !stuff) goto fail;
    cJSON_AddItemToObject(o, "All", all);
    cJSON_AddItemToObject(o, "Things", things);
    cJSON_AddItemToObject(o, "Stuff", stuff);
    all = things = stuff = NULL;
    cJSON_AddItemToObject(o, "per_class", per);
    for (size_t i = 0; i < s->n_classes; i++) {
        const es_pq_class *c = &s->classes[i];
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)c->id);
        cJSON *e = cJSON_CreateObject();
        if (!e) goto fail_o;
        cJSON_AddItemToObject(per, key, e);
        if (!cJSON_AddNumberToObject(e, "PQ", c->pq) || !cJSON_AddNumberToObject(e, "SQ", c->sq) ||
            !cJSON_AddNumberToObject(e, "RQ", c->rq) ||
            !cJSON_AddNumberToObject(e, "TP", (double)c->tp) ||
            !cJSON_AddNumberToObject(e, "FP", (double)c->fp) ||
            !cJSON_AddNumberToObject(e, "FN", (double)c->fn))
            goto fail_o;
    }
    return o;
fail:
    cJSON_Delete(per);
    cJSON_Delete(all);
    cJSON_Delete(things);
    cJSON_Delete(stuff);
fail_o:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *pair_json(uint64_t agnostic, uint64_t classes) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    if (!cJSON_AddNumberToObject(o, "agnostic", (double)agnostic) ||
        !cJSON_AddNumberToObject(o, "classes", (double)classes)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *es_pq_json_crowd_rule(const es_pq_results *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON *several = pair_json(r->images_several_crowds[0], r->images_several_crowds[1]);
    cJSON *changed = pair_json(r->images_rule_changes[0], r->images_rule_changes[1]);
    if (!o || !several || !changed ||
        !cJSON_AddStringToObject(o, "rule", r->crowd_union ? "union" : "last")) {
        cJSON_Delete(o);
        cJSON_Delete(several);
        cJSON_Delete(changed);
        return NULL;
    }
    cJSON_AddItemToObject(o, "images_with_several_crowds", several);
    cJSON_AddItemToObject(o, "images_changed_by_rule", changed);
    return o;
}

int es_pq_results_add_json(const es_pq_results *r, cJSON *root, es_error *err) {
    static const char *keys[ES_PQ_N_VARIANTS] = {"pq", "pq_classes", "boundary_pq",
                                                 "boundary_pq_classes"};
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        if (!r->computed[v]) continue;
        int agnostic = v == ES_PQ_MASK_AGNOSTIC || v == ES_PQ_BOUNDARY_AGNOSTIC;
        cJSON *o = agnostic ? es_pq_json_agnostic(&r->summary[v])
                            : es_pq_json_classes(&r->summary[v]);
        if (!o) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory writing JSON");
        cJSON_AddItemToObject(root, keys[v], o);
    }
    cJSON *c = es_pq_json_crowd_rule(r);
    if (!c) return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory writing JSON");
    cJSON_AddItemToObject(root, "pq_crowd_rule", c);
    return ES_OK;
}

cJSON *es_pq_image_to_json(const es_pq_image *im) {
    cJSON *o = cJSON_CreateObject(), *vs = cJSON_CreateArray(), *crowd = NULL;
    if (!o || !vs) goto fail;
    cJSON_AddItemToObject(o, "v", vs);
    if (!cJSON_AddNumberToObject(o, "image_id", (double)im->image_id)) goto fail_o;
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        cJSON *list = im->computed[v] ? cJSON_CreateArray() : cJSON_CreateNull();
        if (!list) goto fail_o;
        cJSON_AddItemToArray(vs, list);
        for (size_t i = 0; im->computed[v] && i < im->n_records[v]; i++) {
            const es_pq_record *r = &im->records[v][i];
            double nums[4] = {(double)r->category_id, r->tp, r->fp, r->fn};
            cJSON *rec = cJSON_CreateDoubleArray(nums, 4);
            if (!rec) goto fail_o;
            /* cJSON's own number printing may drop the last bit: iou_sum as exact text */
            char exact[40];
            snprintf(exact, sizeof exact, "%.17g", r->iou_sum);
            cJSON *sum = cJSON_CreateRaw(exact);
            if (!sum) {
                cJSON_Delete(rec);
                goto fail_o;
            }
            cJSON_AddItemToArray(rec, sum);
            cJSON_AddItemToArray(list, rec);
        }
    }
    int flags[4] = {im->several_crowds[0], im->several_crowds[1], im->rule_changes[0],
                    im->rule_changes[1]};
    crowd = cJSON_CreateIntArray(flags, 4);
    if (!crowd) goto fail_o;
    cJSON_AddItemToObject(o, "crowd", crowd);
    return o;
fail:
    cJSON_Delete(vs);
fail_o:
    cJSON_Delete(o);
    return NULL;
}

static int get_count(const cJSON *a, int i, double *out) {
    const cJSON *x = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(x)) return 0;
    *out = x->valuedouble;
    return 1;
}

static int is_count(double v) { return v >= 0 && v <= 4294967295.0 && v == floor(v); }
/* an integral double that converts to int64 without overflow */
static int is_id(double v) { return v >= -9.2e18 && v <= 9.2e18 && v == floor(v); }

int es_pq_image_from_json(es_pq_image *out, const cJSON *j, es_error *err) {
    *out = ES_PQ_IMAGE_EMPTY;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "image_id");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(j, "v");
    const cJSON *crowd = cJSON_GetObjectItemCaseSensitive(j, "crowd");
    if (!cJSON_IsNumber(id) || !cJSON_IsArray(vs) || cJSON_GetArraySize(vs) != ES_PQ_N_VARIANTS ||
        !cJSON_IsArray(crowd) || cJSON_GetArraySize(crowd) != 4)
        return es_error_set(err, ES_ERR_FORMAT,
                            "pq: image record needs image_id, v (%d lists) and crowd (4 flags)",
                            ES_PQ_N_VARIANTS);
    if (!is_id(id->valuedouble))
        return es_error_set(err, ES_ERR_FORMAT, "pq: image record has image_id %g",
                            id->valuedouble);
    out->image_id = (int64_t)id->valuedouble;
    for (int k = 0; k < 4; k++) {
        double f;
        if (!get_count(crowd, k, &f) || !is_count(f)) goto bad;
        if (k < 2) out->several_crowds[k] = f != 0;
        else out->rule_changes[k - 2] = f != 0;
    }
    for (int v = 0; v < ES_PQ_N_VARIANTS; v++) {
        const cJSON *list = cJSON_GetArrayItem(vs, v);
        if (cJSON_IsNull(list)) continue;
        if (!cJSON_IsArray(list)) goto bad;
        out->computed[v] = 1;
        int n = cJSON_GetArraySize(list);
        if (n == 0) continue;
        out->records[v] = calloc((size_t)n, sizeof *out->records[v]);
        if (!out->records[v]) {
            es_pq_image_clear(out);
            return es_error_set(err, ES_ERR_NOMEM, "pq: out of memory reading an image record");
        }
        out->n_records[v] = (size_t)n;
        for (int i = 0; i < n; i++) {
            const cJSON *rec = cJSON_GetArrayItem(list, i);
            double x[5];
            if (!cJSON_IsArray(rec) || cJSON_GetArraySize(rec) != 5) goto bad;
            for (int k = 0; k < 5; k++)
                if (!get_count(rec, k, &x[k])) goto bad;
            if (!is_id(x[0]) || !is_count(x[1]) || !is_count(x[2]) || !is_count(x[3]) ||
                !(x[4] >= 0) || isinf(x[4]))
                goto bad;
            out->records[v][i] = (es_pq_record){(int64_t)x[0], (uint32_t)x[1], (uint32_t)x[2],
                                                (uint32_t)x[3], x[4]};
        }
    }
    return ES_OK;
bad:
    es_pq_image_clear(out);
    return es_error_set(err, ES_ERR_FORMAT,
                        "pq: malformed image record (each record is [category, tp, fp, fn, "
                        "iou_sum] with non-negative counts)");
}
