/* evaluate/main.c: the entseg-eval CLI.
 *
 *   entseg-eval PRED GT [options]           PRED, GT: stores, or COCO JSON converted on the fly
 *   entseg-eval merge PART... [options]     combine --shard partial results
 *
 * Prints one line per error and exits 1 on failure, 2 on bad usage.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "entseg/cli.h"
#include "cocoeval.h"
#include "convert.h"
#include "eval.h"
#include "onthefly.h"

static const char *usage_text =
    "usage: entseg-eval PRED GT [options]\n"
    "       entseg-eval merge PART.json... [--json FILE|-] [--coco-summary] [--report FILE.html]\n"
    "\n"
    "Scores predictions against ground truth: AP^e, AP^m, PQ/SQ/RQ, boundary AP/PQ, class-aware\n"
    "AP/PQ, box AP, with the numbers pycocotools / panopticapi / boundary-iou-api give.\n"
    "PRED and GT are entseg stores (pred.db gt.db), or COCO JSON converted on the fly:\n"
    "results.json + instances.json, or results.json + panoptic.json with --png-dir.\n"
    "\n"
    "options:\n"
    "  --metrics LIST        ap_e,ap_m,pq,pq_classes,ap_classes,boundary_ap,boundary_pq,\n"
    "                        boundary_pq_classes,boundary_ap_classes,ap_box | all | default\n"
    "  --overlap POLICY      resolve (default: paint, highest score wins) | error | allow\n"
    "  --area-source SRC     declared (default) | pixels: GT area for the area ranges\n"
    "  --compat entity       the Entity reference's GT: crowd dropped, inclusive-bbox area,\n"
    "                        things first\n"
    "  --dilation-ratio R    boundary width ratio (0.02)\n"
    "  --pq-min-score S      PQ sees only predictions scoring >= S (before painting)\n"
    "  --crowd-union         PQ: every crowd region excuses false positives (default: the\n"
    "                        last crowd segment of a category, as panopticapi)\n"
    "  --images IDS          only these source image ids (comma list, or @FILE one per line)\n"
    "  --iou-thrs LIST       IoU thresholds: comma list, or LO:STEP:HI (0.5:0.05:0.95)\n"
    "  --max-dets A,B,C      detections kept per image (1,10,100); the summary uses C\n"
    "  --per-image FILE      per-image counts and IoUs (JSON lines)\n"
    "  --report FILE.html    self-contained page: tables and precision/recall curves\n"
    "  --shard I/N           evaluate every N-th image from I; --json gets the partial result\n"
    "  --png-dir DIR         PNG folder of a COCO panoptic GT JSON (on-the-fly route)\n"
    "  --coco-summary        also print pycocotools' 12 summarize() lines per AP block\n"
    "  --json FILE|-         write the numbers as JSON ('-' = stdout, no table)\n"
    "  --threads N           worker threads (default: all cores)\n"
    "  --quiet               no progress bar, no table\n"
    "  --help\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "entseg-eval: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see entseg-eval --help)\n");
    return 2;
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int parse_iou_thrs(const char *s, es_eval_options *o) {
    double lo, step, hi;
    char extra;
    if (strchr(s, ':')) {
        if (sscanf(s, "%lf:%lf:%lf%c", &lo, &step, &hi, &extra) != 3 || !(step > 0) || !(hi >= lo))
            return -1;
        /* pycocotools: linspace(lo, hi, round((hi - lo) / step) + 1) */
        double n = nearbyint((hi - lo) / step) + 1;
        if (n < 1 || n > ES_EVAL_MAX_IOU_THRS) return -1;
        es_coco_linspace(lo, hi, (size_t)n, o->iou_thrs);
        o->n_iou_thrs = (size_t)n;
        return 0;
    }
    o->n_iou_thrs = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (errno || end == p || (*end && *end != ',') || o->n_iou_thrs >= ES_EVAL_MAX_IOU_THRS) return -1;
        o->iou_thrs[o->n_iou_thrs++] = v;
        p = *end ? end + 1 : end;
    }
    return o->n_iou_thrs ? 0 : -1;
}

static int parse_max_dets(const char *s, es_eval_options *o) {
    int a, b, c;
    char extra;
    if (sscanf(s, "%d,%d,%d%c", &a, &b, &c, &extra) != 3) return -1;
    o->n_max_dets = 3;
    o->max_dets[0] = a, o->max_dets[1] = b, o->max_dets[2] = c;
    return 0;
}

/* "1,2,3" or "@file" (one id per line) -> malloc'ed array. */
static int parse_images(const char *s, int64_t **ids, size_t *n) {
    char *text = NULL;
    if (s[0] == '@') {
        FILE *f = fopen(s + 1, "rb");
        if (!f) return -1;
        size_t cap = 4096, len = 0;
        text = malloc(cap);
        size_t got;
        while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
            len += got;
            if (len + 1 == cap) {
                char *p = realloc(text, cap *= 2);
                if (!p) break;
                text = p;
            }
        }
        fclose(f);
        if (!text) return -1;
        text[len] = 0;
    } else {
        text = strdup(s);
        if (!text) return -1;
    }
    size_t cap = 16;
    *ids = malloc(cap * sizeof **ids);
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
        int64_t v;
        if (!*ids || !es_cli_parse_int(tok, INT64_MIN, INT64_MAX, &v)) {
            free(text);
            return -1;
        }
        if (*n == cap) {
            int64_t *p = realloc(*ids, (cap *= 2) * sizeof *p);
            if (!p) {
                free(text);
                return -1;
            }
            *ids = p;
        }
        (*ids)[(*n)++] = v;
    }
    free(text);
    return *n ? 0 : -1;
}

static int write_text(const char *path, const char *text) {
    if (!strcmp(path, "-")) {
        fputs(text, stdout);
        fputc('\n', stdout);
        return 0;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    return fclose(f) == 0 && ok ? 0 : -1;
}

typedef struct outputs {
    const char *json, *per_image, *report;
    int coco_summary, quiet, shard;
} outputs;

static int emit(const es_eval_result *r, const outputs *out) {
    es_error err = {0};
    int failed = 0;
    /* notes on stderr (stdout may be JSON); warnings even with --quiet */
    for (const char *s = r->notes; s && *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) + 1 : strlen(s);
        if (!out->quiet || !strncmp(s, "warning:", 8)) fprintf(stderr, "entseg-eval: %.*s", (int)len, s);
        s += len;
    }
    if (out->shard) {
        if (es_eval_write_partial(r, out->json, &err)) {
            fprintf(stderr, "entseg-eval: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (out->json) {
        char *json = NULL;
        if (es_eval_result_to_json(r, &json, &err) || write_text(out->json, json)) {
            fprintf(stderr, "entseg-eval: cannot write %s: %s\n", out->json,
                    err.code ? err.msg : strerror(errno));
            failed = 1;
        }
        free(json);
    }
    /* the table goes to stdout unless the JSON does; --quiet keeps it only for --coco-summary */
    if ((!out->quiet || out->coco_summary) && !(out->json && !strcmp(out->json, "-"))) {
        char *text = NULL;
        if (es_eval_result_to_text(r, out->coco_summary, &text, &err) == 0) {
            fputs(text, stdout);
            free(text);
        }
    }
    if (out->per_image) {
        char *lines = NULL;
        if (es_eval_per_image_json(r, &lines, &err) || write_text(out->per_image, lines)) {
            fprintf(stderr, "entseg-eval: cannot write %s: %s\n", out->per_image,
                    err.code ? err.msg : strerror(errno));
            failed = 1;
        }
        free(lines);
    }
    if (out->report && es_eval_report_html(r, out->report, &err)) {
        fprintf(stderr, "entseg-eval: %s\n", err.msg);
        failed = 1;
    }
    return failed;
}

static int cmd_merge(int argc, char **argv) {
    outputs out = {0};
    const char **parts = calloc((size_t)argc, sizeof *parts);
    size_t n = 0;
    if (!parts) return 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json") && i + 1 < argc) out.json = argv[++i];
        else if (!strcmp(a, "--report") && i + 1 < argc) out.report = argv[++i];
        else if (!strcmp(a, "--per-image") && i + 1 < argc) out.per_image = argv[++i];
        else if (!strcmp(a, "--coco-summary")) out.coco_summary = 1;
        else if (!strcmp(a, "--quiet")) out.quiet = 1;
        else if (a[0] == '-' && a[1]) {
            free(parts);
            return usage_error("merge: unknown option %s", a);
        } else parts[n++] = a;
    }
    if (!n) {
        free(parts);
        return usage_error("%s", "merge: give the partial result files of every shard");
    }
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    es_error err = {0};
    int rc = es_eval_merge(parts, n, &r, &err);
    free(parts);
    if (rc) {
        fprintf(stderr, "entseg-eval merge: %s\n", err.msg);
        return 1;
    }
    rc = emit(&r, &out);
    es_eval_result_free(&r);
    return rc;
}

/* Each image allocates and frees its band frames and work space (megabytes at EntitySeg
 * scale); with glibc's default thresholds that memory went back to the kernel after every
 * image and was faulted in again (1.1-1.4 s of system time on the EntitySeg bench). Keep
 * it in the process instead: the peak is the same, the page faults are gone. */
static void keep_freed_memory(void) {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv) {
    keep_freed_memory();
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "merge")) return cmd_merge(argc, argv);
    es_eval_options o = {0};
    outputs out = {0};
    const char *pos[2] = {NULL, NULL};
    const char *png_dir = NULL;
    int npos = 0, rc = 2;
    int64_t *ids = NULL;
    es_error err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                         \
    do {                                                                     \
        if (!v) {                                                            \
            rc = usage_error("%s needs a value", a);                         \
            goto done;                                                       \
        }                                                                    \
        i++;                                                                 \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--metrics")) {
            NEED_VALUE();
            if (es_eval_parse_metrics(v, &o.metrics, &err)) {
                rc = usage_error("%s", err.msg);
                goto done;
            }
        } else if (!strcmp(a, "--overlap")) {
            NEED_VALUE();
            if (!strcmp(v, "resolve")) o.overlap = ES_OVERLAP_RESOLVE;
            else if (!strcmp(v, "error")) o.overlap = ES_OVERLAP_ERROR;
            else if (!strcmp(v, "allow")) o.overlap = ES_OVERLAP_ALLOW;
            else {
                rc = usage_error("--overlap: '%s' is not resolve, error or allow", v);
                goto done;
            }
        } else if (!strcmp(a, "--area-source")) {
            NEED_VALUE();
            if (!strcmp(v, "declared")) o.area_source = ES_AREA_DECLARED;
            else if (!strcmp(v, "pixels")) o.area_source = ES_AREA_PIXELS;
            else {
                rc = usage_error("--area-source: '%s' is not declared or pixels", v);
                goto done;
            }
        } else if (!strcmp(a, "--compat")) {
            NEED_VALUE();
            if (strcmp(v, "entity")) {
                rc = usage_error("--compat: '%s' is unknown (known: entity)", v);
                goto done;
            }
            o.compat_entity = 1;
        } else if (!strcmp(a, "--dilation-ratio")) {
            NEED_VALUE();
            if (parse_double(v, &o.dilation_ratio) || !(o.dilation_ratio > 0)) {
                rc = usage_error("--dilation-ratio: '%s' is not a positive number", v);
                goto done;
            }
        } else if (!strcmp(a, "--pq-min-score")) {
            NEED_VALUE();
            if (parse_double(v, &o.pq_min_score) || isnan(o.pq_min_score)) {
                rc = usage_error("--pq-min-score: '%s' is not a number", v);
                goto done;
            }
            o.use_pq_min_score = 1;
        } else if (!strcmp(a, "--crowd-union")) {
            o.crowd_union = 1;
        } else if (!strcmp(a, "--images")) {
            NEED_VALUE();
            if (parse_images(v, &ids, &o.n_image_ids)) {
                rc = usage_error("--images: '%s' is not a list of image ids (or @FILE)", v);
                goto done;
            }
            o.image_ids = ids;
        } else if (!strcmp(a, "--iou-thrs")) {
            NEED_VALUE();
            if (parse_iou_thrs(v, &o)) {
                rc = usage_error("--iou-thrs: '%s' is not a list or LO:STEP:HI", v);
                goto done;
            }
        } else if (!strcmp(a, "--max-dets")) {
            NEED_VALUE();
            if (parse_max_dets(v, &o)) {
                rc = usage_error("--max-dets: '%s' is not three numbers A,B,C", v);
                goto done;
            }
        } else if (!strcmp(a, "--per-image")) {
            NEED_VALUE();
            out.per_image = v;
            o.keep_per_image = 1;
        } else if (!strcmp(a, "--report")) {
            NEED_VALUE();
            out.report = v;
            o.keep_curves = 1;
        } else if (!strcmp(a, "--shard")) {
            NEED_VALUE();
            char extra;
            if (sscanf(v, "%d/%d%c", &o.shard_index, &o.shard_count, &extra) != 2 ||
                o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
                rc = usage_error("--shard: '%s' is not I/N with 0 <= I < N", v);
                goto done;
            }
            out.shard = 1;
            o.keep_per_image = 1;
        } else if (!strcmp(a, "--png-dir")) {
            NEED_VALUE();
            png_dir = v;
        } else if (!strcmp(a, "--coco-summary")) {
            out.coco_summary = 1;
        } else if (!strcmp(a, "--json")) {
            NEED_VALUE();
            out.json = v;
        } else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            int64_t t;
            if (!es_cli_parse_int(v, 0, 1024, &t)) {
                rc = usage_error("--threads: '%s' is not a thread count", v);
                goto done;
            }
            o.threads = (int)t;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
            out.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error("unknown option %s", a);
            goto done;
        } else {
            if (npos == 2) {
                rc = usage_error("one prediction and one ground truth only (extra: %s)", a);
                goto done;
            }
            pos[npos++] = a;
        }
#undef NEED_VALUE
    }
    if (npos != 2) {
        rc = usage_error("%s", "give PRED and GT (see --help)");
        goto done;
    }
    if (out.shard && !out.json) {
        rc = usage_error("%s", "--shard needs --json FILE for the partial result");
        goto done;
    }
    es_onthefly otf = {0};
    const char *pred_db = pos[0], *gt_db = pos[1];
    if (es_onthefly_prepare(&otf, pos[0], pos[1], png_dir, o.threads, &pred_db, &gt_db, &err)) {
        fprintf(stderr, "entseg-eval: %s\n", err.msg);
        es_onthefly_cleanup(&otf);
        rc = 1;
        goto done;
    }
    es_eval_result r = ES_EVAL_RESULT_EMPTY;
    int erc = es_eval_run(pred_db, gt_db, &o, &r, &err);
    es_onthefly_cleanup(&otf);
    if (erc) {
        fprintf(stderr, "entseg-eval: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    rc = emit(&r, &out);
    es_eval_result_free(&r);
done:
    free(ids);
    return rc;
}
