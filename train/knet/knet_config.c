/* knet_config.c: presets, JSON config files and key=value overrides. */
#include "knet/knet.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* F_SQUARE: a key with no field of its own (image_size=S sets scales = {S}, max_size = S
 * and test_scale = S; never written back) */
typedef enum { F_INT, F_FLOAT, F_STR, F_INT4, F_PATH, F_INTS, F_SQUARE } field_type;

typedef struct field {
    const char *name;
    field_type type;
    size_t offset;
} field;

#define FI(n) {#n, F_INT, offsetof(knet_config, n)}
#define FF(n) {#n, F_FLOAT, offsetof(knet_config, n)}

static const field fields[] = {
    {"preset", F_STR, offsetof(knet_config, preset)},
    {"image_size", F_SQUARE, 0}, FI(num_kernels), FI(channels), FI(stem),
    {"scales", F_INTS, offsetof(knet_config, scales)}, FI(max_size), FI(pad_divisor),
    FI(test_scale), FF(flip), FI(cache_mb),
    {"widths", F_INT4, offsetof(knet_config, widths)},
    FI(gn_groups), FI(heads), FI(ffn_channels), FI(stages), FI(batch),
    FF(lr), FF(weight_decay), FF(clip), FF(backbone_lr_mult), FF(warmup_ratio),
    FI(warmup_iters), FI(iters), FI(steps0), FI(steps1), FI(val_every), FI(ckpt_every),
    FI(log_every), FI(topk), FF(mask_thr), FI(seed), FI(loader_threads),
    {"backbone_weights", F_PATH, offsetof(knet_config, backbone_weights)},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])

knet_config knet_config_tiny(void) {
    knet_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.preset, sizeof c.preset, "tiny");
    c.scales[0] = 128;
    c.max_size = 128;
    c.pad_divisor = 32;
    c.test_scale = 128;
    c.flip = 0.5f;
    c.cache_mb = 1024;
    c.num_kernels = 16;
    c.channels = 64;
    c.stem = 24;
    c.widths[0] = 32, c.widths[1] = 64, c.widths[2] = 96, c.widths[3] = 128;
    c.gn_groups = 8;
    c.heads = 4;
    c.ffn_channels = 256;
    c.stages = 3;
    c.batch = 8;
    c.lr = 1e-4f;
    c.weight_decay = 0.05f;
    c.clip = 1.0f;
    c.backbone_lr_mult = 1.0f;
    c.warmup_ratio = 0.001f;
    c.warmup_iters = 100;
    c.iters = 3000;
    c.val_every = 500;
    c.ckpt_every = 200;
    c.log_every = 10;
    c.topk = 16;
    c.mask_thr = 0.5f;
    c.seed = 1;
    c.loader_threads = 2;
    return c;
}

knet_config knet_config_full(void) {
    knet_config c = knet_config_tiny();
    snprintf(c.preset, sizeof c.preset, "full");
    /* K-Net's multi-scale COCO training: short side 480..800 in steps of 32, long <= 1333 */
    for (int i = 0; i < 11; i++) c.scales[i] = 480 + 32 * i;
    c.max_size = 1333;
    c.test_scale = 800;
    c.num_kernels = 100;
    c.channels = 256;
    c.stem = 64;
    c.widths[0] = 256, c.widths[1] = 512, c.widths[2] = 1024, c.widths[3] = 2048;
    c.gn_groups = 32;
    c.heads = 8;
    c.ffn_channels = 2048;
    c.batch = 2;
    c.backbone_lr_mult = 0.25f;
    c.warmup_iters = 1000;
    c.iters = 368750;
    c.steps0 = 327778;
    c.steps1 = 355092;
    c.val_every = 5000;
    c.ckpt_every = 5000;
    c.log_every = 50;
    c.topk = 100;
    c.loader_threads = 4;
    return c;
}

int knet_config_preset(const char *name, knet_config *out, es_error *err) {
    if (!strcmp(name, "tiny")) *out = knet_config_tiny();
    else if (!strcmp(name, "full")) *out = knet_config_full();
    else return es_error_set(err, ES_ERR_INVALID, "config: preset must be tiny or full, not '%s'", name);
    return ES_OK;
}

static const field *find_field(const char *name) {
    for (size_t i = 0; i < N_FIELDS; i++)
        if (!strcmp(fields[i].name, name)) return &fields[i];
    return NULL;
}

static int set_from_text(knet_config *c, const field *f, const char *v, es_error *err) {
    char *end = NULL;
    void *p = (char *)c + f->offset;
    switch (f->type) {
    case F_STR: {
        knet_config named; /* checks the name; key=value renames, the other fields stay */
        ES_CHECK(knet_config_preset(v, &named, err));
        snprintf((char *)p, sizeof c->preset, "%s", v);
        return ES_OK;
    }
    case F_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || x < 0 || x > 100000000)
            return es_error_set(err, ES_ERR_INVALID, "config: %s: not a non-negative integer: '%s'", f->name, v);
        *(int *)p = (int)x;
        return ES_OK;
    }
    case F_SQUARE: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || x < 32 || x > 100000 || x % 32)
            return es_error_set(err, ES_ERR_INVALID, "config: %s must be a multiple of 32 (got '%s')", f->name, v);
        memset(c->scales, 0, sizeof c->scales);
        c->scales[0] = c->max_size = c->test_scale = (int)x;
        return ES_OK;
    }
    case F_INTS: {
        int v2[KNET_MAX_SCALES] = {0}, k = 0;
        for (const char *q = v; k < KNET_MAX_SCALES; k++) {
            long x = strtol(q, &end, 10);
            if (end == q || x < 1 || x > 100000) break;
            v2[k] = (int)x;
            if (*end != ',') break;
            q = end + 1;
        }
        if (k == KNET_MAX_SCALES || end == v || *end || !v2[k])
            return es_error_set(err, ES_ERR_INVALID, "config: %s: want 1 to %d positive integers a,b,..., got '%s'",
                                f->name, KNET_MAX_SCALES, v);
        memcpy(p, v2, sizeof v2);
        return ES_OK;
    }
    case F_FLOAT: {
        double x = strtod(v, &end);
        if (end == v || *end || !(x == x))
            return es_error_set(err, ES_ERR_INVALID, "config: %s: not a number: '%s'", f->name, v);
        *(float *)p = (float)x;
        return ES_OK;
    }
    case F_PATH:
        if (strlen(v) >= sizeof c->backbone_weights)
            return es_error_set(err, ES_ERR_INVALID, "config: %s: path longer than %zu bytes", f->name,
                                sizeof c->backbone_weights - 1);
        snprintf((char *)p, sizeof c->backbone_weights, "%s", v);
        return ES_OK;
    case F_INT4: {
        int w[4];
        if (sscanf(v, "%d,%d,%d,%d", &w[0], &w[1], &w[2], &w[3]) != 4)
            return es_error_set(err, ES_ERR_INVALID, "config: widths: want a,b,c,d, got '%s'", v);
        memcpy(p, w, sizeof w);
        return ES_OK;
    }
    }
    return ES_OK;
}

static int validate(const knet_config *c, es_error *err) {
    if (c->scales[0] < 8 || c->max_size < 8 || c->test_scale < 8)
        return es_error_set(err, ES_ERR_INVALID, "config: scales, max_size and test_scale must be >= 8");
    if (c->pad_divisor < 4 || c->pad_divisor % 4)
        return es_error_set(err, ES_ERR_INVALID, "config: pad_divisor must be a multiple of 4 (got %d; 32 matches the backbone)",
                            c->pad_divisor);
    if (knet_is_full(c) && c->pad_divisor % 32)
        return es_error_set(err, ES_ERR_INVALID, "config: the full preset's ResNet-50 needs pad_divisor a multiple of 32 (got %d)",
                            c->pad_divisor);
    if (!(c->flip >= 0 && c->flip <= 1))
        return es_error_set(err, ES_ERR_INVALID, "config: flip is a probability, 0..1 (got %g)", c->flip);
    if (c->num_kernels < 1 || c->channels < 8 || c->stages < 1 || c->stages > KNET_MAX_STAGES)
        return es_error_set(err, ES_ERR_INVALID, "config: num_kernels, channels or stages out of range");
    if (c->heads < 1 || c->channels % c->heads)
        return es_error_set(err, ES_ERR_INVALID, "config: channels must be divisible by heads");
    if (c->gn_groups < 1 || c->stem % c->gn_groups || c->channels % c->gn_groups)
        return es_error_set(err, ES_ERR_INVALID, "config: gn_groups must divide stem and channels");
    for (int i = 0; i < 4; i++)
        if (c->widths[i] < 1 || c->widths[i] % c->gn_groups)
            return es_error_set(err, ES_ERR_INVALID, "config: gn_groups must divide every width");
    if (c->batch < 1 || c->batch > KNET_MAX_BATCH)
        return es_error_set(err, ES_ERR_INVALID, "config: batch must be 1..%d", KNET_MAX_BATCH);
    if (c->topk < 1) return es_error_set(err, ES_ERR_INVALID, "config: topk must be >= 1");
    return ES_OK;
}

int knet_config_set(knet_config *c, const char *assignment, es_error *err) {
    const char *eq = strchr(assignment, '=');
    if (!eq) return es_error_set(err, ES_ERR_INVALID, "--set: want key=value, got '%s'", assignment);
    char key[64];
    size_t kl = (size_t)(eq - assignment);
    if (kl >= sizeof key) kl = sizeof key - 1;
    memcpy(key, assignment, kl);
    key[kl] = 0;
    const field *f = find_field(key);
    if (!f) return es_error_set(err, ES_ERR_INVALID, "--set: unknown config key '%s'", key);
    knet_config tmp = *c; /* c changes only when the result is valid */
    ES_CHECK(set_from_text(&tmp, f, eq + 1, err));
    ES_CHECK(validate(&tmp, err));
    *c = tmp;
    return ES_OK;
}

int knet_config_parse_json(knet_config *c, const char *text, es_error *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return es_error_set(err, ES_ERR_FORMAT, "config: not a JSON object");
    }
    /* "preset" first so its defaults come before the other keys */
    knet_config keep = *c;
    cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "preset");
    int rc = ES_OK;
    if (pre && !cJSON_IsString(pre)) rc = es_error_set(err, ES_ERR_INVALID, "config: preset must be tiny or full");
    else if (pre) rc = knet_config_preset(pre->valuestring, c, err);
    for (cJSON *it = root->child; it && !rc; it = it->next) {
        if (!strcmp(it->string, "preset") || it->string[0] == '_') continue; /* "_comment" */
        const field *f = find_field(it->string);
        if (!f) {
            rc = es_error_set(err, ES_ERR_INVALID, "config: unknown key '%s'", it->string);
            break;
        }
        char buf[600]; /* > backbone_weights, so an over-long path is refused, not cut */
        if (cJSON_IsNumber(it))
            snprintf(buf, sizeof buf, f->type == F_FLOAT ? "%.9g" : "%.0f", it->valuedouble);
        else if (cJSON_IsString(it))
            snprintf(buf, sizeof buf, "%s", it->valuestring);
        else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) >= 1 && cJSON_GetArraySize(it) <= KNET_MAX_SCALES) {
            size_t len = 0; /* "a,b,c,...": the field's text parser checks the count */
            for (cJSON *e = it->child; e; e = e->next)
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d", len ? "," : "", e->valueint);
        } else {
            rc = es_error_set(err, ES_ERR_INVALID, "config: %s: unsupported value", it->string);
            break;
        }
        rc = set_from_text(c, f, buf, err);
    }
    cJSON_Delete(root);
    if (!rc) rc = validate(c, err);
    if (rc) *c = keep;
    return rc;
}

int knet_config_load_json(knet_config *c, const char *path, es_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open", path);
    char *buf = malloc(1 << 16);
    if (!buf) {
        fclose(f);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = 0;
    int rc = knet_config_parse_json(c, buf, err);
    free(buf);
    if (rc) es_error_prefix(err, "%s", path);
    return rc;
}

char *knet_config_to_json(const knet_config *c) {
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < N_FIELDS; i++) {
        const void *p = (const char *)c + fields[i].offset;
        switch (fields[i].type) {
        case F_STR:
        case F_PATH: cJSON_AddStringToObject(o, fields[i].name, (const char *)p); break;
        case F_INT: cJSON_AddNumberToObject(o, fields[i].name, *(const int *)p); break;
        case F_FLOAT: cJSON_AddNumberToObject(o, fields[i].name, *(const float *)p); break;
        case F_INT4: cJSON_AddItemToObject(o, fields[i].name, cJSON_CreateIntArray((const int *)p, 4)); break;
        case F_SQUARE: break;
        case F_INTS: {
            int k = 0;
            while (k < KNET_MAX_SCALES && ((const int *)p)[k]) k++;
            cJSON_AddItemToObject(o, fields[i].name, cJSON_CreateIntArray((const int *)p, k));
            break;
        }
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
