/* safetensors.c: checkpoints in the safetensors format, so Python reads them with
 * safetensors.torch.load_file():
 *
 *   bytes 0..7     u64 little-endian N: length of the JSON header
 *   bytes 8..8+N   JSON: {"__metadata__": {str: str},
 *                         "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
 *                  (padded with spaces to a multiple of 8)
 *   then           raw little-endian tensor data; offsets are relative to this point
 *
 * Parameters are written under their names, optimiser state as "optim.<slot>.<name>"
 * (slot: momentum for SGD, exp_avg / exp_avg_sq for AdamW). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>

#include "nn_internal.h"

float *nn_optim_state(const nn_optim *opt, int slot, int *n_slots);
void nn_optim_set_steps(nn_optim *opt, int64_t steps);
int nn_optim_kind_of(const nn_optim *opt);
int64_t nn_params_grad_offset(const nn_params *ps, int i);

#define ST_MAX_HEADER (256u << 20)

static const char *slot_name(int kind, int slot) {
    if (kind == NN_OPTIM_SGD) return "momentum";
    return slot == 0 ? "exp_avg" : "exp_avg_sq";
}

static void put_u64le(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

typedef struct st_item {
    char name[NN_PARAM_NAME_MAX + 32];
    const nn_tensor *t;
    const float *dev; /* device pointer to numel floats */
} st_item;

int nn_checkpoint_save(const char *path, nn_params *ps, const nn_optim *opt, nn_ctx *ctx,
                       int n_meta, const char *const *meta_keys, const char *const *meta_values,
                       es_error *err) {
    int np = nn_params_count(ps), n_slots = 0;
    if (opt) nn_optim_state(opt, 0, &n_slots);
    int n_items = np;
    for (int i = 0; i < np && opt; i++)
        if (nn_params_grad_offset(ps, i) >= 0) n_items += n_slots;
    st_item *items = calloc((size_t)n_items + 1, sizeof *items);
    if (!items) return es_error_set(err, ES_ERR_NOMEM, "checkpoint: out of memory");
    int k = 0;
    for (int i = 0; i < np; i++) {
        nn_tensor *t = nn_params_tensor(ps, i);
        snprintf(items[k].name, sizeof items[k].name, "%s", nn_params_name(ps, i));
        items[k].t = t;
        items[k].dev = t->data;
        k++;
    }
    for (int s = 0; opt && s < n_slots; s++)
        for (int i = 0; i < np; i++) {
            int64_t go = nn_params_grad_offset(ps, i);
            if (go < 0) continue;
            snprintf(items[k].name, sizeof items[k].name, "optim.%s.%s",
                     slot_name(nn_optim_kind_of(opt), s), nn_params_name(ps, i));
            items[k].t = nn_params_tensor(ps, i);
            items[k].dev = nn_optim_state(opt, s, NULL) + go;
            k++;
        }
    /* header */
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "format", "pt");
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", opt ? (long long)nn_optim_steps(opt) : 0LL);
    cJSON_AddStringToObject(meta, "entseg.step", buf);
    if (opt) cJSON_AddStringToObject(meta, "entseg.optim", nn_optim_kind_of(opt) == NN_OPTIM_SGD ? "sgd" : "adamw");
    for (int i = 0; i < n_meta; i++) cJSON_AddStringToObject(meta, meta_keys[i], meta_values[i]);
    cJSON_AddItemToObject(root, "__metadata__", meta);
    uint64_t off = 0;
    for (int i = 0; i < k; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *shape = cJSON_CreateArray();
        for (int d = 0; d < items[i].t->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(items[i].t->shape[d]));
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON *offs = cJSON_CreateArray();
        uint64_t len = (uint64_t)items[i].t->numel * 4;
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + len)));
        cJSON_AddItemToObject(e, "data_offsets", offs);
        cJSON_AddItemToObject(root, items[i].name, e);
        off += len;
    }
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) {
        free(items);
        return es_error_set(err, ES_ERR_NOMEM, "checkpoint: out of memory");
    }
    size_t jlen = strlen(json), padded = (jlen + 7) / 8 * 8;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int rc = ES_OK;
    if (!f) {
        rc = es_error_set(err, ES_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    } else {
        unsigned char hdr[8];
        put_u64le(hdr, padded);
        int ok = fwrite(hdr, 1, 8, f) == 8 && fwrite(json, 1, jlen, f) == jlen;
        for (size_t i = jlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
        float *host = NULL;
        size_t host_n = 0;
        for (int i = 0; ok && i < k; i++) {
            size_t n = (size_t)items[i].t->numel;
            if (n > host_n) {
                free(host);
                host = malloc(n * sizeof(float));
                host_n = host ? n : 0;
                if (!host) {
                    rc = es_error_set(err, ES_ERR_NOMEM, "checkpoint: out of memory");
                    ok = 0;
                    break;
                }
            }
            rc = nn_memcpy_to_host(ctx, host, items[i].dev, n * sizeof(float), err);
            if (rc) {
                ok = 0;
                break;
            }
            ok = fwrite(host, sizeof(float), n, f) == n; /* x86/ARM: already little-endian */
        }
        free(host);
        if (fclose(f) != 0) ok = 0;
        if (!ok && rc == ES_OK) rc = es_error_set(err, ES_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        if (rc == ES_OK && rename(tmp, path) != 0)
            rc = es_error_set(err, ES_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        if (rc) remove(tmp);
    }
    free(json);
    free(items);
    return rc;
}

/* ---- reading ---- */

typedef struct st_file {
    FILE *f;
    cJSON *root;
    uint64_t data_start, data_size;
} st_file;

static int st_open(const char *path, st_file *sf, es_error *err) {
    memset(sf, 0, sizeof *sf);
    sf->f = fopen(path, "rb");
    if (!sf->f) return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char hdr[8];
    if (fread(hdr, 1, 8, sf->f) != 8) {
        fclose(sf->f);
        return es_error_set(err, ES_ERR_FORMAT, "%s: not a safetensors file (shorter than 8 bytes)", path);
    }
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)hdr[i] << (8 * i);
    fseek(sf->f, 0, SEEK_END);
    long size = ftell(sf->f);
    if (n == 0 || n > ST_MAX_HEADER || size < 0 || 8 + n > (uint64_t)size) {
        fclose(sf->f);
        return es_error_set(err, ES_ERR_FORMAT, "%s: not a safetensors file (header length %llu, file %ld bytes)",
                            path, (unsigned long long)n, size);
    }
    char *json = malloc(n + 1);
    if (!json) {
        fclose(sf->f);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory for the header", path);
    }
    fseek(sf->f, 8, SEEK_SET);
    if (fread(json, 1, n, sf->f) != n) {
        free(json);
        fclose(sf->f);
        return es_error_set(err, ES_ERR_IO, "%s: short read of the header", path);
    }
    json[n] = 0;
    sf->root = cJSON_Parse(json);
    free(json);
    if (!sf->root || !cJSON_IsObject(sf->root)) {
        cJSON_Delete(sf->root);
        fclose(sf->f);
        return es_error_set(err, ES_ERR_FORMAT, "%s: the header is not a JSON object", path);
    }
    sf->data_start = 8 + n;
    sf->data_size = (uint64_t)size - sf->data_start;
    return ES_OK;
}

static void st_close(st_file *sf) {
    cJSON_Delete(sf->root);
    if (sf->f) fclose(sf->f);
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* reads entry e (already checked to have numel elements) as fp32 into host */
static int st_read(const char *path, st_file *sf, const cJSON *e, const char *name,
                   int64_t numel, float *host, es_error *err) {
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return es_error_set(err, ES_ERR_FORMAT, "%s: tensor '%s': dtype or data_offsets missing", path, name);
    int esize;
    const char *d = dt->valuestring;
    if (!strcmp(d, "F32")) esize = 4;
    else if (!strcmp(d, "F16") || !strcmp(d, "BF16")) esize = 2;
    else if (!strcmp(d, "F64")) esize = 8;
    else return es_error_set(err, ES_ERR_FORMAT, "%s: tensor '%s': dtype %s cannot be loaded as float", path, name, d);
    double b = cJSON_GetArrayItem(offs, 0)->valuedouble, en = cJSON_GetArrayItem(offs, 1)->valuedouble;
    if (b < 0 || en < b || en > (double)sf->data_size || (uint64_t)(en - b) != (uint64_t)numel * esize)
        return es_error_set(err, ES_ERR_FORMAT, "%s: tensor '%s': data_offsets [%.0f, %.0f] do not fit %lld x %s in %llu bytes",
                            path, name, b, en, (long long)numel, d, (unsigned long long)sf->data_size);
    unsigned char *raw = malloc((size_t)numel * esize + 1);
    if (!raw) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    if (fseek(sf->f, (long)(sf->data_start + (uint64_t)b), SEEK_SET) != 0 ||
        fread(raw, (size_t)esize, (size_t)numel, sf->f) != (size_t)numel) {
        free(raw);
        return es_error_set(err, ES_ERR_IO, "%s: tensor '%s': short read", path, name);
    }
    for (int64_t i = 0; i < numel; i++) {
        const unsigned char *p = raw + i * esize;
        if (esize == 4) {
            memcpy(&host[i], p, 4);
        } else if (esize == 8) {
            double v;
            memcpy(&v, p, 8);
            host[i] = (float)v;
        } else {
            uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
            if (d[0] == 'B') {
                uint32_t bits = (uint32_t)h << 16;
                memcpy(&host[i], &bits, 4);
            } else {
                host[i] = half_to_float(h);
            }
        }
    }
    free(raw);
    return ES_OK;
}

static int shape_matches(const cJSON *e, const nn_tensor *t, char *desc, size_t size) {
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    size_t n = 0;
    desc[0] = 0;
    if (!cJSON_IsArray(shape)) return 0;
    int nd = cJSON_GetArraySize(shape), ok = nd == t->ndim;
    n += (size_t)snprintf(desc + n, size - n, "(");
    for (int d = 0; d < nd; d++) {
        double v = cJSON_GetArrayItem(shape, d)->valuedouble;
        if (n < size) n += (size_t)snprintf(desc + n, size - n, d ? ", %.0f" : "%.0f", v);
        if (ok && v != t->shape[d]) ok = 0;
    }
    if (n < size) snprintf(desc + n, size - n, ")");
    /* a scalar-vs-(1) difference is harmless */
    if (!ok && nd == 0 && t->numel == 1) ok = 1;
    return ok;
}

int nn_checkpoint_load(const char *path, nn_params *ps, nn_optim *opt, nn_ctx *ctx,
                       const char *prefix, unsigned flags, int *n_loaded, es_error *err) {
    if (n_loaded) *n_loaded = 0;
    st_file sf;
    ES_CHECK(st_open(path, &sf, err));
    int np = nn_params_count(ps), rc = ES_OK, loaded = 0;
    char *seen = calloc((size_t)np + 1, 1);
    float *host = NULL;
    size_t host_n = 0;
    if (!seen) rc = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    int n_slots = 0;
    if (opt) nn_optim_state(opt, 0, &n_slots);
    for (const cJSON *e = sf.root->child; e && rc == ES_OK; e = e->next) {
        const char *name = e->string;
        if (!name || !strcmp(name, "__metadata__")) continue;
        if (!cJSON_IsObject(e)) {
            rc = es_error_set(err, ES_ERR_FORMAT, "%s: entry '%s' is not an object", path, name);
            break;
        }
        /* optimiser state */
        float *dst = NULL;
        int idx = -1;
        if (!strncmp(name, "optim.", 6)) {
            if (!opt) continue;
            for (int s = 0; s < n_slots && idx < 0; s++) {
                const char *sn = slot_name(nn_optim_kind_of(opt), s);
                size_t l = strlen(sn);
                if (!strncmp(name + 6, sn, l) && name[6 + l] == '.') {
                    char full[NN_PARAM_NAME_MAX + 64];
                    snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", name + 7 + l);
                    idx = nn_params_find(ps, full);
                    if (idx >= 0 && nn_params_grad_offset(ps, idx) >= 0)
                        dst = nn_optim_state(opt, s, NULL) + nn_params_grad_offset(ps, idx);
                }
            }
            if (!dst) {
                if (flags & NN_LOAD_ALLOW_UNEXPECTED) continue;
                rc = es_error_set(err, ES_ERR_INVALID, "%s: optimiser state '%s' matches no parameter of this optimiser", path, name);
                break;
            }
        } else {
            char full[NN_PARAM_NAME_MAX + 64];
            snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", name);
            idx = nn_params_find(ps, full);
            if (idx < 0) {
                if (flags & NN_LOAD_ALLOW_UNEXPECTED) continue;
                rc = es_error_set(err, ES_ERR_INVALID,
                                  "%s: tensor '%s' matches no parameter ('%s'); allow unexpected tensors to skip it",
                                  path, name, full);
                break;
            }
            dst = nn_params_tensor(ps, idx)->data;
        }
        nn_tensor *t = nn_params_tensor(ps, idx);
        char desc[160], b2[80];
        if (!shape_matches(e, t, desc, sizeof desc)) {
            rc = es_error_set(err, ES_ERR_INVALID, "%s: tensor '%s' has shape %s, parameter '%s' has %s", path,
                              name, desc, nn_params_name(ps, idx), nn_shape_str(t, b2, sizeof b2));
            break;
        }
        if ((size_t)t->numel > host_n) {
            free(host);
            host = malloc((size_t)t->numel * sizeof(float));
            host_n = host ? (size_t)t->numel : 0;
            if (!host) {
                rc = es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
        }
        rc = st_read(path, &sf, e, name, t->numel, host, err);
        if (rc) break;
        rc = nn_memcpy_to_device(ctx, dst, host, (size_t)t->numel * sizeof(float), err);
        if (rc) break;
        if (dst == t->data && !seen[idx]) {
            seen[idx] = 1;
            loaded++;
        }
    }
    if (rc == ES_OK && !(flags & NN_LOAD_ALLOW_MISSING)) {
        for (int i = 0; i < np; i++)
            if (!seen[i] && (!prefix || !strncmp(nn_params_name(ps, i), prefix, strlen(prefix)))) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: parameter '%s' is missing from the file (%d of %d loaded)",
                                  path, nn_params_name(ps, i), loaded, np);
                break;
            }
    }
    if (rc == ES_OK && opt) {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(sf.root, "__metadata__");
        const cJSON *step = meta ? cJSON_GetObjectItemCaseSensitive(meta, "entseg.step") : NULL;
        if (cJSON_IsString(step)) nn_optim_set_steps(opt, strtoll(step->valuestring, NULL, 10));
    }
    if (n_loaded) *n_loaded = loaded;
    free(host);
    free(seen);
    st_close(&sf);
    return rc;
}

int nn_checkpoint_meta(const char *path, const char *key, char *buf, size_t size,
                       es_error *err) {
    if (size) buf[0] = 0;
    st_file sf;
    ES_CHECK(st_open(path, &sf, err));
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(sf.root, "__metadata__");
    const cJSON *v = meta ? cJSON_GetObjectItemCaseSensitive(meta, key) : NULL;
    if (cJSON_IsString(v) && size) snprintf(buf, size, "%s", v->valuestring);
    st_close(&sf);
    return ES_OK;
}
