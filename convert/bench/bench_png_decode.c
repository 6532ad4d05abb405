/* bench_png_decode.c: the floor for PNG conversion: libpng alone decoding every .png of a
 * directory to 8-bit rows, single thread, nothing else (no id maps, no RLE, no store).
 * Prints "png_decode_s <seconds> images <n> pixels <n>". Used by scripts/bench-convert. */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Decodes one PNG the plain libpng way (png_read_image into a row buffer). */
static int decode(const char *path, unsigned long long *pixels) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    unsigned char *data = NULL;
    png_bytep *rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(data);
        free(rows);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    png_read_update_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    data = malloc(stride * h);
    rows = malloc(h * sizeof *rows);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = data + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    *pixels += (unsigned long long)w * h;
    free(data);
    free(rows);
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench-png-decode DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "bench-png-decode: cannot open %s\n", argv[1]);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".png")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n] = malloc(strlen(argv[1]) + l + 2);
        sprintf(names[n++], "%s/%s", argv[1], de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    unsigned long long pixels = 0;
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (decode(names[i], &pixels)) {
            fprintf(stderr, "bench-png-decode: %s: cannot decode\n", names[i]);
            return 1;
        }
    double t = now() - t0;
    printf("png_decode_s %.3f images %zu pixels %llu\n", t, n, pixels);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return 0;
}
