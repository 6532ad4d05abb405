/* cmd_check.c: entseg-convert check DB [--json FILE|-] [--files]: verify a store.
 *
 * Checks, each problem printed as one line naming the image and entity:
 *  - SQLite's PRAGMA integrity_check, entities whose image does not exist;
 *  - every mask blob decodes (through the store reader; a blob that does not decode makes
 *    that image's entities unreadable, and the store's message names the entity);
 *  - each mask has its image's size and sum(runs) == h*w;
 *  - stored area and bbox equal those computed from the mask;
 *  - ground truth: non-crowd entities of one image do not overlap (unless the store was
 *    created with overlapping instances);
 *  - scores are finite; is_crowd is 0 or 1;
 *  - with --files: each image's file exists (path relative to the store's folder) and has
 *    the stored size.
 * Exit status 0 when clean, 1 when any problem was found (or the store cannot be opened).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"

#define MAX_OVERLAPS_PER_IMAGE 20

typedef struct checker {
    const char *db;
    cJSON *problems;  /* array */
    int64_t nproblems;
    int64_t images, entities;
    int print;        /* print lines to stdout */
    int overlapping;  /* store allows overlapping instances */
    int gt;
    int files;        /* check image files */
    char *dir;        /* the store's folder, for image paths */
} checker;

static void problem(checker *c, const es_image *img, int64_t entity_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(checker *c, const es_image *img, int64_t entity_id, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->nproblems++;
    if (c->print) {
        printf("%s:", c->db);
        if (img) printf(" image '%s' (id %" PRId64 "):", img->name, img->id);
        if (entity_id != ES_NONE) printf(" entity %" PRId64 ":", entity_id);
        printf(" %s\n", msg);
    }
    cJSON *p = cJSON_CreateObject();
    if (img) {
        cJSON_AddStringToObject(p, "image", img->name);
        cJSON_AddNumberToObject(p, "image_id", (double)img->id);
    }
    if (entity_id != ES_NONE) cJSON_AddNumberToObject(p, "entity_id", (double)entity_id);
    cJSON_AddStringToObject(p, "problem", msg);
    cJSON_AddItemToArray(c->problems, p);
}

/* SQL-level checks that need no decoding. */
static void check_sql(checker *c, es_store *s) {
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    if (!db) return;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(st, 0);
            if (r && strcmp(r, "ok")) problem(c, NULL, ES_NONE, "integrity_check: %s", r);
        }
    } else {
        problem(c, NULL, ES_NONE, "integrity_check cannot run: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT e.id, e.image_id FROM entities e LEFT JOIN images i ON i.id = e.image_id "
                           "WHERE i.id IS NULL",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            problem(c, NULL, sqlite3_column_int64(st, 0), "belongs to image id %lld, which does not exist",
                    (long long)sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
}

static int bbox_equal(const double a[4], const double b[4]) {
    for (int k = 0; k < 4; k++)
        if (!(fabs(a[k] - b[k]) <= 1e-9)) return 0;
    return 1;
}

static int boxes_overlap(const double a[4], const double b[4]) {
    return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
}

static void check_overlaps(checker *c, const es_image *img, const es_entity *ents, size_t n) {
    uint64_t sum = 0;
    size_t k = 0;
    es_rle *masks = malloc(sizeof *masks * (n ? n : 1));
    if (!masks) return;
    for (size_t i = 0; i < n; i++)
        if (!ents[i].is_crowd && ents[i].mask.h == img->height && ents[i].mask.w == img->width &&
            es_rle_validate(&ents[i].mask, NULL) == ES_OK) {
            masks[k++] = ents[i].mask; /* shallow: merge only reads */
            sum += es_rle_area(&ents[i].mask);
        }
    es_rle u = ES_RLE_EMPTY;
    int clean = k < 2 || (es_rle_merge(&u, masks, k, 0, NULL) == ES_OK && es_rle_area(&u) == sum);
    es_rle_free(&u);
    free(masks);
    if (clean) return;
    int reported = 0;
    for (size_t i = 0; i < n && reported < MAX_OVERLAPS_PER_IMAGE; i++) {
        const es_entity *a = &ents[i];
        if (a->is_crowd || a->mask.h != img->height || a->mask.w != img->width) continue;
        for (size_t j = i + 1; j < n && reported < MAX_OVERLAPS_PER_IMAGE; j++) {
            const es_entity *b = &ents[j];
            if (b->is_crowd || b->mask.h != img->height || b->mask.w != img->width) continue;
            double ba[4], bb[4];
            es_rle_to_bbox(&a->mask, ba);
            es_rle_to_bbox(&b->mask, bb);
            if (!boxes_overlap(ba, bb)) continue;
            uint64_t inter = es_rle_intersection_area(&a->mask, &b->mask);
            if (inter) {
                problem(c, img, a->id, "overlaps entity %" PRId64 " by %" PRIu64 " pixels (ground truth must not overlap)",
                        b->id, inter);
                reported++;
            }
        }
    }
}

static void check_file(checker *c, const es_image *img) {
    if (!img->path) {
        problem(c, img, ES_NONE, "has no image path");
        return;
    }
    char path[4096];
    if (img->path[0] == '/') snprintf(path, sizeof path, "%s", img->path);
    else snprintf(path, sizeof path, "%s/%s", c->dir, img->path);
    uint32_t w = 0, h = 0;
    es_error err = {0, ""};
    if (es_image_read_size(path, &w, &h, &err)) problem(c, img, ES_NONE, "image file: %s", err.msg);
    else if (w != img->width || h != img->height)
        problem(c, img, ES_NONE, "image file %s is %ux%u, the store says %ux%u", path, w, h, img->width, img->height);
}

static void check_image(checker *c, es_store *s, const es_image *img) {
    es_entity *ents = NULL;
    size_t n = 0;
    es_error err = {0, ""};
    c->images++;
    if (c->files) check_file(c, img);
    if (es_store_read_entities(s, img->id, &ents, &n, &err)) {
        problem(c, img, ES_NONE, "entities cannot be read: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const es_entity *e = &ents[i];
        c->entities++;
        if (e->mask.h != img->height || e->mask.w != img->width) {
            problem(c, img, e->id, "mask is %ux%u (w x h) but the image is %ux%u", e->mask.w, e->mask.h, img->width,
                    img->height);
            continue;
        }
        if (es_rle_validate(&e->mask, &err)) {
            problem(c, img, e->id, "mask runs are invalid: %s", err.msg);
            continue;
        }
        uint64_t area = es_rle_area(&e->mask);
        if (area != e->area) problem(c, img, e->id, "stored area %" PRIu64 " but the mask has %" PRIu64 " pixels", e->area, area);
        double bb[4];
        es_rle_to_bbox(&e->mask, bb);
        if (!bbox_equal(bb, e->bbox))
            problem(c, img, e->id, "stored bbox [%g, %g, %g, %g] but the mask's is [%g, %g, %g, %g]", e->bbox[0],
                    e->bbox[1], e->bbox[2], e->bbox[3], bb[0], bb[1], bb[2], bb[3]);
        if (!isfinite(e->score)) problem(c, img, e->id, "score %g is not finite", e->score);
        if (e->is_crowd != 0 && e->is_crowd != 1) problem(c, img, e->id, "is_crowd is %d, not 0 or 1", e->is_crowd);
    }
    if (c->gt && !c->overlapping) check_overlaps(c, img, ents, n);
    es_entities_free(ents, n);
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) path = ".", slash = path + 1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

static const char *check_usage =
    "usage: entseg-convert check DB [--json FILE|-] [--files]\n"
    "\n"
    "Verifies a store: SQLite integrity, every mask blob decodes, masks have their image's\n"
    "size, stored areas and bboxes agree with the masks, ground-truth entities do not overlap\n"
    "(unless the store holds overlapping instances), scores are finite. Prints one line per\n"
    "problem (image, entity, what is wrong) and exits 1 if there is any, 0 when clean.\n"
    "\n"
    "options:\n"
    "  --json FILE   also write the result as JSON to FILE ('-': stdout, instead of the lines)\n"
    "  --files       also check that each image's file exists (relative to the store's folder)\n"
    "                and has the stored size\n";

int es_cmd_check(int argc, char **argv) {
    const char *cmd = "check", *json = NULL, *pos[1];
    int files = 0;
    size_t npos = 0;
    es_cli_opt opts[] = {{"--json", NULL, &json, NULL}, {"--files", NULL, NULL, &files}, {NULL, NULL, NULL, NULL}};
    int rc = es_cli_parse(argc, argv, opts, check_usage, NULL, pos, 1, &npos);
    if (rc >= 0) return rc;
    if (npos != 1) {
        es_cli_error(cmd, "expected one store (see entseg-convert check --help)");
        return 2;
    }
    checker c;
    memset(&c, 0, sizeof c);
    c.db = pos[0];
    c.problems = cJSON_CreateArray();
    c.print = !json || strcmp(json, "-") != 0;
    c.files = files;
    c.dir = dir_of(c.db);
    es_error err = {0, ""};
    es_store *s = NULL;
    es_image *imgs = NULL;
    size_t nimg = 0;
    if (es_store_open(c.db, ES_OPEN_READ, &s, &err)) {
        problem(&c, NULL, ES_NONE, "cannot open: %s", err.msg);
    } else {
        c.gt = es_store_get_kind(s) == ES_STORE_GT;
        c.overlapping = es_store_overlapping_instances(s);
        check_sql(&c, s);
        if (es_store_images(s, &imgs, &nimg, &err)) problem(&c, NULL, ES_NONE, "images cannot be read: %s", err.msg);
        for (size_t i = 0; i < nimg; i++) check_image(&c, s, &imgs[i]);
        int64_t stored = es_store_entity_count(s);
        if (stored >= 0 && stored != c.entities && c.nproblems == 0)
            problem(&c, NULL, ES_NONE, "%" PRId64 " entity rows but %" PRId64 " read through their images", stored, c.entities);
    }
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "store", c.db);
        cJSON_AddBoolToObject(j, "ok", c.nproblems == 0);
        cJSON_AddNumberToObject(j, "images", (double)c.images);
        cJSON_AddNumberToObject(j, "entities", (double)c.entities);
        cJSON_AddNumberToObject(j, "problem_count", (double)c.nproblems);
        cJSON_AddItemToObject(j, "problems", c.problems);
        c.problems = NULL;
        char *text = cJSON_Print(j);
        FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;
        if (!f || !text || fputs(text, f) < 0 || fputc('\n', f) < 0 || (f != stdout && fclose(f) != 0))
            fprintf(stderr, "entseg-convert check: %s: cannot write the JSON\n", json);
        free(text);
        cJSON_Delete(j);
    }
    if (c.print && c.nproblems == 0)
        printf("%s: ok (%" PRId64 " images, %" PRId64 " entities checked)\n", c.db, c.images, c.entities);
    else if (c.print)
        fprintf(stderr, "entseg-convert check: %s: %" PRId64 " problem(s)\n", c.db, c.nproblems);
    cJSON_Delete(c.problems);
    es_images_free(imgs, nimg);
    es_store_close(s);
    free(c.dir);
    return c.nproblems ? 1 : 0;
}
