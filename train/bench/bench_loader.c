/* bench_loader.c: throughput of the K-Net training loader (train/data) on a store: images
 * per second through knet_loader_next (decode + resize + flip + normalise + pad + mask
 * grids) with N loader threads and a consumer that does nothing else, against the floor
 * of decoding the same files with es_image_read alone on one thread.
 * Usage: bench-loader STORE [--preset full|tiny] [--threads N] [--batches K]
 *                     [--set key=value]...
 * Defaults: the full preset's data keys (short side 480..800, long side <= 1333, batch 2),
 * 2 threads, batches enough for two passes over the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/loader.h"
#include "entseg/cli.h"
#include "entseg/image.h"
#include "entseg/store.h"
#include "knet/knet.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int die(const es_error *err) {
    fprintf(stderr, "bench-loader: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench-loader STORE [--preset full|tiny] [--threads N] [--batches K] [--set key=value]...\n");
        return 2;
    }
    const char *store = argv[1];
    es_error err = {0};
    knet_config c = knet_config_full();
    c.loader_threads = 2;
    int batches = 0;
    for (int i = 2; i < argc; i += 2) {
        int64_t v = 0;
        if (i + 1 >= argc) {
            fprintf(stderr, "bench-loader: %s needs a value\n", argv[i]);
            return 2;
        } else if (!strcmp(argv[i], "--preset")) {
            int threads = c.loader_threads;
            if (knet_config_preset(argv[i + 1], &c, &err)) return die(&err);
            c.loader_threads = threads;
        } else if (!strcmp(argv[i], "--threads") && es_cli_parse_int(argv[i + 1], 0, 64, &v)) {
            c.loader_threads = (int)v;
        } else if (!strcmp(argv[i], "--batches") && es_cli_parse_int(argv[i + 1], 0, 1 << 20, &v)) {
            batches = (int)v;
        } else if (!strcmp(argv[i], "--set")) {
            if (knet_config_set(&c, argv[i + 1], &err)) return die(&err);
        } else {
            fprintf(stderr, "bench-loader: unknown option or bad value: %s %s\n", argv[i], argv[i + 1]);
            return 2;
        }
    }
    /* the floor: decoding every file once, one thread */
    es_store *st = NULL;
    if (es_store_open(store, ES_OPEN_READ, &st, &err)) return die(&err);
    es_image *imgs = NULL;
    size_t n = 0;
    int rc = es_store_images(st, &imgs, &n, &err);
    es_store_close(st);
    if (rc) return die(&err);
    double px = 0, t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        knet_image_path(store, imgs[i].path ? imgs[i].path : "", path, sizeof path);
        es_pixels p = ES_PIXELS_EMPTY;
        if (es_image_read(path, 0, &p, &err)) return die(&err);
        px += (double)p.width * p.height;
        es_pixels_free(&p);
    }
    double decode_s = now_s() - t0;
    es_images_free(imgs, n);
    if (!batches) batches = (int)((2 * n + (size_t)c.batch - 1) / (size_t)c.batch);

    knet_loader *l = NULL;
    t0 = now_s();
    if (knet_loader_open(&l, store, &c, 0, &err)) return die(&err);
    double open_s = now_s() - t0;
    const knet_batch *bt = NULL;
    if (knet_loader_next(l, &bt, &err)) return die(&err); /* the first batch is ready; the ring keeps filling */
    double wait = 0, t1 = now_s(), out_px = 0;
    for (int k = 0; k < batches; k++) {
        double w0 = now_s();
        if (knet_loader_next(l, &bt, &err)) return die(&err);
        wait += now_s() - w0;
        out_px += (double)bt->h * bt->w * bt->batch;
    }
    double load_s = now_s() - t1;
    size_t cached = knet_loader_cache_bytes(l);
    knet_loader_free(l);
    double floor_ips = n / decode_s, ips = batches * c.batch / load_s;
    int last = 0;
    while (last + 1 < KNET_MAX_SCALES && c.scales[last + 1]) last++;
    printf("store %s: %zu images, %.1f Mpx on average\n", store, n, px / n / 1e6);
    printf("decode only (es_image_read, 1 thread): %.2f img/s\n", floor_ips);
    printf("loader (%s, %d threads, batch %d, short side %d..%d, long <= %d): %.2f img/s over %d batches, "
           "%.2f Mpx per padded image, consumer waited %.0f%%, open %.2f s\n",
           cached ? "cached" : "streaming", c.loader_threads, c.batch, c.scales[0], c.scales[last],
           c.max_size, ips, batches, out_px / batches / c.batch / 1e6, 100 * wait / load_s, open_s);
    printf("ratio loader / decode floor: %.2f\n", ips / floor_ips);
    return 0;
}
