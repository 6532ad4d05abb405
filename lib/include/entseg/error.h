/* entseg/error.h: the caller-owned error object every libentseg function fills.
 *
 * Ownership: the caller owns the es_error (usually on its stack). Library functions never
 * print or exit: they describe a failure once, where it is found, with es_error_set(), and
 * return the code; callers pass the code upward unchanged (ES_CHECK). Only a CLI's main()
 * prints err.msg. A NULL es_error pointer is allowed: the message is then dropped.
 */
#ifndef ENTSEG_ERROR_H
#define ENTSEG_ERROR_H

#include <stdarg.h>

typedef enum es_status {
    ES_OK = 0,
    ES_ERR_IO = 1,        /* file missing, unreadable, short read, write failed */
    ES_ERR_FORMAT = 2,    /* malformed input: bad JSON, truncated PNG, corrupt blob */
    ES_ERR_INVALID = 3,   /* well-formed but wrong: size mismatch, unknown id, NaN score */
    ES_ERR_OVERLAP = 4,   /* ground-truth entities of one image would overlap */
    ES_ERR_SCHEMA = 5,    /* store from a newer schema, or not an entseg store */
    ES_ERR_NOMEM = 6,
    ES_ERR_UNSUPPORTED = 7, /* a feature not available in this build (e.g. no GPU) */
    ES_ERR_INTERNAL = 8
} es_status;

#define ES_ERROR_MSG_MAX 1024

typedef struct es_error {
    int code;                   /* es_status; ES_OK when nothing went wrong */
    char msg[ES_ERROR_MSG_MAX]; /* one line, no trailing newline */
} es_error;

/* Records code and a printf-style message in err (if not NULL); returns code. */
int es_error_set(es_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int es_error_setv(es_error *err, int code, const char *fmt, va_list ap);

/* Prepends "prefix: " to an already recorded message (adds context on the way up, e.g.
 * the file name); returns err->code. */
int es_error_prefix(es_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void es_error_clear(es_error *err);

/* The name of a status code ("io", "format", ...). */
const char *es_status_name(int code);

/* Propagate a non-zero status unchanged. */
#define ES_CHECK(expr)            \
    do {                          \
        int es_check_rc_ = (expr); \
        if (es_check_rc_) return es_check_rc_; \
    } while (0)

#endif
