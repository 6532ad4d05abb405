/* raw_layout.h: datasets read from their raw annotation files, one image at a time
 * (ADE20K's ADEChallengeData2016, Cityscapes' gtFine), without a JSON (internal).
 *
 * The caller lists the images; decode() turns one into entities on a pool thread; the
 * images are written in list order.
 */
#ifndef ENTSEG_CONVERT_RAW_LAYOUT_H
#define ENTSEG_CONVERT_RAW_LAYOUT_H

#include "convert_internal.h"

typedef struct es_raw_image {
    char *name;        /* store name */
    char *label_path;  /* the main annotation file */
    char *aux_path;    /* a second annotation file (ADE20K instances), may be NULL */
    char *image_path;  /* the photo, for the store's path field, may be NULL */
} es_raw_image;

typedef struct es_raw_decoded {
    es_entity *ents;
    size_t n;
    uint32_t width, height;
    int64_t empty;     /* declared segments without pixels (not stored) */
    int64_t differs;   /* declared area != pixel count */
} es_raw_decoded;

typedef int (*es_raw_decode_fn)(const es_raw_image *im, es_raw_decoded *out, es_error *err);

typedef struct es_raw_source {
    es_raw_image *images;
    size_t n, cap;
    const char *source, *split, *creator;
    const es_category *cats;  /* written to the store */
    size_t ncats;
    es_raw_decode_fn decode;
} es_raw_source;

int es_raw_add(es_raw_source *src, const char *name, const char *label_path, const char *aux_path,
               const char *image_path, es_error *err);
int es_raw_convert(es_raw_source *src, const char *out_db, const char *options_text, const es_convert_common *c,
                   es_error *err);
void es_raw_free(es_raw_source *src);
void es_raw_decoded_free(es_raw_decoded *d);

#endif
