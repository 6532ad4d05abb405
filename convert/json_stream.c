/* json_stream.c: element-by-element JSON reading for the converters (see json_stream.h).
 *
 * With yajl: the yajl callbacks build a cJSON node per value; a stack holds the open
 * containers. Depth 1 members of the top-level object that are arrays are "streamed": each
 * of their elements becomes its own root, delivered and freed when it closes. Everything
 * else is delivered as one tree per top-level member.
 */
#include "json_stream.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int es_json_get_int(const cJSON *obj, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) return 0;
    *out = (int64_t)d;
    return 1;
}

int es_json_get_double(const cJSON *obj, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

const char *es_json_get_string(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#ifdef ENTSEG_HAVE_YAJL
#include <yajl/yajl_parse.h>

/* Describes the element being read, for error messages: "annotations[17]". */
static void where_text(char *buf, size_t cap, const char *key, long index) {
    if (index >= 0)
        snprintf(buf, cap, "%s[%ld]", key ? key : "", index);
    else if (key)
        snprintf(buf, cap, "\"%s\"", key);
    else
        snprintf(buf, cap, "top level");
}


#define STACK_MAX 256

typedef struct stream_state {
    es_json_item_fn fn;
    void *ctx;
    es_error *err;
    int rc;                  /* callback or builder failure */
    int top_is_array;        /* the file is one array */
    int depth;               /* containers open in the file (0 = outside everything) */
    char *top_key;           /* current member key of the top-level object */
    int streaming;           /* the current top-level member is an array being streamed */
    long index;              /* element index within the streamed array */
    cJSON *stack[STACK_MAX]; /* open containers of the tree being built */
    int nstack;
    char *pending_key;       /* key for the next value inside an object being built */
} stream_state;

static int deliver(stream_state *s, cJSON *root) {
    const char *key = s->top_is_array ? NULL : s->top_key;
    long idx = (s->streaming || s->top_is_array) ? s->index : -1;
    int rc = s->fn(s->ctx, key, idx, root, s->err);
    cJSON_Delete(root);
    if (s->streaming || s->top_is_array) s->index++;
    if (rc) {
        s->rc = rc;
        return 0;
    }
    return 1;
}

/* Attaches a finished scalar or a freshly opened container to the tree being built. When
 * there is no open container the node is a root: scalars are delivered at once. */
static int attach(stream_state *s, cJSON *node, int is_container) {
    if (!node) {
        s->rc = es_error_set(s->err, ES_ERR_NOMEM, "out of memory reading JSON");
        return 0;
    }
    if (s->nstack > 0) {
        cJSON *parent = s->stack[s->nstack - 1];
        if (cJSON_IsObject(parent)) {
            cJSON_AddItemToObject(parent, s->pending_key ? s->pending_key : "", node);
            free(s->pending_key);
            s->pending_key = NULL;
        } else {
            cJSON_AddItemToArray(parent, node);
        }
    }
    if (is_container) {
        if (s->nstack >= STACK_MAX) {
            if (s->nstack == 0) cJSON_Delete(node);
            s->rc = es_error_set(s->err, ES_ERR_FORMAT, "JSON nested deeper than %d levels", STACK_MAX);
            return 0;
        }
        s->stack[s->nstack++] = node;
        return 1;
    }
    if (s->nstack == 0) return deliver(s, node);
    return 1;
}

/* A value (scalar or container opening) at file depth `depth` before it is opened. Returns
 * 1 if the value belongs to the builder, 0 for the top-level object or array itself (a
 * streamed member array is handled by cb_start_array before it asks). */
static int builds_value(const stream_state *s) {
    return s->depth >= 1;
}

static int cb_null(void *c) {
    stream_state *s = c;
    return builds_value(s) ? attach(s, cJSON_CreateNull(), 0) : 1;
}

static int cb_boolean(void *c, int b) {
    stream_state *s = c;
    return builds_value(s) ? attach(s, cJSON_CreateBool(b), 0) : 1;
}

static int cb_number(void *c, const char *txt, size_t len) {
    stream_state *s = c;
    char buf[64];
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, txt, len);
    buf[len] = '\0';
    return builds_value(s) ? attach(s, cJSON_CreateNumber(strtod(buf, NULL)), 0) : 1;
}

static int cb_string(void *c, const unsigned char *txt, size_t len) {
    stream_state *s = c;
    char *tmp = malloc(len + 1);
    if (!tmp) {
        s->rc = es_error_set(s->err, ES_ERR_NOMEM, "out of memory reading JSON");
        return 0;
    }
    memcpy(tmp, txt, len);
    tmp[len] = '\0';
    int ok = builds_value(s) ? attach(s, cJSON_CreateString(tmp), 0) : 1;
    free(tmp);
    return ok;
}

static int cb_start_map(void *c) {
    stream_state *s = c;
    int ok = 1;
    if (builds_value(s)) ok = attach(s, cJSON_CreateObject(), 1);
    s->depth++;
    return ok;
}

static int cb_map_key(void *c, const unsigned char *txt, size_t len) {
    stream_state *s = c;
    char *k = malloc(len + 1);
    if (!k) {
        s->rc = es_error_set(s->err, ES_ERR_NOMEM, "out of memory reading JSON");
        return 0;
    }
    memcpy(k, txt, len);
    k[len] = '\0';
    if (!s->top_is_array && s->depth == 1) {
        free(s->top_key);
        s->top_key = k;
        s->streaming = 0;
        s->index = 0;
    } else {
        free(s->pending_key);
        s->pending_key = k;
    }
    return 1;
}

/* Closes a container; delivers the tree when it was a root. */
static int close_container(stream_state *s) {
    s->depth--;
    if (s->nstack == 0) return 1; /* closing skipped structure */
    cJSON *node = s->stack[--s->nstack];
    if (s->nstack == 0) return deliver(s, node);
    return 1;
}

static int cb_end_map(void *c) {
    return close_container(c);
}

static int cb_start_array(void *c) {
    stream_state *s = c;
    if (s->depth == 0) {
        s->top_is_array = 1;
        s->index = 0;
        s->depth++;
        return 1;
    }
    if (!s->top_is_array && s->depth == 1) { /* a top-level member array: stream it */
        s->streaming = 1;
        s->index = 0;
        s->depth++;
        return 1;
    }
    int ok = attach(s, cJSON_CreateArray(), 1);
    s->depth++;
    return ok;
}

static int cb_end_array(void *c) {
    stream_state *s = c;
    if (s->nstack == 0) { /* the end of a streamed array or of the top-level array */
        s->depth--;
        if (s->depth == 1) s->streaming = 0;
        return 1;
    }
    return close_container(s);
}

static const yajl_callbacks callbacks = {
    cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* A parse error: names the element and says NaN / Infinity when that is the cause. */
static int parse_error(stream_state *s, yajl_handle h, const char *path, const unsigned char *chunk,
                       size_t len, long long chunk_start) {
    size_t at = yajl_get_bytes_consumed(h);
    char where[300];
    if (s->nstack > 0 || s->streaming || s->top_is_array)
        where_text(where, sizeof where, s->top_is_array ? "results" : s->top_key, s->index);
    else
        where_text(where, sizeof where, s->top_key, -1);
    const char *what = NULL;
    if (chunk && at <= len) {
        /* yajl stops at or just after the offending token */
        for (size_t back = 0; back < 4 && back <= at && !what; back++) {
            const char *p = (const char *)chunk + at - back;
            size_t rest = len - (at - back);
            if (rest >= 3 && !strncmp(p, "NaN", 3)) what = "NaN";
            else if (rest >= 8 && !strncmp(p, "Infinity", 8)) what = "Infinity";
        }
    }
    if (what)
        return es_error_set(s->err, ES_ERR_FORMAT,
                            "%s: %s: a number is %s (not valid JSON; non-finite values are not accepted)",
                            path, where, what);
    unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
    if (msg) { /* yajl ends its message with a newline: one line only */
        size_t l = strlen((char *)msg);
        while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == '\r')) msg[--l] = '\0';
    }
    int rc = es_error_set(s->err, ES_ERR_FORMAT, "%s: malformed or truncated JSON at byte %lld (in %s): %s",
                          path, chunk_start + (long long)at, where, msg ? (char *)msg : "parse error");
    if (msg) yajl_free_error(h, msg);
    return rc;
}

int es_json_stream(const char *path, es_json_item_fn fn, void *ctx, es_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    stream_state s;
    memset(&s, 0, sizeof s);
    s.fn = fn;
    s.ctx = ctx;
    s.err = err;
    yajl_handle h = yajl_alloc(&callbacks, NULL, &s);
    if (!h) {
        fclose(f);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    int rc = ES_OK;
    long long offset = 0;
    size_t got = 0;
    if (!buf) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    while (!rc && (got = fread(buf, 1, CHUNK, f)) > 0) {
        yajl_status st = yajl_parse(h, buf, got);
        if (st == yajl_status_client_canceled) rc = s.rc ? s.rc : ES_ERR_INTERNAL;
        else if (st != yajl_status_ok) rc = parse_error(&s, h, path, buf, got, offset);
        offset += (long long)got;
    }
    if (!rc && ferror(f)) rc = es_error_set(err, ES_ERR_IO, "%s: read error", path);
    if (!rc) {
        yajl_status st = yajl_complete_parse(h);
        if (st == yajl_status_client_canceled) rc = s.rc ? s.rc : ES_ERR_INTERNAL;
        else if (st != yajl_status_ok) rc = parse_error(&s, h, path, NULL, 0, offset);
    }
    if (!rc && offset == 0) rc = es_error_set(err, ES_ERR_FORMAT, "%s: empty file, expected JSON", path);
    if (s.nstack > 0) cJSON_Delete(s.stack[0]);
    free(s.pending_key);
    free(s.top_key);
    free(buf);
    yajl_free(h);
    fclose(f);
    return rc;
}

#else /* no yajl: one cJSON tree for the whole file */

int es_json_stream(const char *path, es_json_item_fn fn, void *ctx, es_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *t = realloc(text, cap * 2);
            if (!t) {
                free(text);
                text = NULL;
                break;
            }
            text = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (!text) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory reading", path);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        long long at = end ? (long long)(end - text) : -1;
        const char *what = "";
        if (end && (size_t)(end - text) + 3 <= len && !strncmp(end, "NaN", 3)) what = " (a NaN number)";
        int rc = es_error_set(err, ES_ERR_FORMAT, "%s: malformed or truncated JSON near byte %lld%s", path, at,
                              what);
        free(text);
        return rc;
    }
    free(text);
    int rc = ES_OK;
    if (cJSON_IsArray(root)) {
        long i = 0;
        for (const cJSON *e = root->child; e && !rc; e = e->next) rc = fn(ctx, NULL, i++, e, err);
    } else if (cJSON_IsObject(root)) {
        for (const cJSON *m = root->child; m && !rc; m = m->next) {
            if (cJSON_IsArray(m)) {
                long i = 0;
                for (const cJSON *e = m->child; e && !rc; e = e->next) rc = fn(ctx, m->string, i++, e, err);
            } else {
                rc = fn(ctx, m->string, -1, m, err);
            }
        }
    } else {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: expected a JSON object or array", path);
    }
    cJSON_Delete(root);
    return rc;
}

#endif
