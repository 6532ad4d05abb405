/* evaluate/report_json.c: es_eval_result -> JSON (keys of issue 4 / docs/metrics.md).
 *
 *   {"ap_e": {"AP": .., "AP50": .., ..., "ARl": ..},      12 stats, -1 for an empty bucket
 *    "ap_m": {..}, "boundary_ap": {..}, "ap_box": {..},
 *    "ap_classes": {12 stats, "per_class": {"<id>": AP}},  likewise boundary_ap_classes
 *    "pq": {..}, "pq_classes": {..}, "boundary_pq": {..}, "boundary_pq_classes": {..},
 *    "pq_crowd_rule": {..},                                 (pq.h)
 *    "overlap": {"policy", "predictions_changed", "predictions_dropped", "pixels_changed"},
 *    "images", "images_without_predictions", "gt_entities", "predictions",
 *    "params": {"iou_thrs", "max_dets", "dilation_ratio"}, "notes": [..]}
 * Doubles are printed so that they read back bit-equal (cJSON prints 17 digits if needed).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval_internal.h"

const char *const es_ap_stat_names[ES_AP_NSTATS] = {"AP",  "AP50", "AP75", "APs",   "APm", "APl",
                                                     "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

static const struct {
    unsigned bit;
    const char *name;
} metric_names[] = {
    {ES_METRIC_AP_E, "ap_e"},
    {ES_METRIC_AP_M, "ap_m"},
    {ES_METRIC_PQ, "pq"},
    {ES_METRIC_PQ_CLASSES, "pq_classes"},
    {ES_METRIC_AP_CLASSES, "ap_classes"},
    {ES_METRIC_BOUNDARY_AP, "boundary_ap"},
    {ES_METRIC_BOUNDARY_PQ, "boundary_pq"},
    {ES_METRIC_BOUNDARY_PQ_CLASSES, "boundary_pq_classes"},
    {ES_METRIC_BOUNDARY_AP_CLASSES, "boundary_ap_classes"},
    {ES_METRIC_AP_BOX, "ap_box"},
};

const char *es_eval_metric_name(unsigned bit) {
    for (size_t i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
        if (metric_names[i].bit == bit) return metric_names[i].name;
    return NULL;
}

int es_eval_parse_metrics(const char *list, unsigned *bits, es_error *err) {
    *bits = 0;
    const char *s = list;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        unsigned b = 0;
        if (len == 3 && !strncmp(s, "all", 3)) b = ES_METRIC_ALL;
        else if (len == 7 && !strncmp(s, "default", 7)) b = ES_METRIC_DEFAULT | ES_METRIC_DEFAULT_SOFT;
        else
            for (size_t i = 0; i < sizeof metric_names / sizeof *metric_names; i++)
                if (strlen(metric_names[i].name) == len && !strncmp(s, metric_names[i].name, len))
                    b = metric_names[i].bit;
        if (!b)
            return es_error_set(err, ES_ERR_INVALID,
                                "--metrics: unknown metric '%.*s' (known: ap_e, ap_m, pq, "
                                "pq_classes, ap_classes, boundary_ap, boundary_pq, "
                                "boundary_pq_classes, boundary_ap_classes, ap_box, all)",
                                (int)len, s);
        *bits |= b;
        s = e ? e + 1 : NULL;
    }
    if (!*bits) return es_error_set(err, ES_ERR_INVALID, "--metrics: empty list");
    return ES_OK;
}

cJSON *es_json_number(double v) {
    if (isnan(v) || isinf(v)) return cJSON_CreateNull();
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return cJSON_CreateRaw(buf);
}

static void add_number(cJSON *o, const char *key, double v) {
    cJSON_AddItemToObject(o, key, es_json_number(v));
}

static const char *policy_name(es_overlap_policy p) {
    return p == ES_OVERLAP_ERROR ? "error" : p == ES_OVERLAP_ALLOW ? "allow" : "resolve";
}

static cJSON *ap_json(const es_eval_ap *b) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    for (int i = 0; i < ES_AP_NSTATS; i++) add_number(o, es_ap_stat_names[i], b->stats[i]);
    if (b->n_classes) {
        cJSON *pc = cJSON_AddObjectToObject(o, "per_class");
        for (size_t k = 0; pc && k < b->n_classes; k++) {
            char key[32];
            snprintf(key, sizeof key, "%lld", (long long)b->class_ids[k]);
            add_number(pc, key, b->class_ap[k]);
        }
    }
    return o;
}

static cJSON *result_json(const es_eval_result *r, es_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) goto nomem;
    es_eval_ap_block blocks[ES_EVAL_N_AP_BLOCKS];
    es_eval_ap_blocks(r, blocks);
    for (size_t i = 0; i < ES_EVAL_N_AP_BLOCKS; i++) {
        if (!blocks[i].ap->computed) continue;
        cJSON *o = ap_json(blocks[i].ap);
        if (!o) goto nomem;
        cJSON_AddItemToObject(root, blocks[i].key, o);
    }
    const es_eval_detail *d = r->detail;
    if (d && d->pq_res_valid) {
        int rc = es_pq_results_add_json(&d->pq_res, root, err);
        if (rc) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    cJSON *ov = cJSON_AddObjectToObject(root, "overlap");
    if (!ov) goto nomem;
    cJSON_AddStringToObject(ov, "policy", policy_name(r->overlap));
    cJSON_AddNumberToObject(ov, "predictions_changed", (double)r->overlap_predictions_changed);
    cJSON_AddNumberToObject(ov, "predictions_dropped", (double)r->overlap_predictions_dropped);
    cJSON_AddNumberToObject(ov, "pixels_changed", (double)r->overlap_pixels_changed);
    cJSON_AddNumberToObject(root, "images", (double)r->n_images);
    cJSON_AddNumberToObject(root, "images_without_predictions", (double)r->n_images_without_predictions);
    cJSON_AddNumberToObject(root, "gt_entities", (double)r->n_gt);
    cJSON_AddNumberToObject(root, "predictions", (double)r->n_pred);
    if (d) {
        cJSON *pa = cJSON_AddObjectToObject(root, "params");
        if (!pa) goto nomem;
        cJSON *thr = cJSON_AddArrayToObject(pa, "iou_thrs");
        for (size_t t = 0; thr && t < d->cfg.coco.T; t++)
            cJSON_AddItemToArray(thr, es_json_number(d->cfg.coco.iou_thrs[t]));
        cJSON *md = cJSON_AddArrayToObject(pa, "max_dets");
        for (int m = 0; md && m < ES_COCO_M; m++)
            cJSON_AddItemToArray(md, cJSON_CreateNumber(d->cfg.coco.max_dets[m]));
        add_number(pa, "dilation_ratio", d->cfg.dilation_ratio);
    }
    cJSON *notes = cJSON_AddArrayToObject(root, "notes");
    if (!notes) goto nomem;
    if (r->notes) {
        const char *s = r->notes;
        while (*s) {
            const char *e = strchr(s, '\n');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            char *line = strndup(s, len);
            if (line) cJSON_AddItemToArray(notes, cJSON_CreateString(line));
            free(line);
            s += len + (e ? 1 : 0);
        }
    }
    return root;
nomem:
    cJSON_Delete(root);
    es_error_set(err, ES_ERR_NOMEM, "out of memory writing JSON");
    return NULL;
}

int es_eval_result_to_json(const es_eval_result *r, char **json, es_error *err) {
    *json = NULL;
    cJSON *root = result_json(r, err);
    if (!root) return err && err->code ? err->code : ES_ERR_NOMEM;
    *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*json) return es_error_set(err, ES_ERR_NOMEM, "out of memory writing JSON");
    return ES_OK;
}
