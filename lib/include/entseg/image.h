/* entseg/image.h: reading and writing pixels: PNG (libpng), TIFF (libtiff), JPEG
 * (libjpeg-turbo).
 *
 * es_pixels is a row-major interleaved buffer: data[(y*width + x)*channels + c], each
 * sample `depth` bytes (1, 2 or 4; native endianness). Readers detect the format from the
 * file's magic bytes, not its name.
 *
 * Ownership: es_pixels owns data (malloc'ed); es_pixels_free releases it (NULL-safe).
 * Errors name the file and what is wrong (truncated, unsupported bit depth, ...).
 */
#ifndef ENTSEG_IMAGE_H
#define ENTSEG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "entseg/error.h"

typedef struct es_pixels {
    uint32_t width, height;
    uint32_t channels;  /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    uint32_t depth;     /* bytes per sample: 1, 2 or 4 */
    void *data;
} es_pixels;

#define ES_PIXELS_EMPTY ((es_pixels){0, 0, 0, 0, NULL})

/* Flags for es_image_read. */
#define ES_READ_PALETTE_INDEX 1 /* palette PNG: return the indices (1 channel), not RGB */

int es_image_read(const char *path, int flags, es_pixels *out, es_error *err);
/* Only the header: width and height. */
int es_image_read_size(const char *path, uint32_t *width, uint32_t *height, es_error *err);
/* PNG: depth 1 or 2, channels 1..4. TIFF: depth 1, 2 or 4, channels 1..4 (striped). */
int es_png_write(const char *path, const es_pixels *p, es_error *err);
/* The same with a zlib level 0..9 (es_png_write uses 6): 1 is several times faster on
 * noisy photos for a few % more bytes. */
int es_png_write_level(const char *path, const es_pixels *p, int level, es_error *err);
int es_tiff_write(const char *path, const es_pixels *p, es_error *err);
/* TIFF in tiles of tile x tile pixels (tile a positive multiple of 16), for huge images. */
int es_tiff_write_tiled(const char *path, const es_pixels *p, uint32_t tile, es_error *err);
int es_pixels_alloc(es_pixels *p, uint32_t width, uint32_t height, uint32_t channels,
                    uint32_t depth, es_error *err);
void es_pixels_free(es_pixels *p);

/* An id map from pixels: 1 channel -> the value; 3 or 4 channels (8-bit) -> the COCO
 * panoptic id R + 256 G + 65536 B. ids must hold width*height values. */
int es_pixels_to_ids(const es_pixels *p, uint32_t *ids, es_error *err);

#endif
