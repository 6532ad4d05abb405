/* image_common.c: format detection by magic bytes, es_pixels allocation, and id maps from
 * pixels (panoptic PNGs: id = R + 256 G + 65536 B). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "image_internal.h"

typedef enum { ES_FMT_UNKNOWN = 0, ES_FMT_PNG, ES_FMT_TIFF, ES_FMT_JPEG } es_image_format;

/* The format from the first bytes of a file (n of them available). */
static es_image_format format_from_magic(const unsigned char *b, size_t n) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(b, png_sig, 8)) return ES_FMT_PNG;
    /* TIFF: "II" + 42 or 43 (BigTIFF) little-endian, "MM" + the same big-endian */
    if (n >= 4 && b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0)
        return ES_FMT_TIFF;
    if (n >= 4 && b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43))
        return ES_FMT_TIFF;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ES_FMT_JPEG;
    return ES_FMT_UNKNOWN;
}

static int detect(const char *path, es_image_format *fmt, es_error *err) {
    if (!path) return es_error_set(err, ES_ERR_INVALID, "image path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char b[8];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    *fmt = format_from_magic(b, n);
    if (*fmt == ES_FMT_UNKNOWN)
        return es_error_set(err, ES_ERR_FORMAT,
                            "%s: not a PNG, TIFF or JPEG file (unknown magic bytes%s)", path,
                            n < 8 ? ", file too short" : "");
    return ES_OK;
}

int es_image_read(const char *path, int flags, es_pixels *out, es_error *err) {
    if (!out) return es_error_set(err, ES_ERR_INVALID, "es_image_read: out is NULL");
    *out = ES_PIXELS_EMPTY;
    es_image_format fmt = ES_FMT_UNKNOWN;
    ES_CHECK(detect(path, &fmt, err));
    switch (fmt) {
    case ES_FMT_PNG: return es_png_read(path, flags, out, err);
    case ES_FMT_TIFF: return es_tiff_read(path, out, err);
    case ES_FMT_JPEG: return es_jpeg_read(path, out, err);
    default: return es_error_set(err, ES_ERR_INTERNAL, "%s: unhandled format", path);
    }
}

int es_image_read_size(const char *path, uint32_t *width, uint32_t *height, es_error *err) {
    es_image_format fmt = ES_FMT_UNKNOWN;
    uint32_t w = 0, h = 0;
    ES_CHECK(detect(path, &fmt, err));
    int rc;
    switch (fmt) {
    case ES_FMT_PNG: rc = es_png_read_size(path, &w, &h, err); break;
    case ES_FMT_TIFF: rc = es_tiff_read_size(path, &w, &h, err); break;
    case ES_FMT_JPEG: rc = es_jpeg_read_size(path, &w, &h, err); break;
    default: return es_error_set(err, ES_ERR_INTERNAL, "%s: unhandled format", path);
    }
    if (rc) return rc;
    if (width) *width = w;
    if (height) *height = h;
    return ES_OK;
}

size_t es_pixels_row_bytes(const es_pixels *p) {
    size_t px = (size_t)p->channels * p->depth;
    if (p->width && px > SIZE_MAX / p->width) return 0;
    return px * p->width;
}

/* Bytes of the whole buffer; 0 when the size overflows size_t. */
static size_t pixels_bytes(const es_pixels *p) {
    size_t row = es_pixels_row_bytes(p);
    if (p->height && row > SIZE_MAX / p->height) return 0;
    return row * p->height;
}

int es_pixels_alloc(es_pixels *p, uint32_t width, uint32_t height, uint32_t channels,
                    uint32_t depth, es_error *err) {
    if (!p) return es_error_set(err, ES_ERR_INVALID, "es_pixels_alloc: p is NULL");
    *p = ES_PIXELS_EMPTY;
    if (width == 0 || height == 0)
        return es_error_set(err, ES_ERR_INVALID, "image size %ux%u is empty", width, height);
    if (channels < 1 || channels > 4)
        return es_error_set(err, ES_ERR_INVALID, "%u channels (expected 1..4)", channels);
    if (depth != 1 && depth != 2 && depth != 4)
        return es_error_set(err, ES_ERR_INVALID, "sample depth %u bytes (expected 1, 2 or 4)", depth);
    es_pixels tmp = {width, height, channels, depth, NULL};
    size_t bytes = pixels_bytes(&tmp);
    if (bytes == 0)
        return es_error_set(err, ES_ERR_NOMEM, "image %ux%ux%u is too large", width, height, channels);
    tmp.data = calloc(1, bytes);
    if (!tmp.data)
        return es_error_set(err, ES_ERR_NOMEM, "out of memory for a %ux%u image (%zu bytes)",
                            width, height, bytes);
    *p = tmp;
    return ES_OK;
}

void es_pixels_free(es_pixels *p) {
    if (!p) return;
    free(p->data);
    *p = ES_PIXELS_EMPTY;
}

int es_pixels_to_ids(const es_pixels *p, uint32_t *ids, es_error *err) {
    if (!p || !p->data || !ids) return es_error_set(err, ES_ERR_INVALID, "es_pixels_to_ids: NULL argument");
    size_t n = (size_t)p->width * p->height;
    if (p->channels == 1) {
        if (p->depth == 1) {
            const uint8_t *s = p->data;
            for (size_t i = 0; i < n; i++) ids[i] = s[i];
        } else if (p->depth == 2) {
            const uint16_t *s = p->data;
            for (size_t i = 0; i < n; i++) ids[i] = s[i];
        } else if (p->depth == 4) {
            memcpy(ids, p->data, n * sizeof *ids);
        } else {
            return es_error_set(err, ES_ERR_INVALID, "sample depth %u bytes is not an id map", p->depth);
        }
        return ES_OK;
    }
    if ((p->channels == 3 || p->channels == 4) && p->depth == 1) {
        const uint8_t *s = p->data;
        uint32_t c = p->channels;
        for (size_t i = 0; i < n; i++, s += c)
            ids[i] = (uint32_t)s[0] + 256u * s[1] + 65536u * s[2];
        return ES_OK;
    }
    return es_error_set(err, ES_ERR_INVALID,
                        "cannot read ids from a %u-channel %u-bit image (expected gray, or 8-bit RGB/RGBA)",
                        p->channels, p->depth * 8);
}
