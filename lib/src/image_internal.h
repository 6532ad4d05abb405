/* image_internal.h: the per-format readers behind es_image_read (image_common.c detects
 * the format from the magic bytes and dispatches here). Not part of the public API. */
#ifndef ENTSEG_IMAGE_INTERNAL_H
#define ENTSEG_IMAGE_INTERNAL_H

#include <stdint.h>

#include "entseg/image.h"

int es_png_read(const char *path, int flags, es_pixels *out, es_error *err);
int es_png_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err);
int es_tiff_read(const char *path, es_pixels *out, es_error *err);
int es_tiff_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err);
int es_jpeg_read(const char *path, es_pixels *out, es_error *err);
int es_jpeg_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err);

/* Bytes of one row; 0 when the size overflows size_t. */
size_t es_pixels_row_bytes(const es_pixels *p);

#endif
