/* ade20k.c: ADE20K (SceneParsing 150) ground truth -> store.
 *
 * Two routes, the same entities:
 *  - the panoptic layout the usual preparation writes (Mask2Former's
 *    datasets/prepare_ade20k_pan_seg.py): category ids 0..149 (0 is a real category, wall),
 *    string image ids; stuff areas there are stale (counted before things were pasted over
 *    them) and a stuff segment can be left with no pixels: it is then no entity (reported);
 *  - the raw ADEChallengeData2016 layout: annotations/<split>/<name>.png (semantic, 0 =
 *    ignore, 1..150) and annotations_instance/<split>/<name>.png (R = instance class 1..100,
 *    G = instance id, 0 = none). As that preparation does: stuff segments first (one per
 *    stuff class present, ascending), then things (one per instance id, ascending) pasted
 *    over them; the instance class maps to the 150 classes through the table below
 *    (ade20k_instance_catid_mapping.txt); thing-class pixels without an instance are void.
 *    Declared areas follow the preparation too (a stuff area counts its semantic pixels).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "panoptic_json.h"
#include "raw_layout.h"

/* SceneParsing-150 class names, category id = index (0..149). */
static const char *const ade_names[150] = {
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "window", "grass", "cabinet", "sidewalk",
    "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair", "car", "water", "painting", "sofa",
    "shelf", "house", "sea", "mirror", "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp",
    "tub", "rail", "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink",
    "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table", "pillow",
    "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table", "toilet", "flower", "book",
    "hill", "bench", "countertop", "stove", "palm", "kitchen island", "computer", "swivel chair", "boat", "bar",
    "arcade machine", "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning", "street lamp",
    "booth", "tv", "plane", "dirt track", "clothes", "pole", "land", "bannister", "escalator", "ottoman", "bottle",
    "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything", "pool",
    "stool", "barrel", "basket", "falls", "tent", "bag", "minibike", "cradle", "oven", "ball", "food", "step", "tank",
    "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture",
    "hood", "sconce", "vase", "traffic light", "tray", "trash can", "fan", "pier", "crt screen", "plate", "monitor",
    "bulletin board", "shower", "radiator", "glass", "clock", "flag"};

/* Instance class 1..100 -> SceneParsing class 1..150 (ade20k_instance_catid_mapping.txt). */
static const unsigned char ade_instance_to_scene[100] = {
    8,   9,   11,  13,  15,  16,  19,  20,  21,  23,  24,  25,  28,  31,  32,  33,  34,  36,  37,  38,
    39,  40,  42,  43,  44,  45,  46,  48,  50,  51,  54,  56,  57,  58,  59,  63,  65,  66,  67,  68,
    70,  71,  72,  73,  74,  75,  76,  77,  79,  81,  82,  83,  84,  86,  87,  88,  89,  90,  91,  93,
    94,  96,  98,  99,  103, 104, 105, 108, 109, 111, 112, 113, 116, 117, 119, 120, 121, 122, 124, 125,
    126, 127, 128, 130, 131, 133, 134, 135, 136, 137, 138, 139, 140, 143, 144, 145, 147, 148, 149, 150};

static int ade_isthing(int cat) {
    for (int i = 0; i < 100; i++)
        if (ade_instance_to_scene[i] - 1 == cat) return 1;
    return 0;
}

/* Ids in the label map built from the raw files: stuff class c -> 1 + c (1..150), instance
 * g -> 256 + g, so ascending ids give stuff first then things, as the preparation orders. */
enum { ADE_THING_BASE = 256 };

static int ade_decode(const es_raw_image *im, es_raw_decoded *out, es_error *err) {
    es_pixels sem = ES_PIXELS_EMPTY, ins = ES_PIXELS_EMPTY;
    uint32_t *ids = NULL;
    es_label_rles lr = {0};
    int rc = es_image_read(im->label_path, ES_READ_PALETTE_INDEX, &sem, err);
    if (!rc && (sem.channels != 1 || sem.depth != 1))
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: expected an 8-bit one-channel semantic map", im->label_path);
    if (!rc && !es_file_exists(im->aux_path))
        rc = es_error_set(err, ES_ERR_IO, "%s: the instance PNG %s is missing", im->label_path, im->aux_path);
    if (!rc) rc = es_image_read(im->aux_path, 0, &ins, err);
    if (!rc && (ins.channels < 3 || ins.depth != 1))
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: expected an 8-bit RGB instance map", im->aux_path);
    if (!rc && (ins.width != sem.width || ins.height != sem.height))
        rc = es_error_set(err, ES_ERR_INVALID, "%s is %ux%u but %s is %ux%u", im->aux_path, ins.width, ins.height,
                          im->label_path, sem.width, sem.height);
    size_t npx = (size_t)sem.width * sem.height;
    uint64_t stuff_area[150] = {0};
    int thing_class[256];
    for (int g = 0; g < 256; g++) thing_class[g] = -1;
    if (!rc && !(ids = malloc((npx ? npx : 1) * sizeof *ids))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    for (size_t p = 0; !rc && p < npx; p++) {
        const uint8_t *px = (const uint8_t *)ins.data + p * ins.channels;
        uint8_t s = ((const uint8_t *)sem.data)[p];
        uint8_t r = px[0], g = px[1];
        uint32_t id = 0;
        if (s > 150) {
            rc = es_error_set(err, ES_ERR_INVALID, "%s: semantic value %u at pixel (%zu, %zu) is outside 0..150",
                              im->label_path, s, p % sem.width, p / sem.width);
            break;
        }
        if (s >= 1 && !ade_isthing(s - 1)) {
            stuff_area[s - 1]++;
            id = s; /* 1 + class */
        }
        if (g) {
            if (r < 1 || r > 100) {
                rc = es_error_set(err, ES_ERR_INVALID, "%s: instance %u has class %u, outside 1..100", im->aux_path, g, r);
                break;
            }
            if (thing_class[g] < 0) thing_class[g] = ade_instance_to_scene[r - 1] - 1;
            id = ADE_THING_BASE + g;
        }
        ids[p] = id;
    }
    if (!rc) rc = es_rle_encode_labels(&lr, ids, sem.height, sem.width, err);
    if (!rc && !(out->ents = calloc(lr.n ? lr.n : 1, sizeof *out->ents)))
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!rc) {
        out->width = sem.width;
        out->height = sem.height;
        for (int c = 0; c < 150; c++) {
            /* a stuff class present in the semantic map but fully covered by things */
            if (!stuff_area[c]) continue;
            size_t k = 0;
            while (k < lr.n && lr.ids[k] != (uint32_t)(c + 1)) k++;
            if (k == lr.n) out->empty++;
        }
        for (size_t k = 0; k < lr.n; k++) {
            es_entity *e = &out->ents[out->n++];
            *e = es_entity_default();
            e->mask = lr.rles[k];
            lr.rles[k] = ES_RLE_EMPTY;
            uint32_t id = lr.ids[k];
            if (id < ADE_THING_BASE) {
                e->category_id = id - 1;
                e->isthing = 0;
                e->declared_area = (double)stuff_area[id - 1];
                if (stuff_area[id - 1] != lr.areas[k]) out->differs++;
            } else {
                e->category_id = thing_class[id - ADE_THING_BASE];
                e->isthing = 1;
                e->declared_area = (double)lr.areas[k];
            }
            e->source_segment_id = id;
            e->source_order = (int64_t)k;
        }
    }
    es_label_rles_free(&lr);
    free(ids);
    es_pixels_free(&sem);
    es_pixels_free(&ins);
    return rc;
}

static void ade_categories(es_category cats[150]) {
    for (int c = 0; c < 150; c++) {
        cats[c].id = c;
        cats[c].name = (char *)ade_names[c];
        cats[c].supercategory = NULL;
        cats[c].isthing = ade_isthing(c);
    }
}

int es_convert_ade20k_raw(const char *root, const char *split, const char *out_db, const es_convert_common *c,
                          es_error *err) {
    char sem_dir[4096], ins_dir[4096], img_dir[4096];
    snprintf(sem_dir, sizeof sem_dir, "%s/annotations/%s", root, split);
    snprintf(ins_dir, sizeof ins_dir, "%s/annotations_instance/%s", root, split);
    snprintf(img_dir, sizeof img_dir, "%s/images/%s", root, split);
    char **names = NULL;
    size_t n = 0;
    ES_CHECK(es_list_dir(sem_dir, ".png", 0, &names, &n, err));
    es_category cats[150];
    ade_categories(cats);
    es_raw_source src = {0};
    src.source = "ade20k";
    src.split = split;
    src.creator = "entseg-convert ade20k-panoptic --ade-root";
    src.cats = cats;
    src.ncats = 150;
    src.decode = ade_decode;
    int rc = ES_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char *stem = es_path_stem(names[i]);
        char lab[4400], ins[4400], img[4400];
        snprintf(lab, sizeof lab, "%s/%s", sem_dir, names[i]);
        snprintf(ins, sizeof ins, "%s/%s", ins_dir, names[i]);
        snprintf(img, sizeof img, "%s/%s.jpg", img_dir, stem ? stem : "");
        rc = stem ? es_raw_add(&src, stem, lab, ins, img, err) : es_error_set(err, ES_ERR_NOMEM, "out of memory");
        free(stem);
    }
    char opts[4400];
    snprintf(opts, sizeof opts, "{\"ade_root\": \"%s\", \"split\": \"%s\"}", root, split);
    if (!rc) rc = es_raw_convert(&src, out_db, opts, c, err);
    es_raw_free(&src);
    es_free_names(names, n);
    return rc;
}

int es_convert_ade20k_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                               const es_convert_common *c, es_error *err) {
    es_pan_options o = {0};
    o.kind = ES_STORE_GT;
    o.crowd = ES_CROWD_IGNORE;
    o.allow_empty_segments = 1;
    o.source = "ade20k";
    o.creator = "entseg-convert ade20k-panoptic";
    return es_convert_panoptic_layout(json_path, png_dir, out_db, &o, c, err);
}
