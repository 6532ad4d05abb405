/* bench_nn_conv.c: CPU throughput of conv2d forward+backward and of matmul (nn_linear) in
 * GFLOP/s, against OpenBLAS sgemm's own peak (a large square sgemm on OpenBLAS's threads)
 * measured in the same run. Usage: bench-nn-conv [--threads N] [--seconds S] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double min_seconds = 0.5;

/* best of repeated runs of fn over at least min_seconds */
typedef int (*run_fn)(void *ud);
static double best_time(run_fn fn, void *ud) {
    double best = 1e30, start = now();
    int reps = 0;
    do {
        double t0 = now();
        if (fn(ud)) return -1;
        double dt = now() - t0;
        if (dt < best) best = dt;
        reps++;
    } while (now() - start < min_seconds || reps < 3);
    return best;
}

typedef struct sgemm_job {
    int n;
    float *a, *b, *c;
} sgemm_job;

static int run_sgemm(void *ud) {
    sgemm_job *j = ud;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->n, j->n, 1.0f, j->a, j->n, j->b, j->n, 0.0f, j->c,
                j->n);
    return 0;
}

typedef struct conv_job {
    nn_ctx *ctx;
    nn_tensor x, w, b, y;
    nn_conv2d_opts o;
    int backward;
} conv_job;

static int run_conv(void *ud) {
    conv_job *j = ud;
    es_error err;
    if (nn_conv2d_forward(j->ctx, &j->x, &j->w, &j->b, &j->y, &j->o, &err) ||
        (j->backward && nn_conv2d_backward(j->ctx, &j->x, &j->w, &j->b, &j->y, &j->o, &err))) {
        fprintf(stderr, "conv: %s\n", err.msg);
        return 1;
    }
    return 0;
}

typedef struct lin_job {
    nn_ctx *ctx;
    nn_tensor x, w, y;
} lin_job;

static int run_linear(void *ud) {
    lin_job *j = ud;
    es_error err;
    if (nn_linear_forward(j->ctx, &j->x, &j->w, NULL, &j->y, &err) || nn_linear_backward(j->ctx, &j->x, &j->w, NULL, &j->y, &err)) {
        fprintf(stderr, "linear: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static float *rnd(nn_rng *r, int64_t n) {
    float *p = malloc((size_t)n * 4);
    nn_rng_fill_uniform(r, p, n, -1, 1);
    return p;
}

int main(int argc, char **argv) {
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) min_seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-nn-conv [--threads N] [--seconds S]\n");
            return 2;
        }
    }
    es_error err;
    nn_ctx *ctx;
    if (nn_ctx_create(&ctx, NN_REQUEST_CPU, threads, &err)) {
        fprintf(stderr, "bench-nn-conv: %s\n", err.msg);
        return 1;
    }
    threads = nn_ctx_threads(ctx);
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    /* the floor: OpenBLAS's own threaded sgemm on 1024^3, measured again before every case
     * (the machine is shared: the best of all measurements is the peak) */
    sgemm_job sj = {1024, rnd(&rng, 1 << 20), rnd(&rng, 1 << 20), rnd(&rng, 1 << 20)};
    double peak = 0;
#define MEASURE_PEAK()                                                      \
    do {                                                                    \
        openblas_set_num_threads(threads);                                  \
        double ts_ = best_time(run_sgemm, &sj);                             \
        double p_ = 2.0 * 1024 * 1024 * 1024 / ts_ / 1e9;                   \
        if (p_ > peak) peak = p_;                                           \
        openblas_set_num_threads(1); /* back to the engine's setting */    \
    } while (0)
    MEASURE_PEAK();
    printf("threads %d, stride-1 convolutions: %s\n", threads,
           nn_conv2d_cpu_direct() ? "direct AVX2 kernels" : "im2col + sgemm");
    printf("openblas sgemm 1024^3 (first measurement): %.1f GFLOP/s\n", peak);
    struct {
        int n, cin, h, cout, k, stride;
    } cases[] = {{4, 32, 64, 32, 3, 1} /* the small net's layer */, {2, 64, 64, 64, 3, 1}, {2, 128, 32, 128, 3, 1}, {2, 256, 16, 256, 3, 1}, {1, 64, 128, 64, 3, 1},
                 {2, 64, 64, 128, 3, 2}, {2, 256, 32, 64, 1, 1}};
    printf("%-34s %9s %9s %8s\n", "conv2d (N, Cin, H=W, Cout, k, s)", "fwd GF/s", "f+b GF/s", "f+b/peak");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conv_job j;
        memset(&j, 0, sizeof j);
        j.ctx = ctx;
        int pad = cases[i].k / 2, oh = nn_conv2d_out_size(cases[i].h, cases[i].k, cases[i].stride, pad, 1);
        j.o = nn_conv2d_opts_make(cases[i].stride, pad, 1, 1);
        int64_t nx = (int64_t)cases[i].n * cases[i].cin * cases[i].h * cases[i].h;
        int64_t nw = (int64_t)cases[i].cout * cases[i].cin * cases[i].k * cases[i].k;
        int64_t ny = (int64_t)cases[i].n * cases[i].cout * oh * oh;
        j.x = nn_tensor_wrap(rnd(&rng, nx), rnd(&rng, nx), NN_DEVICE_CPU, 4,
                             NN_SHAPE(cases[i].n, cases[i].cin, cases[i].h, cases[i].h));
        j.w = nn_tensor_wrap(rnd(&rng, nw), rnd(&rng, nw), NN_DEVICE_CPU, 4,
                             NN_SHAPE(cases[i].cout, cases[i].cin, cases[i].k, cases[i].k));
        j.b = nn_tensor_wrap(rnd(&rng, cases[i].cout), rnd(&rng, cases[i].cout), NN_DEVICE_CPU, 1, NN_SHAPE(cases[i].cout));
        j.y = nn_tensor_wrap(rnd(&rng, ny), rnd(&rng, ny), NN_DEVICE_CPU, 4, NN_SHAPE(cases[i].n, cases[i].cout, oh, oh));
        double flops = 2.0 * ny * cases[i].cin * cases[i].k * cases[i].k;
        MEASURE_PEAK();
        j.backward = 0;
        double tf = best_time(run_conv, &j);
        j.backward = 1;
        double tb = best_time(run_conv, &j);
        if (tf < 0 || tb < 0) return 1;
        char name[64];
        snprintf(name, sizeof name, "(%d, %d, %d, %d, %d, %d)", cases[i].n, cases[i].cin, cases[i].h, cases[i].cout,
                 cases[i].k, cases[i].stride);
        double gf = flops / tf / 1e9, gfb = 3 * flops / tb / 1e9;
        printf("%-34s %9.1f %9.1f %7.0f%%\n", name, gf, gfb, 100 * gfb / peak);
        fflush(stdout);
        free(j.x.data), free(j.x.grad), free(j.w.data), free(j.w.grad), free(j.b.data), free(j.b.grad);
        free(j.y.data), free(j.y.grad);
    }
    printf("%-34s %9s %9s %8s\n", "linear fwd+bwd (M, K, N)", "", "f+b GF/s", "f+b/peak");
    int lc[][3] = {{4096, 256, 256}, {1000, 256, 2048}, {100, 256, 256}};
    for (int i = 0; i < 3; i++) {
        lin_job j;
        j.ctx = ctx;
        int m = lc[i][0], k = lc[i][1], n = lc[i][2];
        j.x = nn_tensor_wrap(rnd(&rng, (int64_t)m * k), rnd(&rng, (int64_t)m * k), NN_DEVICE_CPU, 2, NN_SHAPE(m, k));
        j.w = nn_tensor_wrap(rnd(&rng, (int64_t)n * k), rnd(&rng, (int64_t)n * k), NN_DEVICE_CPU, 2, NN_SHAPE(n, k));
        j.y = nn_tensor_wrap(rnd(&rng, (int64_t)m * n), rnd(&rng, (int64_t)m * n), NN_DEVICE_CPU, 2, NN_SHAPE(m, n));
        MEASURE_PEAK();
        double t = best_time(run_linear, &j);
        double gf = 6.0 * m * n * k / t / 1e9;
        char name[64];
        snprintf(name, sizeof name, "(%d, %d, %d)", m, k, n);
        printf("%-34s %9s %9.1f %7.0f%%\n", name, "", gf, 100 * gf / peak);
        free(j.x.data), free(j.x.grad), free(j.w.data), free(j.w.grad), free(j.y.data), free(j.y.grad);
    }
    MEASURE_PEAK();
    printf("openblas sgemm 1024^3 peak (best of the run, used for the ratios): %.1f GFLOP/s\n", peak);
    free(sj.a), free(sj.b), free(sj.c);
    nn_ctx_free(ctx);
    return 0;
}
