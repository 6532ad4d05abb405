/* json_stream.h: reading large JSON files element by element (internal to entseg-convert).
 *
 * COCO files are one object whose big members are arrays ("images", "annotations") or one
 * top-level array (detection results). A full cJSON tree costs about 10x the file size, so
 * es_json_stream parses with yajl (when built with it) and hands the caller one small cJSON
 * tree at a time:
 *   - top-level object: each element of an array member as (key, index >= 0, element);
 *     every other member as (key, -1, value);
 *   - top-level array: each element as (NULL, index, element).
 * The tree passed to the callback is freed after the call returns. Peak memory is the
 * largest single element plus what the caller keeps. Without yajl the whole file is parsed
 * with cJSON and walked in the same order (same callbacks, more memory).
 *
 * Errors: malformed or truncated JSON -> ES_ERR_FORMAT naming the file, the byte offset and
 * the element being read ("annotations[17]"); bare NaN / Infinity tokens (which Python's
 * json writes) are reported as such. A non-zero return from the callback stops the parse
 * and is returned unchanged.
 */
#ifndef ENTSEG_CONVERT_JSON_STREAM_H
#define ENTSEG_CONVERT_JSON_STREAM_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "entseg/error.h"

typedef int (*es_json_item_fn)(void *ctx, const char *key, long index, const cJSON *item,
                               es_error *err);

int es_json_stream(const char *path, es_json_item_fn fn, void *ctx, es_error *err);

/* Small typed accessors for the converters: each returns 1 when the member exists and has
 * the type, 0 otherwise (the output is left untouched then). */
int es_json_get_int(const cJSON *obj, const char *key, int64_t *out);   /* integral number */
int es_json_get_double(const cJSON *obj, const char *key, double *out); /* any number */
const char *es_json_get_string(const cJSON *obj, const char *key);      /* NULL if absent */

#endif
