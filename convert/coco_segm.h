/* coco_segm.h: a COCO "segmentation" value kept compactly until it is rasterised
 * (internal). The three forms pycocotools accepts:
 *   - compressed RLE  {"size": [h, w], "counts": "string"}
 *   - uncompressed RLE {"size": [h, w], "counts": [n0, n1, ...]}
 *   - polygons [[x0, y0, x1, y1, ...], ...] (several polygons = one mask, their union)
 * es_segm_to_rle turns it into the mask pycocotools annToRLE gives for an h x w image.
 */
#ifndef ENTSEG_CONVERT_COCO_SEGM_H
#define ENTSEG_CONVERT_COCO_SEGM_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"
#include "entseg/rle.h"

typedef enum { ES_SEGM_NONE = 0, ES_SEGM_STRING, ES_SEGM_COUNTS, ES_SEGM_POLYGONS } es_segm_kind;

typedef struct es_segm {
    es_segm_kind kind;
    uint32_t h, w;         /* declared size (RLE forms) */
    char *str;             /* ES_SEGM_STRING */
    uint32_t *counts;      /* ES_SEGM_COUNTS: (n) */
    double *xy;            /* ES_SEGM_POLYGONS: all coordinates, polygon after polygon (n) */
    size_t n;
    uint32_t *poly_len;    /* ES_SEGM_POLYGONS: (npoly) coordinates per polygon */
    size_t npoly;
} es_segm;

/* Parses v (the "segmentation" member). what names the item for errors. */
int es_segm_parse(es_segm *s, const cJSON *v, const char *what, es_error *err);
/* The mask for an h x w image; RLE forms must declare exactly h x w. */
int es_segm_to_rle(const es_segm *s, uint32_t h, uint32_t w, es_rle *out, const char *what, es_error *err);
void es_segm_free(es_segm *s);

#endif
