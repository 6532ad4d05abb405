/* evaluate/report_per_image.c: --per-image FILE, one JSON object per line and image, for
 * error analysis: ground truth / prediction counts, the overlap policy's effect, AP^e's
 * true / false positives and misses at the first IoU threshold (area all, largest max-dets),
 * each kept prediction's best mask IoU with any GT, and the image's class-agnostic PQ counts. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval_internal.h"

int es_eval_per_image_json(const es_eval_result *r, char **json, es_error *err) {
    const es_eval_detail *d = r->detail;
    *json = NULL;
    if (!d) return es_error_set(err, ES_ERR_INVALID, "no per-image records (keep_per_image)");
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    if (!out) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    out[0] = 0;
    const size_t T = d->cfg.coco.T;
    for (size_t i = 0; i < d->n; i++) {
        const es_eval_img_rec *im = &d->imgs[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddStringToObject(o, "image", im->name ? im->name : "");
        cJSON_AddNumberToObject(o, "image_id", (double)im->image_id);
        cJSON_AddNumberToObject(o, "source_id", (double)im->source_id);
        cJSON_AddNumberToObject(o, "gt", im->n_gt);
        cJSON_AddNumberToObject(o, "predictions", im->n_dt_raw);
        cJSON_AddNumberToObject(o, "predictions_kept", im->n_dt);
        cJSON_AddNumberToObject(o, "overlap_pixels_changed", (double)im->overlap_pixels);
        if (im->has[ES_CE_AP_E]) {
            const es_coco_rec *c = &im->coco[ES_CE_AP_E];
            uint32_t tp = 0, fp = 0;
            for (uint32_t k = 0; k < c->nd && k < (uint32_t)d->cfg.coco.max_dets[2]; k++) {
                uint8_t code = c->codes[(0 * T + 0) * c->nd + k];
                tp += code == ES_COCO_TP;
                fp += code == ES_COCO_FP;
            }
            cJSON *ap = cJSON_AddObjectToObject(o, "ap_e");
            cJSON_AddNumberToObject(ap, "iou_thr", d->cfg.coco.iou_thrs[0]);
            cJSON_AddNumberToObject(ap, "tp", tp);
            cJSON_AddNumberToObject(ap, "fp", fp);
            cJSON_AddNumberToObject(ap, "fn", c->npig[0] - tp);
        }
        if (im->n_best) {
            cJSON *b = cJSON_AddArrayToObject(o, "best_iou");
            for (uint32_t k = 0; b && k < im->n_best; k++) cJSON_AddItemToArray(b, cJSON_CreateNumber(im->best_iou[k]));
        }
        if (d->pq) {
            const es_pq_image *p = es_pq_eval_get_image(d->pq, i);
            if (p && p->computed[ES_PQ_MASK_AGNOSTIC]) {
                uint64_t tp = 0, fp = 0, fn = 0;
                double s = 0;
                for (size_t k = 0; k < p->n_records[ES_PQ_MASK_AGNOSTIC]; k++) {
                    const es_pq_record *q = &p->records[ES_PQ_MASK_AGNOSTIC][k];
                    tp += q->tp, fp += q->fp, fn += q->fn, s += q->iou_sum;
                }
                cJSON *pq = cJSON_AddObjectToObject(o, "pq");
                cJSON_AddNumberToObject(pq, "tp", (double)tp);
                cJSON_AddNumberToObject(pq, "fp", (double)fp);
                cJSON_AddNumberToObject(pq, "fn", (double)fn);
                cJSON_AddNumberToObject(pq, "iou_sum", s);
            }
        }
        char *line = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!line) break;
        size_t n = strlen(line);
        if (len + n + 2 > cap) {
            while (len + n + 2 > cap) cap *= 2;
            char *p = realloc(out, cap);
            if (!p) {
                free(line);
                break;
            }
            out = p;
        }
        memcpy(out + len, line, n);
        len += n;
        out[len++] = '\n';
        out[len] = 0;
        free(line);
    }
    if (len && out[len - 1] == '\n') out[--len] = 0; /* the writer adds the last newline */
    *json = out;
    return ES_OK;
}
