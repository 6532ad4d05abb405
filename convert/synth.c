/* synth.c: entseg-convert synth: a deterministic synthetic entity dataset (see synth.h).
 *
 * Images are generated on the thread pool (synth_scene.c), written as PNGs into a
 * temporary folder beside the store, and their entities go into the store in image order
 * (es_pipeline). Only when the store is finished does the folder replace
 * "<out>.images", so a failed run leaves the previous dataset as it was.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_numbers.h"
#include "commands.h"
#include "convert_internal.h"
#include "entseg/image.h"
#include "entseg/rle.h"
#include "synth_internal.h"

es_synth_options es_synth_options_default(void) {
    es_synth_options o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.images = 10;
    o.min_width = o.max_width = 640;
    o.min_height = o.max_height = 480;
    o.min_entities = 1;
    o.max_entities = 250;
    o.split = "train";
    o.name_prefix = "synth_";
    return o;
}

typedef struct synth_job {
    const es_synth_options *o;
    es_store *store;
    const char *tmp_dir;     /* where PNGs are written now */
    const char *rel_dir;     /* what image paths say: "<out name>.images" */
    es_convert_report *report;
    char name[64];           /* scratch for label() (writer thread only) */
} synth_job;

typedef struct synth_result {
    es_image img;
    es_entity *ents; /* (n) */
    size_t n;
    size_t crowd;
} synth_result;

static void result_free(synth_result *r) {
    if (!r) return;
    es_image_clear(&r->img);
    es_entities_free(r->ents, r->n);
    free(r);
}

static void image_name(const es_synth_options *o, size_t i, char *buf, size_t n) {
    snprintf(buf, n, "%s%06zu", o->name_prefix ? o->name_prefix : "synth_", i);
}

/* Label map -> entities: ids in 1..n_entities are entities, the ids above are crowd. */
static int entities_from_labels(const es_synth_image *si, synth_result *res, es_error *err) {
    es_label_rles lr;
    memset(&lr, 0, sizeof lr);
    ES_CHECK(es_rle_encode_labels(&lr, si->labels, si->height, si->width, err));
    res->ents = calloc(lr.n ? lr.n : 1, sizeof *res->ents);
    if (!res->ents) {
        es_label_rles_free(&lr);
        return es_error_set(err, ES_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < lr.n; k++) {
        uint32_t id = lr.ids[k];
        es_entity *e = &res->ents[k];
        *e = es_entity_default();
        e->mask = lr.rles[k]; /* moved */
        lr.rles[k] = ES_RLE_EMPTY;
        e->is_crowd = id > si->n_entities;
        e->score = 1.0;
        e->category_id = si->kind[id];
        e->isthing = si->isthing[id];
        e->source_segment_id = id;
        e->source_order = (int64_t)k;
        res->crowd += (size_t)e->is_crowd;
    }
    res->n = lr.n;
    es_label_rles_free(&lr);
    return ES_OK;
}

static int synth_work(void *ctx, size_t i, int thread, void **result, es_error *err) {
    (void)thread;
    synth_job *job = ctx;
    es_synth_image si;
    ES_CHECK(es_synth_make_image(job->o, i, &si, err));
    synth_result *res = calloc(1, sizeof *res);
    char name[64], file[80];
    image_name(job->o, i, name, sizeof name);
    snprintf(file, sizeof file, "%s.png", name);
    char *png_path = es_path_join(job->tmp_dir, file), *rel_path = es_path_join(job->rel_dir, file);
    int rc = ES_OK;
    if (!res || !png_path || !rel_path) {
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
        goto done;
    }
    es_pixels px = {si.width, si.height, 3, 1, si.rgb};
    rc = es_png_write_level(png_path, &px, job->o->png_level > 0 ? job->o->png_level : 1, err);
    if (!rc) rc = entities_from_labels(&si, res, err);
    if (rc) goto done;
    res->img.name = es_strdup_or_null(name);
    res->img.width = si.width;
    res->img.height = si.height;
    res->img.source = es_strdup_or_null("synth");
    res->img.split = es_strdup_or_null(job->o->split ? job->o->split : "train");
    res->img.path = rel_path;
    rel_path = NULL;
    res->img.source_id = (int64_t)i;
    if (!res->img.name || !res->img.source || !res->img.split) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
done:
    if (rc) {
        result_free(res);
        res = NULL;
        es_error_prefix(err, "image %s", name);
    }
    free(png_path);
    free(rel_path);
    es_synth_image_free(&si);
    *result = res;
    return rc;
}

static int synth_write(void *ctx, size_t i, void *result, es_error *err) {
    (void)i;
    synth_job *job = ctx;
    synth_result *res = result;
    int rc = es_store_add_image(job->store, &res->img, err);
    if (!rc) rc = es_store_add_entities(job->store, res->img.id, res->ents, res->n, err);
    if (!rc && job->report) {
        job->report->images++;
        job->report->entities += (int64_t)res->n;
        job->report->crowd += (int64_t)res->crowd;
    }
    if (rc) es_error_prefix(err, "image %s", res->img.name);
    result_free(res);
    return rc;
}

static void synth_drop(void *ctx, void *result) {
    (void)ctx;
    result_free(result);
}

static const char *synth_label(void *ctx, size_t i) {
    synth_job *job = ctx;
    image_name(job->o, i, job->name, sizeof job->name);
    return job->name;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_categories(es_store *s, es_error *err) {
    for (int k = 1; k < ES_SYNTH_KIND_COUNT; k++) {
        es_category c = {k, (char *)es_synth_kind_name(k), (char *)"synth",
                         k == ES_SYNTH_KIND_STUFF || k == ES_SYNTH_KIND_FULL ? 0 : 1};
        ES_CHECK(es_store_add_category(s, &c, err));
    }
    return ES_OK;
}

static void options_json(const es_synth_options *o, char *buf, size_t n) {
    snprintf(buf, n,
             "{\"seed\":%" PRIu64 ",\"images\":%u,\"size\":\"%ux%u-%ux%u\",\"min_entities\":%u,"
             "\"max_entities\":%u,\"no_crowd\":%d,\"no_void\":%d,\"no_tiny\":%d,\"no_thin\":%d,"
             "\"no_full\":%d,\"full_every\":%u,\"split\":\"%s\",\"prefix\":\"%s\",\"png_level\":%d}",
             o->seed, o->images, o->min_width, o->min_height, o->max_width, o->max_height, o->min_entities,
             o->max_entities, o->no_crowd, o->no_void, o->no_tiny, o->no_thin, o->no_full, o->full_every,
             o->split ? o->split : "train", o->name_prefix ? o->name_prefix : "synth_", o->png_level > 0 ? o->png_level : 1);
}

int es_synth_generate(const char *out_db, const es_synth_options *o, const es_convert_common *c, es_error *err) {
    if (!out_db || !o || !c) return es_error_set(err, ES_ERR_INVALID, "es_synth_generate: NULL argument");
    if (o->min_width < 1 || o->min_height < 1 || o->max_width < o->min_width || o->max_height < o->min_height)
        return es_error_set(err, ES_ERR_INVALID, "bad image size range %ux%u-%ux%u", o->min_width,
                            o->min_height, o->max_width, o->max_height);
    if (o->max_entities < 1 || o->min_entities > o->max_entities)
        return es_error_set(err, ES_ERR_INVALID, "bad entity range %u..%u", o->min_entities, o->max_entities);
    const char *prefix = o->name_prefix ? o->name_prefix : "synth_";
    if (strchr(prefix, '/') || strlen(prefix) > 40)
        return es_error_set(err, ES_ERR_INVALID, "image name prefix '%s' must be short and without '/'", prefix);
    char images_dir[4096], tmp_dir[4200], old_dir[4200], options[1024];
    snprintf(images_dir, sizeof images_dir, "%s.images", out_db);
    snprintf(tmp_dir, sizeof tmp_dir, "%s.tmp-%ld", images_dir, (long)getpid());
    snprintf(old_dir, sizeof old_dir, "%s.old-%ld", images_dir, (long)getpid());
    if (!c->replace && is_dir(images_dir))
        return es_error_set(err, ES_ERR_IO, "%s: already exists (use --replace to overwrite it)", images_dir);
    const char *slash = strrchr(images_dir, '/');
    const char *rel_dir = slash ? slash + 1 : images_dir;
    options_json(o, options, sizeof options);

    es_store *store = NULL;
    ES_CHECK(es_convert_create_store(out_db, ES_STORE_GT, 0, "entseg-convert synth 0.1", options, c, &store, err));
    remove_tree(tmp_dir);
    int rc = es_mkdir_p(tmp_dir, err);
    if (!rc) rc = es_store_meta_set(store, "synth_images_dir", rel_dir, err);
    if (!rc) rc = add_categories(store, err);
    synth_job job = {o, store, tmp_dir, rel_dir, c->report, {0}};
    es_pipeline_ops ops = {synth_work, synth_write, synth_drop, synth_label};
    if (!rc) rc = es_pipeline_run(o->images, &ops, &job, store, c, "synth", err);
    if (rc) {
        es_store_close(store);
        remove_tree(tmp_dir);
        return rc;
    }
    rc = es_convert_finish_store(store, c->report, err);
    if (rc) {
        remove_tree(tmp_dir);
        return rc;
    }
    /* the store is in place: now swap the image folder in */
    int had_old = is_dir(images_dir);
    if (had_old && rename(images_dir, old_dir) != 0)
        return es_error_set(err, ES_ERR_IO, "%s: cannot move the old images aside: %s (new images are in %s)",
                            images_dir, strerror(errno), tmp_dir);
    if (rename(tmp_dir, images_dir) != 0)
        return es_error_set(err, ES_ERR_IO, "%s: cannot move the images into place: %s (they are in %s)",
                            images_dir, strerror(errno), tmp_dir);
    if (had_old) remove_tree(old_dir);
    return ES_OK;
}

static const char *synth_usage =
    "usage: entseg-convert synth -o OUT.db [options]\n"
    "\n"
    "Writes a deterministic synthetic entity dataset: a ground-truth store OUT.db and one PNG per\n"
    "image in OUT.db.images/ (image paths in the store are relative to the store's folder).\n"
    "Scenes hold wavy stuff bands, things of many shapes, rings and perforated plates (holes),\n"
    "entities in several parts, thin lines and curves (1-3 px), tiny 1 px entities, void (id 0)\n"
    "regions, crowd regions (is_crowd = 1, never overlapping entities) and, now and then, one\n"
    "entity filling the whole image; each entity has its own colours and texture. The same\n"
    "options give byte-identical stores and PNGs on every machine and with any --threads.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      the store to write (required)\n"
    "  --images N             number of images (default 10)\n"
    "  --size WxH[-WxH]       image size, or a range drawn uniformly per side, e.g.\n"
    "                         480x360-640x480 for COCO-like variety (default 640x480; sides\n"
    "                         up to 100000, e.g. 15000x10000 for EntitySeg-like images)\n"
    "  --seed S               random seed (default 1)\n"
    "  --min-entities K       at least K entities per image (default 1)\n"
    "  --max-entities K       at most K entities per image (default 250); the count is\n"
    "                         skewed towards few, and min = max gives exactly K when the image\n"
    "                         has room (at most half its pixels)\n"
    "  --no-crowd             no crowd regions (otherwise ~35% of images have 1-2)\n"
    "  --no-void              no void pixels (otherwise ~60% of images have some)\n"
    "  --no-tiny              no planned 1 px entities (an entity covered by others may still\n"
    "                         shrink to 1 px)\n"
    "  --no-thin              no lines or curves 1-3 px wide\n"
    "  --no-full              no random image-filling entities (otherwise ~2% of images when\n"
    "                         --min-entities is 1)\n"
    "  --full-every N         every N-th image is one entity filling the whole image\n"
    "  --split NAME           the images' split (default train)\n"
    "  --prefix P             image names P000000, P000001, ... (default synth_)\n"
    "  --png-level L          zlib level of the PNGs, 1 (fastest, default) .. 9 (smallest)\n";

int es_cmd_synth(int argc, char **argv) {
    const char *cmd = "synth";
    es_synth_options o = es_synth_options_default();
    es_convert_common common = {0};
    es_convert_report report;
    memset(&report, 0, sizeof report);
    const char *out = NULL, *images = NULL, *size = NULL, *seed = NULL, *kmin = NULL, *kmax = NULL,
               *full_every = NULL, *split = NULL, *prefix = NULL, *png_level = NULL;
    es_cli_opt opts[] = {
        {"--output", "-o", &out, NULL},
        {"--images", NULL, &images, NULL},
        {"--size", NULL, &size, NULL},
        {"--seed", NULL, &seed, NULL},
        {"--min-entities", NULL, &kmin, NULL},
        {"--max-entities", NULL, &kmax, NULL},
        {"--no-crowd", NULL, NULL, &o.no_crowd},
        {"--no-void", NULL, NULL, &o.no_void},
        {"--no-tiny", NULL, NULL, &o.no_tiny},
        {"--no-thin", NULL, NULL, &o.no_thin},
        {"--no-full", NULL, NULL, &o.no_full},
        {"--full-every", NULL, &full_every, NULL},
        {"--split", NULL, &split, NULL},
        {"--prefix", NULL, &prefix, NULL},
        {"--png-level", NULL, &png_level, NULL},
        {NULL, NULL, NULL, NULL},
    };
    int rc = es_cli_parse(argc, argv, opts, synth_usage, &common, NULL, 0, NULL);
    if (rc >= 0) return rc;
    if (!es_cli_require(cmd, out, "-o OUT.db")) return 2;
    if (images && !es_convert_arg_u32(cmd, "--images", images, 0, 100000000, &o.images)) return 2;
    if (size && !es_convert_arg_size_range(cmd, "--size", size, &o.min_width, &o.min_height, &o.max_width, &o.max_height))
        return 2;
    if (seed && !es_convert_arg_u64(cmd, "--seed", seed, &o.seed)) return 2;
    if (kmin && !es_convert_arg_u32(cmd, "--min-entities", kmin, 1, 1000000, &o.min_entities)) return 2;
    if (kmax && !es_convert_arg_u32(cmd, "--max-entities", kmax, 1, 1000000, &o.max_entities)) return 2;
    if (kmin && !kmax && o.max_entities < o.min_entities) o.max_entities = o.min_entities;
    if (o.min_entities > o.max_entities) {
        es_cli_error(cmd, "--min-entities is larger than --max-entities");
        return 2;
    }
    if (full_every && !es_convert_arg_u32(cmd, "--full-every", full_every, 1, 100000000, &o.full_every)) return 2;
    if (png_level && !es_convert_arg_int(cmd, "--png-level", png_level, 1, 9, &o.png_level)) return 2;
    if (split) o.split = split;
    if (prefix) o.name_prefix = prefix;
    common.report = &report;
    es_error err = {0, ""};
    rc = es_synth_generate(out, &o, &common, &err);
    return es_cli_finish(cmd, out, rc, &err, &report, common.quiet);
}
