/* bench_nn_train.c: milliseconds per training step of the small conv net
 * (train/bench/small_net.h) on the CPU; scripts/bench-nn runs its PyTorch twin
 * (scripts/twins/small_net.py) with the same shape and thread count and prints the ratio.
 * Usage: bench-nn-train [--threads N] [--batch N] [--channels C] [--size S] [--steps K] */
#include <stdlib.h>
#include <time.h>

#include "small_net.h"

int main(int argc, char **argv) {
    int threads = 0, n = 4, c = 32, s = 64, steps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--channels")) c = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) s = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench-nn-train: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    es_error err;
    nn_ctx *ctx;
    small_net net;
    if (nn_ctx_create(&ctx, NN_REQUEST_CPU, threads, &err) || small_net_init(&net, ctx, n, c, s, s, 8, 1, &err)) {
        fprintf(stderr, "bench-nn-train: %s\n", err.msg);
        return 1;
    }
    float *x = malloc(sizeof(float) * n * 3 * s * s), *t = malloc(sizeof(float) * n * s * s);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    small_net_batch(&rng, n, s, s, x, t);
    float loss = 0;
    double best = 1e30, total = 0;
    for (int i = 0; i < steps + 3; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (small_net_step(&net, ctx, x, t, 0.05f, &loss, &err)) {
            fprintf(stderr, "bench-nn-train: %s\n", err.msg);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (i >= 3) { /* warm-up steps size the arena */
            total += ms;
            if (ms < best) best = ms;
        }
    }
    printf("entseg step: best %.2f ms, mean %.2f ms (batch %d, %d channels, %dx%d, %d threads, loss %.4f)\n", best,
           total / steps, n, c, s, s, nn_ctx_threads(ctx), loss);
    free(x);
    free(t);
    small_net_free(&net);
    nn_ctx_free(ctx);
    return 0;
}
