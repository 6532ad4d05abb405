/* bench_big_json.c: writes a large synthetic COCO results JSON for a ground-truth store, to
 * measure entseg-convert's peak memory on COCO-train-size files (scripts/bench-convert).
 *
 * usage: bench-big-json GT.db OUT.json MEGABYTES
 * Results cycle over the store's images; each is a random box as a compressed RLE string
 * (pycocotools form), with a score and a category, until the file reaches MEGABYTES. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entseg/rle.h"
#include "entseg/store.h"

static uint64_t rng = 88172645463325252ULL;
static double uniform(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench-big-json GT.db OUT.json MEGABYTES\n");
        return 2;
    }
    es_error err = {0};
    es_store *s = NULL;
    es_image *imgs = NULL;
    size_t n = 0;
    if (es_store_open(argv[1], ES_OPEN_READ, &s, &err) || es_store_images(s, &imgs, &n, &err) || n == 0) {
        fprintf(stderr, "bench-big-json: %s\n", err.msg[0] ? err.msg : "no images");
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f) return 1;
    long long target = atoll(argv[3]) * 1000000LL, written = 0, count = 0;
    fputs("[\n", f);
    for (size_t i = 0; written < target; i = (i + 1) % n, count++) {
        const es_image *im = &imgs[i];
        /* a few boxes merged: more runs, strings of realistic length */
        es_rle parts[3], m = ES_RLE_EMPTY;
        for (int k = 0; k < 3; k++) {
            double bw = 5 + uniform() * im->width / 3, bh = 5 + uniform() * im->height / 3;
            double box[4] = {uniform() * (im->width - bw), uniform() * (im->height - bh), bw, bh};
            parts[k] = ES_RLE_EMPTY;
            es_rle_from_bbox(&parts[k], box, im->height, im->width, NULL);
        }
        es_rle_merge(&m, parts, 3, 0, NULL);
        char *raw = NULL;
        es_rle_to_string(&m, &raw, NULL);
        /* JSON-escape: RLE strings may hold a backslash */
        char *str = malloc(2 * strlen(raw) + 1), *o = str;
        for (const char *c = raw; *c; c++) {
            if (*c == '\\' || *c == '"') *o++ = '\\';
            *o++ = *c;
        }
        *o = '\0';
        free(raw);
        int len = fprintf(f, "%s{\"image_id\": %lld, \"category_id\": %d, \"segmentation\": {\"size\": [%u, %u], "
                             "\"counts\": \"%s\"}, \"score\": %.6f}",
                          count ? ",\n" : "", (long long)im->source_id, 1 + (int)(uniform() * 80), im->height, im->width,
                          str, uniform());
        written += len;
        free(str);
        es_rle_free(&m);
        for (int k = 0; k < 3; k++) es_rle_free(&parts[k]);
    }
    fputs("\n]\n", f);
    fclose(f);
    printf("results %lld bytes %lld\n", count, written);
    es_images_free(imgs, n);
    es_store_close(s);
    return 0;
}
