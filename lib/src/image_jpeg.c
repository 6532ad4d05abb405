/* image_jpeg.c: JPEG reading through libjpeg-turbo (real datasets ship JPEG images).
 *
 * Gray JPEGs come out as 1 channel, everything else as 8-bit RGB. libjpeg's default error
 * handler exits the process and its warnings go to stderr; here error_exit longjmps back
 * with the message, output_message is silenced, and a premature end of data (a truncated
 * file, which libjpeg only warns about and pads with gray) is an error. The decompressor
 * and the pixel buffer live in one heap context so nothing local changes across setjmp.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "entseg/image.h"
#include "image_internal.h"

typedef struct jpeg_ctx {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
    int created;
    FILE *f;
    es_pixels px;
} jpeg_ctx;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->client_data;
    (*cinfo->err->format_message)(cinfo, c->msg);
    longjmp(c->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->client_data;
    /* level -1 is a warning; a premature end of file means the data is truncated */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF && !c->truncated) {
        c->truncated = 1;
        (*cinfo->err->format_message)(cinfo, c->msg);
    }
}

static void on_jpeg_output(j_common_ptr cinfo) { (void)cinfo; }

static void ctx_release(jpeg_ctx *c) {
    if (c->created) jpeg_destroy_decompress(&c->cinfo);
    if (c->f) fclose(c->f);
    es_pixels_free(&c->px);
    free(c);
}

static int open_jpeg(const char *path, jpeg_ctx **out, es_error *err) {
    jpeg_ctx *c = calloc(1, sizeof *c);
    if (!c) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory", path);
    c->f = fopen(path, "rb");
    if (!c->f) {
        int e = errno;
        free(c);
        return es_error_set(err, ES_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    c->cinfo.err = jpeg_std_error(&c->jerr);
    c->jerr.error_exit = on_jpeg_error;
    c->jerr.emit_message = on_jpeg_message;
    c->jerr.output_message = on_jpeg_output;
    c->cinfo.client_data = c;
    *out = c;
    return ES_OK;
}

/* A failure after libjpeg longjmp'ed (or saw a truncation): one error, the context released. */
static int jpeg_fail(jpeg_ctx *c, const char *path, const char *what, es_error *err) {
    es_error_set(err, ES_ERR_FORMAT, "%s: %s: %s", path, what, c->msg);
    ctx_release(c);
    return ES_ERR_FORMAT;
}

/* Creates the decompressor on c's file and reads the header. libjpeg errors longjmp to the
 * caller's setjmp (whose frame is still live), so this is a plain call. */
static void read_header(jpeg_ctx *c) {
    jpeg_create_decompress(&c->cinfo);
    c->created = 1;
    jpeg_stdio_src(&c->cinfo, c->f);
    jpeg_read_header(&c->cinfo, TRUE);
}

int es_jpeg_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err) {
    jpeg_ctx *c;
    ES_CHECK(open_jpeg(path, &c, err));
    if (setjmp(c->jump)) return jpeg_fail(c, path, "truncated or corrupt JPEG", err);
    read_header(c);
    *w = c->cinfo.image_width;
    *h = c->cinfo.image_height;
    ctx_release(c);
    return ES_OK;
}

int es_jpeg_read(const char *path, es_pixels *out, es_error *err) {
    *out = ES_PIXELS_EMPTY;
    jpeg_ctx *c;
    ES_CHECK(open_jpeg(path, &c, err));
    if (setjmp(c->jump)) return jpeg_fail(c, path, "truncated or corrupt JPEG", err);
    read_header(c);
    c->cinfo.out_color_space = c->cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&c->cinfo);
    es_error aerr;
    if (es_pixels_alloc(&c->px, c->cinfo.output_width, c->cinfo.output_height,
                        (uint32_t)c->cinfo.output_components, 1, &aerr)) {
        es_error_set(err, aerr.code, "%s: %s", path, aerr.msg);
        ctx_release(c);
        return aerr.code;
    }
    size_t row = es_pixels_row_bytes(&c->px);
    while (c->cinfo.output_scanline < c->cinfo.output_height && !c->truncated) {
        JSAMPROW r = (JSAMPROW)((uint8_t *)c->px.data + (size_t)c->cinfo.output_scanline * row);
        jpeg_read_scanlines(&c->cinfo, &r, 1);
    }
    if (!c->truncated) jpeg_finish_decompress(&c->cinfo);
    if (c->truncated) return jpeg_fail(c, path, "truncated JPEG", err);
    *out = c->px;
    c->px = ES_PIXELS_EMPTY;
    ctx_release(c);
    return ES_OK;
}
