/* cmd_render.c: `entseg-annotate render DB --image I -o OUT.png [--labels] [--pred P.db]
 * [--alpha A]` (render.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "render.h"

static const char USAGE[] =
    "usage: entseg-annotate render DB --image I -o OUT.png [--labels] [--pred PRED.db] [--alpha A]\n"
    "  Draws image I (id or name) with its entities as coloured fills and boundaries, crowd\n"
    "  regions hatched; --labels writes label names. With --pred, matches at IoU >= 0.5:\n"
    "  true positives green, false positives red, misses orange.\n";

int es_cmd_render(int argc, char **argv) {
    const char *db = NULL, *image = NULL, *out = NULL, *alpha_text = NULL;
    es_render_options opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (es_cli_help(a, USAGE)) return 0;
        if (!strcmp(a, "--image")) {
            if (!(image = es_cli_value("render", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(out = es_cli_value("render", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--pred")) {
            if (!(opt.pred_db = es_cli_value("render", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--alpha")) {
            if (!(alpha_text = es_cli_value("render", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--labels")) {
            opt.labels = 1;
        } else if (!es_cli_is_option(a) && !db) {
            db = a;
        } else {
            return es_cli_reject("render", a);
        }
    }
    if (!db || !image || !out) {
        fputs("entseg-annotate render: needs DB, --image I and -o OUT.png (entseg-annotate render --help)\n", stderr);
        return 2;
    }
    if (alpha_text) {
        char *end = NULL;
        opt.alpha = strtod(alpha_text, &end);
        if (end == alpha_text || *end || !(opt.alpha > 0 && opt.alpha <= 1)) {
            fprintf(stderr, "entseg-annotate render: --alpha '%s' is not in (0, 1]\n", alpha_text);
            return 2;
        }
    }
    es_error err = {0};
    es_render_info info;
    if (es_render(db, image, out, &opt, &info, &err)) {
        fprintf(stderr, "entseg-annotate render: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s (%ux%u, %zu entities", out, info.width, info.height, info.entities);
    if (opt.pred_db) printf(": %zu TP, %zu FP, %zu missed", info.tp, info.fp, info.misses);
    printf("%s)\n", info.background_found ? "" : "; image file not found: grey background");
    return 0;
}
