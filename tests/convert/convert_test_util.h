/* convert_test_util.h: helpers for the converter tests: small files written by the tests
 * themselves (JSON text, id PNGs), and store reading shortcuts. */
#ifndef ES_CONVERT_TEST_UTIL_H
#define ES_CONVERT_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entseg/image.h"
#include "entseg/rle.h"
#include "entseg/store.h"
#include "es_test_io.h"

static inline char *tpath(const char *dir, const char *name) {
    static char buf[16][4096];
    static int slot = 0;
    char *p = buf[slot++ % 16];
    /* dir may be an earlier result of tpath: join by hand (snprintf forbids overlap) */
    size_t a = strlen(dir), b = strlen(name);
    if (a + b + 2 > 4096) abort();
    memmove(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static inline int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

/* Writes ids (w*h, row-major) as a COCO panoptic RGB PNG. */
static inline int write_id_png(const char *path, const uint32_t *ids, uint32_t w, uint32_t h) {
    es_pixels p = ES_PIXELS_EMPTY;
    if (es_pixels_alloc(&p, w, h, 3, 1, NULL)) return -1;
    uint8_t *d = p.data;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        d[3 * i] = ids[i] & 255;
        d[3 * i + 1] = (ids[i] >> 8) & 255;
        d[3 * i + 2] = (ids[i] >> 16) & 255;
    }
    int rc = es_png_write(path, &p, NULL);
    es_pixels_free(&p);
    return rc;
}

static inline int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Copies a file (for broken copies of fixtures). */
static inline int copy_file(const char *from, const char *to) {
    size_t n = 0;
    char *t = es_test_read_file(from, &n);
    if (!t) return -1;
    FILE *f = fopen(to, "wb");
    if (!f) {
        free(t);
        return -1;
    }
    fwrite(t, 1, n, f);
    fclose(f);
    free(t);
    return 0;
}

#endif
