/* bench_store.c (bench-store): what the entity store costs.
 *
 *  1. Mask bytes against the source panoptic PNGs holding the same masks, step by step
 *     (plain counts, zstd, varints, the column model, a trained dictionary), for the COCO
 *     panoptic samples and for synthetic COCO-size (640 x 480) label maps written as
 *     COCO-style RGB PNGs (zlib level 6, as PIL writes them).
 *  2. Random access: mean time of es_store_read_entities on a 100,000-image store.
 *  3. Scan: es_store_scan over a COCO-size store of ~135k entities (the evaluator's input).
 *
 * Usage: bench-store [--coco DIR] [--synth N] [--random-images N] [--scan-images N]
 *                    [--tmp DIR]
 * DIR defaults to $ES_SHARED_DIR/data/coco-panopticapi/sample_data/panoptic_examples.
 * Prints one table per part; scripts/bench-store runs it.
 */
#define _GNU_SOURCE
#define ZSTD_STATIC_LINKING_ONLY
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../src/mask_blob.h"
#include <sqlite3.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"

/* Wall clock, and this thread's CPU time (stable on a loaded machine). */
static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static double rnd01(void) { return rnd() / 2097152.0 / 1024.0; } /* [0, 1) */

/* The headline numbers, printed again at the end. */
static struct {
    double coco_ratio, synth_ratio_store, synth_ratio_after;
    double random_mean_us, random_cpu_us;
    double scan_coco_cpu_s, scan_coco_wall_s;
    size_t scan_coco_entities;
    int have_coco, have_synth, have_random, have_scan;
} summary;

static void die(const char *what, const es_error *err) {
    fprintf(stderr, "bench-store: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

/* One image's masks and the bytes of the PNG they came from. */
typedef struct mask_set {
    uint32_t h, w;
    size_t n;
    es_rle *rles;
    size_t png_bytes;
} mask_set;

static void mask_set_from_ids(mask_set *ms, const uint32_t *ids, uint32_t h, uint32_t w) {
    es_error err = {0};
    es_label_rles lr;
    if (es_rle_encode_labels(&lr, ids, h, w, &err)) die("encode labels", &err);
    ms->h = h;
    ms->w = w;
    ms->n = lr.n;
    ms->rles = malloc((lr.n ? lr.n : 1) * sizeof *ms->rles);
    for (size_t i = 0; i < lr.n; i++) {
        ms->rles[i] = lr.rles[i];
        lr.rles[i] = ES_RLE_EMPTY;
    }
    es_label_rles_free(&lr);
}

static size_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static int load_coco_png(const char *path, mask_set *ms) {
    es_error err = {0};
    es_pixels px = ES_PIXELS_EMPTY;
    if (es_image_read(path, 0, &px, &err)) {
        fprintf(stderr, "bench-store: %s\n", err.msg);
        return -1;
    }
    uint32_t *ids = malloc((size_t)px.width * px.height * sizeof *ids);
    if (es_pixels_to_ids(&px, ids, &err)) die("pixels to ids", &err);
    mask_set_from_ids(ms, ids, px.height, px.width);
    ms->png_bytes = file_size(path);
    free(ids);
    es_pixels_free(&px);
    return 0;
}

/* A COCO-like panoptic label map: "stuff" as a warped Voronoi partition (polygonal,
 * slightly curved borders), "things" as rotated ellipses and polygons painted over it
 * (occlusion makes them non-convex, some are split in two), a few tiny objects, thin poles
 * and a void region. Ids are random 24-bit colours as in COCO panoptic PNGs. */
static uint32_t *synth_label_map(uint32_t h, uint32_t w) {
    uint32_t *map = calloc((size_t)h * w, sizeof *map);
    int nstuff = 3 + (int)(rnd() % 8);
    double sx[16], sy[16];
    uint32_t sid[16];
    for (int k = 0; k < nstuff; k++) {
        sx[k] = rnd01() * w;
        sy[k] = rnd01() * h;
        sid[k] = 1 + rnd() % 0xfffffe;
    }
    double ax = 4 + rnd01() * 10, ay = 4 + rnd01() * 10, f1 = 0.01 + rnd01() * 0.03,
           f2 = 0.01 + rnd01() * 0.03, p1 = rnd01() * 6, p2 = rnd01() * 6;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            double wx = x + ax * sin(y * f1 + p1), wy = y + ay * sin(x * f2 + p2);
            int best = 0;
            double bd = 1e30;
            for (int k = 0; k < nstuff; k++) {
                double d = (wx - sx[k]) * (wx - sx[k]) + (wy - sy[k]) * (wy - sy[k]);
                if (d < bd) {
                    bd = d;
                    best = k;
                }
            }
            map[(size_t)y * w + x] = sid[best];
        }
    int nthings = 2 + (int)(rnd() % 22);
    for (int t = 0; t < nthings; t++) {
        uint32_t id = 1 + rnd() % 0xfffffe;
        double cx = rnd01() * w, cy = rnd01() * h;
        double r = rnd() % 6 == 0 ? 1 + rnd01() * 6 : 10 + rnd01() * rnd01() * 160;
        double ra = r * (0.4 + rnd01() * 0.9), rb = r * (0.4 + rnd01() * 0.9);
        double ang = rnd01() * 3.14159, ca = cos(ang), sa = sin(ang);
        int poly = rnd() % 2; /* diamond-ish polygon vs ellipse */
        int y0 = (int)fmax(0, cy - r * 1.4), y1 = (int)fmin(h - 1, cy + r * 1.4);
        int x0 = (int)fmax(0, cx - r * 1.4), x1 = (int)fmin(w - 1, cx + r * 1.4);
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                double dx = x - cx, dy = y - cy, u = (dx * ca + dy * sa) / ra,
                       v = (-dx * sa + dy * ca) / rb;
                int in = poly ? fabs(u) + fabs(v) < 1.0 : u * u + v * v < 1.0;
                if (in) map[(size_t)y * w + x] = id;
            }
    }
    if (rnd() % 3 == 0) { /* a thin pole */
        uint32_t id = 1 + rnd() % 0xfffffe, x = rnd() % w, y0 = rnd() % (h / 2);
        for (uint32_t y = y0; y < h; y++)
            for (uint32_t d = 0; d < 3 && x + d < w; d++) map[(size_t)y * w + x + d] = id;
    }
    /* void: unlabeled pixels along a band, as annotators leave them */
    uint32_t vy = rnd() % h, vh = rnd() % 12;
    for (uint32_t y = vy; y < vy + vh && y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if ((x / 37 + y) % 3) map[(size_t)y * w + x] = 0;
    return map;
}

static void synth_set(mask_set *ms, uint32_t h, uint32_t w, const char *png_path) {
    uint32_t *map = synth_label_map(h, w);
    es_pixels px = ES_PIXELS_EMPTY;
    es_error err = {0};
    if (es_pixels_alloc(&px, w, h, 3, 1, &err)) die("alloc", &err);
    uint8_t *rgb = px.data;
    for (size_t i = 0; i < (size_t)h * w; i++) {
        rgb[3 * i] = map[i] & 0xff;
        rgb[3 * i + 1] = (map[i] >> 8) & 0xff;
        rgb[3 * i + 2] = (map[i] >> 16) & 0xff;
    }
    if (es_png_write(png_path, &px, &err)) die("png write", &err);
    es_pixels_free(&px);
    mask_set_from_ids(ms, map, h, w);
    ms->png_bytes = file_size(png_path);
    unlink(png_path);
    free(map);
}

/* ---- part 1: bytes ---- */

enum { STEP_RAW32, STEP_ZSTD32, STEP_VARINT, STEP_VARINT_ZSTD, STEP_COLUMNS, STEP_COLUMNS_ZSTD,
       STEP_COUNT };
static const char *step_names[STEP_COUNT] = {
    "uint32 run lengths, no compression",
    "zstd -19 over uint32 run lengths (standard frame)",
    "varint run lengths",
    "varint run lengths + zstd",
    "column model (T.6 symbols), no compression",
    "column model + zstd = the store's blob",
};

static size_t step_bytes(es_mask_codec *c, const es_rle *r, int step) {
    es_error err = {0};
    const uint8_t *blob;
    size_t n = 0;
    switch (step) {
    case STEP_RAW32: return (size_t)r->m * 4;
    case STEP_ZSTD32: {
        size_t cap = ZSTD_compressBound(r->m * 4);
        void *dst = malloc(cap);
        size_t z = ZSTD_compress(dst, cap, r->cnts, r->m * 4, 19);
        free(dst);
        return z;
    }
    case STEP_VARINT:
        if (es_mask_blob_encode_with(c, r, ES_BLOB_MODEL_COUNTS, 0, &blob, &n, &err)) die("enc", &err);
        return n;
    case STEP_VARINT_ZSTD:
        if (es_mask_blob_encode_with(c, r, ES_BLOB_MODEL_COUNTS, ES_MASK_BLOB_ZSTD_LEVEL, &blob, &n, &err))
            die("enc", &err);
        return n;
    case STEP_COLUMNS:
        if (es_mask_blob_encode_with(c, r, ES_BLOB_MODEL_COLUMNS, 0, &blob, &n, &err)) die("enc", &err);
        return n;
    default:
        if (es_mask_blob_encode(c, r, &blob, &n, &err)) die("enc", &err);
        return n;
    }
}

/* Bytes of each mask coded with a zstd dictionary (magicless, no content size or dict id,
 * as the store would write it): header bytes + the smaller of payload and frame. */
static size_t dict_bytes(es_mask_codec *c, ZSTD_CCtx *cctx, const es_rle *r) {
    es_error err = {0};
    const uint8_t *blob, *payload;
    size_t blob_n, payload_n;
    if (es_mask_blob_encode_with(c, r, ES_BLOB_MODEL_AUTO, 0, &blob, &blob_n, &err)) die("enc", &err);
    size_t header = blob_n;
    if (es_mask_blob_payload(c, r, ES_BLOB_MODEL_AUTO, &payload, &payload_n, &err)) die("enc", &err);
    header -= payload_n;
    size_t cap = ZSTD_compressBound(payload_n);
    void *dst = malloc(cap);
    size_t z = ZSTD_compress2(cctx, dst, cap, payload, payload_n);
    free(dst);
    if (ZSTD_isError(z) || z > payload_n) z = payload_n;
    return header + z;
}

static size_t total_entities(const mask_set *sets, size_t nsets) {
    size_t n = 0;
    for (size_t i = 0; i < nsets; i++) n += sets[i].n;
    return n;
}

static size_t total_png(const mask_set *sets, size_t nsets) {
    size_t n = 0;
    for (size_t i = 0; i < nsets; i++) n += sets[i].png_bytes;
    return n;
}

/* What a store holds for the sets: all mask bytes (with its dictionary, if it trained
 * one), and the bytes and source PNG bytes of the images written after the dictionary. */
typedef struct store_result {
    int64_t bytes, dict_bytes;
    int64_t after_bytes, after_png;
    size_t after_masks;
    double write_cpu_s;
} store_result;

static store_result store_bytes(const mask_set *sets, size_t nsets, const char *path) {
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, "bench-store", NULL, 1};
    es_store *s;
    store_result res = {0};
    if (es_store_create(path, &opt, &s, &err)) die("create", &err);
    double t0 = cpu_s();
    for (size_t i = 0; i < nsets; i++) {
        char name[32];
        snprintf(name, sizeof name, "img%06zu", i);
        es_image img = {0, name, sets[i].w, sets[i].h, "synth", NULL, NULL, ES_NONE};
        if (es_store_add_image(s, &img, &err)) die("add image", &err);
        es_entity *ents = calloc(sets[i].n + 1, sizeof *ents);
        for (size_t k = 0; k < sets[i].n; k++) {
            ents[k] = es_entity_default();
            ents[k].mask = sets[i].rles[k]; /* borrowed, not freed here */
        }
        if (es_store_add_entities(s, img.id, ents, sets[i].n, &err)) die("add entities", &err);
        free(ents);
    }
    res.write_cpu_s = cpu_s() - t0;
    res.bytes = es_store_mask_bytes(s);
    if (es_store_finish(s, &err)) die("finish", &err);
    if (es_store_open(path, ES_OPEN_READ, &s, &err)) die("open", &err);
    /* the first image whose masks name the dictionary */
    int64_t first_after = INT64_MAX;
    sqlite3_stmt *q;
    sqlite3 *db = es_store_sqlite(s);
    sqlite3_prepare_v2(db, "SELECT image_id, mask FROM entities ORDER BY id", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const uint8_t *b = sqlite3_column_blob(q, 1);
        if (sqlite3_column_bytes(q, 1) > 1 && (b[1] & ES_BLOB_ZSTD_DICT)) {
            first_after = sqlite3_column_int64(q, 0) + 1; /* the next image is wholly after */
            break;
        }
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT coalesce(sum(length(data)), 0) FROM mask_dictionaries", -1, &q, NULL);
    if (sqlite3_step(q) == SQLITE_ROW) res.dict_bytes = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT image_id, sum(length(mask)), count(*) FROM entities WHERE image_id >= ?1 GROUP BY image_id", -1, &q, NULL);
    sqlite3_bind_int64(q, 1, first_after);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        res.after_bytes += sqlite3_column_int64(q, 1);
        res.after_masks += (size_t)sqlite3_column_int64(q, 2);
        res.after_png += (int64_t)sets[id - 1].png_bytes;
    }
    sqlite3_finalize(q);
    es_store_close(s);
    return res;
}

/* Steps on sets[]; the store rows use all_sets[] (which ends with sets[]). */
static void report_bytes(const char *title, const mask_set *sets, size_t nsets,
                         const mask_set *all_sets, size_t nall, const char *tmp,
                         const ZSTD_CDict *dict, size_t dict_size) {
    es_mask_codec *c;
    es_error err = {0};
    if (es_mask_codec_create(&c, &err)) die("codec", &err);
    size_t ents = total_entities(sets, nsets), png = total_png(sets, nsets);
    printf("\n%s: %zu images, %zu masks, source PNGs %zu bytes (%.1f B/mask)\n", title, nsets,
           ents, png, (double)png / ents);
    printf("  %-52s %9s %9s %7s\n", "step", "bytes", "B/mask", "x PNG");
    for (int step = 0; step < STEP_COUNT; step++) {
        size_t bytes = 0;
        for (size_t i = 0; i < nsets; i++)
            for (size_t k = 0; k < sets[i].n; k++) bytes += step_bytes(c, &sets[i].rles[k], step);
        printf("  %-52s %9zu %9.1f %7.3f\n", step_names[step], bytes, (double)bytes / ents,
               (double)bytes / png);
    }
    if (dict) {
        ZSTD_CCtx *cctx = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ES_MASK_BLOB_ZSTD_LEVEL);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
        ZSTD_CCtx_refCDict(cctx, dict);
        size_t bytes = 0;
        for (size_t i = 0; i < nsets; i++)
            for (size_t k = 0; k < sets[i].n; k++) bytes += dict_bytes(c, cctx, &sets[i].rles[k]);
        printf("  %-52s %9zu %9.1f %7.3f\n", "  + zstd dictionary (trained on other images)", bytes,
               (double)bytes / ents, (double)bytes / png);
        printf("  %-52s %9zu %9.1f %7.3f\n", "    the same + the dictionary itself", bytes + dict_size,
               (double)(bytes + dict_size) / ents, (double)(bytes + dict_size) / png);
        ZSTD_freeCCtx(cctx);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-store-bytes.db", tmp);
    store_result sr = store_bytes(all_sets, nall, path);
    size_t all_ents = total_entities(all_sets, nall), all_png = total_png(all_sets, nall);
    printf("  %-52s %9lld %9.1f %7.3f\n", "in a store of all images: blobs + its dictionary",
           (long long)sr.bytes, (double)sr.bytes / all_ents, (double)sr.bytes / all_png);
    if (all_sets == sets) {
        summary.have_coco = 1;
        summary.coco_ratio = (double)sr.bytes / all_png;
    } else {
        summary.have_synth = 1;
        summary.synth_ratio_store = (double)sr.bytes / all_png;
        summary.synth_ratio_after = sr.after_masks ? (double)sr.after_bytes / sr.after_png : NAN;
    }
    if (!sr.dict_bytes)
        printf("  (no store dictionary: fewer than 100 masks, or none paid for itself)\n");
    printf("  write: %.1f us CPU per mask (encode + checks + insert); dictionary %lld bytes; "
           "store file %zu bytes\n",
           sr.write_cpu_s / all_ents * 1e6, (long long)sr.dict_bytes, file_size(path));
    /* decode speed of the store's blobs */
    size_t total_blob = 0, nblobs = 0;
    for (size_t i = 0; i < nsets; i++) total_blob += sets[i].n;
    uint8_t **blobs = malloc(total_blob * sizeof *blobs);
    size_t *lens = malloc(total_blob * sizeof *lens);
    const es_rle **of = malloc(total_blob * sizeof *of);
    for (size_t i = 0; i < nsets; i++)
        for (size_t k = 0; k < sets[i].n; k++) {
            const uint8_t *b;
            size_t n;
            if (es_mask_blob_encode(c, &sets[i].rles[k], &b, &n, &err)) die("enc", &err);
            blobs[nblobs] = malloc(n);
            memcpy(blobs[nblobs], b, n);
            of[nblobs] = &sets[i].rles[k];
            lens[nblobs++] = n;
        }
    int reps = 1 + (int)(200000 / (nblobs + 1));
    double t0 = cpu_s();
    for (int rep = 0; rep < reps; rep++)
        for (size_t i = 0; i < nblobs; i++) {
            es_rle r = ES_RLE_EMPTY;
            if (es_mask_blob_decode(c, blobs[i], lens[i], of[i]->h, of[i]->w, &r, &err))
                die("decode", &err);
            es_rle_free(&r);
        }
    printf("  decode without a dictionary: %.2f us CPU per mask\n",
           (cpu_s() - t0) / (reps * (double)nblobs) * 1e6);
    for (size_t i = 0; i < nblobs; i++) free(blobs[i]);
    free(blobs);
    free(lens);
    free(of);
    unlink(path);
    es_mask_codec_free(c);
}

/* zstd level vs bytes and encode time, on the store's payloads. */
static void report_levels(const mask_set *sets, size_t nsets) {
    es_mask_codec *c;
    es_error err = {0};
    if (es_mask_codec_create(&c, &err)) die("codec", &err);
    size_t ents = total_entities(sets, nsets), png = total_png(sets, nsets);
    printf("\n  zstd level   bytes/PNG  encode us/mask\n");
    static const int levels[] = {1, 3, 6, 9, 12, 15, 19};
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        size_t bytes = 0;
        double t0 = cpu_s();
        for (size_t i = 0; i < nsets; i++)
            for (size_t k = 0; k < sets[i].n; k++) {
                const uint8_t *b;
                size_t n;
                if (es_mask_blob_encode_with(c, &sets[i].rles[k], ES_BLOB_MODEL_AUTO, levels[li], &b, &n, &err))
                    die("enc", &err);
                bytes += n;
            }
        printf("  %10d   %9.3f  %14.1f%s\n", levels[li], (double)bytes / png,
               (cpu_s() - t0) / ents * 1e6, levels[li] == ES_MASK_BLOB_ZSTD_LEVEL ? "  <- used" : "");
    }
    es_mask_codec_free(c);
}

static ZSTD_CDict *train_dict(const mask_set *sets, size_t nsets, size_t *dict_size) {
    es_mask_codec *c;
    es_error err = {0};
    if (es_mask_codec_create(&c, &err)) die("codec", &err);
    size_t ents = total_entities(sets, nsets), cap = 1 << 20, used = 0;
    uint8_t *samples = malloc(cap);
    size_t *sizes = malloc(ents * sizeof *sizes), ns = 0;
    for (size_t i = 0; i < nsets; i++)
        for (size_t k = 0; k < sets[i].n; k++) {
            const uint8_t *p;
            size_t n;
            if (es_mask_blob_payload(c, &sets[i].rles[k], ES_BLOB_MODEL_AUTO, &p, &n, &err)) die("payload", &err);
            if (used + n > cap) {
                cap = 2 * (used + n);
                samples = realloc(samples, cap);
            }
            memcpy(samples + used, p, n);
            used += n;
            sizes[ns++] = n;
        }
    static uint8_t dict[16384];
    size_t dn = 0;
    int rc = es_mask_dict_train(dict, sizeof dict, samples, sizes, ns, &dn, &err);
    free(samples);
    free(sizes);
    es_mask_codec_free(c);
    if (rc) {
        printf("  (%s)\n", err.msg);
        return NULL;
    }
    *dict_size = dn;
    return ZSTD_createCDict(dict, dn, ES_MASK_BLOB_ZSTD_LEVEL);
}

/* ---- parts 2 and 3: random access and scan ---- */

typedef struct scan_count {
    size_t images, entities;
    uint64_t runs;
} scan_count;

static int count_scan(void *ctx, const es_image *img, es_entity *ents, size_t n, es_error *err) {
    scan_count *sc = ctx;
    sc->images++;
    sc->entities += n;
    for (size_t i = 0; i < n; i++) sc->runs += ents[i].mask.m;
    return 0;
}

/* Builds a store of nimages images cycling through sets[]; returns seconds to build. */
static double build_cycling_store(const char *path, const mask_set *sets, size_t nsets,
                                  size_t nimages) {
    es_error err = {0};
    es_store_options opt = {ES_STORE_GT, 0, "bench-store", NULL, 1};
    es_store *s;
    if (es_store_create(path, &opt, &s, &err)) die("create", &err);
    double t0 = now_s();
    size_t maxn = 0;
    for (size_t i = 0; i < nsets; i++)
        if (sets[i].n > maxn) maxn = sets[i].n;
    es_entity *ents = calloc(maxn + 1, sizeof *ents);
    for (size_t i = 0; i < nimages; i++) {
        const mask_set *ms = &sets[i % nsets];
        char name[32];
        snprintf(name, sizeof name, "%012zu", i);
        es_image img = {0, name, ms->w, ms->h, "synth", "val", NULL, (int64_t)i};
        if (es_store_add_image(s, &img, &err)) die("add image", &err);
        for (size_t k = 0; k < ms->n; k++) {
            ents[k] = es_entity_default();
            ents[k].mask = ms->rles[k];
            ents[k].category_id = (int64_t)(k % 133);
        }
        if (es_store_add_entities(s, img.id, ents, ms->n, &err)) die("add entities", &err);
    }
    free(ents);
    if (es_store_finish(s, &err)) die("finish", &err);
    return now_s() - t0;
}

/* Small masks for the 100,000-image store: 4 to 8 entities on a 96 x 64 image. */
static void small_sets(mask_set *sets, size_t nsets) {
    for (size_t i = 0; i < nsets; i++) {
        uint32_t h = 64, w = 96;
        uint32_t *map = calloc((size_t)h * w, sizeof *map);
        int k = 4 + (int)(rnd() % 5);
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t id = 1 + (x * k) / w;
                double dx = x - 30.0 - (double)(i % 20), dy = y - 30.0;
                if (dx * dx + dy * dy < 150) id = (uint32_t)k + 1;
                map[(size_t)y * w + x] = id;
            }
        mask_set_from_ids(&sets[i], map, h, w);
        free(map);
    }
}

static void random_access(const char *tmp, size_t nimages) {
    mask_set sets[64];
    small_sets(sets, 64);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-store-random.db", tmp);
    double build = build_cycling_store(path, sets, 64, nimages);
    es_error err = {0};
    es_store *s;
    if (es_store_open(path, ES_OPEN_READ, &s, &err)) die("open", &err);
    int64_t nent = es_store_entity_count(s);
    printf("\nrandom access: %zu images, %lld entities (96x64), store %zu bytes, built in %.1f s "
           "(%.1f us per image)\n",
           nimages, (long long)nent, file_size(path), build, build / nimages * 1e6);
    enum { READS = 20000 };
    double worst = 0, total = 0, total_cpu = 0;
    size_t got = 0;
    for (int i = 0; i < READS; i++) {
        int64_t id = 1 + (int64_t)(rnd() % nimages);
        double t0 = now_s(), c0 = cpu_s();
        es_entity *ents;
        size_t n;
        if (es_store_read_entities(s, id, &ents, &n, &err)) die("read", &err);
        es_entities_free(ents, n);
        double dt = now_s() - t0;
        total_cpu += cpu_s() - c0;
        total += dt;
        if (dt > worst) worst = dt;
        got += n;
    }
    printf("  es_store_read_entities, %d random images: mean %.1f us wall (%.1f us CPU), worst "
           "%.1f us wall (%.1f entities each; target < 1000 us)\n",
           READS, total / READS * 1e6, total_cpu / READS * 1e6, worst * 1e6, (double)got / READS);
    summary.have_random = 1;
    summary.random_mean_us = total / READS * 1e6;
    summary.random_cpu_us = total_cpu / READS * 1e6;
    es_store_close(s);
    unlink(path);
    for (int i = 0; i < 64; i++) {
        for (size_t k = 0; k < sets[i].n; k++) es_rle_free(&sets[i].rles[k]);
        free(sets[i].rles);
    }
}

static void scan_speed(const char *title, const char *tmp, const mask_set *sets, size_t nsets,
                       size_t nimages) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bench-store-scan.db", tmp);
    double build = build_cycling_store(path, sets, nsets, nimages);
    es_error err = {0};
    es_store *s;
    if (es_store_open(path, ES_OPEN_READ, &s, &err)) die("open", &err);
    int64_t nent = es_store_entity_count(s);
    printf("\nscan, %s: %zu images (%zu distinct), %lld entities, store %zu bytes, built in "
           "%.1f s wall (%.1f us per entity)\n",
           title, nimages, nsets, (long long)nent, file_size(path), build, build / nent * 1e6);
    for (int flags = 0; flags <= ES_SCAN_NO_MASKS; flags++) {
        double best = 1e30, best_cpu = 1e30;
        scan_count sc = {0};
        for (int rep = 0; rep < 3; rep++) {
            memset(&sc, 0, sizeof sc);
            double t0 = now_s(), c0 = cpu_s();
            if (es_store_scan(s, ES_NONE, ES_NONE, flags, count_scan, &sc, &err)) die("scan", &err);
            double dt = now_s() - t0, dc = cpu_s() - c0;
            if (dt < best) best = dt;
            if (dc < best_cpu) best_cpu = dc;
        }
        printf("  es_store_scan%s: %zu entities in %.3f s wall / %.3f s CPU = %.2f us CPU per "
               "entity; %.3f s CPU per 135k entities\n",
               flags ? " (no masks)" : "", sc.entities, best, best_cpu,
               best_cpu / sc.entities * 1e6, best_cpu / sc.entities * 135000);
        if (!flags && !strncmp(title, "real COCO", 9)) {
            summary.have_scan = 1;
            summary.scan_coco_cpu_s = best_cpu;
            summary.scan_coco_wall_s = best;
            summary.scan_coco_entities = sc.entities;
        }
    }
    es_store_close(s);
    unlink(path);
}

int main(int argc, char **argv) {
    const char *coco = NULL, *tmp = "/tmp";
    size_t nsynth = 400, nrandom = 100000, nscan = 5000;
    char coco_buf[4096];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--coco") && i + 1 < argc) coco = argv[++i];
        else if (!strcmp(argv[i], "--synth") && i + 1 < argc) nsynth = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--random-images") && i + 1 < argc) nrandom = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--scan-images") && i + 1 < argc) nscan = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--tmp") && i + 1 < argc) tmp = argv[++i];
        else {
            fprintf(stderr, "usage: bench-store [--coco DIR] [--synth N] [--random-images N] "
                            "[--scan-images N] [--tmp DIR]\n");
            return 2;
        }
    }
    if (nsynth < 2) nsynth = 2;
    if (!coco && getenv("ES_SHARED_DIR")) {
        snprintf(coco_buf, sizeof coco_buf,
                 "%s/data/coco-panopticapi/sample_data/panoptic_examples", getenv("ES_SHARED_DIR"));
        coco = coco_buf;
    }
    printf("bench-store: mask blob v%d, zstd %s, level %d\n", ES_MASK_BLOB_VERSION,
           ZSTD_versionString(), ES_MASK_BLOB_ZSTD_LEVEL);

    /* synthetic COCO-size maps: half trains the dictionary, the other half is measured */
    char png_path[4096];
    snprintf(png_path, sizeof png_path, "%s/bench-store-%d.png", tmp, (int)getpid());
    mask_set *synth = calloc(nsynth, sizeof *synth);
    for (size_t i = 0; i < nsynth; i++) synth_set(&synth[i], 480, 640, png_path);
    size_t half = nsynth / 2, dict_size = 0;
    ZSTD_CDict *dict = train_dict(synth, half, &dict_size);

    static mask_set cs[64];
    mask_set *coco_sets = NULL;
    size_t coco_nsets = 0, coco_scan_images = 0;
    if (coco) {
        DIR *d = opendir(coco);
        size_t nc = 0;
        struct dirent *e;
        static char names[64][256];
        while (d && (e = readdir(d)) && nc < 64)
            if (strstr(e->d_name, ".png")) snprintf(names[nc++], 256, "%s", e->d_name);
        if (d) closedir(d);
        qsort(names, nc, sizeof names[0], (int (*)(const void *, const void *))strcmp);
        size_t loaded = 0;
        for (size_t i = 0; i < nc; i++) {
            char *p = NULL;
            if (asprintf(&p, "%s/%s", coco, names[i]) < 0) die("out of memory", NULL);
            if (!load_coco_png(p, &cs[loaded])) loaded++;
            free(p);
        }
        if (loaded) {
            report_bytes("COCO panoptic samples", cs, loaded, cs, loaded, tmp, dict, dict_size);
            report_levels(cs, loaded);
            /* the evaluator's input path at COCO val scale: ~135k real COCO masks (the 50
             * samples, cycled) in one store, which then trains its dictionary on them */
            size_t per_image = total_entities(cs, loaded) / loaded;
            coco_scan_images = per_image ? 135000 / per_image : 0;
            coco_sets = cs;
            coco_nsets = loaded;
        } else {
            printf("\nCOCO samples: none found in %s\n", coco);
        }
    } else {
        printf("\nCOCO samples: skipped (set ES_SHARED_DIR or pass --coco DIR)\n");
    }
    report_bytes("synthetic COCO-size maps (measured half)", synth + half, nsynth - half, synth,
                 nsynth, tmp, dict, dict_size);
    report_levels(synth + half, nsynth - half);
    ZSTD_freeCDict(dict);

    random_access(tmp, nrandom);
    if (coco_nsets && nscan) {
        scan_speed("real COCO masks (samples cycled)", tmp, coco_sets, coco_nsets,
                   coco_scan_images);
        for (size_t i = 0; i < coco_nsets; i++) {
            for (size_t k = 0; k < coco_sets[i].n; k++) es_rle_free(&coco_sets[i].rles[k]);
            free(coco_sets[i].rles);
        }
    }
    if (nscan) scan_speed("synthetic COCO-size maps", tmp, synth, nsynth, nscan);
    for (size_t i = 0; i < nsynth; i++) {
        for (size_t k = 0; k < synth[i].n; k++) es_rle_free(&synth[i].rles[k]);
        free(synth[i].rles);
    }
    free(synth);

    printf("\nsummary\n");
    if (summary.have_coco)
        printf("  mask bytes / source PNG bytes, COCO samples:          %.3f  (target <= 0.5)\n",
               summary.coco_ratio);
    if (summary.have_synth)
        printf("  mask bytes / source PNG bytes, synthetic COCO-size:   %.3f  (target <= 0.5)\n",
               summary.synth_ratio_store);
    if (summary.have_random)
        printf("  read one image's entities, %zu-image store:       %.1f us mean wall, %.1f us "
               "CPU  (target < 1000 us)\n",
               nrandom, summary.random_mean_us, summary.random_cpu_us);
    if (summary.have_scan)
        printf("  scan %zu real COCO masks:                         %.3f s CPU, %.3f s wall\n",
               summary.scan_coco_entities, summary.scan_coco_cpu_s, summary.scan_coco_wall_s);
    return 0;
}
