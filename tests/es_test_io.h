/* es_test_io.h: files in tests: paths in the test's temporary directory, and reading what
 * the tests check against (a whole file, a JSON document, a COCO panoptic PNG) with the
 * tests' own code rather than the library's, so that a library bug cannot hide behind
 * itself. Header-only; the readers return NULL on any failure.
 */
#ifndef ES_TEST_IO_H
#define ES_TEST_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <png.h>

#include "es_test.h"

/* name inside the test's temporary directory; the last 8 results stay valid. */
static inline char *es_test_tmp_file(const char *name) {
    static char buf[8][4096];
    static int k = 0;
    char *p = buf[k++ % 8];
    snprintf(p, 4096, "%s/%s", es_test_tmpdir(), name);
    return p;
}

/* The whole file, malloc'ed and NUL-terminated; its size in *len when len is not NULL. */
static inline char *es_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (!s) return NULL;
    s[n] = '\0';
    if (len) *len = (size_t)n;
    return s;
}

/* The file parsed by cJSON (the caller deletes it). */
static inline cJSON *es_test_read_json(const char *path) {
    char *s = es_test_read_file(path, NULL);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    free(s);
    return j;
}

/* A COCO panoptic PNG as ids R + 256 G + 65536 B, row-major (libpng's simplified API);
 * *h and *w are 0 when it cannot be read. */
static inline uint32_t *es_test_read_panoptic_png(const char *path, uint32_t *h, uint32_t *w) {
    *h = *w = 0;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return NULL;
    img.format = PNG_FORMAT_RGB;
    uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
    if (!rgb || !png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
        free(rgb);
        png_image_free(&img);
        return NULL;
    }
    *h = img.height;
    *w = img.width;
    size_t n = (size_t)img.height * img.width;
    uint32_t *ids = malloc(sizeof *ids * (n ? n : 1));
    for (size_t i = 0; ids && i < n; i++) ids[i] = rgb[3 * i] + 256u * rgb[3 * i + 1] + 65536u * rgb[3 * i + 2];
    free(rgb);
    return ids;
}

#endif
