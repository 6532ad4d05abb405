/* evaluate/report_html.c: --report out.html, one self-contained page (no scripts, no
 * outside files): the summary tables and the precision/recall curves of the class-agnostic
 * AP metrics (area all, largest max-dets; IoU .50, .75 and the mean over thresholds) drawn
 * as inline SVG. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

static void cell(FILE *f, double v) {
    if (v < 0 || isnan(v))
        fprintf(f, "<td>&ndash;</td>");
    else
        fprintf(f, "<td>%.2f</td>", 100.0 * v);
}

static void curve_svg(FILE *f, const char *title, const double c[3][ES_COCO_R]) {
    static const char *const colors[3] = {"#1f77b4", "#d62728", "#2ca02c"};
    static const char *const labels[3] = {"IoU .50", "IoU .75", "IoU mean"};
    const int W = 320, H = 240, L = 40, B = 30;
    fprintf(f, "<figure><svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'>", W, H);
    fprintf(f, "<rect x='%d' y='10' width='%d' height='%d' fill='none' stroke='#999'/>", L, W - L - 10, H - B - 10);
    for (int g = 0; g <= 4; g++) {
        double y = 10 + (H - B - 10) * (1 - g / 4.0);
        double x = L + (W - L - 10) * (g / 4.0);
        fprintf(f, "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%.2f</text>", L - 4, y + 3, g / 4.0);
        fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>%.2f</text>", x, H - B + 14, g / 4.0);
    }
    fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='middle'>recall</text>", (W + L) / 2, H - 3);
    for (int k = 0; k < 3; k++) {
        int any = 0;
        for (int r = 0; r < ES_COCO_R; r++) any |= c[k][r] >= 0;
        if (!any) continue;
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", colors[k]);
        for (int r = 0; r < ES_COCO_R; r++) {
            double p = c[k][r] < 0 ? 0 : c[k][r];
            fprintf(f, "%.1f,%.1f ", L + (W - L - 10) * (r / 100.0), 10 + (H - B - 10) * (1 - p));
        }
        fprintf(f, "'/><text x='%d' y='%d' font-size='10' fill='%s'>%s</text>", W - 80, 24 + 12 * k, colors[k], labels[k]);
    }
    fprintf(f, "</svg><figcaption>%s: precision vs recall</figcaption></figure>\n", title);
}

int es_eval_report_html(const es_eval_result *r, const char *path, es_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot write the report", path);
    fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>entseg-eval report</title>"
               "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
               "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}"
               "figure{display:inline-block;margin:1em}</style></head><body>\n"
               "<h1>entseg-eval report</h1>\n<p>%lld images, %lld ground-truth entities, %lld predictions; "
               "overlap policy %s: %lld predictions changed (%lld dropped), %llu pixels.</p>\n",
            (long long)r->n_images, (long long)r->n_gt, (long long)r->n_pred,
            r->overlap == ES_OVERLAP_ERROR ? "error" : r->overlap == ES_OVERLAP_ALLOW ? "allow" : "resolve",
            (long long)r->overlap_predictions_changed, (long long)r->overlap_predictions_dropped,
            (unsigned long long)r->overlap_pixels_changed);
    es_eval_ap_block blocks[ES_EVAL_N_AP_BLOCKS];
    es_eval_ap_blocks(r, blocks);
    fprintf(f, "<h2>AP (percent)</h2><table><tr><th>metric</th>");
    for (int i = 0; i < ES_AP_NSTATS; i++) fprintf(f, "<th>%s</th>", es_ap_stat_names[i]);
    fprintf(f, "</tr>\n");
    for (size_t k = 0; k < ES_EVAL_N_AP_BLOCKS; k++) {
        if (!blocks[k].ap->computed) continue;
        fprintf(f, "<tr><th>%s</th>", blocks[k].key);
        for (int i = 0; i < ES_AP_NSTATS; i++) cell(f, blocks[k].ap->stats[i]);
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table>\n");
    if (r->pq.computed || r->boundary_pq.computed) {
        fprintf(f, "<h2>PQ (percent)</h2><table><tr><th>metric</th><th>PQ</th><th>SQ</th><th>RQ</th>"
                   "<th>TP</th><th>FP</th><th>FN</th></tr>\n");
        const es_eval_pq *p[2] = {&r->pq, &r->boundary_pq};
        static const char *const n[2] = {"pq", "boundary_pq"};
        for (int k = 0; k < 2; k++) {
            if (!p[k]->computed) continue;
            fprintf(f, "<tr><th>%s</th>", n[k]);
            cell(f, p[k]->pq), cell(f, p[k]->sq), cell(f, p[k]->rq);
            fprintf(f, "<td>%lld</td><td>%lld</td><td>%lld</td></tr>\n", (long long)p[k]->tp,
                    (long long)p[k]->fp, (long long)p[k]->fn);
        }
        fprintf(f, "</table>\n");
    }
    const es_eval_detail *d = r->detail;
    if (d) {
        static const char *const names[ES_CE_N] = {"ap_e", "ap_m", "boundary_ap", "ap_box"};
        static const unsigned bits[ES_CE_N] = {ES_METRIC_AP_E, ES_METRIC_AP_M, ES_METRIC_BOUNDARY_AP, ES_METRIC_AP_BOX};
        fprintf(f, "<h2>Precision / recall (area all, %d detections)</h2>\n", d->cfg.coco.max_dets[2]);
        for (int m = 0; m < ES_CE_N; m++)
            if (d->cfg.metrics & bits[m]) curve_svg(f, names[m], d->curves[m]);
    }
    if (r->notes) {
        fprintf(f, "<h2>Notes</h2><pre>");
        for (const char *s = r->notes; *s; s++) {
            if (*s == '<') fputs("&lt;", f);
            else if (*s == '&') fputs("&amp;", f);
            else fputc(*s, f);
        }
        fprintf(f, "</pre>\n");
    }
    fprintf(f, "</body></html>\n");
    if (fclose(f) != 0) return es_error_set(err, ES_ERR_IO, "%s: write failed", path);
    return ES_OK;
}
