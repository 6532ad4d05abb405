/* cityscapes.c: Cityscapes fine ground truth -> store.
 *
 * Two routes, the same entities:
 *  - cityscapes_panoptic_<split>.json + *_gtFine_panoptic.png, as cityscapesScripts'
 *    createPanopticImgs.py writes them (string image ids "<city>_<seq>_<frame>");
 *  - the raw gtFine/<split>/<city>/<name>_gtFine_instanceIds.png (16-bit): a value >= 1000 is
 *    label * 1000 + instance; a value < 1000 is a label region: stuff, or for a label with
 *    instances a crowd group (kept as a crowd region); labels ignored in evaluation become
 *    void. Segment id = the value, category = the label id, ordered by value, exactly as
 *    createPanopticImgs.py builds its segments_info.
 * The label table is cityscapesScripts' helpers/labels.py (id, name, category,
 * hasInstances, ignoreInEval).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "panoptic_json.h"
#include "raw_layout.h"

typedef struct cs_label {
    const char *name, *category;
    unsigned char has_instances, ignore_in_eval;
} cs_label;

/* Indexed by label id 0..33. */
static const cs_label cs_labels[34] = {
    {"unlabeled", "void", 0, 1},      {"ego vehicle", "void", 0, 1},     {"rectification border", "void", 0, 1},
    {"out of roi", "void", 0, 1},     {"static", "void", 0, 1},          {"dynamic", "void", 0, 1},
    {"ground", "void", 0, 1},         {"road", "flat", 0, 0},            {"sidewalk", "flat", 0, 0},
    {"parking", "flat", 0, 1},        {"rail track", "flat", 0, 1},      {"building", "construction", 0, 0},
    {"wall", "construction", 0, 0},   {"fence", "construction", 0, 0},   {"guard rail", "construction", 0, 1},
    {"bridge", "construction", 0, 1}, {"tunnel", "construction", 0, 1},  {"pole", "object", 0, 0},
    {"polegroup", "object", 0, 1},    {"traffic light", "object", 0, 0}, {"traffic sign", "object", 0, 0},
    {"vegetation", "nature", 0, 0},   {"terrain", "nature", 0, 0},       {"sky", "sky", 0, 0},
    {"person", "human", 1, 0},        {"rider", "human", 1, 0},          {"car", "vehicle", 1, 0},
    {"truck", "vehicle", 1, 0},       {"bus", "vehicle", 1, 0},          {"caravan", "vehicle", 1, 1},
    {"trailer", "vehicle", 1, 1},     {"train", "vehicle", 1, 0},        {"motorcycle", "vehicle", 1, 0},
    {"bicycle", "vehicle", 1, 0},
};

static int cs_decode(const es_raw_image *im, es_raw_decoded *out, es_error *err) {
    es_pixels px = ES_PIXELS_EMPTY;
    uint32_t *ids = NULL;
    es_label_rles lr = {0};
    int rc = es_image_read(im->label_path, ES_READ_PALETTE_INDEX, &px, err);
    if (!rc && (px.channels != 1 || px.depth > 2))
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: expected a 16-bit one-channel instanceIds map", im->label_path);
    size_t npx = (size_t)px.width * px.height;
    if (!rc && !(ids = malloc((npx ? npx : 1) * sizeof *ids))) rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!rc) rc = es_pixels_to_ids(&px, ids, err);
    for (size_t p = 0; !rc && p < npx; p++) {
        uint32_t v = ids[p], label = v < 1000 ? v : v / 1000;
        if (label >= 34) {
            rc = es_error_set(err, ES_ERR_INVALID, "%s: value %u at pixel (%zu, %zu): label %u is not a Cityscapes label id",
                              im->label_path, v, p % px.width, p / px.width, label);
            break;
        }
        if (cs_labels[label].ignore_in_eval) ids[p] = 0;
    }
    if (!rc) rc = es_rle_encode_labels(&lr, ids, px.height, px.width, err);
    if (!rc && !(out->ents = calloc(lr.n ? lr.n : 1, sizeof *out->ents)))
        rc = es_error_set(err, ES_ERR_NOMEM, "out of memory");
    if (!rc) {
        out->width = px.width;
        out->height = px.height;
        for (size_t k = 0; k < lr.n; k++) {
            uint32_t v = lr.ids[k], label = v < 1000 ? v : v / 1000;
            es_entity *e = &out->ents[out->n++];
            *e = es_entity_default();
            e->mask = lr.rles[k];
            lr.rles[k] = ES_RLE_EMPTY;
            e->is_crowd = v < 1000 && cs_labels[label].has_instances;
            e->category_id = label;
            e->isthing = cs_labels[label].has_instances;
            e->source_segment_id = v;
            e->declared_area = (double)lr.areas[k];
            e->source_order = (int64_t)k;
        }
    }
    es_label_rles_free(&lr);
    free(ids);
    es_pixels_free(&px);
    return rc;
}

/* The categories createPanopticImgs.py writes: labels not ignored in evaluation. */
static size_t cs_categories(es_category cats[34]) {
    size_t n = 0;
    for (int id = 0; id < 34; id++) {
        if (cs_labels[id].ignore_in_eval) continue;
        cats[n].id = id;
        cats[n].name = (char *)cs_labels[id].name;
        cats[n].supercategory = (char *)cs_labels[id].category;
        cats[n].isthing = cs_labels[id].has_instances;
        n++;
    }
    return n;
}

int es_convert_cityscapes_raw(const char *root, const char *split, const char *out_db, const es_convert_common *c,
                              es_error *err) {
    char split_dir[4096];
    snprintf(split_dir, sizeof split_dir, "%s/gtFine/%s", root, split);
    char **cities = NULL;
    size_t ncity = 0;
    ES_CHECK(es_list_dir(split_dir, NULL, 1, &cities, &ncity, err));
    es_category cats[34];
    es_raw_source src = {0};
    src.source = "cityscapes";
    src.split = split;
    src.creator = "entseg-convert cityscapes-panoptic --cityscapes-root";
    src.cats = cats;
    src.ncats = cs_categories(cats);
    src.decode = cs_decode;
    static const char suffix[] = "_gtFine_instanceIds.png";
    int rc = ES_OK;
    for (size_t ci = 0; ci < ncity && !rc; ci++) {
        char city_dir[4400];
        snprintf(city_dir, sizeof city_dir, "%s/%s", split_dir, cities[ci]);
        char **files = NULL;
        size_t nf = 0;
        rc = es_list_dir(city_dir, suffix, 0, &files, &nf, err);
        for (size_t i = 0; i < nf && !rc; i++) {
            char name[1024], lab[5500], img[5500];
            size_t l = strlen(files[i]) - (sizeof suffix - 1);
            snprintf(name, sizeof name, "%.*s", (int)l, files[i]);
            snprintf(lab, sizeof lab, "%s/%s", city_dir, files[i]);
            snprintf(img, sizeof img, "%s/leftImg8bit/%s/%s/%s_leftImg8bit.png", root, split, cities[ci], name);
            rc = es_raw_add(&src, name, lab, NULL, img, err);
        }
        es_free_names(files, nf);
    }
    char opts[4400];
    snprintf(opts, sizeof opts, "{\"cityscapes_root\": \"%s\", \"split\": \"%s\"}", root, split);
    if (!rc) rc = es_raw_convert(&src, out_db, opts, c, err);
    es_raw_free(&src);
    es_free_names(cities, ncity);
    return rc;
}

int es_convert_cityscapes_panoptic(const char *json_path, const char *png_dir, const char *out_db,
                                   const es_convert_common *c, es_error *err) {
    es_pan_options o = {0};
    o.kind = ES_STORE_GT;
    o.crowd = ES_CROWD_IGNORE;
    o.source = "cityscapes";
    o.creator = "entseg-convert cityscapes-panoptic";
    return es_convert_panoptic_layout(json_path, png_dir, out_db, &o, c, err);
}
