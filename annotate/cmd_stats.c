/* cmd_stats.c: `entseg-annotate stats DB [--json FILE|-] [--plots DIR] [--threads N]
 * [--quiet]`: the EntitySeg Table 2 statistics of a store (stats.h). */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "plots.h"
#include "stats.h"

static const char USAGE[] =
    "usage: entseg-annotate stats DB [--json FILE|-] [--plots DIR] [--threads N] [--quiet]\n"
    "  Table 2 of the EntitySeg paper for the store, overall and per source dataset:\n"
    "  resolution, entities per image (mean, max), complexity (convexity), simplicity,\n"
    "  valid area. The definitions used are printed with the table.\n"
    "  --json FILE   also write the numbers as JSON ('-': stdout, then no table)\n"
    "  --plots DIR   write histograms: entities_per_image.png, resolution.png, entity_area.png\n"
    "  --threads N   worker threads (default: all cores)\n";

int es_cmd_stats(int argc, char **argv) {
    const char *db = NULL, *json = NULL, *plots = NULL;
    int64_t threads = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (es_cli_help(a, USAGE)) return 0;
        if (!strcmp(a, "--json")) {
            if (!(json = es_cli_value("stats", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--plots")) {
            if (!(plots = es_cli_value("stats", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--threads")) {
            if (es_cli_int_value("stats", argc, argv, &i, 0, 1024, &threads)) return 2;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!es_cli_is_option(a) && !db) {
            db = a;
        } else {
            return es_cli_reject("stats", a);
        }
    }
    if (!db) {
        fputs("entseg-annotate stats: needs a store: stats DB (entseg-annotate stats --help)\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_dataset_stats st;
    if (es_dataset_stats_compute(db, (int)threads, quiet, &st, &err)) {
        fprintf(stderr, "entseg-annotate stats: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!json || strcmp(json, "-")) es_dataset_stats_print(&st, stdout);
    if (json && es_dataset_stats_write_json(&st, json, &err)) {
        fprintf(stderr, "entseg-annotate stats: %s\n", err.msg);
        rc = 1;
    }
    if (!rc && plots && es_stats_write_plots(&st, plots, &err)) {
        fprintf(stderr, "entseg-annotate stats: %s\n", err.msg);
        rc = 1;
    }
    es_dataset_stats_free(&st);
    return rc;
}
