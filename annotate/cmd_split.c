/* cmd_split.c: `entseg-annotate split DB --test N [--candidates C] [--seed S] -o OUT.json
 * [--apply]` chooses a test split (split.h); `split DB --entity E` splits an entity into
 * its connected components (cmd_edit.c). */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "entseg/store.h"
#include "file_util.h"
#include "split.h"

static const char USAGE[] =
    "usage: entseg-annotate split DB --test N [--candidates C] [--seed S] -o OUT.json [--apply]\n"
    "                             [--threads N]\n"
    "  Draws C candidate test sets of N images (default 20, seed 1) and keeps the one whose\n"
    "  statistics (entities per image, resolution, complexity, simplicity, valid area) are\n"
    "  closest to the average of all candidates. OUT.json lists the test images and every\n"
    "  candidate's statistics; --apply also sets the images' split to test / train in DB.\n"
    "       entseg-annotate split DB --entity E     split an entity into its components\n";

/* Writes the split as JSON to path ('-': stdout): the test image names, the chosen candidate
 * and every candidate's features. imgs are the store's images in the stats' order. */
static int write_json(const char *path, const es_dataset_stats *st, const es_image *imgs,
                      const es_split_result *r, uint64_t seed, es_error *err) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "store", st->store_path);
    cJSON_AddNumberToObject(o, "seed", (double)seed);
    cJSON_AddNumberToObject(o, "test_images", (double)r->n_test);
    cJSON_AddNumberToObject(o, "train_images", (double)(st->n_images - r->n_test));
    cJSON_AddNumberToObject(o, "chosen_candidate", (double)r->chosen);
    cJSON_AddStringToObject(o, "distance", "sum over features of ((value - mean) / sd)^2 across candidates");
    cJSON *all = cJSON_AddObjectToObject(o, "whole_store"), *mean = cJSON_AddObjectToObject(o, "candidate_mean");
    for (int f = 0; f < ES_SPLIT_FEATURES; f++) {
        cJSON_AddNumberToObject(all, es_split_feature_names[f], r->all[f]);
        cJSON_AddNumberToObject(mean, es_split_feature_names[f], r->mean[f]);
    }
    cJSON *cands = cJSON_AddArrayToObject(o, "candidates");
    for (size_t c = 0; c < r->n_candidates; c++) {
        cJSON *x = cJSON_CreateObject();
        for (int f = 0; f < ES_SPLIT_FEATURES; f++)
            cJSON_AddNumberToObject(x, es_split_feature_names[f], r->features[c * ES_SPLIT_FEATURES + f]);
        cJSON_AddNumberToObject(x, "distance", r->distance[c]);
        cJSON_AddItemToArray(cands, x);
    }
    cJSON *test = cJSON_AddArrayToObject(o, "test");
    for (size_t k = 0; k < r->n_test; k++) cJSON_AddItemToArray(test, cJSON_CreateString(imgs[r->test[k]].name));
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = es_write_file(path, text, err);
    free(text);
    return rc;
}

/* Sets the split of every image of the store at db (imgs[0..n), the stats' order) to "test"
 * or "train", in one transaction. */
static int apply(const char *db, const es_image *imgs, size_t n, const es_split_result *r,
                 es_error *err) {
    es_store *s = NULL;
    ES_CHECK(es_store_open(db, ES_OPEN_WRITE, &s, err));
    int rc = es_store_begin(s, err);
    sqlite3 *h = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(h, "UPDATE images SET split = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        rc = es_error_set(err, ES_ERR_IO, "%s: %s", db, sqlite3_errmsg(h));
    size_t k = 0;
    for (size_t i = 0; i < n && !rc && st; i++) {
        int is_test = k < r->n_test && r->test[k] == i;
        if (is_test) k++;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, is_test ? "test" : "train", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, imgs[i].id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = es_error_set(err, ES_ERR_IO, "%s: %s", db, sqlite3_errmsg(h));
    }
    sqlite3_finalize(st);
    if (!rc) rc = es_store_commit(s, err);
    else es_store_rollback(s);
    es_store_close(s);
    return rc;
}

int es_cmd_split(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--entity")) return es_cmd_split_entity(argc, argv);
    const char *db = NULL, *out = NULL;
    int64_t n_test = 0, candidates = 20, seed = 1, threads = 0;
    int do_apply = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (es_cli_help(a, USAGE)) return 0;
        if (!strcmp(a, "--test")) {
            if (es_cli_int_value("split", argc, argv, &i, 1, INT64_MAX, &n_test)) return 2;
        } else if (!strcmp(a, "--candidates")) {
            if (es_cli_int_value("split", argc, argv, &i, 1, 100000, &candidates)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (es_cli_int_value("split", argc, argv, &i, 0, INT64_MAX, &seed)) return 2;
        } else if (!strcmp(a, "--threads")) {
            if (es_cli_int_value("split", argc, argv, &i, 0, 1024, &threads)) return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(out = es_cli_value("split", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--apply")) {
            do_apply = 1;
        } else if (!es_cli_is_option(a) && !db) {
            db = a;
        } else {
            return es_cli_reject("split", a);
        }
    }
    if (!db || !n_test || !out) {
        fputs("entseg-annotate split: needs DB, --test N and -o OUT.json (entseg-annotate split --help)\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_dataset_stats st;
    es_split_result r = {0};
    es_image *imgs = NULL;
    size_t n = 0;
    es_store *s = NULL;
    int rc = es_dataset_stats_compute(db, (int)threads, 1, &st, &err);
    if (!rc) {
        rc = es_store_open(db, ES_OPEN_READ, &s, &err);
        if (!rc) rc = es_store_images(s, &imgs, &n, &err);
        es_store_close(s);
        if (!rc && n != st.n_images) rc = es_error_set(&err, ES_ERR_INVALID, "%s changed while reading it", db);
        if (!rc) rc = es_split_choose(&st, (size_t)n_test, (size_t)candidates, (uint64_t)seed, &r, &err);
        if (!rc) rc = write_json(out, &st, imgs, &r, (uint64_t)seed, &err);
        if (!rc && do_apply) rc = apply(db, imgs, n, &r, &err);
        if (!rc) {
            printf("split: %zu test / %zu train images, candidate %zu of %zu (distance %.3f); wrote %s%s\n", r.n_test,
                   st.n_images - r.n_test, r.chosen, r.n_candidates, r.distance[r.chosen], out,
                   do_apply ? "; split set in the store" : "");
            printf("%-20s %12s %12s %12s\n", "feature", "chosen", "candidates", "store");
            for (int f = 0; f < ES_SPLIT_FEATURES; f++)
                printf("%-20s %12.4f %12.4f %12.4f\n", es_split_feature_names[f],
                       r.features[r.chosen * ES_SPLIT_FEATURES + f], r.mean[f], r.all[f]);
        }
        es_dataset_stats_free(&st);
    }
    if (rc) fprintf(stderr, "entseg-annotate split: %s\n", err.msg);
    es_split_free(&r);
    es_images_free(imgs, n);
    return rc ? 1 : 0;
}
