/* file_util.c: whole-file reads and writes (see file_util.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"

int es_read_file(const char *path, char **text, size_t *n, es_error *err) {
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = ES_OK;
    while (buf) {
        if (len + 1 >= cap) {
            if (cap >= (1u << 30)) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: file larger than 1 GiB", path);
                break;
            }
            char *p = realloc(buf, cap *= 2);
            if (!p) break;
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    if (!buf) rc = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    else if (!rc && ferror(f)) rc = es_error_set(err, ES_ERR_IO, "%s: read failed", path);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = 0;
    *text = buf;
    if (n) *n = len;
    return ES_OK;
}

int es_write_file(const char *path, const char *text, es_error *err) {
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int rc = ES_OK;
    if (fputs(text, f) < 0) rc = es_error_set(err, ES_ERR_IO, "%s: write failed", path);
    if (f != stdout && fclose(f) != 0 && !rc) rc = es_error_set(err, ES_ERR_IO, "%s: write failed", path);
    return rc;
}
