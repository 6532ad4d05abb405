/* cli_util.c: option parsing helpers of entseg-annotate (only CLIs print). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "entseg/cli.h"

int es_cli_int(const char *cmd, const char *opt, const char *text, int64_t lo, int64_t hi,
               int64_t *out) {
    if (es_cli_parse_int(text, lo, hi, out)) return 0;
    fprintf(stderr, "entseg-annotate %s: %s: '%s' is not an integer in [%" PRId64 ", %" PRId64 "]\n", cmd, opt,
            text, lo, hi);
    return -1;
}

const char *es_cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "entseg-annotate %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int es_cli_int_value(const char *cmd, int argc, char **argv, int *i, int64_t lo, int64_t hi, int64_t *out) {
    const char *opt = argv[*i];
    const char *v = es_cli_value(cmd, argc, argv, i);
    return v ? es_cli_int(cmd, opt, v, lo, hi, out) : -1;
}

int es_cli_help(const char *arg, const char *usage) {
    if (strcmp(arg, "--help") && strcmp(arg, "-h")) return 0;
    fputs(usage, stdout);
    return 1;
}

int es_cli_is_option(const char *arg) { return arg[0] == '-' && arg[1]; }

int es_cli_reject(const char *cmd, const char *arg) {
    if (es_cli_is_option(arg)) fprintf(stderr, "entseg-annotate %s: unknown option '%s'\n", cmd, arg);
    else fprintf(stderr, "entseg-annotate %s: unexpected argument '%s'\n", cmd, arg);
    return 2;
}

char *es_cli_command_line(int argc, char **argv) {
    size_t n = strlen("entseg-annotate") + 1;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = malloc(n);
    if (!s) return NULL;
    strcpy(s, "entseg-annotate");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

int es_cli_id_list(const char *cmd, const char *opt, const char *text, int64_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    int64_t *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    char *copy = strdup(text), *save = NULL;
    if (!copy) {
        free(v);
        return -1;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (es_cli_int(cmd, opt, t, 1, INT64_MAX, &v[*n])) {
            free(copy);
            free(v);
            *n = 0;
            return -1;
        }
        (*n)++;
    }
    free(copy);
    *ids = v;
    return 0;
}
