/* cmd_split.c: `entseg-annotate split DB --test N [--candidates C] [--seed S] -o OUT.json
 * [--apply]` chooses a test split (split.h); `split DB --entity E` splits an entity into
 * its connected components (cmd_edit.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "entseg/store.h"
#include "split.h"

static const char USAGE[] =
    "usage: entseg-annotate split DB --test N [--candidates C] [--seed S] -o OUT.json [--apply]\n"
    "                             [--threads N]\n"
    "  Draws C candidate test sets of N images (default 20, seed 1) and keeps the one whose\n"
    "  statistics (entities per image, resolution, complexity, simplicity, valid area) are\n"
    "  closest to the average of all candidates. OUT.json lists the test images and every\n"
    "  candidate's statistics; --apply also sets the images' split to test / train in DB.\n"
    "       entseg-annotate split DB --entity E     split an entity into its components\n";

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
        if (!rc) rc = es_split_write_json(out, &st, imgs, &r, (uint64_t)seed, &err);
        if (!rc && do_apply) rc = es_split_apply(db, imgs, n, &r, &err);
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
