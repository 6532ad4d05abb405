/* cli.c: option parsing and report printing shared by the entseg-convert subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "entseg/cli.h"

void es_cli_error(const char *cmd, const char *msg) {
    fprintf(stderr, "entseg-convert %s: %s\n", cmd, msg);
}

int es_cli_require(const char *cmd, const char *value, const char *name) {
    if (value) return 1;
    fprintf(stderr, "entseg-convert %s: missing %s (see entseg-convert %s --help)\n", cmd, name, cmd);
    return 0;
}

static int match(const char *arg, const char *name, const char **inline_value) {
    size_t n = strlen(name);
    if (strncmp(arg, name, n)) return 0;
    if (arg[n] == '\0') {
        *inline_value = NULL;
        return 1;
    }
    if (arg[n] == '=' && name[1] == '-') {
        *inline_value = arg + n + 1;
        return 1;
    }
    return 0;
}

int es_cli_parse(int argc, char **argv, const es_cli_opt *opts, const char *usage, es_convert_common *common,
                 const char **positional, size_t max_pos, size_t *npos) {
    const char *cmd = argv[0];
    const char *threads = NULL;
    if (npos) *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            if (common)
                fputs("\ncommon options:\n"
                      "  --threads N   worker threads (default: all cores)\n"
                      "  --quiet       no progress bar, no summary\n"
                      "  --lenient     skip bad images (listed) instead of failing\n"
                      "  --replace     overwrite an existing output\n",
                      stdout);
            return 0;
        }
        const char *iv = NULL;
        int done = 0;
        if (common) {
            if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) common->quiet = done = 1;
            else if (!strcmp(a, "--lenient")) common->lenient = done = 1;
            else if (!strcmp(a, "--replace")) common->replace = done = 1;
            else if (match(a, "--threads", &iv)) {
                if (!iv && i + 1 >= argc) {
                    fprintf(stderr, "entseg-convert %s: --threads needs a value\n", cmd);
                    return 2;
                }
                threads = iv ? iv : argv[++i];
                done = 1;
            }
        }
        for (const es_cli_opt *o = opts; !done && o && o->name; o++) {
            int hit = match(a, o->name, &iv);
            if (!hit && o->alias && !strcmp(a, o->alias)) {
                hit = 1;
                iv = NULL;
            }
            if (!hit) continue;
            done = 1;
            if (o->flag) {
                if (iv) {
                    fprintf(stderr, "entseg-convert %s: %s takes no value\n", cmd, o->name);
                    return 2;
                }
                *o->flag = 1;
            } else {
                if (!iv && i + 1 >= argc) {
                    fprintf(stderr, "entseg-convert %s: %s needs a value\n", cmd, o->name);
                    return 2;
                }
                *o->value = iv ? iv : argv[++i];
            }
        }
        if (done) continue;
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "entseg-convert %s: unknown option %s (see entseg-convert %s --help)\n", cmd, a, cmd);
            return 2;
        }
        if (!positional || !npos || *npos >= max_pos) {
            fprintf(stderr, "entseg-convert %s: unexpected argument %s (see entseg-convert %s --help)\n", cmd, a, cmd);
            return 2;
        }
        positional[(*npos)++] = a;
    }
    if (threads && common) {
        int64_t t;
        if (!es_cli_parse_int(threads, 0, 1024, &t)) {
            fprintf(stderr, "entseg-convert %s: --threads wants a number 0..1024, got '%s'\n", cmd, threads);
            return 2;
        }
        common->threads = (int)t;
    }
    return -1;
}

void es_cli_print_report(const char *cmd, const char *out, const es_convert_report *r, int quiet) {
    if (r->nskipped) {
        fprintf(stderr, "entseg-convert %s: skipped %zu image(s) (--lenient):\n", cmd, r->nskipped);
        for (size_t i = 0; i < r->nskipped; i++) fprintf(stderr, "  %s\n", r->skipped[i]);
    }
    for (size_t i = 0; i < r->nwarnings; i++) fprintf(stderr, "entseg-convert %s: warning: %s\n", cmd, r->warnings[i]);
    if (r->id_zero)
        fprintf(stderr,
                "entseg-convert %s: warning: %lld source id(s) equal 0 (pycocotools never matches a GT with id 0; "
                "entseg matches it normally, METRICS.md AP 3)\n",
                cmd, (long long)r->id_zero);
    if (quiet) return;
    fprintf(stderr, "entseg-convert %s: wrote %s: %lld images, %lld entities (%lld crowd", cmd, out,
            (long long)r->images, (long long)r->entities, (long long)r->crowd);
    if (r->crowd_dropped) fprintf(stderr, ", %lld crowd dropped", (long long)r->crowd_dropped);
    fprintf(stderr, ")");
    if (r->declared_area_differs)
        fprintf(stderr, ", %lld declared areas differ from pixel counts", (long long)r->declared_area_differs);
    fprintf(stderr, "\n");
}

int es_cli_finish(const char *cmd, const char *out, int rc, const es_error *err, es_convert_report *r, int quiet) {
    if (rc) {
        fprintf(stderr, "entseg-convert %s: error: %s\n", cmd, err->msg[0] ? err->msg : es_status_name(rc));
        es_convert_report_free(r);
        return 1;
    }
    es_cli_print_report(cmd, out, r, quiet);
    es_convert_report_free(r);
    return 0;
}
