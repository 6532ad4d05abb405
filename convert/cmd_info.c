/* cmd_info.c: entseg-convert info DB [--json FILE|-]: what a store holds.
 *
 * Kind, schema version, image / entity / crowd counts, image sizes and entities per image
 * (min / mean / max), bytes of mask data, categories and labels, and every meta entry the
 * creator left (creator, options, reports; JSON values are nested as JSON). Entities are counted with a mask-free scan (no blob decoded),
 * so this is quick on large stores.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "convert_internal.h"
#include "entseg/store.h"

typedef struct range_stat {
    double min, max, sum;
    int64_t n;
} range_stat;

static void stat_add(range_stat *s, double v) {
    if (s->n == 0 || v < s->min) s->min = v;
    if (s->n == 0 || v > s->max) s->max = v;
    s->sum += v;
    s->n++;
}
static double stat_mean(const range_stat *s) { return s->n ? s->sum / (double)s->n : 0; }

typedef struct store_info {
    int64_t images, entities, crowd;
    range_stat width, height, pixels, per_image;
} store_info;

static int count_image(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    (void)err;
    store_info *si = ctx;
    int64_t things = 0;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].is_crowd) si->crowd++;
        else things++;
    }
    si->images++;
    si->entities += things;
    stat_add(&si->width, img->width);
    stat_add(&si->height, img->height);
    stat_add(&si->pixels, (double)img->width * img->height);
    stat_add(&si->per_image, (double)things);
    return 0;
}

static cJSON *range_json(const range_stat *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "min", s->n ? s->min : 0);
    cJSON_AddNumberToObject(o, "mean", stat_mean(s));
    cJSON_AddNumberToObject(o, "max", s->n ? s->max : 0);
    return o;
}

static const char *info_usage =
    "usage: entseg-convert info DB [--json FILE|-]\n"
    "\n"
    "Prints what a store holds: kind (ground truth / predictions), schema version, numbers of\n"
    "images, entities and crowd regions, image sizes and entities per image (min / mean / max),\n"
    "bytes of mask data, categories, labels, and the store's meta (creator, options, ...).\n"
    "\n"
    "options:\n"
    "  --json FILE   also write it as JSON to FILE ('-': stdout, instead of the text)\n";

/* Every meta key/value of the store (the schema's meta table), except the facts shown
 * on their own lines. */
typedef struct meta_list {
    char **keys, **values;
    size_t n;
} meta_list;

static void meta_list_free(meta_list *m) {
    for (size_t i = 0; i < m->n; i++) free(m->keys[i]), free(m->values[i]);
    free(m->keys);
    free(m->values);
}

static char *dup_text(const unsigned char *t) {
    return es_strdup_or_null(t ? (const char *)t : "");
}

static int read_meta(es_store *s, meta_list *m, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    memset(m, 0, sizeof *m);
    if (!db || sqlite3_prepare_v2(db,
                                  "SELECT key, value FROM meta WHERE key NOT IN ('format', 'kind', "
                                  "'overlapping_instances') ORDER BY key",
                                  -1, &st, NULL) != SQLITE_OK)
        return es_error_set(err, ES_ERR_SCHEMA, "%s: cannot read the meta table", es_store_path(s));
    int rc = ES_OK;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        char **k = realloc(m->keys, (m->n + 1) * sizeof *k), **v = k ? realloc(m->values, (m->n + 1) * sizeof *v) : NULL;
        if (k) m->keys = k;
        if (v) m->values = v;
        if (!k || !v) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            break;
        }
        m->keys[m->n] = dup_text(sqlite3_column_text(st, 0));
        m->values[m->n] = dup_text(sqlite3_column_text(st, 1));
        m->n++;
    }
    sqlite3_finalize(st);
    return rc;
}

int es_cmd_info(int argc, char **argv) {
    const char *cmd = "info", *json = NULL, *pos[1];
    size_t npos = 0;
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL}, {NULL, NULL, NULL, NULL}};
    int rc = es_cli_parse(argc, argv, opts, info_usage, NULL, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        es_cli_error(cmd, "expected one store (see entseg-convert info --help)");
        return 2;
    }
    const char *db = pos[0];
    es_error err = {0, ""};
    es_store *s = NULL;
    if (es_store_open(db, ES_OPEN_READ, &s, &err)) {
        fprintf(stderr, "entseg-convert info: %s\n", err.msg);
        return 1;
    }
    store_info si;
    memset(&si, 0, sizeof si);
    es_category *cats = NULL;
    es_label *labels = NULL;
    size_t ncat = 0, nlab = 0;
    rc = es_store_scan(s, ES_NONE, ES_NONE, ES_SCAN_NO_MASKS, count_image, &si, &err);
    if (!rc) rc = es_store_categories(s, &cats, &ncat, &err);
    if (!rc) rc = es_store_labels(s, &labels, &nlab, &err);
    meta_list meta = {0};
    if (!rc) rc = read_meta(s, &meta, &err);
    if (rc) {
        fprintf(stderr, "entseg-convert info: %s\n", err.msg);
        goto done;
    }
    int kind = es_store_get_kind(s);
    int64_t mask_bytes = es_store_mask_bytes(s);
    int64_t all = si.entities + si.crowd;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "store", db);
    cJSON_AddStringToObject(j, "kind", kind == ES_STORE_GT ? "ground_truth" : "predictions");
    cJSON_AddNumberToObject(j, "schema_version", es_store_schema_version(s));
    cJSON_AddBoolToObject(j, "overlapping_instances", es_store_overlapping_instances(s));
    cJSON_AddNumberToObject(j, "images", (double)si.images);
    cJSON_AddNumberToObject(j, "entities", (double)si.entities);
    cJSON_AddNumberToObject(j, "crowd", (double)si.crowd);
    cJSON_AddItemToObject(j, "width", range_json(&si.width));
    cJSON_AddItemToObject(j, "height", range_json(&si.height));
    cJSON_AddItemToObject(j, "pixels", range_json(&si.pixels));
    cJSON_AddItemToObject(j, "entities_per_image", range_json(&si.per_image));
    cJSON_AddNumberToObject(j, "mask_bytes", (double)mask_bytes);
    cJSON_AddNumberToObject(j, "mask_bytes_per_entity", all ? (double)mask_bytes / (double)all : 0);
    cJSON_AddNumberToObject(j, "categories", (double)ncat);
    cJSON_AddNumberToObject(j, "labels", (double)nlab);
    cJSON *m = cJSON_AddObjectToObject(j, "meta");
    for (size_t k = 0; k < meta.n; k++) {
        if (!meta.keys[k] || !meta.values[k]) continue;
        cJSON *parsed = cJSON_Parse(meta.values[k]); /* options and reports are JSON text: nest them */
        if (parsed && (cJSON_IsObject(parsed) || cJSON_IsArray(parsed))) {
            cJSON_AddItemToObject(m, meta.keys[k], parsed);
        } else {
            cJSON_Delete(parsed);
            cJSON_AddStringToObject(m, meta.keys[k], meta.values[k]);
        }
    }

    if (json) {
        char *text = cJSON_Print(j);
        FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;
        if (!f || !text || fputs(text, f) < 0 || fputc('\n', f) < 0 || (f != stdout && fclose(f) != 0)) {
            fprintf(stderr, "entseg-convert info: %s: cannot write the JSON\n", json);
            rc = 1;
        }
        free(text);
    }
    if (!json || strcmp(json, "-")) {
        printf("store            %s\n", db);
        printf("kind             %s%s\n", kind == ES_STORE_GT ? "ground truth" : "predictions",
               es_store_overlapping_instances(s) ? " (overlapping instances)" : "");
        printf("schema version   %d (this build writes %d)\n", es_store_schema_version(s),
               es_store_schema_version_current());
        printf("images           %" PRId64 "\n", si.images);
        printf("entities         %" PRId64 " (+ %" PRId64 " crowd regions)\n", si.entities, si.crowd);
        if (si.images) {
            printf("image width      %.0f / %.1f / %.0f (min / mean / max)\n", si.width.min, stat_mean(&si.width), si.width.max);
            printf("image height     %.0f / %.1f / %.0f\n", si.height.min, stat_mean(&si.height), si.height.max);
            printf("entities/image   %.0f / %.1f / %.0f\n", si.per_image.min, stat_mean(&si.per_image), si.per_image.max);
        }
        printf("mask bytes       %" PRId64 " (%.1f per entity)\n", mask_bytes, all ? (double)mask_bytes / (double)all : 0.0);
        printf("categories       %zu\n", ncat);
        printf("labels           %zu\n", nlab);
        for (size_t k = 0; k < meta.n; k++)
            if (meta.keys[k] && meta.values[k]) printf("%-16s %s\n", meta.keys[k], meta.values[k]);
    }
    cJSON_Delete(j);
done:
    meta_list_free(&meta);
    es_categories_free(cats, ncat);
    es_labels_free(labels, nlab);
    es_store_close(s);
    return rc ? 1 : 0;
}
