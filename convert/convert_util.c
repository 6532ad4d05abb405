/* convert_util.c: helpers every converter uses: paths, an id hash, growable arrays, COCO
 * images and categories, the conversion report, and creating / finishing the output store.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "convert_internal.h"
#include "entseg/pool.h"
#include "json_stream.h"

int es_group_by_image(const void *items, size_t n, size_t stride, size_t key_offset, size_t ngroups,
                      size_t **first, size_t **order, es_error *err) {
    const unsigned char *base = items;
    size_t *f = calloc(ngroups + 1, sizeof *f), *o = malloc((n ? n : 1) * sizeof *o);
    size_t *fill = calloc(ngroups ? ngroups : 1, sizeof *fill);
    *first = f;
    *order = o;
    if (!f || !o || !fill) {
        free(fill);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    size_t g;
    for (size_t i = 0; i < n; i++) {
        memcpy(&g, base + i * stride + key_offset, sizeof g);
        f[g + 1]++;
    }
    for (size_t k = 0; k < ngroups; k++) f[k + 1] += f[k];
    for (size_t i = 0; i < n; i++) {
        memcpy(&g, base + i * stride + key_offset, sizeof g);
        o[f[g] + fill[g]++] = i;
    }
    free(fill);
    return ES_OK;
}

char *es_strdup_or_null(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *es_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

char *es_path_stem(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, base, n);
    s[n] = '\0';
    return s;
}

char *es_path_with_ext(const char *path, const char *ext) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t n = (dot && (!slash || dot > slash)) ? (size_t)(dot - path) : strlen(path);
    size_t e = strlen(ext);
    char *s = malloc(n + e + 1);
    if (!s) return NULL;
    memcpy(s, path, n);
    memcpy(s + n, ext, e + 1);
    return s;
}

int es_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int es_mkdir_p(const char *dir, es_error *err) {
    char *p = es_strdup_or_null(dir);
    if (!p) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int rc = es_error_set(err, ES_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        *q = '/';
    }
    int rc = ES_OK;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = es_error_set(err, ES_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
    free(p);
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int es_list_dir(const char *dir, const char *suffix, int dirs_only, char ***names, size_t *n, es_error *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return es_error_set(err, ES_ERR_IO, "%s: cannot open the directory", dir);
    size_t cap = 0, sl = suffix ? strlen(suffix) : 0;
    int rc = ES_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        size_t l = strlen(de->d_name);
        if (suffix && (l < sl || strcmp(de->d_name + l - sl, suffix))) continue;
        if (dirs_only) {
            char *p = es_path_join(dir, de->d_name);
            struct stat st;
            int is_dir = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
            free(p);
            if (!is_dir) continue;
        }
        rc = es_grow((void **)names, &cap, *n + 1, sizeof **names, err);
        if (!rc && !((*names)[(*n)++] = es_strdup_or_null(de->d_name))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    closedir(d);
    if (!rc) qsort(*names, *n, sizeof **names, cmp_names);
    return rc;
}

void es_free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---- id hash ---- */

static size_t hash64(int64_t k) {
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (size_t)x;
}

static int idmap_rehash(es_idmap *m, size_t cap, es_error *err) {
    es_idmap n = {cap, 0, calloc(cap, sizeof(int64_t)), calloc(cap, sizeof(size_t)), calloc(cap, 1)};
    if (!n.keys || !n.vals || !n.used) {
        es_idmap_free(&n);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->used[i]) continue;
        size_t j = hash64(m->keys[i]) & (cap - 1);
        while (n.used[j]) j = (j + 1) & (cap - 1);
        n.used[j] = 1;
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.n++;
    }
    es_idmap_free(m);
    *m = n;
    return ES_OK;
}

int es_idmap_put(es_idmap *m, int64_t key, size_t val, size_t *old, es_error *err) {
    if ((m->n + 1) * 2 > m->cap) ES_CHECK(idmap_rehash(m, m->cap ? m->cap * 2 : 64, err));
    size_t j = hash64(key) & (m->cap - 1);
    while (m->used[j]) {
        if (m->keys[j] == key) {
            if (old) *old = m->vals[j];
            return es_error_set(err, ES_ERR_INVALID, "duplicate id %lld", (long long)key);
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->used[j] = 1;
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return ES_OK;
}

int es_idmap_get(const es_idmap *m, int64_t key, size_t *val) {
    if (!m->cap) return 0;
    size_t j = hash64(key) & (m->cap - 1);
    while (m->used[j]) {
        if (m->keys[j] == key) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void es_idmap_free(es_idmap *m) {
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

int es_grow(void **items, size_t *cap, size_t need, size_t item_size, es_error *err) {
    if (need <= *cap) return ES_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *p = realloc(*items, c * item_size);
    if (!p) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    *items = p;
    *cap = c;
    return ES_OK;
}

/* ---- COCO images ---- */

int es_coco_image_key(const cJSON *obj, const char *member, int64_t *key, const char **str) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);
    *str = NULL;
    if (cJSON_IsString(v)) {
        /* FNV-1a, moved above 2^61 so it cannot meet the small integer ids of a mixed file */
        uint64_t h = 1469598103934665603ULL;
        for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++) h = (h ^ *p) * 1099511628211ULL;
        *key = (int64_t)((h & ((1ULL << 61) - 1)) | (1ULL << 61));
        *str = v->valuestring;
        return 1;
    }
    return es_json_get_int(obj, member, key);
}

int es_coco_images_add(es_coco_images *imgs, const char *json_path, long index, const cJSON *item,
                       es_error *err) {
    es_coco_image im = {0};
    int64_t w = 0, h = 0;
    const char *id_str = NULL;
    if (!es_coco_image_key(item, "id", &im.id, &id_str))
        return es_error_set(err, ES_ERR_FORMAT, "%s: images[%ld]: missing or invalid \"id\"", json_path, index);
    if (!es_json_get_int(item, "width", &w) || !es_json_get_int(item, "height", &h) || w <= 0 || h <= 0 ||
        w > 1000000 || h > 1000000)
        return es_error_set(err, ES_ERR_FORMAT, "%s: image %lld (images[%ld]): missing or invalid width/height",
                            json_path, (long long)im.id, index);
    const char *fn = es_json_get_string(item, "file_name");
    if (!fn)
        return es_error_set(err, ES_ERR_FORMAT, "%s: image %lld (images[%ld]): missing \"file_name\"", json_path,
                            (long long)im.id, index);
    size_t old = 0;
    if (es_idmap_put(&imgs->by_id, im.id, imgs->n, &old, err)) {
        if (err && err->code == ES_ERR_NOMEM) return ES_ERR_NOMEM;
        return es_error_set(err, ES_ERR_INVALID, "%s: image %lld (images[%ld]): duplicate image id (also images[%zu])",
                            json_path, (long long)im.id, index, old);
    }
    ES_CHECK(es_grow((void **)&imgs->items, &imgs->cap, imgs->n + 1, sizeof *imgs->items, err));
    im.width = (uint32_t)w;
    im.height = (uint32_t)h;
    im.file_name = es_strdup_or_null(fn);
    im.id_str = es_strdup_or_null(id_str);
    im.source = es_strdup_or_null(es_json_get_string(item, "source"));
    im.split = es_strdup_or_null(es_json_get_string(item, "split"));
    if (!im.file_name) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    imgs->items[imgs->n++] = im;
    return ES_OK;
}

void es_coco_images_free(es_coco_images *imgs) {
    for (size_t i = 0; i < imgs->n; i++) {
        free(imgs->items[i].file_name);
        free(imgs->items[i].id_str);
        free(imgs->items[i].source);
        free(imgs->items[i].split);
    }
    free(imgs->items);
    es_idmap_free(&imgs->by_id);
    memset(imgs, 0, sizeof *imgs);
}

/* ---- COCO categories ---- */

int es_coco_categories_add(es_coco_categories *cats, const char *json_path, long index, const cJSON *item,
                           es_error *err) {
    es_category c = {0};
    if (!es_json_get_int(item, "id", &c.id))
        return es_error_set(err, ES_ERR_FORMAT, "%s: categories[%ld]: missing or non-integer \"id\"", json_path,
                            index);
    for (size_t i = 0; i < cats->n; i++)
        if (cats->items[i].id == c.id)
            return es_error_set(err, ES_ERR_INVALID, "%s: categories[%ld]: duplicate category id %lld", json_path,
                                index, (long long)c.id);
    int64_t isthing = -1;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(item, "isthing");
    if (cJSON_IsBool(it)) isthing = cJSON_IsTrue(it);
    else if (!es_json_get_int(item, "isthing", &isthing)) isthing = -1;
    c.isthing = isthing < 0 ? -1 : isthing != 0;
    const char *name = es_json_get_string(item, "name");
    char buf[32];
    if (!name) {
        snprintf(buf, sizeof buf, "%lld", (long long)c.id);
        name = buf;
    }
    ES_CHECK(es_grow((void **)&cats->items, &cats->cap, cats->n + 1, sizeof *cats->items, err));
    c.name = es_strdup_or_null(name);
    c.supercategory = es_strdup_or_null(es_json_get_string(item, "supercategory"));
    if (!c.name) return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    cats->items[cats->n++] = c;
    return ES_OK;
}

int es_coco_category_isthing(const es_coco_categories *cats, int64_t id) {
    for (size_t i = 0; i < cats->n; i++)
        if (cats->items[i].id == id) return cats->items[i].isthing;
    return -1;
}

int es_coco_categories_store(const es_coco_categories *cats, es_store *s, es_error *err) {
    for (size_t i = 0; i < cats->n; i++) ES_CHECK(es_store_add_category(s, &cats->items[i], err));
    return ES_OK;
}

void es_coco_categories_free(es_coco_categories *cats) {
    for (size_t i = 0; i < cats->n; i++) {
        free(cats->items[i].name);
        free(cats->items[i].supercategory);
    }
    free(cats->items);
    memset(cats, 0, sizeof *cats);
}

/* ---- report ---- */

static int add_line(char ***lines, size_t *n, const char *fmt, va_list ap) {
    char buf[1200];
    vsnprintf(buf, sizeof buf, fmt, ap);
    char **l = realloc(*lines, (*n + 1) * sizeof **lines);
    if (!l) return ES_ERR_NOMEM;
    *lines = l;
    l[*n] = es_strdup_or_null(buf);
    if (!l[*n]) return ES_ERR_NOMEM;
    (*n)++;
    return ES_OK;
}

int es_report_add_skipped(es_convert_report *r, const char *fmt, ...) {
    if (!r) return ES_OK;
    va_list ap;
    va_start(ap, fmt);
    int rc = add_line(&r->skipped, &r->nskipped, fmt, ap);
    va_end(ap);
    return rc;
}

int es_report_add_warning(es_convert_report *r, const char *fmt, ...) {
    if (!r) return ES_OK;
    va_list ap;
    va_start(ap, fmt);
    int rc = add_line(&r->warnings, &r->nwarnings, fmt, ap);
    va_end(ap);
    return rc;
}

void es_convert_report_free(es_convert_report *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nskipped; i++) free(r->skipped[i]);
    for (size_t i = 0; i < r->nwarnings; i++) free(r->warnings[i]);
    free(r->skipped);
    free(r->warnings);
    memset(r, 0, sizeof *r);
}

int es_report_to_meta(const es_convert_report *r, es_store *s, es_error *err) {
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"images\": %lld, \"entities\": %lld, \"crowd\": %lld, \"crowd_dropped\": %lld, "
             "\"declared_area_differs\": %lld, \"id_zero\": %lld, \"empty_segments\": %lld, "
             "\"overlaps_painted\": %lld, \"skipped_images\": %zu}",
             (long long)r->images, (long long)r->entities, (long long)r->crowd, (long long)r->crowd_dropped,
             (long long)r->declared_area_differs, (long long)r->id_zero, (long long)r->empty_segments,
             (long long)r->overlaps_painted, r->nskipped);
    return es_store_meta_set(s, "convert_report", buf, err);
}

/* ---- store ---- */

int es_convert_create_store(const char *out_db, es_store_kind kind, int overlapping, const char *creator,
                            const char *options_text, const es_convert_common *c, es_store **out,
                            es_error *err) {
    if (!c->replace && es_file_exists(out_db))
        return es_error_set(err, ES_ERR_IO, "%s: already exists (use --replace to overwrite it)", out_db);
    es_store_options opt = {0};
    opt.kind = kind;
    opt.overlapping_instances = overlapping;
    opt.creator = creator;
    opt.options = options_text;
    opt.replace = c->replace;
    return es_store_create(out_db, &opt, out, err);
}

int es_convert_finish_store(es_store *s, const es_convert_report *r, es_error *err) {
    int rc = r ? es_report_to_meta(r, s, err) : ES_OK;
    if (rc) {
        es_store_close(s);
        return rc;
    }
    return es_store_finish(s, err);
}

int es_convert_threads(const es_convert_common *c) {
    return c->threads > 0 ? c->threads : 0;
}

int es_thread_buffers_init(es_thread_buffers *b, const es_convert_common *c, es_error *err) {
    b->n = (size_t)(c->threads > 0 ? c->threads : es_ncores());
    b->buf = calloc(b->n, sizeof *b->buf);
    b->cap = calloc(b->n, sizeof *b->cap);
    if (!b->buf || !b->cap) {
        es_thread_buffers_free(b);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    return ES_OK;
}

void *es_thread_buffer(es_thread_buffers *b, int t, size_t bytes) {
    if (t < 0 || (size_t)t >= b->n) return NULL;
    if (b->cap[t] < bytes) {
        free(b->buf[t]);
        b->buf[t] = malloc(bytes);
        b->cap[t] = b->buf[t] ? bytes : 0;
    }
    return b->buf[t];
}

void es_thread_buffers_free(es_thread_buffers *b) {
    for (size_t i = 0; b->buf && i < b->n; i++) free(b->buf[i]);
    free(b->buf);
    free(b->cap);
    memset(b, 0, sizeof *b);
}
