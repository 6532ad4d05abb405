/* image_tiff.c: TIFF in and out through libtiff, for the largest images (EntitySeg reaches
 * 15,000 px a side).
 *
 * Reading: 8/16/32-bit samples, 1..4 interleaved channels, striped or tiled, any codec
 * libtiff has (JPEG-compressed YCbCr comes out as RGB; palette images as their indices). libtiff's error and warning messages go to a per-handle handler
 * (TIFFOpenExt, libtiff >= 4.5) that keeps the first error for es_error: nothing is printed
 * and nothing global is touched, so threads may read different files at once.
 * Writing: striped (es_tiff_write) or tiled (es_tiff_write_tiled), deflate-compressed when
 * the codec is built in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "entseg/image.h"
#include "image_internal.h"

#if TIFFLIB_VERSION < 20221213
#error "libtiff >= 4.5.0 is required (TIFFOpenExt with per-handle error handlers)"
#endif

typedef struct tiff_msg {
    char text[256];
    int have;
} tiff_msg;

static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    tiff_msg *m = user;
    if (m && !m->have) { /* the first error is the cause; later ones are consequences */
        char body[200];
        vsnprintf(body, sizeof body, fmt, ap);
        snprintf(m->text, sizeof m->text, "%s%s%s", module ? module : "", module ? ": " : "", body);
        m->have = 1;
    }
    return 1; /* handled: do not call libtiff's global (printing) handler */
}

static int on_tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1; /* warnings (unknown tags, ...) are dropped */
}

static TIFF *open_tiff(const char *path, const char *mode, tiff_msg *m) {
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_warning, m);
    TIFF *t = TIFFOpenExt(path, mode, opts);
    TIFFOpenOptionsFree(opts);
    return t;
}

static const char *why(const tiff_msg *m) { return m->have ? m->text : "unknown libtiff error"; }

int es_tiff_read_size(const char *path, uint32_t *w, uint32_t *h, es_error *err) {
    tiff_msg m = {{0}, 0};
    TIFF *t = open_tiff(path, "r", &m);
    if (!t) return es_error_set(err, ES_ERR_FORMAT, "%s: cannot read TIFF: %s", path, why(&m));
    uint32_t width = 0, height = 0;
    int ok = TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width) && TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height);
    TIFFClose(t);
    if (!ok || !width || !height)
        return es_error_set(err, ES_ERR_FORMAT, "%s: TIFF without an image size", path);
    *w = width;
    *h = height;
    return ES_OK;
}

/* Copies rows [y0, y0+rows) x cols [x0, x0+cols) of a tile buffer laid out tw wide. */
static void copy_tile(es_pixels *px, const uint8_t *tile, uint32_t tw, uint32_t x0, uint32_t y0,
                      uint32_t cols, uint32_t rows, size_t pixel_bytes) {
    size_t row_bytes = (size_t)px->width * pixel_bytes;
    for (uint32_t r = 0; r < rows; r++)
        memcpy((uint8_t *)px->data + (size_t)(y0 + r) * row_bytes + (size_t)x0 * pixel_bytes,
               tile + (size_t)r * tw * pixel_bytes, (size_t)cols * pixel_bytes);
}

static int read_tiles(TIFF *t, const char *path, es_pixels *px, const tiff_msg *m, es_error *err) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    size_t pixel_bytes = (size_t)px->channels * px->depth;
    tmsize_t tile_size = TIFFTileSize(t);
    if (!tw || !th || tile_size <= 0 || (size_t)tile_size < (size_t)tw * th * pixel_bytes)
        return es_error_set(err, ES_ERR_FORMAT, "%s: bad TIFF tile layout", path);
    uint8_t *tile = malloc((size_t)tile_size);
    if (!tile) return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory for a TIFF tile", path);
    for (uint32_t y = 0; y < px->height; y += th)
        for (uint32_t x = 0; x < px->width; x += tw) {
            if (TIFFReadTile(t, tile, x, y, 0, 0) < 0) {
                free(tile);
                return es_error_set(err, ES_ERR_FORMAT, "%s: truncated or corrupt TIFF tile at (%u, %u): %s",
                                    path, x, y, why(m));
            }
            uint32_t cols = px->width - x < tw ? px->width - x : tw;
            uint32_t rows = px->height - y < th ? px->height - y : th;
            copy_tile(px, tile, tw, x, y, cols, rows, pixel_bytes);
        }
    free(tile);
    return ES_OK;
}

static int read_strips(TIFF *t, const char *path, es_pixels *px, const tiff_msg *m, es_error *err) {
    uint32_t rps = 0;
    if (!TIFFGetField(t, TIFFTAG_ROWSPERSTRIP, &rps) || rps == 0 || rps > px->height) rps = px->height;
    size_t row = es_pixels_row_bytes(px);
    if ((size_t)TIFFScanlineSize64(t) != row)
        return es_error_set(err, ES_ERR_FORMAT, "%s: TIFF scanline size disagrees with its header", path);
    uint32_t nstrips = TIFFNumberOfStrips(t);
    for (uint32_t s = 0, y = 0; s < nstrips && y < px->height; s++, y += rps) {
        uint32_t rows = px->height - y < rps ? px->height - y : rps;
        tmsize_t want = (tmsize_t)(rows * row);
        tmsize_t got = TIFFReadEncodedStrip(t, s, (uint8_t *)px->data + (size_t)y * row, want);
        if (got < want)
            return es_error_set(err, ES_ERR_FORMAT, "%s: truncated or corrupt TIFF strip %u: %s", path, s,
                                got < 0 ? why(m) : "short strip");
    }
    return ES_OK;
}

int es_tiff_read(const char *path, es_pixels *out, es_error *err) {
    *out = ES_PIXELS_EMPTY;
    tiff_msg m = {{0}, 0};
    TIFF *t = open_tiff(path, "r", &m);
    if (!t) return es_error_set(err, ES_ERR_FORMAT, "%s: cannot read TIFF: %s", path, why(&m));
    uint32_t width = 0, height = 0;
    uint16_t bits = 1, spp = 1, planar = PLANARCONFIG_CONTIG;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
    uint16_t compression = COMPRESSION_NONE, photometric = PHOTOMETRIC_MINISBLACK;
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
    if (compression == COMPRESSION_JPEG && photometric == PHOTOMETRIC_YCBCR)
        TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB); /* libjpeg converts to RGB */
    int rc;
    if (!width || !height) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: TIFF without an image size", path);
    } else if (bits != 8 && bits != 16 && bits != 32) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: unsupported TIFF bit depth %u (expected 8, 16 or 32)", path, bits);
    } else if (spp < 1 || spp > 4) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: unsupported TIFF with %u samples per pixel (expected 1..4)", path, spp);
    } else if (planar != PLANARCONFIG_CONTIG && spp > 1) {
        rc = es_error_set(err, ES_ERR_FORMAT, "%s: planar (separate-plane) TIFF is not supported", path);
    } else {
        es_pixels px;
        rc = es_pixels_alloc(&px, width, height, spp, bits / 8, err);
        if (rc) {
            es_error_prefix(err, "%s", path);
        } else {
            rc = TIFFIsTiled(t) ? read_tiles(t, path, &px, &m, err) : read_strips(t, path, &px, &m, err);
            if (rc) es_pixels_free(&px);
            else *out = px;
        }
    }
    TIFFClose(t);
    return rc;
}

static int set_header(TIFF *t, const es_pixels *p) {
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p->width) && TIFFSetField(t, TIFFTAG_IMAGELENGTH, p->height) &&
             TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, (uint16_t)(p->depth * 8)) &&
             TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)p->channels) &&
             TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) &&
             TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(t, TIFFTAG_PHOTOMETRIC, p->channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    if (ok && (p->channels == 2 || p->channels == 4)) {
        uint16_t extra = EXTRASAMPLE_UNASSALPHA;
        ok = TIFFSetField(t, TIFFTAG_EXTRASAMPLES, (uint16_t)1, &extra);
    }
    if (ok && TIFFIsCODECConfigured(COMPRESSION_ADOBE_DEFLATE))
        ok = TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    return ok;
}

static int check_writable(const char *path, const es_pixels *p, es_error *err) {
    if (!path || !p || !p->data) return es_error_set(err, ES_ERR_INVALID, "es_tiff_write: NULL argument");
    if (p->width == 0 || p->height == 0 || p->channels < 1 || p->channels > 4 ||
        (p->depth != 1 && p->depth != 2 && p->depth != 4))
        return es_error_set(err, ES_ERR_INVALID,
                            "%s: cannot write a %ux%u TIFF with %u channels of %u bytes (TIFF: 1..4 channels, 1, 2 or 4 bytes)",
                            path, p->width, p->height, p->channels, p->depth);
    return ES_OK;
}

static int write_fail(TIFF *t, const char *path, const tiff_msg *m, es_error *err) {
    if (t) TIFFClose(t);
    remove(path);
    return es_error_set(err, ES_ERR_IO, "%s: writing TIFF failed: %s", path, why(m));
}

int es_tiff_write(const char *path, const es_pixels *p, es_error *err) {
    ES_CHECK(check_writable(path, p, err));
    tiff_msg m = {{0}, 0};
    /* "w8" would be BigTIFF; classic TIFF holds up to 4 GiB, enough for 15,000^2 RGB */
    TIFF *t = open_tiff(path, "w", &m);
    if (!t) return es_error_set(err, ES_ERR_IO, "%s: cannot create TIFF: %s", path, why(&m));
    if (!set_header(t, p) || !TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0)))
        return write_fail(t, path, &m, err);
    size_t row = es_pixels_row_bytes(p);
    for (uint32_t y = 0; y < p->height; y++)
        if (TIFFWriteScanline(t, (uint8_t *)p->data + (size_t)y * row, y, 0) < 0)
            return write_fail(t, path, &m, err);
    if (!TIFFWriteDirectory(t)) return write_fail(t, path, &m, err);
    TIFFClose(t);
    if (m.have) return write_fail(NULL, path, &m, err); /* e.g. the final flush failed */
    return ES_OK;
}

int es_tiff_write_tiled(const char *path, const es_pixels *p, uint32_t tile, es_error *err) {
    ES_CHECK(check_writable(path, p, err));
    if (tile == 0 || tile % 16)
        return es_error_set(err, ES_ERR_INVALID, "%s: TIFF tile size %u is not a positive multiple of 16", path, tile);
    tiff_msg m = {{0}, 0};
    TIFF *t = open_tiff(path, "w", &m);
    if (!t) return es_error_set(err, ES_ERR_IO, "%s: cannot create TIFF: %s", path, why(&m));
    if (!set_header(t, p) || !TIFFSetField(t, TIFFTAG_TILEWIDTH, tile) || !TIFFSetField(t, TIFFTAG_TILELENGTH, tile))
        return write_fail(t, path, &m, err);
    size_t pixel_bytes = (size_t)p->channels * p->depth, row = es_pixels_row_bytes(p);
    uint8_t *buf = calloc((size_t)tile * tile, pixel_bytes);
    if (!buf) {
        TIFFClose(t);
        remove(path);
        return es_error_set(err, ES_ERR_NOMEM, "%s: out of memory for a TIFF tile", path);
    }
    for (uint32_t y = 0; y < p->height; y += tile)
        for (uint32_t x = 0; x < p->width; x += tile) {
            uint32_t cols = p->width - x < tile ? p->width - x : tile;
            uint32_t rows = p->height - y < tile ? p->height - y : tile;
            memset(buf, 0, (size_t)tile * tile * pixel_bytes);
            for (uint32_t r = 0; r < rows; r++)
                memcpy(buf + (size_t)r * tile * pixel_bytes,
                       (const uint8_t *)p->data + (size_t)(y + r) * row + (size_t)x * pixel_bytes,
                       (size_t)cols * pixel_bytes);
            if (TIFFWriteTile(t, buf, x, y, 0, 0) < 0) {
                free(buf);
                return write_fail(t, path, &m, err);
            }
        }
    free(buf);
    if (!TIFFWriteDirectory(t)) return write_fail(t, path, &m, err);
    TIFFClose(t);
    return ES_OK;
}
