/* vocab.c: entity labels and vocabulary edits (see vocab.h). Raw SQL on the store's
 * labels and entities tables through es_store_sqlite; every write is one history edit. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/store_edit.h"
#include "file_util.h"
#include "history.h"
#include "vocab.h"

static const char *const SPECIAL[] = {"unknown", "blurred", "supercategory_other"};

int es_label_is_special(const char *name) {
    for (size_t i = 0; i < 3; i++)
        if (!strcmp(name, SPECIAL[i])) return 1;
    return 0;
}

const char *es_label_name_of(const es_label *labels, size_t n, int64_t id) {
    for (size_t i = 0; id != ES_NONE && i < n; i++)
        if (labels[i].id == id) return labels[i].name;
    return NULL;
}

/* Length of the UTF-8 sequence at p, 0 when invalid. */
static size_t utf8_len(const unsigned char *p) {
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && p[0] < 0xC2) return 0; /* overlong */
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

int es_label_name_check(const char *name, es_error *err) {
    if (!name || !*name) return es_error_set(err, ES_ERR_INVALID, "label name is empty");
    size_t len = strlen(name);
    if (len > ES_LABEL_NAME_MAX)
        return es_error_set(err, ES_ERR_INVALID, "label name is %zu bytes long (at most %d)", len,
                            ES_LABEL_NAME_MAX);
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[len - 1]))
        return es_error_set(err, ES_ERR_INVALID, "label name '%s' starts or ends with white space", name);
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        if (*p < 0x20 || *p == 0x7f)
            return es_error_set(err, ES_ERR_INVALID, "label name has a control character (byte 0x%02x at %zu)",
                                *p, (size_t)(p - (const unsigned char *)name));
        size_t n = utf8_len(p);
        if (!n) return es_error_set(err, ES_ERR_INVALID, "label name is not valid UTF-8 (at byte %zu)",
                                    (size_t)(p - (const unsigned char *)name));
        p += n;
    }
    return ES_OK;
}

static int sql_error(sqlite3 *db, es_error *err) {
    return es_error_set(err, ES_ERR_IO, "store: %s", sqlite3_errmsg(db));
}

int es_resolve_image(es_store *s, const char *text, int64_t *image_id, es_error *err) {
    *image_id = ES_NONE;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (*text && end && !*end && v > 0) {
        es_image img = {0};
        if (es_store_get_image(s, v, &img, NULL) == ES_OK) {
            *image_id = img.id;
            es_image_clear(&img);
            return ES_OK;
        }
    }
    ES_CHECK(es_store_find_image_by_name(s, text, image_id, err));
    if (*image_id == ES_NONE)
        return es_error_set(err, ES_ERR_INVALID, "%s: no image with id or name '%s'", es_store_path(s), text);
    return ES_OK;
}

int es_vocab_find(es_store *s, const char *name, int64_t *id, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    *id = ES_NONE;
    if (sqlite3_prepare_v2(db, "SELECT id FROM labels WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return sql_error(db, err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ES_OK;
}

/* Runs body inside a 'labels' history edit that snapshots the vocabulary. */
typedef int (*vocab_body)(es_store *s, int64_t hid, const void *arg, es_error *err);
static int vocab_edit(es_store *s, const char *command, vocab_body body, const void *arg, es_error *err) {
    int64_t hid;
    ES_CHECK(es_history_begin(s, command, "labels", ES_NONE, &hid, err));
    int rc = es_history_save_vocabulary(s, hid, err);
    if (!rc) rc = body(s, hid, arg, err);
    if (!rc) rc = es_history_commit(s, err);
    else es_history_abort(s);
    return rc;
}

/* One label edit inside an open history edit. */
static int label_one(es_store *s, int64_t hid, int64_t image_id, int64_t entity_id, const char *name,
                     es_error *err) {
    ES_CHECK(es_label_name_check(name, err));
    int64_t owner = ES_NONE;
    ES_CHECK(es_store_entity_image(s, entity_id, &owner, err));
    if (owner != image_id)
        return es_error_set(err, ES_ERR_INVALID, "entity %lld belongs to image %lld, not image %lld",
                            (long long)entity_id, (long long)owner, (long long)image_id);
    int64_t label_id;
    ES_CHECK(es_store_label_get_or_create(s, name, ES_NONE, &label_id, err));
    ES_CHECK(es_history_save_entity_label(s, hid, entity_id, err));
    return es_store_set_entity_label(s, entity_id, label_id, err);
}

typedef struct entity_label_arg {
    int64_t image_id, entity_id;
    const char *name;
} entity_label_arg;

static int do_label_entity(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const entity_label_arg *a = arg_;
    return label_one(s, hid, a->image_id, a->entity_id, a->name, err);
}

int es_vocab_label_entity(es_store *s, int64_t image_id, int64_t entity_id, const char *name,
                          const char *command, es_error *err) {
    ES_CHECK(es_label_name_check(name, err));
    entity_label_arg a = {image_id, entity_id, name};
    return vocab_edit(s, command, do_label_entity, &a, err);
}

/* Splits one CSV line into up to 3 fields (in place; "quoted" fields with "" escapes). */
static int csv_fields(char *line, char **f, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '"') {
            char *w = ++p;
            f[n++] = w;
            while (*p) {
                if (*p == '"' && p[1] == '"') *w++ = '"', p += 2;
                else if (*p == '"') break;
                else *w++ = *p++;
            }
            if (*p != '"') return -1; /* unterminated quote */
            *w = 0;
            p++;
            while (*p == ' ' || *p == '\t') p++;
            if (*p == ',') p++;
            else if (*p) return -1;
            else break;
        } else {
            f[n++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = 0;
            p = c + 1;
        }
    }
    return n;
}

typedef struct label_row {
    char image[256];
    int64_t entity;
    char label[ES_LABEL_NAME_MAX + 64];
} label_row;

static int apply_row(es_store *s, int64_t hid, const label_row *r, const char *where, es_error *err) {
    int64_t image_id;
    int rc = es_resolve_image(s, r->image, &image_id, err);
    if (!rc) rc = label_one(s, hid, image_id, r->entity, r->label, err);
    if (rc) es_error_prefix(err, "%s", where);
    return rc;
}

static int label_csv(es_store *s, int64_t hid, const char *path, char *text, size_t *n, es_error *err) {
    size_t line_no = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        if (!len) continue;
        char *f[3];
        char where[300];
        snprintf(where, sizeof where, "%.256s line %zu", path, line_no);
        int nf = csv_fields(line, f, 3);
        if (nf != 3) return es_error_set(err, ES_ERR_FORMAT, "%s: expected image,entity,label", where);
        char *end = NULL;
        long long ent = strtoll(f[1], &end, 10);
        if (end == f[1] || *end) {
            if (line_no == 1) continue; /* header */
            return es_error_set(err, ES_ERR_FORMAT, "%s: entity '%s' is not an id", where, f[1]);
        }
        label_row r = {.entity = ent};
        snprintf(r.image, sizeof r.image, "%s", f[0]);
        if (strlen(f[2]) >= sizeof r.label)
            return es_error_set(err, ES_ERR_INVALID, "%s: label name too long", where);
        snprintf(r.label, sizeof r.label, "%s", f[2]);
        ES_CHECK(apply_row(s, hid, &r, where, err));
        (*n)++;
    }
    return ES_OK;
}

static int label_json(es_store *s, int64_t hid, const char *path, const char *text, size_t *n, es_error *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return es_error_set(err, ES_ERR_FORMAT, "%s: expected a JSON array of {\"image\", \"entity\", \"label\"}", path);
    }
    int rc = ES_OK, idx = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, root) {
        char where[300];
        snprintf(where, sizeof where, "%.256s item %d", path, idx++);
        cJSON *im = cJSON_GetObjectItemCaseSensitive(it, "image");
        cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "entity");
        cJSON *lb = cJSON_GetObjectItemCaseSensitive(it, "label");
        label_row r = {0};
        if (cJSON_IsNumber(im) && im->valuedouble == (double)(long long)im->valuedouble)
            snprintf(r.image, sizeof r.image, "%lld", (long long)im->valuedouble);
        else if (cJSON_IsString(im)) snprintf(r.image, sizeof r.image, "%s", im->valuestring);
        if (!r.image[0] || !cJSON_IsNumber(en) || en->valuedouble != (double)(long long)en->valuedouble ||
            !cJSON_IsString(lb)) {
            rc = es_error_set(err, ES_ERR_FORMAT, "%s: needs \"image\" (id or name), \"entity\" (id), \"label\" (string)", where);
            break;
        }
        if (strlen(lb->valuestring) >= sizeof r.label) {
            rc = es_error_set(err, ES_ERR_INVALID, "%s: label name too long", where);
            break;
        }
        r.entity = (int64_t)en->valuedouble;
        snprintf(r.label, sizeof r.label, "%s", lb->valuestring);
        if ((rc = apply_row(s, hid, &r, where, err))) break;
        (*n)++;
    }
    cJSON_Delete(root);
    return rc;
}

typedef struct label_file_arg {
    const char *path;
    char *text; /* the file, split in place by label_csv */
    size_t *n;
} label_file_arg;

static int do_label_file(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const label_file_arg *a = arg_;
    const char *p = a->text;
    while (*p && isspace((unsigned char)*p)) p++;
    return *p == '[' ? label_json(s, hid, a->path, a->text, a->n, err) : label_csv(s, hid, a->path, a->text, a->n, err);
}

int es_vocab_label_file(es_store *s, const char *path, const char *command, size_t *n, es_error *err) {
    *n = 0;
    char *text = NULL;
    ES_CHECK(es_read_file(path, &text, NULL, err));
    label_file_arg a = {path, text, n};
    int rc = vocab_edit(s, command, do_label_file, &a, err);
    free(text);
    if (rc) *n = 0;
    return rc;
}

int es_vocab_list(es_store *s, es_vocab_entry **out, size_t *n, es_error *err) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT l.id, l.name, l.parent_id, (SELECT COUNT(*) FROM entities e "
                               "WHERE e.label_id = l.id) FROM labels l ORDER BY l.id",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(db, err);
    size_t cap = 0;
    es_vocab_entry *v = NULL;
    int rc = ES_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            es_vocab_entry *p = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *p);
            if (!p) {
                rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
                break;
            }
            v = p;
        }
        es_vocab_entry *e = &v[(*n)++];
        e->id = sqlite3_column_int64(st, 0);
        e->name = strdup((const char *)sqlite3_column_text(st, 1));
        e->parent_id = sqlite3_column_type(st, 2) == SQLITE_NULL ? ES_NONE : sqlite3_column_int64(st, 2);
        e->count = (uint64_t)sqlite3_column_int64(st, 3);
        if (!e->name) {
            rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc) {
        es_vocab_entries_free(v, *n);
        *n = 0;
        return rc;
    }
    *out = v;
    return ES_OK;
}

void es_vocab_entries_free(es_vocab_entry *e, size_t n) {
    for (size_t i = 0; e && i < n; i++) free(e[i].name);
    free(e);
}

static int run2(sqlite3 *db, const char *sql, int64_t a, int64_t b, const char *text, es_error *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return sql_error(db, err);
    int k = 1;
    if (text) sqlite3_bind_text(st, k++, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, k++, a);
    if (k <= sqlite3_bind_parameter_count(st)) sqlite3_bind_int64(st, k, b);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? ES_OK : sql_error(db, err);
}

static int need_label(es_store *s, const char *name, int64_t *id, es_error *err) {
    ES_CHECK(es_vocab_find(s, name, id, err));
    if (*id == ES_NONE) return es_error_set(err, ES_ERR_INVALID, "%s: no label '%s'", es_store_path(s), name);
    return ES_OK;
}

typedef struct two_names {
    const char *a, *b;
} two_names;

static int do_rename(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const two_names *arg = arg_;
    int64_t id, other;
    ES_CHECK(need_label(s, arg->a, &id, err));
    ES_CHECK(es_vocab_find(s, arg->b, &other, err));
    if (other != ES_NONE)
        return es_error_set(err, ES_ERR_INVALID, "label '%s' already exists (use vocab merge)", arg->b);
    return run2(es_store_sqlite(s), "UPDATE labels SET name = ? WHERE id = ?", id, 0, arg->b, err);
}

int es_vocab_rename(es_store *s, const char *old_name, const char *new_name, const char *command,
                    es_error *err) {
    ES_CHECK(es_label_name_check(new_name, err));
    if (es_label_is_special(old_name))
        return es_error_set(err, ES_ERR_INVALID, "'%s' is a special label and cannot be renamed", old_name);
    two_names arg = {old_name, new_name};
    return vocab_edit(s, command, do_rename, &arg, err);
}

static int do_merge(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const two_names *arg = arg_;
    int64_t a, b;
    ES_CHECK(need_label(s, arg->a, &a, err));
    ES_CHECK(need_label(s, arg->b, &b, err));
    if (a == b) return es_error_set(err, ES_ERR_INVALID, "cannot merge label '%s' into itself", arg->a);
    /* b must not be a descendant of a: a's children move under b */
    sqlite3 *db = es_store_sqlite(s);
    ES_CHECK(es_history_save_labelled(s, hid, a, err));
    ES_CHECK(run2(db, "UPDATE entities SET label_id = ? WHERE label_id = ?", b, a, NULL, err));
    ES_CHECK(run2(db, "UPDATE labels SET parent_id = ? WHERE parent_id = ?", b, a, NULL, err));
    ES_CHECK(run2(db, "UPDATE labels SET parent_id = NULL WHERE id = ? AND parent_id = ?", b, b, NULL, err));
    return run2(db, "DELETE FROM labels WHERE id = ?", a, 0, NULL, err);
}

int es_vocab_merge(es_store *s, const char *a, const char *b, const char *command, es_error *err) {
    if (es_label_is_special(a))
        return es_error_set(err, ES_ERR_INVALID, "'%s' is a special label and cannot be merged away", a);
    two_names arg = {a, b};
    return vocab_edit(s, command, do_merge, &arg, err);
}

static int do_parent(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const two_names *arg = arg_;
    int64_t child, parent = ES_NONE;
    ES_CHECK(need_label(s, arg->a, &child, err));
    sqlite3 *db = es_store_sqlite(s);
    if (arg->b && *arg->b) {
        ES_CHECK(need_label(s, arg->b, &parent, err));
        /* walk up from parent: meeting child would close a cycle */
        int64_t cur = parent;
        for (int depth = 0; cur != ES_NONE; depth++) {
            if (cur == child || depth > 100000)
                return es_error_set(err, ES_ERR_INVALID, "'%s' under '%s' would make a cycle", arg->a, arg->b);
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(db, "SELECT parent_id FROM labels WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
                return sql_error(db, err);
            sqlite3_bind_int64(st, 1, cur);
            cur = (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                      ? sqlite3_column_int64(st, 0) : ES_NONE;
            sqlite3_finalize(st);
        }
        return run2(db, "UPDATE labels SET parent_id = ? WHERE id = ?", parent, child, NULL, err);
    }
    return run2(db, "UPDATE labels SET parent_id = NULL WHERE id = ?", child, 0, NULL, err);
}

int es_vocab_set_parent(es_store *s, const char *child, const char *parent, const char *command,
                        es_error *err) {
    two_names arg = {child, parent};
    return vocab_edit(s, command, do_parent, &arg, err);
}

int es_vocab_export(es_store *s, const char *path, es_error *err) {
    es_vocab_entry *v = NULL;
    size_t n = 0;
    ES_CHECK(es_vocab_list(s, &v, &n, err));
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "labels");
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v[i].name);
        const char *parent = NULL;
        for (size_t j = 0; j < n && v[i].parent_id != ES_NONE; j++)
            if (v[j].id == v[i].parent_id) parent = v[j].name;
        if (parent) cJSON_AddStringToObject(o, "parent", parent);
        else cJSON_AddNullToObject(o, "parent");
        cJSON_AddNumberToObject(o, "count", (double)v[i].count);
        cJSON_AddItemToArray(arr, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    es_vocab_entries_free(v, n);
    if (!text) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    int rc = es_write_file(path, text, err);
    if (!rc && !strcmp(path, "-")) fputc('\n', stdout);
    free(text);
    return rc;
}

typedef struct import_arg {
    cJSON *labels;
    const char *path;
    size_t *added;
} import_arg;

static int get_or_create(es_store *s, const char *name, int64_t *id, size_t *added, es_error *err) {
    ES_CHECK(es_vocab_find(s, name, id, err));
    if (*id != ES_NONE) return ES_OK;
    (*added)++;
    return es_store_label_get_or_create(s, name, ES_NONE, id, err);
}

static int do_import(es_store *s, int64_t hid, const void *arg_, es_error *err) {
    const import_arg *arg = arg_;
    cJSON *it;
    int idx = 0;
    /* names first (all checked before anything is written), then parents */
    cJSON_ArrayForEach(it, arg->labels) {
        cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        cJSON *parent = cJSON_GetObjectItemCaseSensitive(it, "parent");
        if (!cJSON_IsString(name) || (parent && !cJSON_IsString(parent) && !cJSON_IsNull(parent)))
            return es_error_set(err, ES_ERR_FORMAT, "%s: labels[%d]: needs \"name\" (string) and optional \"parent\" (string or null)", arg->path, idx);
        if (es_label_name_check(name->valuestring, err) ||
            (cJSON_IsString(parent) && es_label_name_check(parent->valuestring, err)))
            return es_error_prefix(err, "%s: labels[%d]", arg->path, idx);
        idx++;
    }
    cJSON_ArrayForEach(it, arg->labels) {
        int64_t id;
        ES_CHECK(get_or_create(s, cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring, &id, arg->added, err));
    }
    cJSON_ArrayForEach(it, arg->labels) {
        cJSON *parent = cJSON_GetObjectItemCaseSensitive(it, "parent");
        if (!parent) continue;
        const char *child = cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring;
        if (cJSON_IsString(parent)) {
            int64_t pid;
            ES_CHECK(get_or_create(s, parent->valuestring, &pid, arg->added, err));
        }
        two_names tn = {child, cJSON_IsString(parent) ? parent->valuestring : NULL};
        if (do_parent(s, hid, &tn, err)) return es_error_prefix(err, "%s", arg->path);
    }
    return ES_OK;
}

int es_vocab_import(es_store *s, const char *path, const char *command, size_t *added, es_error *err) {
    *added = 0;
    char *text = NULL;
    ES_CHECK(es_read_file(path, &text, NULL, err));
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
    if (!root || !cJSON_IsArray(labels)) {
        cJSON_Delete(root);
        return es_error_set(err, ES_ERR_FORMAT, "%s: expected {\"labels\": [{\"name\": ..., \"parent\": ...}]}", path);
    }
    import_arg arg = {labels, path, added};
    int rc = vocab_edit(s, command, do_import, &arg, err);
    cJSON_Delete(root);
    if (rc) *added = 0;
    return rc;
}
