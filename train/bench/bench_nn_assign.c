/* bench_nn_assign.c: time of nn_linear_sum_assignment on random 100 x 300 cost matrices
 * (K-Net's matching: 100 kernels against up to 300 entities), best and mean per solve
 * over 200 matrices. Target (issue 5): well under 1 ms. Usage: bench-nn-assign */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void) {
    enum { NR = 100, NC = 300, REPS = 200 };
    double *c = malloc(sizeof(double) * NR * NC);
    if (!c) return 1;
    int rows[NR], cols[NR];
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    es_error err;
    double best = 1e30, total = 0;
    for (int k = 0; k < REPS; k++) {
        for (int i = 0; i < NR * NC; i++) c[i] = nn_rng_uniform(&rng);
        double t0 = now_ms();
        if (nn_linear_sum_assignment(c, NR, NC, rows, cols, NULL, &err)) {
            fprintf(stderr, "bench-nn-assign: %s\n", err.msg);
            return 1;
        }
        double dt = now_ms() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    printf("linear sum assignment 100 x 300 (random uniform costs, %d matrices): best %.3f ms, mean %.3f ms per solve\n",
           REPS, best, total / REPS);
    free(c);
    return 0;
}
