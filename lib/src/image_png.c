/* image_png.c: PNG in and out through libpng.
 *
 * Reading: 1/2/4/8/16-bit gray, gray+alpha, RGB, RGBA and palette images. Sub-byte gray is
 * widened to 8 bits; palette images become RGB (RGBA when they carry transparency), or
 * their indices (1 channel, 8-bit) with ES_READ_PALETTE_INDEX; 16-bit samples come out in
 * native endianness. libpng reports errors by longjmp: everything that must be released
 * after a jump lives in one heap-allocated context, so no local changes between setjmp and
 * longjmp (C11 7.13.2.1), and every error names the file.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/image.h"
#include "image_internal.h"

typedef struct png_ctx {
    const char *path;
    FILE *f;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    es_pixels px;
    char msg[256];
} png_ctx;

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void on_png_error(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* warnings (e.g. a bad ancillary chunk CRC) do not stop reading */
}

static void ctx_release(png_ctx *c, int reading) {
    if (c->png) {
        if (reading)
            png_destroy_read_struct(&c->png, c->info ? &c->info : NULL, NULL);
        else
            png_destroy_write_struct(&c->png, c->info ? &c->info : NULL);
    }
    free(c->rows);
    if (c->f) fclose(c->f);
    free(c);
}

static int open_for_read(const char *path, png_ctx **out, es_error *err) {
    png_ctx *c = calloc(1, sizeof *c);
    if (!c) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    c->path = path;
    c->f = fopen(path, "rb");
    if (!c->f) {
        int e = errno;
        free(c);
        return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    unsigned char sig[8];
    if (fread(sig, 1, 8, c->f) != 8 || png_sig_cmp(sig, 0, 8)) {
        ctx_release(c, 1);
        return es_error_set(err, ES_ERR_FORMAT, "%s: not a PNG file (bad signature)", path);
    }
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_png_error, on_png_warning);
    if (c->png) c->info = png_create_info_struct(c->png);
    if (!c->png || !c->info) {
        ctx_release(c, 1);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory creating the PNG reader", path);
    }
    /* No limit on width/height beyond libpng's own (1,000,000 px by default): EntitySeg
     * images reach 15,000 px. */
    png_set_user_limits(c->png, 0x7fffffff, 0x7fffffff);
    png_init_io(c->png, c->f);
    png_set_sig_bytes(c->png, 8);
    *out = c;
    return ES_OK;
}

int es_png_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err) {
    png_ctx *c;
    ES_CHECK(open_for_read(path, &c, err));
    if (setjmp(png_jmpbuf(c->png))) {
        es_error_set(err, ES_ERR_FORMAT, "%s: truncated or corrupt PNG: %s", path, c->msg);
        ctx_release(c, 1);
        return ES_ERR_FORMAT;
    }
    png_read_info(c->png, c->info);
    *w = png_get_image_width(c->png, c->info);
    *h = png_get_image_height(c->png, c->info);
    ctx_release(c, 1);
    return ES_OK;
}

int es_png_read(const char *path, int flags, es_pixels *out, es_error *err) {
    png_ctx *c;
    *out = ES_PIXELS_EMPTY;
    ES_CHECK(open_for_read(path, &c, err));
    if (setjmp(png_jmpbuf(c->png))) {
        es_error_set(err, ES_ERR_FORMAT, "%s: truncated or corrupt PNG: %s", path, c->msg);
        es_pixels_free(&c->px);
        ctx_release(c, 1);
        return ES_ERR_FORMAT;
    }
    png_read_info(c->png, c->info);
    uint32_t width = png_get_image_width(c->png, c->info);
    uint32_t height = png_get_image_height(c->png, c->info);
    int bit_depth = png_get_bit_depth(c->png, c->info);
    int color = png_get_color_type(c->png, c->info);

    if (color == PNG_COLOR_TYPE_PALETTE) {
        if (flags & ES_READ_PALETTE_INDEX) {
            png_set_packing(c->png); /* 1/2/4-bit indices -> one byte each */
        } else {
            png_set_palette_to_rgb(c->png);
            if (png_get_valid(c->png, c->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(c->png);
        }
    } else if (color == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(c->png);
    }
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);

    uint32_t channels = png_get_channels(c->png, c->info);
    uint32_t depth = png_get_bit_depth(c->png, c->info) == 16 ? 2 : 1;
    es_error aerr;
    if (es_pixels_alloc(&c->px, width, height, channels, depth, &aerr)) {
        es_error_set(err, aerr.code, "%s: %s", path, aerr.msg);
        ctx_release(c, 1);
        return aerr.code;
    }
    size_t row = es_pixels_row_bytes(&c->px);
    if (png_get_rowbytes(c->png, c->info) != row) {
        es_error_set(err, ES_ERR_INTERNAL, "%s: unexpected PNG row size", path);
        es_pixels_free(&c->px);
        ctx_release(c, 1);
        return ES_ERR_INTERNAL;
    }
    c->rows = malloc(sizeof *c->rows * height);
    if (!c->rows) {
        es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
        es_pixels_free(&c->px);
        ctx_release(c, 1);
        return ES_ERR_NOMEM;
    }
    for (uint32_t y = 0; y < height; y++) c->rows[y] = (png_bytep)c->px.data + (size_t)y * row;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    *out = c->px;
    c->px = ES_PIXELS_EMPTY;
    ctx_release(c, 1);
    return ES_OK;
}

int es_png_write(const char *path, const es_pixels *p, es_error *err) {
    return es_png_write_level(path, p, 6, err); /* zlib's default */
}

int es_png_write_level(const char *path, const es_pixels *p, int level, es_error *err) {
    if (!path || !p || !p->data) return es_error_set(err, ES_ERR_INVALID, "es_png_write: NULL argument");
    if (level < 0 || level > 9) return es_error_set(err, ES_ERR_INVALID, "%s: PNG compression level %d is not in 0..9", path, level);
    if (p->width == 0 || p->height == 0 || p->channels < 1 || p->channels > 4 ||
        (p->depth != 1 && p->depth != 2))
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: cannot write a %ux%u PNG with %u channels of %u bytes (PNG: 1..4 channels, 1 or 2 bytes)",
                            path, p->width, p->height, p->channels, p->depth);
    png_ctx *c = calloc(1, sizeof *c);
    if (!c) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    c->path = path;
    c->f = fopen(path, "wb");
    if (!c->f) {
        int e = errno;
        free(c);
        return es_error_set(err, ES_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_png_error, on_png_warning);
    if (c->png) c->info = png_create_info_struct(c->png);
    c->rows = malloc(sizeof *c->rows * p->height);
    if (!c->png || !c->info || !c->rows) {
        ctx_release(c, 0);
        remove(path);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory creating the PNG writer", path);
    }
    if (setjmp(png_jmpbuf(c->png))) {
        es_error_set(err, ES_ERR_IO, "%s: writing PNG failed: %s", path, c->msg);
        ctx_release(c, 0);
        remove(path);
        return ES_ERR_IO;
    }
    static const int color_of[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                    PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_init_io(c->png, c->f);
    png_set_compression_level(c->png, level);
    png_set_IHDR(c->png, c->info, p->width, p->height, p->depth * 8, color_of[p->channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    if (p->depth == 2 && host_is_little_endian()) png_set_swap(c->png);
    size_t row = es_pixels_row_bytes(p);
    for (uint32_t y = 0; y < p->height; y++) c->rows[y] = (png_bytep)p->data + (size_t)y * row;
    png_write_image(c->png, c->rows);
    png_write_end(c->png, NULL);
    FILE *f = c->f;
    c->f = NULL;
    ctx_release(c, 0);
    if (fclose(f) != 0) {
        int e = errno;
        remove(path);
        return es_error_set(err, ES_ERR_IO, "%s: writing PNG failed: %s", path, strerror(e));
    }
    return ES_OK;
}
