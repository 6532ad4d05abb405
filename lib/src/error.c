/* error.c: the caller-owned error object (see entseg/error.h). */
#include "entseg/error.h"

#include <stdio.h>
#include <string.h>

int es_error_setv(es_error *err, int code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

int es_error_set(es_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    es_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int es_error_prefix(es_error *err, const char *fmt, ...) {
    if (!err) return ES_ERR_INTERNAL;
    char prefix[ES_ERROR_MSG_MAX], old[ES_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is fine (the message stays one line); using the result keeps
     * -Wformat-truncation quiet under -Werror. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) < 0) err->msg[0] = 0;
    return err->code;
}

void es_error_clear(es_error *err) {
    if (err) {
        err->code = ES_OK;
        err->msg[0] = '\0';
    }
}

const char *es_status_name(int code) {
    switch (code) {
    case ES_OK: return "ok";
    case ES_ERR_IO: return "io";
    case ES_ERR_FORMAT: return "format";
    case ES_ERR_INVALID: return "invalid";
    case ES_ERR_OVERLAP: return "overlap";
    case ES_ERR_SCHEMA: return "schema";
    case ES_ERR_NOMEM: return "nomem";
    case ES_ERR_UNSUPPORTED: return "unsupported";
    default: return "internal";
    }
}
