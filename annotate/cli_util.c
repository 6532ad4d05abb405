/* cli_util.c: option parsing helpers of entseg-annotate (only CLIs print). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

int es_cli_int(const char *cmd, const char *opt, const char *text, int64_t lo, int64_t hi,
               int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        fprintf(stderr, "entseg-annotate %s: %s: '%s' is not an integer in [%" PRId64 ", %" PRId64 "]\n",
                cmd, opt, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

const char *es_cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "entseg-annotate %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
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
