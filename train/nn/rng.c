/* rng.c: PCG32 (O'Neill) and Box-Muller normals: the same stream on every platform, so a
 * seed fixes parameter initialisation and test inputs everywhere. */
#include <math.h>

#include "nn.h"

void nn_rng_seed(nn_rng *r, uint64_t seed) {
    r->state = 0;
    r->inc = (seed << 1u) | 1u;
    nn_rng_u32(r);
    r->state += 0x853c49e6748fea9bULL ^ seed;
    nn_rng_u32(r);
}

uint32_t nn_rng_u32(nn_rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

float nn_rng_uniform(nn_rng *r) { return (float)(nn_rng_u32(r) >> 8) * (1.0f / 16777216.0f); }

float nn_rng_normal(nn_rng *r) {
    /* u1 in (0, 1] so the log is finite */
    double u1 = ((double)(nn_rng_u32(r) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(nn_rng_u32(r) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void nn_rng_fill_uniform(nn_rng *r, float *host, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) host[i] = lo + (hi - lo) * nn_rng_uniform(r);
}

void nn_rng_fill_normal(nn_rng *r, float *host, int64_t n, float mean, float std) {
    for (int64_t i = 0; i < n; i++) host[i] = mean + std * nn_rng_normal(r);
}
