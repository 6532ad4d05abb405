/* annotate/file_util.h: whole-file reading for the small inputs of entseg-annotate (CSV,
 * JSON). */
#ifndef ENTSEG_ANNOTATE_FILE_UTIL_H
#define ENTSEG_ANNOTATE_FILE_UTIL_H

#include <stddef.h>

#include "entseg/error.h"

/* *text = the file's bytes plus a NUL (malloc'ed); refuses files over 1 GiB. */
int es_read_file(const char *path, char **text, size_t *n, es_error *err);
/* Writes text to path ("-" = stdout). */
int es_write_file(const char *path, const char *text, es_error *err);

#endif
