/* agree.c: agreement of two annotations: mask AP through the evaluator, label accuracy on
 * IoU >= 0.5 matches (see agree.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "entseg/store.h"
#include "file_util.h"
#include "match.h"
#include "vocab.h"
#ifdef ENTSEG_HAVE_EVAL
#include "eval.h"
#endif

/* Label names by id of one store. */
typedef struct name_table {
    es_label *labels;
    size_t n;
} name_table;

/* The non-crowd entities of ents, compacted to the front; returns their count. */
static size_t drop_crowd(es_entity *ents, size_t n, es_rle *masks) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!ents[i].is_crowd) {
            if (k != i) {
                es_entity t = ents[k];
                ents[k] = ents[i];
                ents[i] = t;
            }
            masks[k] = ents[k].mask;
            k++;
        }
    return k;
}

static int compare_image(es_store *a, es_store *b, const es_image *img, int64_t b_image, const name_table *na,
                         const name_table *nb, es_agreement *out, double *iou_sum, es_error *err) {
    es_entity *ea = NULL, *eb = NULL;
    size_t n_a = 0, n_b = 0;
    int rc = es_store_read_entities(a, img->id, &ea, &n_a, err);
    if (!rc) rc = es_store_read_entities(b, b_image, &eb, &n_b, err);
    es_rle *ma = calloc(n_a + 1, sizeof *ma), *mb = calloc(n_b + 1, sizeof *mb);
    int64_t *am = calloc(n_a + 1, sizeof *am), *bm = calloc(n_b + 1, sizeof *bm);
    double *iou = calloc(n_a + 1, sizeof *iou);
    if (!rc && (!ma || !mb || !am || !bm || !iou)) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!rc) {
        size_t ka = drop_crowd(ea, n_a, ma), kb = drop_crowd(eb, n_b, mb);
        rc = es_match_greedy(ma, ka, mb, kb, 0.5, am, bm, iou, err);
        if (rc) es_error_prefix(err, "image %s", img->name);
        out->entities_a += ka;
        out->entities_b += kb;
        for (size_t i = 0; i < ka && !rc; i++) {
            if (am[i] < 0) continue;
            out->matched++;
            *iou_sum += iou[i];
            const char *la = es_label_name_of(na->labels, na->n, ea[i].label_id);
            if (!la) continue;
            out->labelled_pairs++;
            const char *lb = es_label_name_of(nb->labels, nb->n, eb[am[i]].label_id);
            if (lb && !strcmp(la, lb)) out->correct++;
        }
    }
    free(ma);
    free(mb);
    free(am);
    free(bm);
    free(iou);
    es_entities_free(ea, n_a);
    es_entities_free(eb, n_b);
    return rc;
}

static int label_accuracy(const char *a_db, const char *b_db, es_agreement *out, es_error *err) {
    es_store *a = NULL, *b = NULL;
    es_image *imgs = NULL;
    size_t n = 0;
    name_table na = {0}, nb = {0};
    int rc = es_store_open(a_db, ES_OPEN_READ, &a, err);
    if (!rc) rc = es_store_open(b_db, ES_OPEN_READ, &b, err);
    if (!rc) rc = es_store_labels(a, &na.labels, &na.n, err);
    if (!rc) rc = es_store_labels(b, &nb.labels, &nb.n, err);
    if (!rc) rc = es_store_images(a, &imgs, &n, err);
    double iou_sum = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t bid = ES_NONE;
        rc = es_store_find_image_by_name(b, imgs[i].name, &bid, err);
        if (rc) break;
        if (bid == ES_NONE) {
            out->images_missing++;
            continue;
        }
        es_image bi = {0};
        rc = es_store_get_image(b, bid, &bi, err);
        if (!rc && (bi.width != imgs[i].width || bi.height != imgs[i].height))
            rc = es_error_set(err, ES_ERR_INVALID, "image %s is %ux%u in %s but %ux%u in %s", imgs[i].name,
                              imgs[i].width, imgs[i].height, a_db, bi.width, bi.height, b_db);
        es_image_clear(&bi);
        if (!rc) rc = compare_image(a, b, &imgs[i], bid, &na, &nb, out, &iou_sum, err);
        out->images++;
    }
    out->mean_iou = out->matched ? iou_sum / (double)out->matched : 0.0;
    out->label_accuracy = out->labelled_pairs ? (double)out->correct / (double)out->labelled_pairs : -1.0;
    es_images_free(imgs, n);
    es_labels_free(na.labels, na.n);
    es_labels_free(nb.labels, nb.n);
    es_store_close(a);
    es_store_close(b);
    return rc;
}

int es_agreement_compute(const char *a_db, const char *b_db, int threads, es_agreement *out, es_error *err) {
    memset(out, 0, sizeof *out);
    out->ap = out->ap50 = out->ap75 = out->ar100 = -1;
    out->a_path = strdup(a_db);
    out->b_path = strdup(b_db);
    if (!out->a_path || !out->b_path) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = label_accuracy(a_db, b_db, out, err);
#ifdef ENTSEG_HAVE_EVAL
    if (!rc) {
        es_eval_options opt;
        memset(&opt, 0, sizeof opt);
        opt.metrics = ES_METRIC_AP_E;
        opt.pred_may_be_gt = 1;
        opt.threads = threads;
        opt.quiet = 1;
        es_eval_result r = ES_EVAL_RESULT_EMPTY;
        rc = es_eval_run(b_db, a_db, &opt, &r, err);
        if (!rc && r.ap_e.computed) {
            out->have_ap = 1;
            out->ap = r.ap_e.stats[0];
            out->ap50 = r.ap_e.stats[1];
            out->ap75 = r.ap_e.stats[2];
            out->ar100 = r.ap_e.stats[8];
        }
        es_eval_result_free(&r);
    }
#else
    (void)threads;
#endif
    if (rc) es_agreement_free(out);
    return rc;
}

void es_agreement_free(es_agreement *a) {
    if (!a) return;
    free(a->a_path);
    free(a->b_path);
    a->a_path = a->b_path = NULL;
}

void es_agreement_print(const es_agreement *a, FILE *f) {
    fprintf(f, "agreement of %s (B) against %s (A, reference): %llu images", a->b_path, a->a_path,
            (unsigned long long)a->images);
    if (a->images_missing) fprintf(f, " (%llu A images missing from B)", (unsigned long long)a->images_missing);
    fprintf(f, "\n");
    if (a->have_ap)
        fprintf(f, "mask AP (class-agnostic, B scored 1.0 as predictions): AP %.1f  AP50 %.1f  AP75 %.1f  AR100 %.1f\n",
                100 * a->ap, 100 * a->ap50, 100 * a->ap75, 100 * a->ar100);
    else
        fprintf(f, "mask AP: not available (built without the evaluator library)\n");
    fprintf(f, "entities: A %llu, B %llu, matched at IoU >= 0.5: %llu (mean IoU %.3f)\n",
            (unsigned long long)a->entities_a, (unsigned long long)a->entities_b, (unsigned long long)a->matched,
            a->mean_iou);
    if (a->label_accuracy >= 0)
        fprintf(f, "label accuracy on matched entities: %.1f%% (%llu of %llu labelled pairs)\n", 100 * a->label_accuracy,
                (unsigned long long)a->correct, (unsigned long long)a->labelled_pairs);
    else
        fprintf(f, "label accuracy: no matched entity of A has a label\n");
}

int es_agreement_write_json(const es_agreement *a, const char *path, es_error *err) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(o, "reference", a->a_path);
    cJSON_AddStringToObject(o, "compared", a->b_path);
    cJSON_AddNumberToObject(o, "images", (double)a->images);
    cJSON_AddNumberToObject(o, "images_missing", (double)a->images_missing);
    if (a->have_ap) {
        cJSON *ap = cJSON_AddObjectToObject(o, "mask_ap");
        cJSON_AddNumberToObject(ap, "AP", a->ap);
        cJSON_AddNumberToObject(ap, "AP50", a->ap50);
        cJSON_AddNumberToObject(ap, "AP75", a->ap75);
        cJSON_AddNumberToObject(ap, "AR100", a->ar100);
    } else {
        cJSON_AddNullToObject(o, "mask_ap");
    }
    cJSON_AddNumberToObject(o, "entities_a", (double)a->entities_a);
    cJSON_AddNumberToObject(o, "entities_b", (double)a->entities_b);
    cJSON_AddNumberToObject(o, "matched", (double)a->matched);
    cJSON_AddNumberToObject(o, "match_iou_threshold", 0.5);
    cJSON_AddNumberToObject(o, "mean_iou", a->mean_iou);
    cJSON_AddNumberToObject(o, "labelled_pairs", (double)a->labelled_pairs);
    cJSON_AddNumberToObject(o, "labels_correct", (double)a->correct);
    if (a->label_accuracy >= 0) cJSON_AddNumberToObject(o, "label_accuracy", a->label_accuracy);
    else cJSON_AddNullToObject(o, "label_accuracy");
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = es_write_file(path, text, err);
    if (!rc && !strcmp(path, "-")) fputc('\n', stdout);
    free(text);
    return rc;
}
