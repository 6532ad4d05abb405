/* bench_nn_conv.c: CPU throughput of conv2d forward+backward and of matmul (nn_linear) in
 * GFLOP/s, against OpenBLAS sgemm's own peak (a large square sgemm on OpenBLAS's threads)
 * measured in the same run. Usage: bench-nn-conv [--threads N] [--seconds S]
 *
 * A shared VM's speed swings by a third for seconds at a time, so each case and the sgemm
 * peak it is compared with are measured interleaved: short slices of each in turn over S
 * seconds, best time of each over all slices. Both sides get the same quiet moments. */
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

static double min_seconds = 4; /* per case, all its measurements together */
#define SLICE_SECONDS 0.05

typedef int (*run_fn)(void *ud);

/* best[i] = the best time of fn[i] over slices of each in turn for min_seconds in all */
static int best_times(int n, const run_fn *fn, void *const *ud, double *best) {
    for (int i = 0; i < n; i++) best[i] = 1e30;
    double start = now();
    do {
        for (int i = 0; i < n; i++) {
            double slice = now();
            do {
                double t0 = now();
                if (fn[i](ud[i])) return 1;
                double dt = now() - t0;
                if (dt < best[i]) best[i] = dt;
            } while (now() - slice < SLICE_SECONDS);
        }
    } while (now() - start < min_seconds);
    return 0;
}

typedef struct sgemm_job {
    int n, threads;
    float *a, *b, *c;
} sgemm_job;

/* on OpenBLAS's own threads (the engine runs it on one: its pool parallelises around it) */
static int run_sgemm(void *ud) {
    sgemm_job *j = ud;
    openblas_set_num_threads(j->threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->n, j->n, j->n, 1.0f, j->a, j->n, j->b, j->n, 0.0f, j->c,
                j->n);
    openblas_set_num_threads(1);
    return 0;
}

enum { RUN_FORWARD, RUN_BOTH, RUN_DX, RUN_DW };

typedef struct conv_job {
    nn_ctx *ctx;
    nn_tensor x, w, b, y;
    nn_conv2d_opts o;
    int mode; /* RUN_*: forward, forward + full backward, or one backward part alone */
} conv_job;

static int run_conv(void *ud) {
    conv_job *j = ud;
    es_error err;
    nn_tensor x = j->x, w = j->w, b = j->b;
    if (j->mode == RUN_DX) w.grad = b.grad = NULL;
    if (j->mode == RUN_DW) x.grad = NULL;
    int fwd = j->mode == RUN_FORWARD || j->mode == RUN_BOTH, bwd = j->mode != RUN_FORWARD;
    if ((fwd && nn_conv2d_forward(j->ctx, &x, &w, &b, &j->y, &j->o, &err)) ||
        (bwd && nn_conv2d_backward(j->ctx, &x, &w, &b, &j->y, &j->o, &err))) {
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
    /* the floor: OpenBLAS's own threaded sgemm on 1024^3, measured interleaved with every
     * case; the ratio of a case is against the peak of its own measurement window */
    sgemm_job sj = {1024, threads, rnd(&rng, 1 << 20), rnd(&rng, 1 << 20), rnd(&rng, 1 << 20)};
    const double sgemm_flops = 2.0 * 1024 * 1024 * 1024;
    double best_peak = 0;
    printf("threads %d, stride-1 convolutions: %s; each case interleaved with the sgemm peak for %.1f s\n",
           threads, nn_conv2d_cpu_direct() ? "direct AVX2 kernels" : "im2col + sgemm", min_seconds);
    struct {
        int n, cin, h, cout, k, stride;
    } cases[] = {{4, 32, 64, 32, 3, 1} /* the small net's layer */, {2, 64, 64, 64, 3, 1}, {2, 128, 32, 128, 3, 1}, {2, 256, 16, 256, 3, 1}, {1, 64, 128, 64, 3, 1},
                 {2, 64, 64, 128, 3, 2}, {2, 256, 32, 64, 1, 1}};
    printf("%-34s %8s %8s %8s %8s %8s %8s\n", "conv2d (N, Cin, H=W, Cout, k, s)", "fwd GF/s", "dx GF/s", "dw GF/s",
           "f+b GF/s", "peak", "f+b/peak");
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
        /* sgemm, then the four conv modes, in turn */
        conv_job modes[4];
        run_fn fn[5] = {run_sgemm, run_conv, run_conv, run_conv, run_conv};
        void *ud[5] = {&sj, &modes[0], &modes[1], &modes[2], &modes[3]};
        for (int m = 0; m < 4; m++) {
            modes[m] = j;
            modes[m].mode = m;
        }
        double t[5];
        if (best_times(5, fn, ud, t)) return 1;
        double peak = sgemm_flops / t[0] / 1e9, *tc = t + 1;
        if (peak > best_peak) best_peak = peak;
        char name[64];
        snprintf(name, sizeof name, "(%d, %d, %d, %d, %d, %d)", cases[i].n, cases[i].cin, cases[i].h, cases[i].cout,
                 cases[i].k, cases[i].stride);
        double gfb = 3 * flops / tc[RUN_BOTH] / 1e9;
        printf("%-34s %8.1f %8.1f %8.1f %8.1f %8.1f %7.0f%%\n", name, flops / tc[RUN_FORWARD] / 1e9,
               flops / tc[RUN_DX] / 1e9, flops / tc[RUN_DW] / 1e9, gfb, peak, 100 * gfb / peak);
        fflush(stdout);
        free(j.x.data), free(j.x.grad), free(j.w.data), free(j.w.grad), free(j.b.data), free(j.b.grad);
        free(j.y.data), free(j.y.grad);
    }
    printf("%-34s %8s %8s %8s %8s %8s %8s\n", "linear fwd+bwd (M, K, N)", "", "", "", "f+b GF/s", "peak", "f+b/peak");
    int lc[][3] = {{4096, 256, 256}, {1000, 256, 2048}, {100, 256, 256}};
    for (int i = 0; i < 3; i++) {
        lin_job j;
        j.ctx = ctx;
        int m = lc[i][0], k = lc[i][1], n = lc[i][2];
        j.x = nn_tensor_wrap(rnd(&rng, (int64_t)m * k), rnd(&rng, (int64_t)m * k), NN_DEVICE_CPU, 2, NN_SHAPE(m, k));
        j.w = nn_tensor_wrap(rnd(&rng, (int64_t)n * k), rnd(&rng, (int64_t)n * k), NN_DEVICE_CPU, 2, NN_SHAPE(n, k));
        j.y = nn_tensor_wrap(rnd(&rng, (int64_t)m * n), rnd(&rng, (int64_t)m * n), NN_DEVICE_CPU, 2, NN_SHAPE(m, n));
        run_fn fn[2] = {run_sgemm, run_linear};
        void *ud[2] = {&sj, &j};
        double t[2];
        if (best_times(2, fn, ud, t)) return 1;
        double peak = sgemm_flops / t[0] / 1e9, gf = 6.0 * m * n * k / t[1] / 1e9;
        if (peak > best_peak) best_peak = peak;
        char name[64];
        snprintf(name, sizeof name, "(%d, %d, %d)", m, k, n);
        printf("%-34s %8s %8s %8s %8.1f %8.1f %7.0f%%\n", name, "", "", "", gf, peak, 100 * gf / peak);
        free(j.x.data), free(j.x.grad), free(j.w.data), free(j.w.grad), free(j.y.data), free(j.y.grad);
    }
    printf("openblas sgemm 1024^3 peak: best of the run %.1f GFLOP/s (each ratio uses its own window's)\n",
           best_peak);
    free(sj.a), free(sj.b), free(sj.c);
    nn_ctx_free(ctx);
    return 0;
}
