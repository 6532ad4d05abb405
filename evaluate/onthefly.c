/* evaluate/onthefly.c: COCO JSON -> temporary stores for entseg-eval (see onthefly.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "onthefly.h"

typedef enum { KIND_MISSING, KIND_STORE, KIND_JSON_LIST, KIND_JSON_OBJECT, KIND_OTHER } file_kind;

static file_kind sniff(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return KIND_MISSING;
    char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    if (n == 16 && !memcmp(head, "SQLite format 3", 16)) {
        fclose(f);
        return KIND_STORE;
    }
    fseek(f, 0, SEEK_SET);
    int c;
    while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
    }
    fclose(f);
    return c == '[' ? KIND_JSON_LIST : c == '{' ? KIND_JSON_OBJECT : KIND_OTHER;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* COCO layout: x/panoptic_val2017.json beside x/panoptic_val2017/ */
static char *sibling_png_dir(const char *json) {
    size_t n = strlen(json);
    if (n < 6 || strcmp(json + n - 5, ".json")) return NULL;
    char *d = strndup(json, n - 5);
    struct stat st;
    if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode)) return d;
    free(d);
    return NULL;
}

static int make_dir(es_onthefly *o, es_error *err) {
    if (o->dir) return ES_OK;
    const char *tmp = getenv("TMPDIR");
    char *tmpl = join(tmp && *tmp ? tmp : "/tmp", "entseg-eval-XXXXXX");
    if (!tmpl || !mkdtemp(tmpl)) {
        free(tmpl);
        return es_error_set(err, ES_ERR_IO, "cannot create a temporary folder for the conversion");
    }
    o->dir = tmpl;
    return ES_OK;
}

int es_onthefly_prepare(es_onthefly *o, const char *pred, const char *gt, const char *png_dir,
                        int threads, const char **pred_db, const char **gt_db, es_error *err) {
    memset(o, 0, sizeof *o);
    *pred_db = pred;
    *gt_db = gt;
    file_kind pk = sniff(pred), gk = sniff(gt);
    if (pk == KIND_MISSING) return es_error_set(err, ES_ERR_IO, "%s: cannot open", pred);
    if (gk == KIND_MISSING) return es_error_set(err, ES_ERR_IO, "%s: cannot open", gt);
    if (gk == KIND_JSON_LIST && pk == KIND_JSON_OBJECT)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s is a results list and %s a dataset: arguments swapped? usage: "
                            "entseg-eval RESULTS.json GT.json", gt, pred);
    if (gk == KIND_OTHER) return es_error_set(err, ES_ERR_FORMAT, "%s: neither an entseg store nor JSON", gt);
    if (pk == KIND_OTHER) return es_error_set(err, ES_ERR_FORMAT, "%s: neither an entseg store nor JSON", pred);
    es_convert_common c = {0};
    c.threads = threads;
    c.quiet = 1;
    if (gk == KIND_JSON_LIST)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s is a results list, not ground truth (COCO instances or panoptic JSON)", gt);
    if (gk == KIND_JSON_OBJECT) {
        ES_CHECK(make_dir(o, err));
        o->gt_db = join(o->dir, "gt.db");
        if (!o->gt_db) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
        char *sib = png_dir ? NULL : sibling_png_dir(gt);
        const char *pngs = png_dir ? png_dir : sib;
        int rc = pngs ? es_convert_coco_panoptic(gt, pngs, o->gt_db, ES_CROWD_IGNORE, &c, err)
                      : es_convert_coco_instances(gt, o->gt_db, ES_GT_OVERLAP_KEEP, &c, err);
        free(sib);
        if (rc) return rc;
        *gt_db = o->gt_db;
    }
    if (pk == KIND_JSON_OBJECT)
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: panoptic predictions need their PNGs: convert them with "
                            "entseg-convert panoptic-pred first", pred);
    if (pk == KIND_JSON_LIST) {
        ES_CHECK(make_dir(o, err));
        o->pred_db = join(o->dir, "pred.db");
        if (!o->pred_db) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
        ES_CHECK(es_convert_coco_results(pred, *gt_db, o->pred_db, &c, err));
        *pred_db = o->pred_db;
    }
    return ES_OK;
}

void es_onthefly_cleanup(es_onthefly *o) {
    if (!o) return;
    if (o->gt_db) unlink(o->gt_db);
    if (o->pred_db) unlink(o->pred_db);
    if (o->dir) rmdir(o->dir);
    free(o->dir), free(o->gt_db), free(o->pred_db);
    memset(o, 0, sizeof *o);
}
