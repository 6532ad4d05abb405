/* cmd_agree.c: `entseg-annotate agree A.db B.db [--json FILE|-] [--threads N]` (agree.h). */
#include <stdio.h>
#include <string.h>

#include "agree.h"
#include "cli_util.h"
#include "commands.h"

static const char USAGE[] =
    "usage: entseg-annotate agree A.db B.db [--json FILE|-] [--threads N]\n"
    "  Two annotations of the same images (paired by name), A the reference: class-agnostic\n"
    "  mask AP of B (scored 1.0) against A, and label accuracy on entities matched one-to-one\n"
    "  at IoU >= 0.5 (EntitySeg paper, Table 1).\n";

int es_cmd_agree(int argc, char **argv) {
    const char *dbs[2] = {NULL, NULL}, *json = NULL;
    int nd = 0;
    int64_t threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (es_cli_help(a, USAGE)) return 0;
        if (!strcmp(a, "--json")) {
            if (!(json = es_cli_value("agree", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--threads")) {
            if (es_cli_int_value("agree", argc, argv, &i, 0, 1024, &threads)) return 2;
        } else if (!es_cli_is_option(a) && nd < 2) {
            dbs[nd++] = a;
        } else {
            return es_cli_reject("agree", a);
        }
    }
    if (nd != 2) {
        fputs("entseg-annotate agree: needs two stores: A.db B.db (entseg-annotate agree --help)\n", stderr);
        return 2;
    }
    es_error err = {0};
    es_agreement ag;
    if (es_agreement_compute(dbs[0], dbs[1], (int)threads, &ag, &err)) {
        fprintf(stderr, "entseg-annotate agree: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!json || strcmp(json, "-")) es_agreement_print(&ag, stdout);
    if (json && es_agreement_write_json(&ag, json, &err)) {
        fprintf(stderr, "entseg-annotate agree: %s\n", err.msg);
        rc = 1;
    }
    es_agreement_free(&ag);
    return rc;
}
