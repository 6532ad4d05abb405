/* convert/synth.h: the synthetic entity dataset (entseg-convert synth) and synthetic
 * predictions for it (entseg-convert synth-pred), as library calls.
 *
 * A dataset is a ground-truth store plus one PNG per image in "<out_db>.images/", each
 * image's path stored relative to the store's directory. Every image is a label map
 * painted from a per-image random stream (xoshiro256** seeded from seed and the image
 * index with splitmix64, integer and IEEE-exact arithmetic only), so the same options give
 * byte-identical stores and PNGs on every machine and with any number of threads.
 *
 * What a scene holds (probabilities per image, all switchable): wavy "stuff" bands, things
 * of many shapes (ellipses, star polygons, boxes), rings and perforated plates (holes),
 * entities in several parts (disconnected), thin lines and curves 1-3 px wide, tiny 1 px
 * entities, void (id 0) blobs and borders, crowd regions (is_crowd = 1, disjoint from the
 * entities), and now and then (when min_entities <= 1) one entity filling the whole image.
 * Each entity gets its own colours and texture (flat + noise, stripes, checks, gradient, dots).
 *
 * Start from es_synth_options_default() (the CLI defaults); es_synth_pred_options may be zero.
 */
#ifndef ENTSEG_CONVERT_SYNTH_H
#define ENTSEG_CONVERT_SYNTH_H

#include <stdint.h>

#include "convert.h"
#include "entseg/error.h"

typedef struct es_synth_options {
    uint64_t seed;
    uint32_t images;
    uint32_t min_width, min_height, max_width, max_height; /* sizes drawn uniformly per side */
    uint32_t min_entities, max_entities; /* non-crowd entities per image (skewed to few) */
    int no_crowd, no_void, no_tiny, no_thin, no_full;
    uint32_t full_every;     /* > 0: every full_every-th image is one image-filling entity */
    const char *split;       /* images' split, default "train" */
    const char *name_prefix; /* image names <prefix><index, 6 digits>, default "synth_" */
    int png_level;           /* zlib level of the PNGs, 1..9; 0: the default, 1 (fastest) */
} es_synth_options;

es_synth_options es_synth_options_default(void);

/* Writes the dataset: out_db and out_db + ".images/". */
int es_synth_generate(const char *out_db, const es_synth_options *o, const es_convert_common *c,
                      es_error *err);

/* One image's label map (row-major, h*w ids: 0 void, 1..n_entities entities, then crowd
 * ids) and its RGB rendering, exactly as es_synth_generate makes image `index`. */
typedef struct es_synth_image {
    uint32_t width, height;
    uint32_t *labels;      /* (height, width) */
    uint8_t *rgb;          /* (height, width, 3) */
    uint32_t n_entities;   /* ids 1..n_entities are entities (some may be absent: see areas) */
    uint32_t n_crowd;      /* ids n_entities+1 .. n_entities+n_crowd are crowd regions */
    uint8_t *isthing;      /* (n_entities + n_crowd + 1) 1 thing, 0 stuff, by id */
    uint8_t *kind;         /* (n_entities + n_crowd + 1) ES_SYNTH_KIND_* by id */
} es_synth_image;

enum {
    ES_SYNTH_KIND_STUFF = 1, ES_SYNTH_KIND_ELLIPSE, ES_SYNTH_KIND_BLOB, ES_SYNTH_KIND_BOX,
    ES_SYNTH_KIND_RING, ES_SYNTH_KIND_PERFORATED, ES_SYNTH_KIND_PARTS, ES_SYNTH_KIND_LINE,
    ES_SYNTH_KIND_CURVE, ES_SYNTH_KIND_TINY, ES_SYNTH_KIND_FULL, ES_SYNTH_KIND_CROWD,
    ES_SYNTH_KIND_COUNT
};
/* The kind's name ("stuff", "ellipse", ...), also the category names in the store. */
const char *es_synth_kind_name(int kind);

int es_synth_make_image(const es_synth_options *o, uint64_t index, es_synth_image *out, es_error *err);
void es_synth_image_free(es_synth_image *img);

/* synth-pred: plausible predictions for a ground-truth store. */
typedef struct es_synth_pred_options {
    uint64_t seed;
    uint32_t per_image;  /* at most this many predictions per image (top scores), 0: 100 */
    double noise;        /* 0 (near-perfect) .. 1 (poor); the CLI default is 0.3 */
} es_synth_pred_options;

int es_synth_predictions(const char *gt_db, const char *out_db, const es_synth_pred_options *o,
                         const es_convert_common *c, es_error *err);

#endif
