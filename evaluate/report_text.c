/* evaluate/report_text.c: the readable table entseg-eval prints, and with coco_summary the
 * 12 lines of pycocotools summarize() for every AP block (same format, the AP/AR100 lines
 * showing the largest max-dets). Numbers in percent with two decimals in the table. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
}

static void pct(sbuf *b, double v) {
    if (v < 0 || isnan(v))
        sb_printf(b, " %7s", "-");
    else
        sb_printf(b, " %7.2f", 100.0 * v);
}

int es_eval_result_to_text(const es_eval_result *r, int coco_summary, char **text, es_error *err) {
    sbuf b = {0};
    es_eval_ap_block blocks[ES_EVAL_N_AP_BLOCKS];
    es_eval_ap_blocks(r, blocks);
    sb_printf(&b, "%-26s", "metric");
    for (int i = 0; i < ES_AP_NSTATS; i++) sb_printf(&b, " %7s", es_ap_stat_names[i]);
    sb_printf(&b, "\n");
    for (size_t k = 0; k < ES_EVAL_N_AP_BLOCKS; k++) {
        if (!blocks[k].ap->computed) continue;
        sb_printf(&b, "%-26s", blocks[k].key);
        for (int i = 0; i < ES_AP_NSTATS; i++) pct(&b, blocks[k].ap->stats[i]);
        sb_printf(&b, "\n");
    }
    const struct {
        const char *name;
        const es_eval_pq *pq;
    } pqs[] = {{"pq", &r->pq}, {"boundary_pq", &r->boundary_pq}};
    int header = 0;
    for (size_t k = 0; k < 2; k++) {
        if (!pqs[k].pq->computed) continue;
        if (!header) {
            sb_printf(&b, "\n%-26s %7s %7s %7s %9s %9s %9s\n", "metric", "PQ", "SQ", "RQ", "TP", "FP", "FN");
            header = 1;
        }
        sb_printf(&b, "%-26s", pqs[k].name);
        pct(&b, pqs[k].pq->pq);
        pct(&b, pqs[k].pq->sq);
        pct(&b, pqs[k].pq->rq);
        sb_printf(&b, " %9lld %9lld %9lld\n", (long long)pqs[k].pq->tp, (long long)pqs[k].pq->fp,
                  (long long)pqs[k].pq->fn);
    }
    const es_eval_detail *d = r->detail;
    if (d && d->pq_res_valid) {
        static const char *const names[2] = {"pq_classes", "boundary_pq_classes"};
        static const int variants[2] = {ES_PQ_MASK_CLASSES, ES_PQ_BOUNDARY_CLASSES};
        for (int k = 0; k < 2; k++) {
            if (!d->pq_res.computed[variants[k]]) continue;
            const es_pq_summary *s = &d->pq_res.summary[variants[k]];
            const es_pq_group *g[3] = {&s->all, &s->things, &s->stuff};
            static const char *const gn[3] = {"All", "Things", "Stuff"};
            for (int i = 0; i < 3; i++) {
                char label[64];
                snprintf(label, sizeof label, "%s %s", names[k], gn[i]);
                sb_printf(&b, "%-26s", label);
                pct(&b, g[i]->pq);
                pct(&b, g[i]->sq);
                pct(&b, g[i]->rq);
                sb_printf(&b, " %9lld classes\n", (long long)g[i]->n);
            }
        }
    }
    sb_printf(&b, "\noverlap %s: %lld predictions changed (%lld dropped), %llu pixels\n",
              r->overlap == ES_OVERLAP_ERROR ? "error" : r->overlap == ES_OVERLAP_ALLOW ? "allow" : "resolve",
              (long long)r->overlap_predictions_changed, (long long)r->overlap_predictions_dropped,
              (unsigned long long)r->overlap_pixels_changed);
    sb_printf(&b, "%lld images, %lld ground-truth entities, %lld predictions\n",
              (long long)r->n_images, (long long)r->n_gt, (long long)r->n_pred);
    if (r->notes) sb_printf(&b, "%s", r->notes);
    if (coco_summary && d) {
        char lines[2048];
        for (size_t k = 0; k < ES_EVAL_N_AP_BLOCKS; k++) {
            if (!blocks[k].ap->computed) continue;
            es_coco_summary_lines(&d->cfg.coco, blocks[k].ap->stats, lines, sizeof lines);
            sb_printf(&b, "\n%s:\n%s", blocks[k].key, lines);
        }
    }
    if (b.oom) {
        free(b.s);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory writing the table");
    }
    *text = b.s;
    return ES_OK;
}
