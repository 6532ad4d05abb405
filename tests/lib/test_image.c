/* test_image.c: PNG / TIFF / JPEG reading and writing: every PNG and TIFF variant round
 * trips bit-exactly, palette PNGs give RGB or their indices, 16-bit samples keep their
 * values, and truncated, corrupt or foreign files give errors naming the file (not crashes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "entseg/image.h"
#include "es_test.h"
#include "es_test_io.h"

/* Deterministic pattern that uses the whole sample range (incl. the high byte of 16/32 bit). */
static void fill_pattern(es_pixels *p) {
    size_t n = (size_t)p->width * p->height * p->channels;
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t v = x ^ (x >> 13);
        if (p->depth == 1) ((uint8_t *)p->data)[i] = (uint8_t)v;
        else if (p->depth == 2) ((uint16_t *)p->data)[i] = (uint16_t)v;
        else ((uint32_t *)p->data)[i] = v;
    }
}

static int same_pixels(const es_pixels *a, const es_pixels *b) {
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           a->depth == b->depth &&
           !memcmp(a->data, b->data, (size_t)a->width * a->height * a->channels * a->depth);
}

static void png_round_trips_every_depth_and_channel_count(void) {
    es_error err;
    for (uint32_t depth = 1; depth <= 2; depth++)
        for (uint32_t ch = 1; ch <= 4; ch++) {
            es_pixels p, q;
            CHECK_OK(es_pixels_alloc(&p, 37, 23, ch, depth, &err), &err);
            fill_pattern(&p);
            const char *path = es_test_tmp_file("rt.png");
            CHECK_OK(es_png_write(path, &p, &err), &err);
            CHECK_OK(es_image_read(path, 0, &q, &err), &err);
            CHECK_MSG(same_pixels(&p, &q), "depth %u channels %u", depth, ch);
            uint32_t w = 0, h = 0;
            CHECK_OK(es_image_read_size(path, &w, &h, &err), &err);
            CHECK_EQ_INT(w, 37);
            CHECK_EQ_INT(h, 23);
            es_pixels_free(&p);
            es_pixels_free(&q);
        }
}

static void png_16bit_values_survive_in_native_order(void) {
    es_error err;
    es_pixels p, q;
    CHECK_OK(es_pixels_alloc(&p, 3, 1, 1, 2, &err), &err);
    uint16_t *v = p.data;
    v[0] = 0x1234, v[1] = 65535, v[2] = 1;
    const char *path = es_test_tmp_file("g16.png");
    CHECK_OK(es_png_write(path, &p, &err), &err);
    CHECK_OK(es_image_read(path, 0, &q, &err), &err);
    uint32_t ids[3];
    CHECK_OK(es_pixels_to_ids(&q, ids, &err), &err);
    CHECK_EQ_INT(ids[0], 0x1234);
    CHECK_EQ_INT(ids[1], 65535);
    CHECK_EQ_INT(ids[2], 1);
    es_pixels_free(&p);
    es_pixels_free(&q);
}

/* A 4x2 palette PNG written straight through libpng: bit depth 4, 3 colours, the third
 * with alpha 0 when transparent is set. */
static void write_palette_png(const char *path, int transparent) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, 4, 2, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color pal[3] = {{10, 20, 30}, {200, 100, 0}, {1, 2, 3}};
    png_set_PLTE(png, info, pal, 3);
    png_byte trns[3] = {255, 255, 0};
    if (transparent) png_set_tRNS(png, info, trns, 3, NULL);
    png_write_info(png, info);
    png_byte rows[2][2] = {{0x01, 0x20}, {0x22, 0x10}}; /* indices 0 1 2 0 / 2 2 1 0 */
    for (int y = 0; y < 2; y++) png_write_row(png, rows[y]);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void palette_png_gives_rgb_or_indices(void) {
    es_error err;
    const char *path = es_test_tmp_file("pal.png");
    write_palette_png(path, 0);
    es_pixels p;
    CHECK_OK(es_image_read(path, ES_READ_PALETTE_INDEX, &p, &err), &err);
    CHECK_EQ_INT(p.channels, 1);
    CHECK_EQ_INT(p.depth, 1);
    const uint8_t want_idx[8] = {0, 1, 2, 0, 2, 2, 1, 0};
    CHECK(p.data && !memcmp(p.data, want_idx, 8));
    es_pixels_free(&p);

    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK_EQ_INT(p.channels, 3);
    const uint8_t *d = p.data;
    CHECK(d[3] == 200 && d[4] == 100 && d[5] == 0);  /* (1, 0) is index 1 */
    CHECK(d[6] == 1 && d[7] == 2 && d[8] == 3);      /* (2, 0) is index 2 */
    uint32_t ids[8];
    CHECK_OK(es_pixels_to_ids(&p, ids, &err), &err);
    CHECK_EQ_INT(ids[0], 10 + 256 * 20 + 65536 * 30);
    es_pixels_free(&p);

    write_palette_png(path, 1);
    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK_EQ_INT(p.channels, 4);
    CHECK(((uint8_t *)p.data)[4 * 2 + 3] == 0 && ((uint8_t *)p.data)[3] == 255);
    es_pixels_free(&p);
}

/* Interlaced (Adam7) RGB and 1-bit gray PNGs, written straight through libpng. */
static void write_plain_png(const char *path, int color, int depth, int interlace, png_bytep *rows, uint32_t w,
                            uint32_t h) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void interlaced_and_1bit_pngs_read(void) {
    es_error err;
    enum { W = 19, H = 13 };
    static uint8_t rgb[H][W * 3];
    png_bytep rows[H];
    for (int y = 0; y < H; y++) {
        rows[y] = rgb[y];
        for (int i = 0; i < W * 3; i++) rgb[y][i] = (uint8_t)(y * 31 + i * 7);
    }
    const char *path = es_test_tmp_file("adam7.png");
    write_plain_png(path, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, rows, W, H);
    es_pixels p;
    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK(p.data && p.channels == 3 && !memcmp(p.data, rgb, sizeof rgb));
    es_pixels_free(&p);

    static uint8_t bits[H][(W + 7) / 8];
    for (int y = 0; y < H; y++) {
        rows[y] = bits[y];
        memset(bits[y], 0, sizeof bits[y]);
        bits[y][0] = 0x80 >> (y % 8); /* pixel x = y % 8 is white */
    }
    path = es_test_tmp_file("bits.png");
    write_plain_png(path, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, rows, W, H);
    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK(p.channels == 1 && p.depth == 1);
    int wrong = 0;
    for (int y = 0; p.data && y < H; y++)
        for (int x = 0; x < W; x++) wrong += ((uint8_t *)p.data)[y * W + x] != (x == y % 8 ? 255 : 0);
    CHECK_EQ_INT(wrong, 0);
    es_pixels_free(&p);
}

/* A big-endian ("MM") 16-bit TIFF written straight through libtiff reads in native order. */
static void big_endian_tiff_reads_native_values(void) {
    const char *path = es_test_tmp_file("mm16.tif");
    TIFF *t = TIFFOpen(path, "wb");
    CHECK(t != NULL);
    if (!t) return;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 3);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 2);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 1);
    const uint16_t want[2][3] = {{0x1234, 0xfffe, 1}, {0, 0x8000, 0x00ff}};
    uint16_t rows[2][3]; /* libtiff byte-swaps what it writes in place */
    memcpy(rows, want, sizeof rows);
    for (uint32_t y = 0; y < 2; y++) TIFFWriteScanline(t, rows[y], y, 0);
    TIFFClose(t);
    FILE *f = fopen(path, "rb");
    unsigned char magic[2] = {0, 0};
    CHECK(f && fread(magic, 1, 2, f) == 2 && magic[0] == 'M' && magic[1] == 'M');
    if (f) fclose(f);
    es_error err;
    es_pixels p;
    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK(p.data && p.depth == 2 && !memcmp(p.data, want, sizeof want));
    es_pixels_free(&p);
}

/* A JPEG-compressed YCbCr TIFF (as scanners and some datasets write) reads as RGB. */
static void jpeg_ycbcr_tiff_reads_as_rgb(void) {
    if (!TIFFIsCODECConfigured(COMPRESSION_JPEG)) return;
    const char *path = es_test_tmp_file("ycbcr.tif");
    TIFF *t = TIFFOpen(path, "w");
    CHECK(t != NULL);
    if (!t) return;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 32);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 32);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
    TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    TIFFSetField(t, TIFFTAG_JPEGQUALITY, 95);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    uint8_t row[32 * 3];
    for (uint32_t y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) row[3 * x] = 200, row[3 * x + 1] = 40, row[3 * x + 2] = 90;
        TIFFWriteScanline(t, row, y, 0);
    }
    TIFFClose(t);
    es_error err;
    es_pixels p;
    CHECK_OK(es_image_read(path, 0, &p, &err), &err);
    CHECK(p.channels == 3 && p.depth == 1);
    if (p.data) {
        const uint8_t *d = (const uint8_t *)p.data + (17 * 32 + 9) * 3;
        CHECK_MSG(abs(d[0] - 200) < 8 && abs(d[1] - 40) < 8 && abs(d[2] - 90) < 8, "got %d %d %d", d[0], d[1], d[2]);
    }
    es_pixels_free(&p);
}

static void tiff_round_trips_striped_and_tiled(void) {
    es_error err;
    const uint32_t depths[3] = {1, 2, 4};
    for (int di = 0; di < 3; di++)
        for (uint32_t ch = 1; ch <= 4; ch++)
            for (int tiled = 0; tiled <= 1; tiled++) {
                es_pixels p, q;
                CHECK_OK(es_pixels_alloc(&p, 45, 39, ch, depths[di], &err), &err); /* not a tile multiple */
                fill_pattern(&p);
                const char *path = es_test_tmp_file("rt.tif");
                if (tiled) CHECK_OK(es_tiff_write_tiled(path, &p, 16, &err), &err);
                else CHECK_OK(es_tiff_write(path, &p, &err), &err);
                CHECK_OK(es_image_read(path, 0, &q, &err), &err);
                CHECK_MSG(same_pixels(&p, &q), "depth %u channels %u tiled %d", depths[di], ch, tiled);
                uint32_t w = 0, h = 0;
                CHECK_OK(es_image_read_size(path, &w, &h, &err), &err);
                CHECK(w == 45 && h == 39);
                es_pixels_free(&p);
                es_pixels_free(&q);
            }
}

static void write_jpeg(const char *path, int gray) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    jpeg_stdio_dest(&c, f);
    c.image_width = 64;
    c.image_height = 48;
    c.input_components = gray ? 1 : 3;
    c.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t row[64 * 3];
    while (c.next_scanline < c.image_height) {
        for (int i = 0; i < 64 * 3; i++) row[i] = (uint8_t)(i * 2 + c.next_scanline);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

static void jpeg_reads_gray_and_rgb(void) {
    es_error err;
    for (int gray = 0; gray <= 1; gray++) {
        const char *path = es_test_tmp_file("img.jpg");
        write_jpeg(path, gray);
        es_pixels p;
        CHECK_OK(es_image_read(path, 0, &p, &err), &err);
        CHECK_EQ_INT(p.width, 64);
        CHECK_EQ_INT(p.height, 48);
        CHECK_EQ_INT(p.channels, gray ? 1 : 3);
        if (p.data) {
            int v = ((uint8_t *)p.data)[(10 * 64 + 5) * p.channels];
            int want = 5 * p.channels * 2 + 10;
            CHECK_MSG(abs(v - want) <= 8, "lossy sample %d vs %d", v, want);
        }
        uint32_t w, h;
        CHECK_OK(es_image_read_size(path, &w, &h, &err), &err);
        CHECK(w == 64 && h == 48);
        es_pixels_free(&p);
    }
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void truncate_copy(const char *src, const char *dst, long keep) {
    FILE *f = fopen(src, "rb");
    char *buf = malloc((size_t)keep + 1);
    size_t got = fread(buf, 1, (size_t)keep, f);
    fclose(f);
    f = fopen(dst, "wb");
    fwrite(buf, 1, got, f);
    fclose(f);
    free(buf);
}

/* Every cut of the file at several lengths fails with ES_ERR_FORMAT naming the file. */
static void expect_truncations_fail(const char *full, const char *cut_name) {
    long n = file_size(full);
    const long cuts[] = {9, 20, 40, n / 3, n / 2, n - 40, n - 13};
    char cut[4096];
    snprintf(cut, sizeof cut, "%s/%s", es_test_tmpdir(), cut_name);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (cuts[i] <= 0 || cuts[i] >= n) continue;
        truncate_copy(full, cut, cuts[i]);
        es_pixels p = {1, 1, 1, 1, (void *)1};
        es_error err = {0, ""};
        int rc = es_image_read(cut, 0, &p, &err);
        CHECK_MSG(rc == ES_ERR_FORMAT, "%s cut at %ld: rc %d (%s)", cut_name, cuts[i], rc, err.msg);
        CHECK_MSG(strstr(err.msg, cut_name) != NULL, "message names the file: %s", err.msg);
        CHECK(p.data == NULL);
    }
}

/* A w x h pattern image written as <src>.png, <src>.tif, tiled <src>.tif (tile x tile) and
 * <src>.jpg, each handed to check(file, name) right after it is written, the names
 * <out>.png, <out>.tif, <out>_tiled.tif and <out>.jpg for its output. */
static void on_every_format(uint32_t w, uint32_t h, uint32_t tile, const char *src, const char *out,
                            void (*check)(const char *file, const char *name)) {
    es_error err;
    es_pixels p;
    CHECK_OK(es_pixels_alloc(&p, w, h, 3, 1, &err), &err);
    fill_pattern(&p);
    char full[4096], name[256];
    snprintf(name, sizeof name, "%s.png", src);
    snprintf(full, sizeof full, "%s", es_test_tmp_file(name));
    CHECK_OK(es_png_write(full, &p, &err), &err);
    snprintf(name, sizeof name, "%s.png", out);
    check(full, name);
    snprintf(name, sizeof name, "%s.tif", src);
    snprintf(full, sizeof full, "%s", es_test_tmp_file(name));
    CHECK_OK(es_tiff_write(full, &p, &err), &err);
    snprintf(name, sizeof name, "%s.tif", out);
    check(full, name);
    CHECK_OK(es_tiff_write_tiled(full, &p, tile, &err), &err);
    snprintf(name, sizeof name, "%s_tiled.tif", out);
    check(full, name);
    snprintf(name, sizeof name, "%s.jpg", src);
    snprintf(full, sizeof full, "%s", es_test_tmp_file(name));
    write_jpeg(full, 0);
    snprintf(name, sizeof name, "%s.jpg", out);
    check(full, name);
    es_pixels_free(&p);
}

static void truncated_files_give_format_errors(void) {
    on_every_format(200, 150, 64, "full", "cut", expect_truncations_fail);
}

/* Flips a few random bytes of a valid file many times: every read either succeeds or
 * returns ES_ERR_FORMAT / ES_ERR_NOMEM, never crashes (run under ASan in CI). */
static void fuzz_reader(const char *full, const char *name) {
    FILE *f = fopen(full, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *orig = malloc((size_t)n), *buf = malloc((size_t)n);
    CHECK(fread(orig, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), name);
    uint32_t x = 2024;
    int bad = 0;
    for (int iter = 0; iter < 150; iter++) {
        memcpy(buf, orig, (size_t)n);
        for (int k = 0; k < 1 + iter % 4; k++) {
            x = x * 1664525u + 1013904223u;
            buf[(x >> 8) % (uint32_t)n] ^= (unsigned char)(1 + (x >> 24) % 255);
        }
        long len = iter % 5 == 4 ? n - (long)((x >> 4) % (uint32_t)n) : n; /* sometimes cut too */
        f = fopen(path, "wb");
        fwrite(buf, 1, (size_t)len, f);
        fclose(f);
        es_pixels p;
        es_error err;
        int rc = es_image_read(path, 0, &p, &err);
        if (rc != ES_OK && rc != ES_ERR_FORMAT && rc != ES_ERR_NOMEM) bad++;
        if (rc == ES_OK) es_pixels_free(&p);
        uint32_t w, h;
        es_image_read_size(path, &w, &h, &err);
    }
    CHECK_EQ_INT(bad, 0);
    free(orig);
    free(buf);
}

static void damaged_files_never_crash(void) { on_every_format(64, 48, 16, "fuzz_src", "fuzz", fuzz_reader); }

static void corrupt_png_data_is_an_error(void) {
    es_error err;
    es_pixels p;
    CHECK_OK(es_pixels_alloc(&p, 64, 64, 1, 1, &err), &err);
    fill_pattern(&p);
    const char *path = es_test_tmp_file("corrupt.png");
    CHECK_OK(es_png_write(path, &p, &err), &err);
    es_pixels_free(&p);
    FILE *f = fopen(path, "r+b");
    fseek(f, 100, SEEK_SET); /* inside IDAT: breaks its CRC */
    fputc(0x5a, f);
    fputc(0xa5, f);
    fclose(f);
    CHECK_EQ_INT(es_image_read(path, 0, &p, &err), ES_ERR_FORMAT);
    CHECK(p.data == NULL);
}

static void wrong_magic_and_missing_files_are_errors(void) {
    es_error err;
    es_pixels p;
    const char *path = es_test_tmp_file("not_an_image.png");
    FILE *f = fopen(path, "wb");
    fputs("GIF89a this is not a png at all", f);
    fclose(f);
    CHECK_EQ_INT(es_image_read(path, 0, &p, &err), ES_ERR_FORMAT);
    CHECK(strstr(err.msg, "not_an_image.png") != NULL);
    f = fopen(path, "wb");
    fclose(f); /* empty */
    CHECK_EQ_INT(es_image_read(path, 0, &p, &err), ES_ERR_FORMAT);
    uint32_t w, h;
    CHECK_EQ_INT(es_image_read_size(path, &w, &h, &err), ES_ERR_FORMAT);
    CHECK_EQ_INT(es_image_read(es_test_tmp_file("does_not_exist.png"), 0, &p, &err), ES_ERR_IO);
    CHECK(strstr(err.msg, "does_not_exist.png") != NULL);
}

static void writers_refuse_what_the_format_cannot_hold(void) {
    es_error err;
    es_pixels p;
    CHECK_OK(es_pixels_alloc(&p, 4, 4, 1, 4, &err), &err);
    CHECK_EQ_INT(es_png_write(es_test_tmp_file("x.png"), &p, &err), ES_ERR_INVALID); /* 32-bit PNG */
    es_pixels_free(&p);
    CHECK_EQ_INT(es_pixels_alloc(&p, 4, 4, 5, 1, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_pixels_alloc(&p, 0, 4, 1, 1, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_pixels_alloc(&p, 4, 4, 1, 3, &err), ES_ERR_INVALID);
    CHECK_EQ_INT(es_png_write(es_test_tmp_file("no/such/dir/x.png"), &p, &err), ES_ERR_INVALID); /* p empty */
    CHECK_OK(es_pixels_alloc(&p, 4, 4, 1, 1, &err), &err);
    CHECK_EQ_INT(es_png_write(es_test_tmp_file("no/such/dir/x.png"), &p, &err), ES_ERR_IO);
    CHECK_EQ_INT(es_tiff_write(es_test_tmp_file("no/such/dir/x.tif"), &p, &err), ES_ERR_IO);
    es_pixels_free(&p);
    es_pixels_free(NULL);
}

static void ids_from_pixels(void) {
    es_error err;
    es_pixels p;
    CHECK_OK(es_pixels_alloc(&p, 2, 1, 4, 1, &err), &err);
    uint8_t *d = p.data;
    d[0] = 1, d[1] = 2, d[2] = 3, d[3] = 255;
    d[4] = 255, d[5] = 255, d[6] = 255, d[7] = 0;
    uint32_t ids[2];
    CHECK_OK(es_pixels_to_ids(&p, ids, &err), &err);
    CHECK_EQ_INT(ids[0], 1 + 256 * 2 + 65536 * 3);
    CHECK_EQ_INT(ids[1], 16777215);
    es_pixels_free(&p);
    CHECK_OK(es_pixels_alloc(&p, 2, 1, 2, 1, &err), &err);
    CHECK_EQ_INT(es_pixels_to_ids(&p, ids, &err), ES_ERR_INVALID); /* gray+alpha is no id map */
    es_pixels_free(&p);
    CHECK_OK(es_pixels_alloc(&p, 2, 1, 1, 4, &err), &err);
    ((uint32_t *)p.data)[1] = 4000000000u;
    CHECK_OK(es_pixels_to_ids(&p, ids, &err), &err);
    CHECK_EQ_INT(ids[1], 4000000000u);
    es_pixels_free(&p);
}

int main(void) {
    ES_RUN(png_round_trips_every_depth_and_channel_count);
    ES_RUN(png_16bit_values_survive_in_native_order);
    ES_RUN(palette_png_gives_rgb_or_indices);
    ES_RUN(interlaced_and_1bit_pngs_read);
    ES_RUN(big_endian_tiff_reads_native_values);
    ES_RUN(jpeg_ycbcr_tiff_reads_as_rgb);
    ES_RUN(tiff_round_trips_striped_and_tiled);
    ES_RUN(jpeg_reads_gray_and_rgb);
    ES_RUN(truncated_files_give_format_errors);
    ES_RUN(corrupt_png_data_is_an_error);
    ES_RUN(damaged_files_never_crash);
    ES_RUN(wrong_magic_and_missing_files_are_errors);
    ES_RUN(writers_refuse_what_the_format_cannot_hold);
    ES_RUN(ids_from_pixels);
    ES_TEST_END();
}
