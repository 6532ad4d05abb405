/* panoptic_json.h: the COCO panoptic layout (JSON + PNG per image), shared by
 * coco-panoptic, panoptic-pred, ade20k-panoptic and cityscapes-panoptic (internal).
 *
 * The JSON is read once into compact arrays (a few dozen bytes per segment); the PNGs are
 * then read image by image on the pipeline.
 */
#ifndef ENTSEG_CONVERT_PANOPTIC_JSON_H
#define ENTSEG_CONVERT_PANOPTIC_JSON_H

#include "convert_internal.h"

typedef struct es_pan_segment {
    int64_t id;           /* PNG id R + 256 G + 65536 B */
    int64_t category_id;  /* ES_NONE if absent */
    int iscrowd;
    double area;          /* declared, NaN if absent */
    double score;         /* predictions; NaN if absent */
} es_pan_segment;

typedef struct es_pan_annotation {
    int64_t image_id;     /* COCO id, or a hash key of image_id_str */
    char *image_id_str;   /* string image ids (ADE20K, Cityscapes), else NULL */
    char label[64];       /* the image id as text, for messages */
    char *file_name;      /* the PNG, relative to the PNG directory */
    es_pan_segment *segs; /* (nseg) in segments_info order */
    size_t nseg;
    long index;           /* position in "annotations" */
} es_pan_annotation;

typedef struct es_pan_json {
    const char *path;
    es_coco_images images;
    es_coco_categories cats;
    es_pan_annotation *anns;
    size_t nann, cap;
    es_idmap ann_by_image;  /* image_id -> index in anns */
    int have_images, have_annotations;
} es_pan_json;

/* Reads a COCO panoptic JSON. Duplicate segment ids within an image, two annotations for
 * one image, and malformed entries are errors naming the file and the image. */
int es_pan_json_read(es_pan_json *pj, const char *path, es_error *err);
void es_pan_json_free(es_pan_json *pj);

/* Options of one panoptic conversion. */
typedef struct es_pan_options {
    es_store_kind kind;        /* GT or predictions */
    es_crowd_mode crowd;       /* GT only */
    int allow_empty_segments;  /* ADE20K: a declared segment without pixels is no entity */
    const char *source;        /* images' source dataset name ("coco", "ade20k", ...) */
    const char *creator;
    const char *gt_db;         /* predictions: the GT store images resolve against */
} es_pan_options;

int es_convert_panoptic_layout(const char *json_path, const char *png_dir, const char *out_db,
                               const es_pan_options *o, const es_convert_common *c, es_error *err);

/* Copies the images (and categories when the target has none given) of a GT store into a
 * prediction store being built, filling a source_id -> position map and the arrays. */
int es_copy_gt_images(const char *gt_db, es_store *out, es_image **imgs, size_t *n, es_idmap *by_source,
                      int copy_categories, es_error *err);

#endif
